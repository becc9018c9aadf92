@oauth-provider
Feature: OAuth 2.1 / OIDC provider: what discovery promises is what is issued
  The ID token is signed with an alg the discovery document lists in
  id_token_signing_alg_values_supported (OIDC Discovery §3), an ID token issued at refresh is
  the original's user for the original's client (OIDC Core §12.2), and every token response,
  the refresh grant's included, forbids caching (RFC 6749 §5.1, OIDC Core §3.1.3.3). The
  metadata documents keep their own rules: JSON, the REQUIRED members, no empty lists, RS256
  listed, and one issuer for OIDC discovery and RFC 8414 metadata. What the server must not
  do is refused: the password grant (gone in OAuth 2.1), and an unknown token's revocation is
  answered 200 (RFC 7009 §2.2).
  Known deviations of Better Auth 1.7.25 / oauth-provider 1.7.5 (known-deviations.toml): only
  EdDSA is listed (no RS256), and revoking an unknown token with token_type_hint refresh_token
  answers 400 invalid_request.

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

  @oauth-discovery @oidc-discovery-4.2-a
  Scenario: The discovery document is served as application/json
    When the OAuth client fetches the discovery document
    Then the discovery document is served as application/json

  @oauth-discovery @oidc-discovery-3-d
  Scenario: The discovery document lists subject_types_supported
    When the OAuth client fetches the discovery document
    Then the discovery document lists subject_types_supported

  @oauth-discovery @oidc-discovery-3-f
  Scenario: The discovery document's scopes_supported names openid
    When the OAuth client fetches the discovery document
    Then the discovery document's scopes_supported names openid

  @oauth-discovery @oidc-discovery-3-g
  Scenario: The discovery document has no empty lists
    When the OAuth client fetches the discovery document
    Then the discovery document has no empty lists

  @oauth-discovery @oidc-discovery-3-e
  Scenario: The discovery document includes RS256 among the ID token signing algorithms
    When the OAuth client fetches the discovery document
    Then the discovery document includes RS256 among the ID token signing algorithms

  @oauth-discovery @rfc8414-3.3-a
  Scenario: The RFC 8414 metadata names the same issuer as the OpenID discovery document
    When the OAuth client fetches the RFC 8414 authorization server metadata
    Then the authorization server metadata names the same issuer as the OpenID discovery document

  @oauth-client @oauth-revocation @rfc7009-2.2-b
  Scenario: Revoking a token the server never issued is answered with 200
    When the OAuth client revokes a token the server never issued
    Then the revocation endpoint answers 200

  @oauth-client @oauth-token @oauth21-10-b
  Scenario: The token endpoint refuses the password grant
    When the OAuth client asks the token endpoint for a password grant
    Then the token endpoint refuses the password grant
