// The bundled reference: a real Better Auth server (better-auth + @better-auth/oauth-provider at
// the versions pinned in package.json) on Node's http module, with a real SQLite database.
//
// Started by `ba-harness` (src/reference.rs); runnable by hand too:
//   PORT=3000 node server.mjs
//
// Environment:
//   PORT                  port to listen on, on 127.0.0.1 (required; 0 picks a free one)
//   BASE_URL              public base URL (default http://127.0.0.1:$PORT)
//   DATABASE_PATH         SQLite file (default ./data/reference-<port>.sqlite, recreated at start)
//   BETTER_AUTH_SECRET    signing secret (default: a fixed development secret, printed nowhere)
//   RATE_LIMIT_MAX        sign-in/sign-up requests allowed per 10 s per client IP (default:
//                         Better Auth's own, 3)
//   RATE_LIMIT            "off" disables rate limiting (load profiles)
//   JWT_ALG               jwt plugin key algorithm: EdDSA (default), ES256, ES512, RS256, PS256
//   COOKIE_CACHE_MAX_AGE  cookie cache (session_data) lifetime in seconds (default 300)
//   COOKIE_CACHE          "off" disables the cookie cache
//   SESSION_UPDATE_AGE    seconds after which get-session extends a session (default 86400)
//   CODE_EXPIRES_IN       oauthProvider codeExpiresIn: authorization code lifetime in seconds
//                         (default: the provider's, 600); it also bounds the signed query of
//                         the login and consent pages. Reported as code_expires_in when set
//   JWT_EXPIRATION        jwt plugin token lifetime, e.g. "15m" (default) or "5s"
//   READY_FILE            where to write the ready line as JSON (optional; also printed on stdout)
//   JWKS_ROTATION_INTERVAL  jwt plugin jwks.rotationInterval in seconds: a key older than this is
//                         replaced by a new one at the next signing (the old one stays in the
//                         JWKS for the grace period, 30 days by default)
//   JWT_TEST_PROFILES     "on" also serves three Better Auth instances on the same database, secret
//                         and JWKS keys, each with one jwt option changed, at
//                         /profiles/<name>/api/auth: wrong-issuer (jwt.issuer), wrong-audience
//                         (jwt.audience), expired (iat back-dated one hour through
//                         jwt.definePayload, so its 15-minute JWTs expired 45 minutes ago). A
//                         session from the main instance opens them (same cookie, same database).
//   BA_HARNESS_PARENT_PID exit when this process is gone (set by the harness)
//   TLS_CERT_FILE, TLS_KEY_FILE  serve https with this certificate and key (PEM)
//   USE_SECURE_COOKIES    "false" turns Secure cookies off (a deliberately broken profile)
//   BA_PROFILE            comma-separated configuration profiles, each one documented Better Auth
//                         option, so the harness can be run against differently configured real
//                         servers (docs/profiles.md). Unset: the default configuration above.
//     mounted               basePath "/auth" and advanced.cookiePrefix "acme"
//     closed-signup         emailAndPassword.disableSignUp; SEED_USERS accounts (default 8) are
//                           created at boot through a second instance with sign-up open, and
//                           written as `email,password` lines to USERS_FILE (default users.txt
//                           next to the database): give it to the harness as --users-file
//     no-dcr                oauthProvider allowDynamicClientRegistration off (the seeded client
//                           in the ready line is the only one)
//     rate-limit-off        rateLimit.enabled false
//     rate-limit-custom     rateLimit.customRules "/sign-in/*": 5 per 20 s (sign-up keeps the default)
//     cookie-cache-compact, cookie-cache-jwt, cookie-cache-jwe
//                           session.cookieCache.strategy
//     rs256, es256          the jwt plugin's jwks.keyPairConfig.alg (as JWT_ALG)
//     development, production
//                           NODE_ENV, set before Better Auth loads (it reads NODE_ENV when its
//                           modules load); development leaves rateLimit to Better Auth's
//                           default (off outside production) unless a rate-limit profile says
//     tls-proxy             behind a TLS-terminating proxy: Better Auth listens on plain http on
//                           an internal port, an https proxy (TLS_CERT_FILE/TLS_KEY_FILE) on PORT
//                           forwards to it with x-forwarded-proto/-host; advanced.useSecureCookies
//                           true and trustedProxyHeaders true
//     one-ip                a front that sets X-Forwarded-For to the connection's address (as
//                           nginx's `$remote_addr` does): every client shares one rate-limit bucket
//     short-sessions        session.expiresIn 8 s, session.freshAge 3 s and
//                           emailAndPassword.resetPasswordTokenExpiresIn 3 s, reported in the ready
//                           line, so the harness can watch a session expire, go stale and a reset
//                           token expire (@lifetimes). Only for those scenarios: most others need
//                           a session that lives longer than a few seconds.
//
// Password reset: sendResetPassword writes each reset link into an in-memory mailbox, served
// (test-only, outside the auth mount) at GET /__ba-harness/mailbox?email=ADDRESS as
// {"token", "url"} of the newest message to that address (404 when none), and reported as
// `mailbox` in the ready line; revokeSessionsOnPasswordReset is on. This is the harness's
// --mailbox contract (docs/configuration.md).
//
// Without a NODE_ENV profile, NODE_ENV is set to "production" once Better Auth has loaded (as
// before profiles existed): `NODE_ENV=test` (or a TEST variable) silently turns the origin checks
// off, which would make the conformance results depend on the caller's shell. Better Auth's own
// load-time NODE_ENV checks still see the caller's value then.
const knownProfiles = [
  "mounted",
  "closed-signup",
  "no-dcr",
  "rate-limit-off",
  "rate-limit-custom",
  "cookie-cache-compact",
  "cookie-cache-jwt",
  "cookie-cache-jwe",
  "rs256",
  "es256",
  "development",
  "production",
  "tls-proxy",
  "one-ip",
  "short-sessions",
  "no-auto-sign-in",
  "verify-email",
];
const profiles = new Set(
  (process.env.BA_PROFILE ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean),
);
for (const name of profiles) {
  if (!knownProfiles.includes(name)) {
    console.error(`server.mjs: unknown BA_PROFILE "${name}" (known: ${knownProfiles.join(", ")})`);
    process.exit(2);
  }
}
if (profiles.has("development") && profiles.has("production")) {
  console.error("server.mjs: BA_PROFILE development and production exclude each other");
  process.exit(2);
}
const nodeEnvProfile = profiles.has("development")
  ? "development"
  : profiles.has("production")
    ? "production"
    : null;
