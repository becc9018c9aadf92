// AuthModule.forRoot mounts Better Auth's handler at the instance's basePath (/api/auth),
// re-adds JSON/urlencoded body parsing for every other route, applies CORS for trustedOrigins,
// and registers AuthGuard globally.
//
// NEST_AUTH_GUARD=off sets disableGlobalAuthGuard (a broken variant for ba-harness's own tests:
// /api/me is then open to anyone).
import { Module } from "@nestjs/common";
import { AuthModule } from "@thallesp/nestjs-better-auth";
import { auth } from "./auth.js";
import { MeController } from "./me.controller.js";

@Module({
  imports: [
    AuthModule.forRoot({
      auth,
      disableGlobalAuthGuard: process.env.NEST_AUTH_GUARD === "off",
    }),
  ],
  controllers: [MeController],
})
export class AppModule {}
