// A protected server route of the app: the session from the request's cookies, or 401.
import { createFileRoute } from "@tanstack/react-router";
import { auth } from "../../lib/auth";

export const Route = createFileRoute("/api/me")({
  server: {
    handlers: {
      GET: async ({ request }) => {
        const session = await auth.api.getSession({ headers: request.headers });
        if (!session) {
          return Response.json({ error: "UNAUTHORIZED", message: "sign in first" }, { status: 401 });
        }
        return Response.json(
          { user: session.user, session: { id: session.session.id, userId: session.session.userId } },
          { headers: { "cache-control": "no-store" } },
        );
      },
    },
  },
});
