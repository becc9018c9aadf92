@express
Feature: Better Auth inside an Express app
  Better Auth's Express guide mounts the handler with toNodeHandler(auth) on /api/auth/*splat
  (Express 5) and warns not to mount express.json() before it: the parser reads the request body
  first. Releases before better-call re-used a parsed body left every sign-in pending forever;
  better-auth 1.7 (better-call 1.4) re-serialises req.body instead, so the pitfall now shows as
  express.json() answering malformed bodies itself, with an HTML error page. The app's own routes
  read the session with auth.api.getSession({ headers: fromNodeHeaders(req.headers) }). The app
  is the target (--target-kind express); its protected route is GET /api/me and its front end,
  allowed by cors({ origin, credentials: true }) and trustedOrigins, is http://127.0.0.1:5173
  (the bundled app's; for others, copy this file and give the folder with --features).

  @better-auth-integration-a
  Scenario: Express: the protected route answers 200 with the signed-in user
    Given a signed-in user
    When the user requests "/api/me" from the app
    Then the app answers 200 with the signed-in user

  @better-auth-integration-b
  Scenario: Express: the protected route refuses a visitor without a session
    When a visitor requests "/api/me" from the app without cookies
    Then the app refuses the request with 401

  @better-auth-integration-b
  Scenario: Express: the protected route refuses a forged session cookie
    When a visitor requests "/api/me" from the app with a forged session cookie
    Then the app refuses the request with 401

  @better-auth-integration-c
  Scenario: Express: sign-in through the mounted handler does not hang
    Given a registered user
    When the user signs in through the app's auth handler
    Then the response status is 200
    And the response sets the session cookie

  @better-auth-integration-d
  Scenario: Express: a malformed JSON body reaches Better Auth, not express.json()
    When someone posts a truncated JSON body to sign-in
    Then Better Auth itself refuses the malformed body with a JSON error

  @better-auth-integration-e @fetch-cors-3.2.3-a @fetch-cors-3.2.3-b @fetch-cors-3.2.3-c
  Scenario: Express: the trusted front end may call Better Auth with credentials
    When the front end at "http://127.0.0.1:5173" sends a CORS preflight for "/api/auth/sign-in/email"
    Then the preflight allows "http://127.0.0.1:5173" with credentials

  @better-auth-integration-e @fetch-cors-3.2.3-d
  Scenario: Express: an untrusted origin may not call Better Auth with credentials
    When the front end at "https://untrusted.ba-harness.test" sends a CORS preflight for "/api/auth/sign-in/email"
    Then the preflight does not allow "https://untrusted.ba-harness.test"
