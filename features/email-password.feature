@core @email-password
Feature: Email and password accounts
  Better Auth's emailAndPassword plugin: POST /sign-up/email and /sign-in/email start a
  session for the user, GET /get-session tells who is signed in, POST /sign-out ends it.
  Wrong credentials are refused with 401 and a JSON {code, message} body that does not
  reveal whether the email exists. Every scenario signs up its own random user.

  @sign-up @sign-up-session @better-auth-email-password-a @better-auth-session-a
  Scenario: Sign-up creates the user and starts a session
    When a new user signs up with email and password
    Then the response status is 200
    And the response body carries the user with the email and name given at sign-up
    And the response body carries a session token
    And the response sets the session cookie
    When the user asks for the session with the cookies they were given
    Then the session belongs to the user

  @better-auth-email-password-b @better-auth-session-a
  Scenario: Sign-in with the right password starts a session for that user
    Given a registered user
    When the user signs in with the right password
    Then the response status is 200
    And the response body carries the user with the email and name given at sign-up
    And the response body carries a session token
    And the response sets the session cookie
    When the user asks for the session with the cookies they were given
    Then the session belongs to the user

  @sign-up @better-auth-email-password-f
  Scenario: Emails are case-insensitive
    When a new user signs up with a mixed-case email
    Then the response status is 200
    And the response body carries the email in lower case
    When the user signs in with the email in lower case
    Then the response status is 200
    And the response body carries the user with the email and name given at sign-up

  @better-auth-session-a
  Scenario: get-session without credentials answers null
    When a client without cookies asks for the session
    Then the response status is 200
    And the response body is JSON null

  @better-auth-email-password-c @better-auth-errors-a
  Scenario: A wrong password is refused with 401 and a JSON error
    Given a registered user
    When the user signs in with a wrong password
    Then the response status is 401
    And the response is a JSON error with code "INVALID_EMAIL_OR_PASSWORD"
    And the error message is "Invalid email or password"
    And the response sets no session cookie

  @better-auth-email-password-d
  Scenario: An unknown email is refused exactly like a wrong password
    When someone signs in with an email nobody registered
    Then the response status is 401
    And the response is a JSON error with code "INVALID_EMAIL_OR_PASSWORD"
    And the error message is "Invalid email or password"
    And the response sets no session cookie

  # A server whose sign-up starts no session (autoSignIn false, requireEmailVerification)
  # answers a taken email like a fresh sign-up, so as not to reveal the account: the 422 is
  # checked only where sign-up starts a session, what happens to the account everywhere.
  @sign-up @sign-up-session @better-auth-email-password-e
  Scenario: A duplicate sign-up is refused with 422
    Given a registered user
    When someone signs up again with the same email and another password
    Then the response status is 422
    And the response is a JSON error with code "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"
    And the response sets no session cookie

  @sign-up @better-auth-email-password-e
  Scenario: A duplicate sign-up leaves the account as it was
    Given a registered user
    When someone signs up again with the same email and another password
    Then the response sets no session cookie
    And the original password still signs the user in
    And the other password does not sign the user in

  @better-auth-sign-out-a
  Scenario: Sign-out answers success
    Given a signed-in user
    When the user signs out
    Then the response status is 200
    And the response body says the sign-out succeeded
