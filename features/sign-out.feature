@core @sign-out
Feature: Sign-out
  POST /sign-out ends the session twice over: in the browser, by clearing the session
  cookie (Max-Age=0 on the same Path), and on the server, by revoking the session so that
  a copy of the old cookie no longer works.

  @better-auth-sign-out-a @rfc6265bis-4.1.2-a
  Scenario: Sign-out clears the session cookie
    Given a signed-in user
    When the user signs out
    Then the response status is 200
    And the session cookie is cleared

  @better-auth-sign-out-a @rfc6265bis-4.1.1-b @rfc6265bis-4.1.2-a
  Scenario: Sign-out clears every cookie the sign-in set
    Given a signed-in user
    When the user signs out
    Then every Set-Cookie header line carries exactly one cookie
    And every cookie set when the session started is cleared

  @better-auth-sign-out-b
  Scenario: Sign-out revokes the session on the server
    Given a signed-in user
    And the user keeps a copy of the session cookie
    When the user signs out
    Then the response status is 200
    When the kept session cookie alone is replayed to get-session
    Then the response status is 200
    And the response body is JSON null
