// Serves the built TanStack Start app (vite build: dist/server/server.js, a fetch handler, and
// dist/client, the browser assets) on Node's http module: the app's own production server, as
// TanStack Start's hosting guide leaves the Node server to the app (or to Nitro/srvx).
//
// Started by ba-harness (src/framework_app.rs) after `vite build`; by hand:
//   npx vite build && PORT=3000 BETTER_AUTH_SECRET=... node server.mjs
//
// Environment: PORT, BETTER_AUTH_URL, BETTER_AUTH_SECRET, DATABASE_PATH, COOKIE_CACHE_MAX_AGE,
// SESSION_UPDATE_AGE (as the Express app), and TANSTACK_COOKIES=off, which leaves
// tanstackStartCookies() out (src/lib/auth.ts): the broken variant for ba-harness's own tests.
//
// NODE_ENV is forced to "production": NODE_ENV=test (or a TEST variable) silently turns Better
// Auth's origin checks off.
process.env.NODE_ENV = "production";
delete process.env.TEST;

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const clientDir = join(here, "dist", "client");
const { default: app } = await import("./dist/server/server.js");

const port = Number.parseInt(process.env.PORT ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("server.mjs: PORT must be set to a port number");
  process.exit(2);
}

const publicOrigin = new URL(process.env.BETTER_AUTH_URL ?? `http://127.0.0.1:${port}`).origin;
const types = { ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".json": "application/json" };

/** A file of dist/client for a GET, or null. */
async function staticFile(pathname) {
  const path = normalize(join(clientDir, decodeURIComponent(pathname)));
  if (!path.startsWith(clientDir + sep)) return null;
  try {
    const info = await stat(path);
    return info.isFile() ? path : null;
  } catch {
    return null;
  }
}

const server = createServer(async (req, res) => {
  try {
    // The app's public origin, not the Host header: TanStack Start's default CSRF check refuses
    // (403 "Forbidden") a server-function post whose Origin differs from the request URL's, so
    // behind a proxy the URL must carry the origin the browser sees.
    const url = new URL(req.url ?? "/", publicOrigin);
    if (req.method === "GET" && url.pathname !== "/") {
      const file = await staticFile(url.pathname);
      if (file) {
        res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
        createReadStream(file).pipe(res);
        return;
      }
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(url, {
      method: req.method,
      headers,
      body: hasBody ? Readable.toWeb(req) : undefined,
      duplex: "half",
    });
    const response = await app.fetch(request);
    const out = {};
    for (const [name, value] of response.headers) if (name !== "set-cookie") out[name] = value;
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) out["set-cookie"] = cookies;
    res.writeHead(response.status, out);
    if (response.body) Readable.fromWeb(response.body).pipe(res);
    else res.end();
  } catch (error) {
    console.error("server.mjs:", error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error");
  }
});

server.listen(port, "127.0.0.1", () => {
  console.log(`BA_HARNESS_READY ${JSON.stringify({ framework: "tanstack-start", port })}`);
});

function shutdown() {
  server.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
