@tanstack-start
Feature: Better Auth inside a TanStack Start app
  Better Auth's TanStack Start guide mounts the handler as a server route (/api/auth/$ handing
  the request to auth.handler) and signs users in from server functions through auth.api. A
  server function's answer carries no cookie from auth.api unless the tanstackStartCookies()
  plugin (the 1.7 name of reactStartCookies), last in the plugin list, copies Better Auth's
  Set-Cookie into TanStack Start's response. The harness posts the sign-in form to its server
  function as a browser without JavaScript does (multipart/form-data, the app's Origin). The app
  is the target (--target-kind tanstack-start); /sign-in, /dashboard and GET /api/me are the
  bundled app's (for other paths, copy this file and give --features).

  @better-auth-integration-a
  Scenario: TanStack Start: the protected server route answers 200 with the signed-in user
    Given a signed-in user
    When the user requests "/api/me" from the app
    Then the app answers 200 with the signed-in user

  @better-auth-integration-b
  Scenario: TanStack Start: the protected server route refuses a visitor without a session
    When a visitor requests "/api/me" from the app without cookies
    Then the app refuses the request with 401

  @better-auth-integration-f
  Scenario: TanStack Start: signing in through a server function sets the session cookie
    Given a registered user
    When the user signs in through the server-function form on "/sign-in"
    Then the server function redirects to "/dashboard"
    And the server function sets the session cookie

  @better-auth-integration-g
  Scenario: TanStack Start: the server function's session cookie opens the protected page
    Given a registered user
    When the user signs in through the server-function form on "/sign-in"
    And the user opens "/dashboard" with the cookies the server function set
    Then the page answers 200 and shows the user's name
