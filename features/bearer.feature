@bearer
Feature: Bearer tokens
  With the bearer plugin, sign-in hands non-browser clients the signed session token in the
  set-auth-token header, and "Authorization: Bearer <that token>" authenticates like the
  session cookie. Bearer-only requests carry no cookie, so they are exempt from the origin
  check. A bearer token whose signature does not verify is no session.

  @better-auth-bearer-a
  Scenario: Sign-in returns the signed session token in set-auth-token
    Given a registered user
    When the user signs in with the right password
    Then the response status is 200
    And the response carries the signed session token in set-auth-token

  @should @better-auth-bearer-b @fetch-cors-3.2.3-f
  Scenario: set-auth-token is readable by browser scripts
    Given a registered user
    When the user signs in with the right password
    Then set-auth-token is exposed to browser scripts

  @better-auth-bearer-c
  Scenario: A bearer token authenticates get-session
    Given a signed-in user
    When the user asks for the session with the bearer token
    Then the session belongs to the user

  @better-auth-bearer-c
  Scenario: A bearer token with an altered signature gets no session
    Given a signed-in user
    When the user asks for the session with the bearer token
    Then the session belongs to the user
    When the user asks for the session with the bearer token's signature altered
    Then the response status is 200
    And the response body is JSON null

  @better-auth-bearer-d
  Scenario: A bearer-only sign-out needs no Origin and revokes the session
    Given a signed-in user
    When the user signs out with only the bearer token and no Origin
    Then the response status is 200
    And the response body says the sign-out succeeded
    When the user asks for the session with the bearer token
    Then the response body is JSON null
