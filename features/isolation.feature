@core @isolation
Feature: Isolation between users
  One user's session reaches only that user's own account and sessions. With a second user
  signed in in the same scenario: revoke-session with the other user's token ends nothing of
  theirs, list-sessions shows none of their sessions, get-session answers the caller and no one
  else, and update-user changes the caller's account only, whatever token the body names.

  @better-auth-session-f
  Scenario: A user cannot revoke another user's session by its token
    Given a signed-in user
    And another user is signed in
    When the user asks to revoke the other user's session by its token
    Then the other user's session is still valid
    And the user's session is still valid

  @better-auth-session-b @better-auth-session-f
  Scenario: list-sessions never shows another user's session
    Given a signed-in user
    And another user is signed in
    When the user lists their sessions
    Then the response status is 200
    And the list holds no session of the other user

  @better-auth-session-a @better-auth-session-f
  Scenario: get-session answers the caller while another user is signed in
    Given a signed-in user
    And another user is signed in
    When the user asks for the session with only the session cookie
    Then the session belongs to the user

  @better-auth-user-c
  Scenario: update-user changes only the caller's account
    Given a signed-in user
    And another user is signed in
    When the user changes their name
    Then the response status is 200
    And the other user's name is unchanged
    And the user's session shows the new name

  @better-auth-user-c @better-auth-session-f
  Scenario: Another user's session token in a request body does not act for that user
    Given a signed-in user
    And another user is signed in
    When the user changes their name, naming the other user's session token in the body
    Then the other user's name is unchanged
