// The sign-in page: a form that posts to the sign-in server function, without JavaScript too.
import { createFileRoute } from "@tanstack/react-router";
import { signInFn } from "../lib/session";

export const Route = createFileRoute("/sign-in")({
  component: SignIn,
});

function SignIn() {
  return (
    <main>
      <h1>Sign in</h1>
      <form action={signInFn.url} method="post" encType="multipart/form-data">
        <input name="email" type="email" required />
        <input name="password" type="password" required />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
