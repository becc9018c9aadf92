// Server functions: sign-in through auth.api (its cookies reach the browser only through
// tanstackStartCookies()), sign-out, and the current session for protected pages.
import { redirect } from "@tanstack/react-router";
import { createServerFn } from "@tanstack/react-start";
import { getRequestHeaders } from "@tanstack/react-start/server";
import { auth } from "./auth";

/** Posted by the sign-in form (works without JavaScript: multipart/form-data). */
export const signInFn = createServerFn({ method: "POST" })
  .validator((data: unknown) => {
    if (!(data instanceof FormData)) throw new Error("expected form data");
    return {
      email: String(data.get("email") ?? ""),
      password: String(data.get("password") ?? ""),
    };
  })
  .handler(async ({ data }) => {
    await auth.api.signInEmail({ body: data, headers: getRequestHeaders() });
    throw redirect({ to: "/dashboard" });
  });

export const getSessionFn = createServerFn({ method: "GET" }).handler(async () => {
  const session = await auth.api.getSession({ headers: getRequestHeaders() });
  return session ? { user: { id: session.user.id, email: session.user.email, name: session.user.name } } : null;
});
