@core @account-lifetimes
Feature: Sessions after account changes
  Account changes end the sessions Better Auth documents they end. change-password with
  revokeOtherSessions ends every other session and keeps the caller signed in (Better Auth
  re-issues the caller's session); the old password stops working. delete-user ends every
  session of the user and clears the session cookies. Sign-out ends the session for its bearer
  token too. request-password-reset answers the same for a registered and an unknown email.
  The reset-password flow, which needs a mailbox, is in account-reset-password.feature;
  change-email is not observable from outside.

  @better-auth-email-password-i @better-auth-email-password-j
  Scenario: change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in
    Given a signed-in user
    And the user has also signed in on a second device
    When the user changes their password and asks to revoke their other sessions
    Then the response status is 200
    And the password change ended the second device's session
    And the user is still signed in with the cookies they were given
    And the old password no longer signs the user in
    And the new password signs the user in

  @better-auth-user-a
  Scenario: delete-user ends every session of the user and clears its cookies
    Given a signed-in user
    And the user has also signed in on a second device
    When the user deletes their account
    Then the response status is 200
    And the answer clears every cookie the session started with
    And none of the user's sessions is valid any more
    And the deleted user's password signs no one in

  @bearer @better-auth-sign-out-b @better-auth-bearer-c
  Scenario: Sign-out with the cookie also ends the session for its bearer token
    Given a signed-in user
    When the user signs out
    Then the response status is 200
    When the user asks for the session with the bearer token
    Then the response status is 200
    And the response body is JSON null

  @better-auth-email-password-n
  Scenario: request-password-reset answers a registered and an unknown email alike
    Given a registered user
    When someone asks for a password reset for the user's email and for an email nobody registered
    Then both answers are the same

  @bearer @better-auth-session-c @better-auth-bearer-c
  Scenario: A revoked session's bearer token is no session
    Given a signed-in user
    And the user has also signed in on a second device
    When the user revokes the second device's session
    Then the response status is 200
    And the second device's bearer token is no session either
