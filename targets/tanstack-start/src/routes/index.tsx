import { createFileRoute, Link } from "@tanstack/react-router";

export const Route = createFileRoute("/")({
  component: () => (
    <main>
      <h1>ba-harness TanStack Start app</h1>
      <Link to="/sign-in">Sign in</Link>
    </main>
  ),
});
