@core @account-reset @mailbox
Feature: Password reset through the mailed link
  reset-password with the token Better Auth hands to emailAndPassword.sendResetPassword sets a
  new password. With revokeSessionsOnPasswordReset it ends every session the user had; the token
  works once, and only until resetPasswordTokenExpiresIn. The harness reads the link from a
  mailbox the deployment provides (--mailbox URL: GET URL?email=ADDRESS answers {"token", "url"},
  docs/configuration.md); the bundled reference serves one on a test-only route.

  @reset-revokes-sessions @better-auth-email-password-k
  Scenario: reset-password ends every earlier session of the user
    Given a signed-in user
    And the user has also signed in on a second device
    When the user asks for a password reset
    And the user sets a new password with the link from the mailbox
    Then the response status is 200
    And the reset ended the session the user started with
    And the reset ended the second device's session
    And the new password from the reset signs the user in

  @better-auth-email-password-l
  Scenario: A password reset token works only once
    Given a registered user
    When the user asks for a password reset
    And the user sets a new password with the link from the mailbox
    Then the response status is 200
    And the new password from the reset signs the user in
    When the user sets a new password with the link from the mailbox
    Then the reset is refused
    And the password of the refused reset does not sign the user in

  @short-reset-token @better-auth-email-password-l
  Scenario: An expired password reset token is refused
    Given a registered user
    When the user asks for a password reset
    And the reset link has expired
    And the user sets a new password with the link from the mailbox
    Then the reset is refused
    And the password of the refused reset does not sign the user in