if (nodeEnvProfile) process.env.NODE_ENV = nodeEnvProfile;

import { createServer, request as httpRequest } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
// Better Auth is imported dynamically, after NODE_ENV is set above: static imports would load it
// before any line of this file runs.
const { betterAuth } = await import("better-auth");
const { getMigrations } = await import("better-auth/db/migration");
const { toNodeHandler } = await import("better-auth/node");
const { bearer, jwt } = await import("better-auth/plugins");
if (!nodeEnvProfile) process.env.NODE_ENV = "production";
delete process.env.TEST;
// The provider plugin is optional so that older Better Auth releases without a matching
// @better-auth/oauth-provider can run too (`ba-harness snapshot --better-auth VERSION`).
let oauthProvider = null;
try {
  ({ oauthProvider } = await import("@better-auth/oauth-provider"));
} catch {
  oauthProvider = null;
}

const here = dirname(fileURLToPath(import.meta.url));
const port = Number.parseInt(process.env.PORT ?? "", 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("server.mjs: PORT must be set to a port number (0 picks a free one)");
  process.exit(2);
}

// https when given a certificate (the harness makes one from a throwaway CA for --reference-https;
// NODE_EXTRA_CA_CERTS lets this server trust it when it fetches its own JWKS).
const tls = process.env.TLS_CERT_FILE
  ? { cert: readFileSync(process.env.TLS_CERT_FILE), key: readFileSync(process.env.TLS_KEY_FILE) }
  : null;
// The harness chooses a free port before starting us, so the base URL is known up front.
const baseURL = process.env.BASE_URL ?? `${tls ? "https" : "http"}://127.0.0.1:${port}`;
const databasePath = process.env.DATABASE_PATH ?? join(here, "data", `reference-${port}.sqlite`);
mkdirSync(dirname(databasePath), { recursive: true });
for (const suffix of ["", "-wal", "-shm"]) rmSync(databasePath + suffix, { force: true });
const database = new Database(databasePath);
database.pragma("journal_mode = WAL");

