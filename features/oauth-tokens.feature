@oauth-provider
Feature: OAuth 2.1 / OIDC provider: the token endpoint and refresh tokens
  POST <token_endpoint> (form-encoded; a public client sends client_id and code_verifier)
  exchanges a code for a Bearer access token, an ID token for the openid scope and, with
  offline_access, a refresh token; the answer is never cached. The code is single-use and
  bound to the PKCE challenge and the redirect_uri of its authorization request; replaying it
  revokes what it issued; it is bound to the client it was issued to, so another client (a
  second public client registered once per run through dynamic registration) cannot redeem it.
  Refresh tokens of public clients rotate on every use, and replaying a rotated one revokes
  the whole family. Revoking a refresh token (RFC 7009, a public client by client_id) answers
  200 and kills it at once. Introspection (RFC 7662) requires client credentials: a client
  that only names its client_id is refused with 401 invalid_client.
  Known deviation of Better Auth 1.7.25 / oauth-provider 1.7.5 (known-deviations.toml): a
  wrong code_verifier gets 401 invalid_request instead of RFC 7636's 400 invalid_grant.

  @oauth-client @oauth-token @rfc6749-4.1.4-a @rfc6749-5.1-a @oidc-core-3.1.3.2-f @oidc-core-3.1.3.3-a @oauth21-4.1.1-a @oauth21-4.1.1-c @rfc7636-4.2-a
  Scenario: The code exchange returns a Bearer access token and an ID token
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint answers with a Bearer access token and an ID token

  @oauth-client @should @oauth-token @rfc6749-5.1-b
  Scenario: The token response says when the access token expires
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint says when the access token expires

  @oauth-client @oauth-token @better-auth-oauth-provider-d
  Scenario: The code exchange returns a refresh token for offline_access
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint issues a refresh token for offline_access

  @oauth-client @oauth-token @rfc6749-5.1-d @oidc-core-3.1.3.3-b
  Scenario: Token responses are not cached
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint forbids caching of the token response

  @oauth-client @oauth-token @rfc7636-4.4-a @rfc7636-4.6-a @oauth21-4.1.3-a
  Scenario: A wrong code_verifier is refused
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code with a wrong code_verifier
    Then the token endpoint refuses the wrong code_verifier with invalid_grant

  @oauth-client @oauth-token @rfc6749-4.1.2-b @rfc6749-5.2-c @rfc6749-10.5-a @oidc-core-3.1.3.2-d @oauth21-4.1.3-c
  Scenario: An authorization code can be exchanged only once
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client exchanges the same code again
    Then the token endpoint refuses the reused code with invalid_grant

  @oauth-client @should @oauth-token @rfc6749-4.1.2-c
  Scenario: Replaying an authorization code revokes the tokens issued from it
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client exchanges the same code again
    Then userinfo refuses the access token issued from the reused code

  @oauth-client @oauth-token @rfc6749-4.1.2-d @rfc6749-4.1.3-d @rfc6749-10.6-a @oidc-core-3.1.3.2-e
  Scenario: The token endpoint refuses a redirect_uri that differs from the authorization request
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code with a different redirect_uri
    Then the token endpoint refuses the mismatched redirect_uri with invalid_grant

  @oauth-client @oauth-refresh @oauth21-4.3.1-a @better-auth-oauth-provider-d
  Scenario: A refresh rotates the refresh token
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    Then the token endpoint returns a new refresh token

  @oauth-client @oauth-refresh @oauth21-4.3.1-a @rfc6749-6-b @rfc6749-5.2-c
  Scenario: A rotated refresh token is refused
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    And the OAuth client presents the rotated refresh token again
    Then the token endpoint refuses the rotated refresh token with invalid_grant

  @oauth-client @oauth-refresh @oauth21-4.3.1-b @better-auth-oauth-provider-d
  Scenario: Replaying a rotated refresh token revokes the whole family
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    And the OAuth client presents the rotated refresh token again
    And the OAuth client refreshes with the newest refresh token
    Then the token endpoint refuses the newest refresh token of the replayed family

  @oauth-client @oauth-token @rfc6749-4.1.2-d @rfc6749-4.1.3-b @oidc-core-3.1.3.2-b
  Scenario: An authorization code is bound to the client it was issued to
    Given a signed-in user
    And the user has authorized the OAuth client
    When another OAuth client exchanges the code
    Then the token endpoint refuses the code presented by the other client

  @oauth-client @oauth-revocation @rfc7009-2-a @rfc7009-2.1-c @rfc7009-2.2-a @rfc6749-6-b
  Scenario: A revoked refresh token is refused
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client revokes the refresh token
    And the OAuth client refreshes with the revoked refresh token
    Then the token endpoint refuses the revoked refresh token with invalid_grant

  @oauth-client @oauth-introspection @rfc7662-2.1-a @rfc7662-2.3-a @rfc7662-4-a @better-auth-oauth-provider-e
  Scenario: Introspection refuses a client without credentials
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client introspects the access token with only its client_id
    Then the introspection endpoint refuses the client without credentials with 401 invalid_client
