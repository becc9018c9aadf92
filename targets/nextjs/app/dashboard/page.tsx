import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { auth } from "@/lib/auth";
import { signOut } from "../actions";

export default async function Dashboard() {
  // proxy.ts only checked that a session cookie is present; this checks that it is valid.
  const session = await auth.api.getSession({ headers: await headers() });
  if (!session) {
    redirect("/sign-in");
  }
  return (
    <main>
      <h1>Dashboard</h1>
      <p>
        Signed in as <strong id="user-name">{session.user.name}</strong> ({session.user.email})
      </p>
      <form action={signOut}>
        <button type="submit">Sign out</button>
      </form>
    </main>
  );
}