const rateLimitOff = process.env.RATE_LIMIT === "off" || profiles.has("rate-limit-off");
// The rate-limit-custom profile: a sign-in rule unlike Better Auth's built-in 3 per 10 s.
const customSignInRule = profiles.has("rate-limit-custom") ? { window: 20, max: 5 } : null;
const rateLimitMax = process.env.RATE_LIMIT_MAX
  ? Number.parseInt(process.env.RATE_LIMIT_MAX, 10)
  : undefined;
// The development profile leaves rateLimit to Better Auth's default, which is off outside
// production, unless another profile sets it.
const rateLimitDefaulted =
  nodeEnvProfile === "development" &&
  !rateLimitOff &&
  !customSignInRule &&
  rateLimitMax === undefined;
// Better Auth's built-in sign-in/sign-up rule, reported to the harness for the @rate-limit scenario.
const signInLimit =
  rateLimitOff || rateLimitDefaulted ? null : (customSignInRule?.max ?? rateLimitMax ?? 3);
const cookieCacheMaxAge = Number.parseInt(process.env.COOKIE_CACHE_MAX_AGE ?? "300", 10);
const cookieCacheStrategy = ["compact", "jwt", "jwe"].find((strategy) =>
  profiles.has(`cookie-cache-${strategy}`),
);
const jwtAlg = profiles.has("rs256")
  ? "RS256"
  : profiles.has("es256")
    ? "ES256"
    : (process.env.JWT_ALG ?? "EdDSA");
const basePath = profiles.has("mounted") ? "/auth" : "/api/auth";
const cookiePrefix = profiles.has("mounted") ? "acme" : undefined;
const tlsProxy = profiles.has("tls-proxy");
const sessionUpdateAge = process.env.SESSION_UPDATE_AGE
  ? Number.parseInt(process.env.SESSION_UPDATE_AGE, 10)
  : undefined;
const codeExpiresIn = process.env.CODE_EXPIRES_IN
  ? Number.parseInt(process.env.CODE_EXPIRES_IN, 10)
  : undefined;
// RSA keys need a modulus length; the other algorithms take none.
const keyPairConfig = jwtAlg.startsWith("RS") || jwtAlg.startsWith("PS")
  ? { alg: jwtAlg, modulusLength: 2048 }
  : { alg: jwtAlg };
const jwtExpiration = process.env.JWT_EXPIRATION ?? "15m";
const jwksRotationInterval = process.env.JWKS_ROTATION_INTERVAL
  ? Number.parseInt(process.env.JWKS_ROTATION_INTERVAL, 10)
  : undefined;
// The jwt plugin's options, with `jwt` overrides for the JWT_TEST_PROFILES instances.
const jwtPluginOptions = (jwtOverrides = {}) => ({
  jwks: {
    keyPairConfig,
    ...(jwksRotationInterval ? { rotationInterval: jwksRotationInterval } : {}),
  },
  jwt: { expirationTime: jwtExpiration, ...jwtOverrides },
});
const clientOrigin = "http://127.0.0.1:4000";
// short-sessions: lifetimes short enough to wait out (seconds); otherwise Better Auth's defaults.
const shortSessions = profiles.has("short-sessions");
const sessionExpiresIn = shortSessions ? 8 : 604800;
const sessionFreshAge = shortSessions ? 3 : 86400;
const resetTokenExpiresIn = shortSessions ? 3 : 3600;
// The test-only mailbox: the newest password-reset message per address (lower case).
const mailboxPath = "/__ba-harness/mailbox";
const mailbox = new Map();

const advancedOptions = {
  ...(process.env.USE_SECURE_COOKIES === "false" ? { useSecureCookies: false } : {}),
  ...(cookiePrefix ? { cookiePrefix } : {}),
  // Behind a TLS-terminating proxy Better Auth sees plain http: Secure cookies are asked for
  // explicitly, and the proxy's x-forwarded-* headers are trusted.
  ...(tlsProxy ? { useSecureCookies: true, trustedProxyHeaders: true } : {}),
};

