// A protected page: its loader reads the session through a server function and sends visitors
// without one to /sign-in.
import { createFileRoute, redirect } from "@tanstack/react-router";
import { getSessionFn } from "../lib/session";

export const Route = createFileRoute("/dashboard")({
  beforeLoad: async () => {
    const session = await getSessionFn();
    if (!session) throw redirect({ to: "/sign-in" });
    return { user: session.user };
  },
  component: Dashboard,
});

function Dashboard() {
  const { user } = Route.useRouteContext();
  return (
    <main>
      <h1>Dashboard</h1>
      <p>Signed in as {user.name} ({user.email})</p>
    </main>
  );
}
