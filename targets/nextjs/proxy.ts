// Optimistic route protection, as Better Auth's Next.js guide does it: a visitor without a
// session cookie is sent to /sign-in before /dashboard renders. Only the cookie's presence is
// checked here; the dashboard itself validates the session (auth.api.getSession).
import { NextResponse, type NextRequest } from "next/server";
import { getSessionCookie } from "better-auth/cookies";

export function proxy(request: NextRequest) {
  if (!getSessionCookie(request)) {
    return NextResponse.redirect(new URL("/sign-in", request.url));
  }
  return NextResponse.next();
}

export const config = {
  matcher: ["/dashboard"],
};
