@oauth-provider
Feature: OAuth 2.1 / OIDC provider: the ID token and userinfo
  The ID token is a JWS signed with a key published at the discovery jwks_uri (the jwt
  plugin's key, EdDSA by default). Its iss is the discovery issuer, its aud the client_id, it
  has not expired, it echoes the nonce of the authorization request, its at_hash (when
  present) is the hash of the access token, and its sub is stable for the user. userinfo
  answers the access token's bearer with the same sub and the user's email, and refuses a
  request without a valid access token with 401 and a Bearer challenge (RFC 6750 §3). A
  JWT-shaped access token that does not verify (forged signature, or a key the server does not
  publish) is an invalid token like any other: 401 invalid_token, never a 500 (known regression
  #9654: jose's JWKSNoMatchingKey escaping as a server error).
  Claims are read without trusting the signature, so each rule is judged on its own; the
  signature has its own scenario.

  @oauth-client @oauth-id-token @oidc-core-2-h @oidc-core-2-i
  Scenario: The ID token is signed by a key from the discovery jwks_uri
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token is signed by a key from the discovery jwks_uri

  @oauth-client @oauth-id-token @oidc-core-2-a @oidc-discovery-4.3-b
  Scenario: The ID token's iss is the discovery issuer
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token's iss is the discovery issuer

  @oauth-client @oauth-id-token @oidc-core-2-d @oidc-core-2-j
  Scenario: The ID token's aud is the client_id
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token's aud is the client_id

  @oauth-client @oauth-id-token @oidc-core-2-e @oidc-core-2-f
  Scenario: The ID token has not expired
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token has not expired

  @oauth-client @oauth-id-token @oidc-core-2-g
  Scenario: The ID token echoes the nonce
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token echoes the nonce sent to the authorization endpoint

  @oauth-client @oauth-id-token @oidc-core-3.1.3.6-a
  Scenario: The ID token's at_hash matches the access token
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token's at_hash matches the access token

  @oauth-client @oauth-id-token @oidc-core-2-b
  Scenario: The ID token's sub is stable for the same user
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the user signs in with the right password
    And the user authorizes the OAuth client again
    Then the ID token's sub is the same for both authorizations

  @oauth-client @oauth-userinfo @rfc6750-2.1-a @oidc-core-5.3.1-a @oidc-core-5.3.2-a @oidc-core-5.3.2-d @oidc-core-5.4-a
  Scenario: userinfo returns the ID token's subject and the user's email
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When userinfo is asked with the access token
    Then userinfo returns the ID token's sub and the user's email

  @oauth-userinfo @oidc-core-5.3.3-a
  Scenario: userinfo without an access token is refused with 401
    When userinfo is asked without an access token
    Then userinfo refuses the request with 401

  @oauth-userinfo @rfc6750-3-a @oidc-core-5.3.3-a
  Scenario: userinfo without an access token answers with a Bearer challenge
    When userinfo is asked without an access token
    Then userinfo challenges the client with WWW-Authenticate: Bearer

  @oauth-userinfo @rfc6750-3.1-a @oidc-core-5.3.3-a
  Scenario: userinfo refuses an unknown access token with invalid_token
    When userinfo is asked with an unknown access token
    Then userinfo refuses the unknown token with 401 invalid_token

  @oauth-userinfo @rfc6750-3.1-a @better-auth-oauth-provider-g
  Scenario: userinfo refuses a JWT access token with a forged signature with invalid_token
    When userinfo is asked with a JWT access token that names a published key but carries a forged signature
    Then userinfo refuses the unknown token with 401 invalid_token

  @oauth-userinfo @rfc6750-3.1-a @better-auth-oauth-provider-g
  Scenario: userinfo refuses a JWT access token signed by an unpublished key with invalid_token
    When userinfo is asked with a JWT access token signed by a key the authorization server does not publish
    Then userinfo refuses the unknown token with 401 invalid_token
