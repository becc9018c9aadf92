@core @session-cookie
Feature: The session cookie
  The session travels in one cookie, `<prefix>.session_token` (`__Secure-` prefixed and
  Secure on https), HttpOnly, SameSite=Lax, Path=/, with a Max-Age equal to the session's
  lifetime. Its value is the session token signed with the server secret,
  `<token>.<base64 HMAC-SHA256>`; a cookie whose signature does not verify is no session.
  Every cookie arrives in its own Set-Cookie header line.

  @better-auth-cookies-a
  Scenario: The session cookie has the documented name
    Given a registered user
    When the user signs in with the right password
    Then the session cookie has the documented name

  @better-auth-cookies-b @rfc6265bis-4.1.2.6-a
  Scenario: The session cookie is HttpOnly
    Given a registered user
    When the user signs in with the right password
    Then the session cookie is HttpOnly

  @better-auth-cookies-b @rfc6265bis-8.8-a
  Scenario: The session cookie is SameSite=Lax
    Given a registered user
    When the user signs in with the right password
    Then the session cookie has SameSite=Lax

  @better-auth-cookies-b
  Scenario: The session cookie has Path=/
    Given a registered user
    When the user signs in with the right password
    Then the session cookie has Path=/

  @better-auth-cookies-c @rfc6265bis-4.1.2.5-a
  Scenario: The session cookie is Secure exactly when the base URL is https
    Given a registered user
    When the user signs in with the right password
    Then the session cookie is Secure exactly when the base URL is https

  @better-auth-cookies-d
  Scenario: The session cookie's Max-Age is the session's lifetime
    Given a registered user
    When the user signs in with the right password
    Then the session cookie has a Max-Age equal to the session's lifetime

  @better-auth-session-i
  Scenario: With rememberMe false the session cookie ends with the browser session
    Given a registered user
    When the user signs in with the right password and rememberMe false
    Then the response status is 200
    And the session cookie has neither Max-Age nor Expires
    And the response sets a signed dont_remember cookie

  @better-auth-session-i
  Scenario: With rememberMe false the server keeps the session for one day
    Given a registered user
    When the user signs in with the right password and rememberMe false
    Then the response status is 200
    And the server keeps the session for about one day

  @better-auth-cookies-e
  Scenario: The session cookie value is the session token, signed
    Given a registered user
    When the user signs in with the right password
    Then the session cookie value is a token signed with an HMAC-SHA256 signature
    And the token in the session cookie is the session token in the response body

  @server-secret @better-auth-cookies-e
  Scenario: The session cookie's signature is an HMAC of the token under the server secret
    Given a registered user
    When the user signs in with the right password
    Then the session cookie's signature verifies with the server secret

  @better-auth-cookies-f @rfc6265bis-8.6-a
  Scenario: A session cookie with an altered signature gets no session
    Given a signed-in user
    When the user asks for the session with only the session cookie
    Then the session belongs to the user
    When the user asks for the session with the session cookie's signature altered
    Then the response status is 200
    And the response body is JSON null

  @better-auth-cookies-f @rfc6265bis-8.6-a
  Scenario: A session cookie without its signature gets no session
    Given a signed-in user
    When the user asks for the session with only the session cookie
    Then the session belongs to the user
    When the user asks for the session with the session cookie's signature removed
    Then the response status is 200
    And the response body is JSON null

  @rfc6265bis-4.1.1-b
  Scenario: Every cookie arrives in its own Set-Cookie header line
    Given a registered user
    When the user signs in with the right password and rememberMe false
    Then the response sets at least 2 cookies
    And every Set-Cookie header line carries exactly one cookie
    And the response sets the session cookie
    And the response sets a signed dont_remember cookie

  @rfc6265bis-4.1.2.6-a @better-auth-cookies-b
  Scenario: Every cookie the session starts with is HttpOnly
    Given a signed-in user
    Then every cookie the response sets is HttpOnly

  @should @better-auth-cookies-g
  Scenario: The session cookie is host-only
    Given a signed-in user
    Then the session cookie is host-only
