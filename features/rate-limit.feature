Feature: Rate limiting
  Better Auth limits requests per client IP and path (rateLimit: on in production, sign-in 3 per
  10 s by default) and refuses the next one with 429 and X-Retry-After in seconds. With a
  declared limit (--rate-limit-max N) the harness checks it exactly; without one it probes: one
  client signs in with a wrong password for an unknown email, up to 30 times, until it is
  refused with 429. The harness gives each virtual client its own X-Forwarded-For address, so a
  scenario's burst spends only its own budget where the server trusts that header.

  @rate-limit @better-auth-rate-limit-a @better-auth-rate-limit-b
  Scenario: A burst of sign-ins beyond the limit gets 429 with a retry header
    Given a registered user
    When the user signs in with a wrong password as often as the rate limit allows, and once more
    Then the requests within the limit are answered, not limited
    And the request beyond the limit gets 429 with a retry-after header in seconds
    And get-session is not limited by the sign-in limit

  @should @rate-limit-probe @better-auth-rate-limit-c
  Scenario: Sign-in is rate-limited: a burst of failed sign-ins from one client meets 429
    When one client signs in with a wrong password until it is refused with 429, 30 times at most
    Then the burst met a 429

  @rate-limit-probe @better-auth-rate-limit-a
  Scenario: A 429 from the sign-in limit says when to retry
    When one client signs in with a wrong password until it is refused with 429, 30 times at most
    Then the 429 says when to retry, in seconds

  @should @rate-limit-probe @better-auth-rate-limit-d
  Scenario: A 429 from the sign-in limit explains itself in a JSON body
    When one client signs in with a wrong password until it is refused with 429, 30 times at most
    Then the 429's body is JSON that explains the refusal

  @should @rate-limit-probe @better-auth-rate-limit-e
  Scenario: Another X-Forwarded-For does not escape the sign-in limit
    When one client signs in with a wrong password until it is refused with 429, 30 times at most
    And the same client signs in again claiming another address in X-Forwarded-For
    Then that sign-in is refused with 429 too
