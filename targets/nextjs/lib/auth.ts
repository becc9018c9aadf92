// The Better Auth instance, as Better Auth's Next.js guide sets it up: SQLite through
// better-sqlite3, email and password, the jwt plugin, the cookie cache, and nextCookies() last,
// so that auth.api calls from server actions write their Set-Cookie headers into Next's cookie
// store.
//
// One instance per server process. Next bundles route handlers, server components, server
// actions and instrumentation separately, so this module is evaluated once per bundle: an
// in-memory database would not be shared at all, and a connection per bundle to the same file
// makes Better Auth's sign-up transaction fail with SQLITE_BUSY_SNAPSHOT ("database is
// locked") whenever another bundle wrote in between (better-sqlite3 is synchronous, so a busy
// timeout cannot help). The instance is therefore kept on globalThis and shared by all bundles.
//
// NEXT_COOKIES=off at build time (inlined through next.config.ts `env`) builds the broken
// variant without nextCookies: the documented pitfall (better-auth #610), kept as a build so the
// harness's own tests can show the server-action sign-in scenario failing.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";

// `next build` evaluates this module while it collects page data: it gets a throwaway in-memory
// database, so a build touches no file.
const building = process.env.NEXT_PHASE === "phase-production-build";

function createAuth() {
  const databasePath = building
    ? ":memory:"
    : (process.env.DATABASE_PATH ?? "./data/nextjs.sqlite");
  if (!building) mkdirSync(dirname(databasePath), { recursive: true });
  const database = new Database(databasePath);
  database.pragma("journal_mode = WAL");

  const options = {
    appName: "ba-harness Next.js app",
    // BETTER_AUTH_URL and BETTER_AUTH_SECRET come from the environment (the harness sets both);
    // the build only needs placeholders, it serves nothing.
    baseURL: process.env.BETTER_AUTH_URL ?? (building ? "http://127.0.0.1:3000" : undefined),
    secret:
      process.env.BETTER_AUTH_SECRET ??
      (building ? "build-time-placeholder-secret-never-used" : undefined),
    database,
    telemetry: { enabled: false },
    emailAndPassword: { enabled: true },
    session: {
      cookieCache: { enabled: true, maxAge: 300 },
    },
    plugins: [jwt(), ...(process.env.NEXT_COOKIES !== "off" ? [nextCookies()] : [])],
  } satisfies BetterAuthOptions;

  const auth = betterAuth(options);
  let migrated: Promise<void> | undefined;
  // Creates or updates the tables; run once at server start (instrumentation.ts).
  const migrate = () =>
    (migrated ??= getMigrations(options).then(({ runMigrations }) => runMigrations()));
  return { auth, migrate };
}

type Shared = ReturnType<typeof createAuth>;
const shared = globalThis as typeof globalThis & { __baHarnessAuth?: Shared };
const instance = (shared.__baHarnessAuth ??= createAuth());

export const auth = instance.auth;
export const migrate = instance.migrate;
