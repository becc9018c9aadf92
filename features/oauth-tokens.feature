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

  @oauth-client @oauth-token
  Scenario: The code exchange returns a Bearer access token and an ID token
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint answers with a Bearer access token and an ID token

  @oauth-client @should @oauth-token
  Scenario: The token response says when the access token expires
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint says when the access token expires

  @oauth-client @oauth-token
  Scenario: The code exchange returns a refresh token for offline_access
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint issues a refresh token for offline_access

  @oauth-client @oauth-token
  Scenario: Token responses are not cached
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token endpoint forbids caching of the token response

  @oauth-client @oauth-token
  Scenario: A wrong code_verifier is refused
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code with a wrong code_verifier
    Then the token endpoint refuses the wrong code_verifier with invalid_grant

  @oauth-client @oauth-token
  Scenario: An authorization code can be exchanged only once
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client exchanges the same code again
    Then the token endpoint refuses the reused code with invalid_grant

  @oauth-client @should @oauth-token
  Scenario: Replaying an authorization code revokes the tokens issued from it
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client exchanges the same code again
    Then userinfo refuses the access token issued from the reused code

  @oauth-client @oauth-token
  Scenario: The token endpoint refuses a redirect_uri that differs from the authorization request
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code with a different redirect_uri
    Then the token endpoint refuses the mismatched redirect_uri with invalid_grant

  @oauth-client @oauth-refresh
  Scenario: A refresh rotates the refresh token
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    Then the token endpoint returns a new refresh token

  @oauth-client @oauth-refresh
  Scenario: A rotated refresh token is refused
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    And the OAuth client presents the rotated refresh token again
    Then the token endpoint refuses the rotated refresh token with invalid_grant

  @oauth-client @oauth-refresh
  Scenario: Replaying a rotated refresh token revokes the whole family
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    And the OAuth client presents the rotated refresh token again
    And the OAuth client refreshes with the newest refresh token
    Then the token endpoint refuses the newest refresh token of the replayed family

  @oauth-client @oauth-token
  Scenario: An authorization code is bound to the client it was issued to
    Given a signed-in user
    And the user has authorized the OAuth client
    When another OAuth client exchanges the code
    Then the token endpoint refuses the code presented by the other client

  @oauth-client @oauth-revocation
  Scenario: A revoked refresh token is refused
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client revokes the refresh token
    And the OAuth client refreshes with the revoked refresh token
    Then the token endpoint refuses the revoked refresh token with invalid_grant

  @oauth-client @oauth-introspection
  Scenario: Introspection refuses a client without credentials
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client introspects the access token with only its client_id
    Then the introspection endpoint refuses the client without credentials with 401 invalid_client
