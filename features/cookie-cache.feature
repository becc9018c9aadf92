@cookie-cache
Feature: Cookie cache
  With session.cookieCache, sign-in also sets <prefix>.session_data, a signed copy of the
  session that get-session trusts until its maxAge without asking the database. Documented
  trade-off: after sign-out, a kept copy of session_token together with session_data still
  returns the session until the cache expires; session_token alone does not. The cache is
  never trusted alone, nor when its content was altered.

  @better-auth-cookie-cache-a
  Scenario: Sign-in issues the cookie cache cookie
    Given a registered user
    When the user signs in with the right password
    Then the response sets the cookie cache cookie with the session cookie's attributes

  @better-auth-cookie-cache-b
  Scenario: The cookie cache alone is no session
    Given a signed-in user
    When the user asks for the session with only the cookie cache cookie
    Then the response status is 200
    And the response body is JSON null

  @better-auth-cookie-cache-b @rfc6265bis-8.6-a
  Scenario: A cookie cache altered to name someone else is not believed
    Given a signed-in user
    When the user asks for the session with a cookie cache forged to name another email
    Then the forged cache is not believed

  @better-auth-cookie-cache-c
  Scenario: After sign-out the session token alone gets no session, even with the cache on
    Given a signed-in user
    And the user keeps a copy of the session cookie
    When the user signs out
    And the kept session cookie alone is replayed to get-session
    Then the response body is JSON null

  @should @better-auth-cookie-cache-d
  Scenario: The cookie cache is honoured until it expires, even after sign-out
    Given a signed-in user
    And the user keeps a copy of the session cookies
    When the user signs out
    And the kept session cookies are replayed to get-session
    Then the session belongs to the user

  @short-cookie-cache @better-auth-cookie-cache-e
  Scenario: The revocation delay of the cookie cache ends after its maxAge
    Given a signed-in user
    And the user keeps a copy of the session cookies
    When the user signs out
    Then once the cookie cache lifetime has passed the kept session cookies get no session, and the measured revocation delay is reported
