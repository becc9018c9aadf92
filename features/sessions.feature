@core @sessions
Feature: Session management
  A signed-in user can list their active sessions and revoke one: the revoked session stops
  working at once, the others keep working.

  Scenario: list-sessions shows every session of the user and no one else's
    Given a signed-in user
    And the user has also signed in on a second device
    When the user lists their sessions
    Then the response status is 200
    And the list holds both sessions, and only sessions of the user

  Scenario: revoke-session ends that session and leaves the others
    Given a signed-in user
    And the user has also signed in on a second device
    When the user revokes the second device's session
    Then the response status is 200
    And the second device's session is no longer valid
    And the user's session is still valid
