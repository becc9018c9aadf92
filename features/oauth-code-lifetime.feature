@oauth-provider
Feature: OAuth 2.1 / OIDC provider: authorization codes are short-lived
  An authorization code expires shortly after it is issued (RFC 6749 §4.1.2: ten minutes at
  most is RECOMMENDED; §10.5: codes are short-lived and single-use). Better Auth's
  oauth-provider sets the lifetime with codeExpiresIn (600 s by default). The lifetime cannot be
  discovered, so the deployment declares it (--code-lifetime SECS, 600 at most; the bundled
  reference runs with a few seconds and says so): the client waits it out, with a margin for a
  server that rounds the issue time to the second, then exchanges the code, which must be
  refused with 400 invalid_grant (RFC 6749 §5.2). The single-use half of §10.5 is the scenario
  "An authorization code can be exchanged only once" (oauth-tokens.feature).

  @oauth-client @code-lifetime @oauth-token @rfc6749-4.1.2-a @rfc6749-10.5-a @better-auth-oauth-provider-k
  Scenario: An authorization code is refused once its lifetime has passed
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code once the code lifetime has passed
    Then the token endpoint refuses the expired code with invalid_grant
