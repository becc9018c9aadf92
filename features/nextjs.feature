@next-app
Feature: Better Auth inside a Next.js app
  Most Better Auth users run it inside Next.js (App Router). A server action that signs a user in
  through auth.api sets no cookie unless the nextCookies plugin, last in the plugin list, copies
  Better Auth's Set-Cookie headers into Next's cookie store. The route handler mounted with
  toNextJsHandler must pass every Set-Cookie through. proxy.ts (middleware.ts before Next 16)
  sends visitors without a session cookie to the sign-in page, and the protected page itself
  validates the session. The harness submits the app's server-action forms as a browser without
  JavaScript does: multipart/form-data with the hidden action fields the page rendered and the
  app's own Origin. The pages (/sign-up, /sign-in, /dashboard) are the bundled app's; for an app
  with other paths, copy this file, change them, and give the folder with --features.

  @better-auth-integration-f
  Scenario: Signing up through the server-action form signs the user in
    Given a visitor of the Next.js app
    When the visitor signs up through the server-action form on "/sign-up"
    Then the server action answers 303 See Other to "/dashboard"
    And the server action sets the session cookie

  @better-auth-integration-f
  Scenario: Signing in through the server-action form sets the session cookie
    Given a user who signed up through the Next.js app's route handler
    When the user signs in through the route handler
    And the user signs in through the server-action form on "/sign-in"
    Then the server action answers 303 See Other to "/dashboard"
    And the server action sets the session cookie
    And the server action's session cookie means the same as the route handler's

  @better-auth-integration-g
  Scenario: The session cookie from the server action opens the protected page
    Given a user signed in through the server-action form on "/sign-in"
    When the user opens "/dashboard" in the Next.js app
    Then the page answers 200 and shows the user's name

  @better-auth-integration-h
  Scenario: Without a session cookie the protected page redirects to sign-in
    Given a visitor of the Next.js app
    When the visitor opens "/dashboard" without cookies
    Then the visitor is redirected to "/sign-in"

  @better-auth-integration-g
  Scenario: A session cookie the server does not know does not open the protected page
    Given a visitor of the Next.js app
    When the visitor opens "/dashboard" with a forged session cookie
    Then the page redirects to "/sign-in" because the session is not valid

  @better-auth-integration-i
  Scenario: Signing out through a server action clears the session cookie
    Given a user signed in through the server-action form on "/sign-in"
    When the user signs out through the server-action form on "/dashboard"
    Then the server action answers 303 See Other to "/sign-in"
    And the server action clears the session cookie and the cookie cache
    And the old session cookie alone no longer opens "/dashboard"

  @better-auth-integration-j @rfc6265bis-4.1.1-b
  Scenario: The route handler sends every cookie on its own Set-Cookie line
    Given a user who signed up through the Next.js app's route handler
    When the user signs in through the route handler
    Then the route handler sends the session cookie and the cookie cache each on its own Set-Cookie line
