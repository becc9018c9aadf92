// The Better Auth instance, as Better Auth's TanStack Start guide sets it up: SQLite through
// better-sqlite3, email and password, the jwt plugin, the cookie cache, and
// tanstackStartCookies() last in the plugin list, so that auth.api calls from server functions
// write their Set-Cookie headers into TanStack Start's response.
//
// TANSTACK_COOKIES=off (read at run time) leaves the plugin out: the documented pitfall, kept as
// a switch so ba-harness's own tests can show the server-function sign-in failing.
import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { jwt } from "better-auth/plugins";
import { tanstackStartCookies } from "better-auth/tanstack-start";

function createAuth() {
  const port = process.env.PORT ?? "3000";
  const databasePath = process.env.DATABASE_PATH ?? `./data/tanstack-start-${port}.sqlite`;
  mkdirSync(dirname(databasePath), { recursive: true });
  for (const suffix of ["", "-wal", "-shm"]) rmSync(databasePath + suffix, { force: true });
  const database = new Database(databasePath);
  database.pragma("journal_mode = WAL");
  const sessionUpdateAge = process.env.SESSION_UPDATE_AGE
    ? Number.parseInt(process.env.SESSION_UPDATE_AGE, 10)
    : undefined;
  const options = {
    appName: "ba-harness TanStack Start app",
    baseURL: process.env.BETTER_AUTH_URL ?? `http://127.0.0.1:${port}`,
    basePath: "/api/auth",
    secret: process.env.BETTER_AUTH_SECRET,
    database,
    telemetry: { enabled: false },
    emailAndPassword: { enabled: true },
    // Lets ba-harness delete the accounts its runs create (POST /api/auth/delete-user).
    user: { deleteUser: { enabled: true } },
    session: {
      cookieCache: {
        enabled: true,
        maxAge: Number.parseInt(process.env.COOKIE_CACHE_MAX_AGE ?? "300", 10),
      },
      ...(sessionUpdateAge === undefined ? {} : { updateAge: sessionUpdateAge }),
    },
    plugins: [jwt(), ...(process.env.TANSTACK_COOKIES !== "off" ? [tanstackStartCookies()] : [])],
  } satisfies BetterAuthOptions;
  const auth = betterAuth(options);
  const migrated = getMigrations(options).then(({ runMigrations }) => runMigrations());
  return { auth, migrated };
}

// One instance per server process, whichever bundle chunk imports it first.
const shared = globalThis as typeof globalThis & {
  __baHarnessAuth?: ReturnType<typeof createAuth>;
};
const instance = (shared.__baHarnessAuth ??= createAuth());

export const auth = instance.auth;
/** Resolves once the tables exist (server.mjs waits for it before listening). */
export const migrated = instance.migrated;
