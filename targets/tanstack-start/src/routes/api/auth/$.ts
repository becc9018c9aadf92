// Better Auth's handler on /api/auth/*, as the guide mounts it: a server route.
import { createFileRoute } from "@tanstack/react-router";
import { auth, migrated } from "../../../lib/auth";

export const Route = createFileRoute("/api/auth/$")({
  server: {
    handlers: {
      GET: async ({ request }) => {
        await migrated;
        return auth.handler(request);
      },
      POST: async ({ request }) => {
        await migrated;
        return auth.handler(request);
      },
    },
  },
});
