@rate-limit
Feature: Rate limiting
  With rate limiting on (production), sign-in allows a few requests per window per client
  (Better Auth's default: 3 per 10 s); the next one gets 429 with X-Retry-After in seconds.
  Other paths have their own budgets. The harness gives each virtual client its own
  X-Forwarded-For address, so this scenario's burst spends only its own budget.

  @better-auth-rate-limit-a @better-auth-rate-limit-b
  Scenario: A burst of sign-ins beyond the limit gets 429 with a retry header
    Given a registered user
    When the user signs in with a wrong password as often as the rate limit allows, and once more
    Then the requests within the limit are answered, not limited
    And the request beyond the limit gets 429 with a retry-after header in seconds
    And get-session is not limited by the sign-in limit
