@core @session-lifetime
Feature: Sessions past their lifetime
  A session lives session.expiresIn (7 days by default) and is fresh for session.freshAge (1 day
  by default); delete-user without a password wants a fresh one. The harness cannot age a
  session from outside, so these run only against a server configured with short ones, declared
  with --session-expires-in and --fresh-age (at most 120 s; the bundled reference:
  --reference-profile short-sessions).

  @short-session @better-auth-session-h
  Scenario: A session past expiresIn is no session
    Given a signed-in user
    When the session has outlived session.expiresIn
    Then the session the user started with is no session any more

  @short-fresh-age @better-auth-session-l
  Scenario: A session older than freshAge cannot delete its user
    Given a signed-in user
    When the session has outlived session.freshAge
    And the user deletes their account
    Then the stale session did not delete the user