export const authOptions = {
  appName: "ba-harness reference",
  baseURL,
  basePath,
  secret:
    process.env.BETTER_AUTH_SECRET ?? "ba-harness-reference-secret-not-for-production-use-0001",
  database,
  telemetry: { enabled: false },
  // USE_SECURE_COOKIES=false reproduces a real misconfiguration (better-auth #7156): https
  // without the __Secure- prefix and the Secure attribute. Used by the harness's own tests.
  advanced: advancedOptions,
  emailAndPassword: {
    enabled: true,
    ...(profiles.has("closed-signup") ? { disableSignUp: true } : {}),
    // Sign-up answers {token: null} and sets no cookie: the user signs in afterwards.
    ...(profiles.has("no-auto-sign-in") ? { autoSignIn: false } : {}),
    // Sign-in is refused (403 EMAIL_NOT_VERIFIED) until the address is verified; the seeded
    // accounts are verified at boot, as a deployment's own users would be.
    ...(profiles.has("verify-email") ? { requireEmailVerification: true } : {}),
    revokeSessionsOnPasswordReset: true,
    resetPasswordTokenExpiresIn: resetTokenExpiresIn,
    sendResetPassword: async ({ user, url, token }) => {
      mailbox.set(user.email.toLowerCase(), { token, url });
    },
  },
  // POST /delete-user on (off by default in Better Auth): the harness deletes the accounts a run
  // creates at its end, replaying each sign-up's (fresh) session, so no password is re-hashed.
  // DELETE_USER=off turns it off, as on a deployment that does not offer it.
  user: { deleteUser: { enabled: process.env.DELETE_USER !== "off" } },
  session: {
    cookieCache: {
      enabled: process.env.COOKIE_CACHE !== "off",
      maxAge: cookieCacheMaxAge,
      ...(cookieCacheStrategy ? { strategy: cookieCacheStrategy } : {}),
    },
    // Default 1 day; a few seconds lets the harness watch the sliding expiry happen.
    ...(sessionUpdateAge === undefined ? {} : { updateAge: sessionUpdateAge }),
    expiresIn: sessionExpiresIn,
    freshAge: sessionFreshAge,
  },
  // On, as in production, with Better Auth's own defaults (sign-in/sign-up 3 per 10 s per client
  // IP, the provider's per-60 s budgets). The harness gives every virtual client its own
  // X-Forwarded-For address, so a normal run never trips them, and the rate-limit scenario trips
  // the sign-in limit on purpose. RATE_LIMIT_MAX overrides the sign-in/sign-up limit;
  // RATE_LIMIT=off turns limiting off (load profiles).
  ...(rateLimitDefaulted
    ? {}
    : {
        rateLimit: rateLimitOff
          ? { enabled: false }
          : {
              enabled: true,
              ...(customSignInRule
                ? { customRules: { "/sign-in/*": customSignInRule } }
                : rateLimitMax === undefined
                  ? {}
                  : {
                      customRules: {
                        "/sign-in/*": { window: 10, max: rateLimitMax },
                        "/sign-up/*": { window: 10, max: rateLimitMax },
                      },
                    }),
            },
      }),
  plugins: [
    jwt(jwtPluginOptions()),
    bearer(),
    ...(oauthProvider ? [oauthProvider({
      loginPage: "/login",
      consentPage: "/consent",
      allowDynamicClientRegistration: !profiles.has("no-dcr"),
      allowUnauthenticatedClientRegistration: !profiles.has("no-dcr"),
      scopes: ["openid", "profile", "email", "offline_access"],
      // A few seconds lets the harness see an expired code refused (features/oauth-code-lifetime).
      ...(codeExpiresIn === undefined ? {} : { codeExpiresIn }),
    })] : []),
  ],
};

const auth = betterAuth(authOptions);
// The instance that creates the seed accounts: the same one, or, when sign-up is closed or does
// not sign in, the same database and secret with sign-up open and signing in (disableSignUp also
// refuses server-side sign-ups, and the OAuth client is created with the sign-up's session).
const seedAuth = ["closed-signup", "no-auto-sign-in", "verify-email"].some((p) => profiles.has(p))
  ? betterAuth({
      ...authOptions,
      emailAndPassword: {
        ...authOptions.emailAndPassword,
        disableSignUp: false,
        autoSignIn: true,
        requireEmailVerification: false,
      },
    })
  : auth;

