@core @sessions
Feature: Session management
  A signed-in user can list their active sessions and revoke one: the revoked session stops
  working at once, the others keep working. revoke-other-sessions ends every session but the
  caller's; revoke-sessions ends all of them, the caller's included.

  @better-auth-session-b
  Scenario: list-sessions shows every session of the user and no one else's
    Given a signed-in user
    And the user has also signed in on a second device
    When the user lists their sessions
    Then the response status is 200
    And the list holds both sessions, and only sessions of the user

  @better-auth-session-c
  Scenario: revoke-session ends that session and leaves the others
    Given a signed-in user
    And the user has also signed in on a second device
    When the user revokes the second device's session
    Then the response status is 200
    And the second device's session is no longer valid
    And the user's session is still valid

  @better-auth-session-d
  Scenario: revoke-other-sessions ends every other session and keeps the current one
    Given a signed-in user
    And the user has also signed in on a second device
    When the user revokes their other sessions
    Then the response status is 200
    And the second device's session is no longer valid
    And the user's session is still valid

  @better-auth-session-e
  Scenario: revoke-sessions ends every session of the user, the current one too
    Given a signed-in user
    And the user has also signed in on a second device
    When the user revokes all their sessions
    Then the response status is 200
    And the second device's session is no longer valid
    And the user's own session is no longer valid
