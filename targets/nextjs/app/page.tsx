import Link from "next/link";

export default function Home() {
  return (
    <main>
      <h1>ba-harness Next.js app</h1>
      <ul>
        <li><Link href="/sign-up">Sign up</Link></li>
        <li><Link href="/sign-in">Sign in</Link></li>
        <li><Link href="/dashboard">Dashboard</Link></li>
      </ul>
    </main>
  );
}
