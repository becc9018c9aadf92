@core @errors
Feature: Error answers
  Core endpoints answer client errors as JSON {code, message} with a JSON content type, with
  the documented status and code, and routes that need a session refuse requests without one.

  @sign-up @better-auth-email-password-g @better-auth-errors-a
  Scenario: A password shorter than the minimum is refused at sign-up
    When someone signs up with a password one character shorter than the minimum
    Then the response status is 400
    And the response is a JSON error with code "PASSWORD_TOO_SHORT"
    And the response sets no session cookie

  @sign-up @better-auth-email-password-g @better-auth-errors-a
  Scenario: A password longer than the maximum is refused at sign-up
    When someone signs up with a password one character longer than the maximum
    Then the response status is 400
    And the response is a JSON error with code "PASSWORD_TOO_LONG"
    And the response sets no session cookie

  @sign-up @better-auth-email-password-h @better-auth-errors-a
  Scenario: A malformed email at sign-up is refused
    When someone signs up with the email "not-an-email"
    Then the response status is 400
    And the response is a JSON error
    And the response sets no session cookie

  @better-auth-email-password-h @better-auth-errors-a
  Scenario: A sign-in without a password is refused as invalid input
    When someone signs in without a password
    Then the response status is 400
    And the response is a JSON error with code "VALIDATION_ERROR"

  @better-auth-email-password-h @better-auth-errors-a
  Scenario: A malformed email at sign-in is refused
    When someone signs in with the email "not-an-email"
    Then the response status is 400
    And the response is a JSON error with code "INVALID_EMAIL"

  @better-auth-session-j @better-auth-errors-a
  Scenario: A session-only route refuses a request without a session
    When a client without cookies lists sessions
    Then the response status is 401
    And the response is a JSON error with code "UNAUTHORIZED"

  @should @better-auth-session-k
  Scenario: Session answers are not cacheable
    Given a signed-in user
    When the user asks for the session with the cookies they were given
    Then the session belongs to the user
    And the response forbids caching
