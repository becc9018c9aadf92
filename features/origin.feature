@core @origin
Feature: Origin check (CSRF)
  A state-changing request that carries cookies must come from a trusted origin: an untrusted
  Origin gets 403 INVALID_ORIGIN, a missing or "null" Origin gets 403 MISSING_OR_NULL_ORIGIN.
  A request that says where it comes from (Origin or Referer) is checked even without cookies,
  and a cross-site form navigation cannot sign anyone in (login CSRF). Redirect targets
  (callbackURL) must be trusted too. The target's own origin is trusted.

  @better-auth-origin-c
  Scenario: Sign-in from an untrusted Origin is refused
    Given a registered user
    When the user signs in from Origin "http://evil.ba-harness.test"
    Then the response status is 403
    And the response is a JSON error with code "INVALID_ORIGIN"
    And the response sets no session cookie

  @better-auth-origin-c
  Scenario: Sign-in with an untrusted Referer and no Origin is refused
    Given a registered user
    When the user signs in with Referer "http://evil.ba-harness.test/login" and no Origin
    Then the response status is 403
    And the response is a JSON error with code "INVALID_ORIGIN"
    And the response sets no session cookie

  @better-auth-origin-d
  Scenario: A cross-site form navigation cannot sign in
    Given a registered user
    When the user signs in from a cross-site form navigation
    Then the response status is 403
    And the response is a JSON error with code "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"
    And the response sets no session cookie

  @better-auth-origin-e
  Scenario: A callbackURL on another site is refused
    Given a registered user
    When the user signs in asking to be sent to callbackURL "http://evil.ba-harness.test/after"
    Then the response status is 403
    And the response is a JSON error with code "INVALID_CALLBACK_URL"
    And the response sets no session cookie

  @better-auth-origin-a
  Scenario: A POST with the session cookie from an untrusted Origin is refused
    Given a signed-in user
    When the user signs out sending Origin "http://evil.ba-harness.test"
    Then the response status is 403
    And the response is a JSON error with code "INVALID_ORIGIN"
    And the user's session is still valid

  @better-auth-origin-b
  Scenario: A POST with the session cookie and no Origin is refused
    Given a signed-in user
    When the user signs out without an Origin header
    Then the response status is 403
    And the response is a JSON error with code "MISSING_OR_NULL_ORIGIN"
    And the user's session is still valid

  @better-auth-origin-b
  Scenario: A POST with the session cookie and Origin "null" is refused
    Given a signed-in user
    When the user signs out sending Origin "null"
    Then the response status is 403
    And the response is a JSON error with code "MISSING_OR_NULL_ORIGIN"
    And the user's session is still valid

  @better-auth-origin-f
  Scenario: A POST with the session cookie from the target's own origin passes
    Given a signed-in user
    When the user signs out
    Then the response status is 200
    And the response body says the sign-out succeeded

  @better-auth-origin-g
  Scenario: A POST with the session cookie from an origin that only looks like the target's is refused
    Given a signed-in user
    When the user signs out from each origin that only looks like the target's
    Then every one of those requests was refused with 403 "an Origin"
    And the user's session is still valid

  @better-auth-origin-g
  Scenario: Sign-in from an origin that only looks like the target's is refused
    Given a registered user
    When the user signs in from each origin that only looks like the target's
    Then every one of those requests was refused with 403 "an Origin"

  @better-auth-origin-c @better-auth-origin-g
  Scenario: Sign-in with a Referer that only looks like the target's and no Origin is refused
    Given a registered user
    When the user signs in with a Referer on each origin that only looks like the target's and no Origin
    Then every one of those requests was refused with 403 "a Referer"

  @better-auth-origin-e @better-auth-origin-g
  Scenario: A callbackURL that only looks like the target's is refused
    Given a registered user
    When the user signs in asking to be sent to each redirect target that only looks like the target's
    Then every one of those requests was refused with 403 "a callbackURL"

  @fetch-cors-3.2.3-d @fetch-cors-3.2.3-e
  Scenario: No untrusted origin is granted credentialed CORS access
    Given a signed-in user
    When a page on another origin sends CORS preflights and a credentialed get-session
    Then no answer grants that origin credentialed access
