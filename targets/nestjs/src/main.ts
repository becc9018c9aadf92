// A real NestJS app with Better Auth through @thallesp/nestjs-better-auth, as its README sets it
// up: Nest's own body parser off (the module parses bodies for every route but Better Auth's),
// AuthModule.forRoot({ auth }), a controller behind the global AuthGuard.
//
// Started by ba-harness (src/framework_app.rs) after `tsc`; by hand:
//   npm run build && PORT=3000 BETTER_AUTH_SECRET=... node dist/main.js
//
// Environment: PORT, BETTER_AUTH_URL, BETTER_AUTH_SECRET, DATABASE_PATH, FRONTEND_ORIGIN,
// COOKIE_CACHE_MAX_AGE, SESSION_UPDATE_AGE (as the Express app), and two broken variants for
// ba-harness's own tests: NEST_BODY_PARSER=on leaves Nest's body parser on (the documented
// pitfall), NEST_AUTH_GUARD=off disables the global AuthGuard.
//
// NODE_ENV is forced to "production": NODE_ENV=test (or a TEST variable) silently turns Better
// Auth's origin checks off.
process.env.NODE_ENV = "production";
delete process.env.TEST;

import "reflect-metadata";
import { NestFactory } from "@nestjs/core";
import { getMigrations } from "better-auth/db/migration";
import { AppModule } from "./app.module.js";
import { authOptions } from "./auth.js";

const port = Number.parseInt(process.env.PORT ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("main.js: PORT must be set to a port number");
  process.exit(2);
}

const { runMigrations } = await getMigrations(authOptions);
await runMigrations();

const app = await NestFactory.create(AppModule, {
  // The README: "Disable NestJS's built-in body parser to allow Better Auth to handle the raw
  // request body". NEST_BODY_PARSER=on does not.
  bodyParser: process.env.NEST_BODY_PARSER === "on",
  logger: ["error", "warn"],
});
app.enableShutdownHooks();
await app.listen(port, "127.0.0.1");
console.log(
  `BA_HARNESS_READY ${JSON.stringify({ framework: "nestjs", port, body_parser: process.env.NEST_BODY_PARSER === "on" })}`,
);
