@oauth-provider
Feature: OAuth 2.1 / OIDC provider: the SHOULDs a security reviewer expects
  What the specifications state as SHOULD (NOT): a server that breaks it is warned, not
  failed. An inactive token's introspection answer says nothing more than active: false, so a
  third party holding a stolen or guessed token learns nothing about it (RFC 7662 §2.2); a
  public client (token_endpoint_auth_method none) is issued no client secret, which it could
  not keep (RFC 7591 §2); a grant of scope openid alone releases no email or profile claim,
  at userinfo or in the ID token (OIDC Core §5.4); prompt=consent asks for consent again even
  when it was given before, or answers consent_required (OIDC Core §3.1.2.1); a Bearer
  challenge to a request without credentials names no error code (RFC 6750 §3); prompt=none
  with an id_token_hint naming another user than the signed-in one gets an error, never a code
  (OIDC Core §3.1.2.1).

  @oauth-client @should @oauth-introspection @rfc7662-2.2-c
  Scenario: Introspection of an inactive token says nothing more than active false
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    When the confidential client revokes its access token after introspection found it active
    Then introspection of the revoked token and of a never-issued token says nothing more than active false

  @oauth-client @should @oauth-registration @rfc7591-2-b
  Scenario: A public client's registration issues no client_secret
    Given dynamic client registration without a session is open
    When a public client registers with token_endpoint_auth_method none
    Then the public client's registration answer carries no client_secret

  @oauth-client @should @oauth-userinfo @oidc-core-5.4-b
  Scenario: A grant of scope openid alone releases no email or profile claim
    Given a signed-in user
    When the OAuth client obtains tokens for the scope openid alone
    Then neither userinfo nor the ID token releases a claim of the email or profile scope

  @oauth-client @should @oauth-authorize @oidc-core-3.1.2.1-d
  Scenario: Authorize with prompt=consent after consent was given asks for consent again
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client asks the signed-in user to authorize it again with prompt=consent
    Then the authorization server asks for consent again or answers consent_required, never a code

  @oauth-userinfo @should @rfc6750-3-b
  Scenario: userinfo's challenge to a request without credentials names no error code
    When userinfo is asked without an access token
    Then userinfo's Bearer challenge, if it sends one, names no error code

  @oauth-client @should @oauth-authorize @oidc-core-3.1.2.1-h
  Scenario: Authorize with prompt=none and another user's id_token_hint issues no code
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When a new user signs up and signs in
    And the user authorizes the OAuth client again
    And the OAuth client asks with prompt=none and the first user's ID token as id_token_hint
    Then the authorization server answers an error, never a code for the signed-in user