const startedAt = Date.now();
const { runMigrations } = await getMigrations(authOptions);
await runMigrations();

const authHandler = toNodeHandler(auth);

// JWT_TEST_PROFILES: the same Better Auth (database, secret, keys) with one jwt option changed,
// so that a resource server can be shown JWTs that are really signed by a key in the JWKS but
// carry the wrong issuer, the wrong audience, or an exp in the past.
const jwtTestProfiles =
  process.env.JWT_TEST_PROFILES === "on"
    ? {
        "wrong-issuer": { issuer: "https://wrong-issuer.ba-harness.test" },
        "wrong-audience": { audience: "https://wrong-audience.ba-harness.test" },
        expired: {
          definePayload: ({ user }) => ({ ...user, iat: Math.floor(Date.now() / 1000) - 3600 }),
        },
      }
    : {};
const profileHandlers = Object.entries(jwtTestProfiles).map(([name, overrides]) => {
  const prefix = `/profiles/${name}/`;
  const profileAuth = betterAuth({
    ...authOptions,
    basePath: `${prefix}api/auth`,
    plugins: [jwt(jwtPluginOptions(overrides)), bearer()],
  });
  return [prefix, toNodeHandler(profileAuth)];
});

function sendText(res, status, contentType, body) {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}

const handleRequest = (req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  // one-ip: the client address a fronting proxy would set, whatever the client sent.
  if (profiles.has("one-ip")) {
    req.headers["x-forwarded-for"] = req.socket.remoteAddress ?? "127.0.0.1";
  }
  if (path === mailboxPath && req.method === "GET") {
    const email = new URL(req.url ?? "/", "http://mailbox").searchParams.get("email") ?? "";
    const message = mailbox.get(email.toLowerCase());
    if (message) sendText(res, 200, "application/json", JSON.stringify(message));
    else sendText(res, 404, "application/json", JSON.stringify({ error: "no_message" }));
    return;
  }
  if (path === "/health") {
    sendText(res, 200, "application/json", JSON.stringify({ status: "ok" }));
    return;
  }
  // loginPage / consentPage stand-ins: the provider only redirects here with a signed query;
  // the harness posts that query back to /sign-in/email or /oauth2/consent itself.
  if (path === "/login" || path === "/consent") {
    sendText(res, 200, "text/html; charset=utf-8", `<!doctype html><title>${path.slice(1)}</title>`);
    return;
  }
  for (const [prefix, handler] of profileHandlers) {
    if (path.startsWith(prefix)) {
      handler(req, res);
      return;
    }
  }
  // Everything else, including the RFC 8414 root path
  // /.well-known/oauth-authorization-server/api/auth, goes to Better Auth.
  authHandler(req, res);
};
// tls-proxy: Better Auth itself on plain http (an internal port); the https front on PORT.
const server = tls && !tlsProxy ? createHttpsServer(tls, handleRequest) : createServer(handleRequest);

