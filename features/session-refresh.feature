@core @session-refresh
Feature: Sliding session expiry
  A session lives for session.expiresIn (7 days by default). When get-session sees a session
  older than session.updateAge (1 day by default), it extends it to a full expiresIn from now and
  sends the session cookie again with the new Max-Age, so active users stay signed in. The
  bundled reference runs with updateAge 3 s so the run can watch this happen.

  @better-auth-session-g
  Scenario: get-session extends a session older than updateAge
    Given a signed-in user
    When the user reads the session's expiry
    And the session becomes older than the server's updateAge
    Then get-session extends the session and sends the session cookie again with the new lifetime
