// The Better Auth instance: SQLite through better-sqlite3, email and password, the jwt plugin,
// the cookie cache; the same options as the bundled Express app.
import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { jwt } from "better-auth/plugins";

const port = process.env.PORT ?? "3000";
const databasePath = process.env.DATABASE_PATH ?? `./data/nestjs-${port}.sqlite`;
mkdirSync(dirname(databasePath), { recursive: true });
for (const suffix of ["", "-wal", "-shm"]) rmSync(databasePath + suffix, { force: true });
const database = new Database(databasePath);
database.pragma("journal_mode = WAL");
const sessionUpdateAge = process.env.SESSION_UPDATE_AGE
  ? Number.parseInt(process.env.SESSION_UPDATE_AGE, 10)
  : undefined;

export const authOptions = {
  appName: "ba-harness NestJS app",
  baseURL: process.env.BETTER_AUTH_URL ?? `http://127.0.0.1:${port}`,
  basePath: "/api/auth",
  secret: process.env.BETTER_AUTH_SECRET,
  database,
  telemetry: { enabled: false },
  trustedOrigins: [process.env.FRONTEND_ORIGIN ?? "http://127.0.0.1:5173"],
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
  plugins: [jwt()],
} satisfies BetterAuthOptions;

export const auth = betterAuth(authOptions);
