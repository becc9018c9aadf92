// A real Express 5 app with Better Auth, as Better Auth's Express guide sets it up
// (https://www.better-auth.com/docs/integrations/express): the auth handler mounted with
// toNodeHandler on /api/auth/*splat (Express 5 path syntax), express.json() only after it, CORS
// with credentials for the front end, and a protected GET /api/me that reads the session with
// fromNodeHeaders + auth.api.getSession. SQLite through better-sqlite3, email and password, the
// jwt plugin, the cookie cache.
//
// Started by ba-harness (src/framework_app.rs); runnable by hand too:
//   PORT=3000 BETTER_AUTH_SECRET=... node server.mjs
//
// Environment:
//   PORT                  port on 127.0.0.1 (required)
//   BETTER_AUTH_URL       the app's public URL (default http://127.0.0.1:$PORT)
//   BETTER_AUTH_SECRET    signing secret (required)
//   DATABASE_PATH         SQLite file (default ./data/express-<port>.sqlite, recreated at start)
//   FRONTEND_ORIGIN       the front end allowed by CORS and trustedOrigins
//                         (default http://127.0.0.1:5173)
//   COOKIE_CACHE_MAX_AGE  cookie cache lifetime in seconds (default 300)
//   SESSION_UPDATE_AGE    session.updateAge in seconds (default Better Auth's, 1 day)
//   EXPRESS_JSON          "before-handler" mounts express.json() before the auth handler: the
//                         documented pitfall, kept as a switch for ba-harness's own tests
//   BA_HARNESS_PARENT_PID exit when this process is gone (set by the harness)
//
// NODE_ENV is forced to "production": NODE_ENV=test (or a TEST variable) silently turns Better
// Auth's origin checks off.
process.env.NODE_ENV = "production";
delete process.env.TEST;

import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import cors from "cors";
import express from "express";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { fromNodeHeaders, toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

const here = dirname(fileURLToPath(import.meta.url));
const port = Number.parseInt(process.env.PORT ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("server.mjs: PORT must be set to a port number");
  process.exit(2);
}
const baseURL = process.env.BETTER_AUTH_URL ?? `http://127.0.0.1:${port}`;
const frontendOrigin = process.env.FRONTEND_ORIGIN ?? "http://127.0.0.1:5173";
const databasePath = process.env.DATABASE_PATH ?? join(here, "data", `express-${port}.sqlite`);
mkdirSync(dirname(databasePath), { recursive: true });
for (const suffix of ["", "-wal", "-shm"]) rmSync(databasePath + suffix, { force: true });
const database = new Database(databasePath);
database.pragma("journal_mode = WAL");
const sessionUpdateAge = process.env.SESSION_UPDATE_AGE
  ? Number.parseInt(process.env.SESSION_UPDATE_AGE, 10)
  : undefined;

const authOptions = {
  appName: "ba-harness Express app",
  baseURL,
  basePath: "/api/auth",
  secret: process.env.BETTER_AUTH_SECRET,
  database,
  telemetry: { enabled: false },
  trustedOrigins: [frontendOrigin],
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
};
export const auth = betterAuth(authOptions);
const { runMigrations } = await getMigrations(authOptions);
await runMigrations();

const jsonBeforeHandler = process.env.EXPRESS_JSON === "before-handler";
const app = express();
app.use(
  cors({
    origin: frontendOrigin,
    methods: ["GET", "POST", "PUT", "DELETE"],
    credentials: true,
  }),
);
// The guide: "Don't use express.json() before the Better Auth handler. Use it only for other
// routes, or the client API will get stuck on 'pending'." The switch does it anyway.
if (jsonBeforeHandler) app.use(express.json());
app.all("/api/auth/*splat", toNodeHandler(auth));
if (!jsonBeforeHandler) app.use(express.json());

// A protected route of the app itself: the session from the request's cookies, or 401.
app.get("/api/me", async (req, res) => {
  const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
  if (!session) {
    res.status(401).json({ error: "UNAUTHORIZED", message: "sign in first" });
    return;
  }
  res.set("cache-control", "no-store");
  res.json({ user: session.user, session: { id: session.session.id, userId: session.session.userId } });
});

app.get("/health", (_req, res) => res.json({ status: "ok" }));

const server = app.listen(port, "127.0.0.1", () => {
  console.log(
    `BA_HARNESS_READY ${JSON.stringify({ framework: "express", port, base_url: baseURL, json_before_handler: jsonBeforeHandler })}`,
  );
});

function shutdown() {
  server.close();
  database.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
