// The app's own protected route, as the @thallesp/nestjs-better-auth README writes it: the
// global AuthGuard refuses requests without a session (401); @Session() hands the session in.
import { Controller, Get, Header } from "@nestjs/common";
import { AllowAnonymous, Session, type UserSession } from "@thallesp/nestjs-better-auth";

@Controller("api")
export class MeController {
  @Get("me")
  @Header("Cache-Control", "no-store")
  me(@Session() session: UserSession) {
    return session;
  }

  @Get("health")
  @AllowAnonymous()
  health() {
    return { status: "ok" };
  }
}
