@oauth-provider
Feature: OAuth 2.1 / OIDC provider: how the token endpoint reads requests and answers errors
  The token endpoint reads a form (RFC 6749 §3.2): a parameter it does not know is ignored, a
  parameter sent with an empty value counts as absent, and a repeated parameter is refused
  with invalid_request, never read as if it were sent once. Its errors are 400 JSON objects
  naming the cause (§5.2): unsupported_grant_type for a grant it does not offer,
  invalid_request for a missing parameter, invalid_grant for a code it never issued,
  invalid_scope for a scope beyond the grant; the client_credentials grant is not for public
  clients (§4.4). A refresh never widens the grant and its new refresh token keeps the old
  one's scope (§6). Successful answers are JSON too (§5.1). Revocation looks past a wrong
  token_type_hint (RFC 7009 §2.1), and a Bearer challenge names each error attribute once
  (RFC 6750 §3). Where a refusal could have another cause (the repeated parameter, the wider
  scope), the same refresh without the fault succeeds first.
  Known deviations of Better Auth 1.7.25 / oauth-provider 1.7.5 (known-deviations.toml): an
  empty scope= is read as a request for the scope "", a repeated refresh_token is accepted,
  and a refresh token revoked with token_type_hint=access_token survives.

  @oauth-client @oauth-token @rfc6749-5.2-a @rfc6749-5.2-d @rfc6749-5.2-h
  Scenario: The token endpoint refuses an unsupported grant_type with unsupported_grant_type
    When the OAuth client asks the token endpoint for a grant_type it does not support
    Then the token endpoint refuses the unsupported grant_type with unsupported_grant_type
    And the token endpoint's error answer is application/json

  @oauth-client @oauth-token @rfc6749-4.1.3-c @oidc-core-3.1.3.2-c
  Scenario: The token endpoint refuses a code it never issued with invalid_grant
    When the OAuth client exchanges a code the server never issued
    Then the token endpoint refuses the never-issued code with invalid_grant

  @oauth-client @oauth-token @rfc6749-5.2-e
  Scenario: The token endpoint refuses a code exchange without the code with invalid_request
    When the OAuth client asks the token endpoint for a code exchange without the code
    Then the token endpoint refuses the request with invalid_request

  @oauth-client @oauth-token @rfc6749-4.4-a
  Scenario: The token endpoint refuses the client_credentials grant to a public client
    When the OAuth client asks the token endpoint for a client_credentials grant
    Then the token endpoint refuses the client_credentials grant to the public client

  @oauth-client @oauth-token @rfc6749-5.1-c
  Scenario: A successful token response is JSON
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code for tokens
    Then the token response is application/json

  @oauth-client @oauth-refresh @rfc6749-3.2-c
  Scenario: The token endpoint ignores a parameter it does not know
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes with a parameter the server does not know
    Then the token endpoint ignores the unknown parameter and issues tokens

  @oauth-client @oauth-refresh @rfc6749-3.2-b
  Scenario: The token endpoint treats a parameter with an empty value as absent
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes with an empty scope parameter
    Then the token endpoint treats the empty parameter as absent and issues tokens

  @oauth-client @oauth-refresh @rfc6749-3.2-d @rfc6749-5.2-e
  Scenario: The token endpoint refuses a repeated parameter with invalid_request
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    And the OAuth client has refreshed the tokens
    When the OAuth client refreshes with the refresh_token parameter sent twice
    Then the token endpoint does not accept the repeated parameter
    And the token endpoint refuses the request with invalid_request

  @oauth-client @oauth-refresh @rfc6749-6-c @rfc6749-5.2-g @rfc6749-6-d
  Scenario: A refresh never widens the grant and keeps its scope
    Given a signed-in user
    And the user has authorized the OAuth client for openid and offline_access only
    And the OAuth client has exchanged the code for tokens
    And the OAuth client has refreshed the tokens
    When the OAuth client refreshes asking for a scope beyond the grant
    Then the token endpoint grants no scope beyond the grant
    And the token endpoint refuses the wider scope with invalid_scope
    When the OAuth client refreshes asking for exactly the granted scope
    Then the token endpoint issues tokens for the granted scope

  @oauth-client @oauth-revocation @rfc7009-2.1-g
  Scenario: A wrong token_type_hint does not stop a revocation
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client revokes the refresh token with token_type_hint access_token
    And the OAuth client refreshes with the revoked refresh token
    Then the wrongly hinted refresh token is revoked

  @oauth-userinfo @rfc6750-3-c
  Scenario: A Bearer challenge names each error attribute at most once
    When userinfo is asked with an unknown access token
    Then userinfo's challenge names error, error_description and error_uri at most once each
