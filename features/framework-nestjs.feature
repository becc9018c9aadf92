@nestjs
Feature: Better Auth inside a NestJS app
  The @thallesp/nestjs-better-auth package (the integration Better Auth's NestJS guide points to) mounts the
  handler with AuthModule.forRoot({ auth }) and registers AuthGuard globally: every route needs a
  session unless marked @AllowAnonymous(); @Session() hands it to the controller. Nest's own body
  parser must be off (NestFactory.create(AppModule, { bodyParser: false })): the module parses
  bodies itself for every route but Better Auth's. With it left on, better-auth 1.7 still signs
  users in (it re-serialises the parsed body), but Nest answers malformed bodies itself, with its
  own error shape. The module applies CORS with credentials for trustedOrigins. The app is the
  target (--target-kind nestjs); its protected route is GET /api/me and its trusted front end
  http://127.0.0.1:5173 (the bundled app's; for others, copy this file and give --features).

  @better-auth-integration-a
  Scenario: NestJS: the guarded route answers 200 with the signed-in user
    Given a signed-in user
    When the user requests "/api/me" from the app
    Then the app answers 200 with the signed-in user

  @better-auth-integration-b
  Scenario: NestJS: AuthGuard refuses a visitor without a session
    When a visitor requests "/api/me" from the app without cookies
    Then the app refuses the request with 401

  @better-auth-integration-b
  Scenario: NestJS: AuthGuard refuses a forged session cookie
    When a visitor requests "/api/me" from the app with a forged session cookie
    Then the app refuses the request with 401

  @better-auth-integration-c
  Scenario: NestJS: sign-in through the mounted handler does not hang
    Given a registered user
    When the user signs in through the app's auth handler
    Then the response status is 200
    And the response sets the session cookie

  @better-auth-integration-d
  Scenario: NestJS: a malformed JSON body reaches Better Auth, not Nest's body parser
    When someone posts a truncated JSON body to sign-in
    Then Better Auth itself refuses the malformed body with a JSON error

  @better-auth-integration-e @fetch-cors-3.2.3-a @fetch-cors-3.2.3-b @fetch-cors-3.2.3-c
  Scenario: NestJS: the trusted front end may call Better Auth with credentials
    When the front end at "http://127.0.0.1:5173" sends a CORS preflight for "/api/auth/sign-in/email"
    Then the preflight allows "http://127.0.0.1:5173" with credentials

  @better-auth-integration-e @fetch-cors-3.2.3-d
  Scenario: NestJS: an untrusted origin may not call Better Auth with credentials
    When the front end at "https://untrusted.ba-harness.test" sends a CORS preflight for "/api/auth/sign-in/email"
    Then the preflight does not allow "https://untrusted.ba-harness.test"
