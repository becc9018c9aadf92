@oauth-provider
Feature: OAuth 2.1 / OIDC provider: what discovery promises is what is issued
  The ID token is signed with an alg the discovery document lists in
  id_token_signing_alg_values_supported (OIDC Discovery §3), and every token response, the
  refresh grant's included, forbids caching (RFC 6749 §5.1, OIDC Core §3.1.3.3).

  @oauth-client @oauth-id-token @oidc-discovery-3-i
  Scenario: The ID token is signed with an alg the discovery document lists
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token is signed with an alg the discovery document lists

  @oauth-client @oauth-refresh @rfc6749-5.1-d @oidc-core-3.1.3.3-b
  Scenario: Refresh responses are not cached
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    Then the token endpoint forbids caching of the token response

  @oauth-client @oauth-id-token @oauth-refresh @oidc-core-12.2-a @oidc-core-12.2-b @oidc-core-12.2-c @oidc-core-12.2-d @oidc-core-12.2-e
  Scenario: An ID token issued at refresh keeps the original's identity
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    Then the ID token issued at refresh keeps the original's iss, sub, aud and auth_time