// The TLS-terminating proxy of the tls-proxy profile: what nginx or a load balancer does in front
// of a Node app (terminate TLS, forward over http with x-forwarded-proto/-host/-for).
function startTlsProxy(upstreamPort) {
  const proxy = createHttpsServer(tls, (req, res) => {
    const headers = {
      ...req.headers,
      "x-forwarded-proto": "https",
      "x-forwarded-host": req.headers.host ?? `127.0.0.1:${port}`,
    };
    const upstream = httpRequest(
      { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("bad gateway");
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => proxy.listen(port, "127.0.0.1", () => resolve(proxy)));
}

// Seed the OAuth provider's public PKCE client. `enable_end_session` can only be set through the
// server API (dynamic registration drops it), and that API wants a signed-in user.
async function seedOAuthClient() {
  const email = `seed-admin-${Date.now()}@reference.ba-harness.test`;
  const password = `seed-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const signUp = await seedAuth.api.signUpEmail({
    body: { email, password, name: "Reference seed admin" },
    asResponse: true,
  });
  if (!signUp.ok) throw new Error(`seed sign-up failed with HTTP ${signUp.status}`);
  const cookie = signUp.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const redirectUri = `${clientOrigin}/callback`;
  const postLogoutRedirectUri = `${clientOrigin}/logged-out`;
  const client = await auth.api.adminCreateOAuthClient({
    headers: new Headers({ cookie }),
    body: {
      client_name: "ba-harness conformance client",
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutRedirectUri],
      token_endpoint_auth_method: "none",
      application_type: "native",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      enable_end_session: true,
    },
  });
  return {
    client_id: client.client_id,
    redirect_uri: redirectUri,
    post_logout_redirect_uri: postLogoutRedirectUri,
  };
}

// closed-signup and verify-email: the accounts that exist, created through the seeding instance
// (sign-up open) and, with verify-email, verified.
async function seedUsers() {
  const count = Number.parseInt(process.env.SEED_USERS ?? "8", 10);
  const usersFile = process.env.USERS_FILE ?? join(dirname(databasePath), "users.txt");
  const lines = ["# accounts seeded by targets/better-auth/server.mjs (closed-signup or verify-email profile)"];
  for (let i = 1; i <= count; i += 1) {
    const email = `seeded-${i}-${Date.now()}@reference.ba-harness.test`;
    const password = `seeded-${Math.random().toString(36).slice(2)}-${i}`;
    const answer = await seedAuth.api.signUpEmail({
      body: { email, password, name: `Seeded user ${i}` },
      asResponse: true,
    });
    if (!answer.ok) throw new Error(`seeding account ${i} failed with HTTP ${answer.status}`);
    if (profiles.has("verify-email")) {
      const { internalAdapter } = await seedAuth.$context;
      await internalAdapter.updateUserByEmail(email, { emailVerified: true });
    }
    lines.push(`${email},${password}`);
  }
  writeFileSync(usersFile, `${lines.join("\n")}\n`, { mode: 0o600 });
  return usersFile;
}

// With tls-proxy, Better Auth takes any free internal port and the proxy takes PORT.
server.listen(tlsProxy ? 0 : port, "127.0.0.1", async () => {
  try {
    const actualPort = tlsProxy
      ? (await startTlsProxy(server.address().port)).address().port
      : server.address().port;
    const oauthClient = oauthProvider ? await seedOAuthClient() : {};
    const usersFile =
      profiles.has("closed-signup") || profiles.has("verify-email") ? await seedUsers() : null;
    const ready = {
      ready: true,
      base_url: baseURL,
      port: actualPort,
      base_path: basePath,
      jwt_alg: jwtAlg,
      cookie_cache_max_age: cookieCacheMaxAge,
      session_update_age: sessionUpdateAge ?? 86400,
      // Only when set: the provider's default (600 s) is too long to wait out.
      code_expires_in: oauthProvider && codeExpiresIn !== undefined ? codeExpiresIn : null,
      rate_limit_max: signInLimit,
      jwks_rotation_interval: jwksRotationInterval ?? null,
      jwt_test_profiles: Object.keys(jwtTestProfiles),
      mailbox: `${baseURL}${mailboxPath}`,
      revoke_sessions_on_password_reset: true,
      reset_password_token_expires_in: resetTokenExpiresIn,
      session_expires_in: sessionExpiresIn,
      fresh_age: sessionFreshAge,
      ...oauthClient,
      // Only with profiles, so that the default ready line is what it always was.
      ...(profiles.size > 0
        ? {
            profiles: [...profiles],
            cookie_prefix: cookiePrefix ?? "better-auth",
            users_file: usersFile,
            dynamic_client_registration: !profiles.has("no-dcr"),
            cookie_cache_strategy: cookieCacheStrategy ?? "compact",
            node_env: process.env.NODE_ENV,
          }
        : {}),
      startup_ms: Date.now() - startedAt,
    };
    if (process.env.READY_FILE) writeFileSync(process.env.READY_FILE, JSON.stringify(ready));
    console.log(`BA_HARNESS_READY ${JSON.stringify(ready)}`);
  } catch (error) {
    console.error("server.mjs: start-up failed:", error);
    process.exit(1);
  }
});

function shutdown() {
  server.close();
  database.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

// If the harness that started us dies without stopping us (SIGKILL, a crashed CI step), exit
// rather than linger as an orphan holding a port.
const parentPid = Number.parseInt(process.env.BA_HARNESS_PARENT_PID ?? "", 10);
if (Number.isInteger(parentPid) && parentPid > 0) {
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      shutdown();
    }
  }, 1000).unref();
}
