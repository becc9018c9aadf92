@oauth-provider
Feature: OAuth 2.1 / OIDC provider: client authentication at the token, revocation and introspection endpoints
  A client that was issued a password authenticates with it wherever it calls (RFC 6749 §2.3.1,
  §3.2.1; OIDC Core §3.1.3.2): its code exchange and its refresh without the secret are
  refused, HTTP Basic is accepted from a client registered for it, and a failed Basic attempt
  is answered 401 with a Basic challenge (§5.2). A grant type the client is not registered
  for is refused with unauthorized_client. Revocation checks the credentials and answers its
  errors in the §5.2 format (RFC 7009 §2.1, §2.2.1); introspection takes a form POST and looks
  past a wrong token_type_hint (RFC 7662 §2.1). The clients are registered through dynamic
  client registration (RFC 7591): the client_secret_post one once per run, the
  client_secret_basic one by the scenario that needs it; without registration these skip.
  Every refusal follows the same client succeeding with its right credentials. A server that
  issues no code without a code_challenge, even to a confidential client (as OAuth 2.1 allows),
  leaves no PKCE downgrade to try: the downgrade scenario passes on that refusal.
  Known deviation of Better Auth 1.7.25 / oauth-provider 1.7.5 (known-deviations.toml):
  introspection with token_type_hint=refresh_token reports a live access token inactive.

  @oauth-client @oauth-token @rfc6749-3.2.1-a @rfc6749-4.1.3-a @oidc-core-3.1.3.2-a
  Scenario: A confidential client's code exchange without its client_secret is refused
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    And the user has authorized the confidential OAuth client again
    When the confidential client exchanges the code without its client_secret
    Then the token endpoint refuses the confidential client that did not authenticate

  @oauth-client @oauth-refresh @rfc6749-3.2.1-a @rfc6749-6-a
  Scenario: A confidential client's refresh without its client_secret is refused
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    And the confidential client has refreshed its tokens with its client_secret
    When the confidential client refreshes without its client_secret
    Then the token endpoint refuses the confidential client that did not authenticate

  @oauth-client @oauth-token @rfc6749-2.3.1-a @rfc6749-5.2-b
  Scenario: The token endpoint accepts HTTP Basic and challenges a failed Basic authentication
    Given a signed-in user
    When an OAuth client registered for client_secret_basic exchanges its code with HTTP Basic
    Then the token endpoint accepts the HTTP Basic client authentication
    When the client_secret_basic client refreshes with a wrong password in HTTP Basic
    Then the token endpoint answers the failed HTTP Basic authentication with 401 and a Basic challenge

  @oauth-client @oauth-token @rfc6749-5.2-f
  Scenario: A grant type the client is not registered for is refused with unauthorized_client
    When the confidential client asks the token endpoint for a client_credentials grant
    Then the token endpoint refuses the grant type with unauthorized_client

  @oauth-client @oauth-revocation @rfc7009-2.1-a @rfc7009-2.2.1-a
  Scenario: Revocation refuses a confidential client with a wrong client_secret
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    When the confidential client revokes its access token with a wrong client_secret
    Then the revocation endpoint refuses the wrong client credentials
    And the revocation error answer uses the OAuth error format

  @oauth-client @oauth-introspection @rfc7662-2.1-b @rfc7662-2.1-c
  Scenario: Introspection takes a form POST and looks past a wrong token_type_hint
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    When the confidential client introspects its access token with token_type_hint access_token
    Then introspection reports the live access token active
    When the confidential client introspects its access token with token_type_hint refresh_token
    Then introspection still reports the live access token active

  @oauth-client @oauth-token @oauth21-4.1.3-b
  Scenario: A code issued without a code_challenge cannot be exchanged with a code_verifier
    Given a signed-in user
    When the confidential client asks for a code without a code_challenge
    And the confidential client exchanges that code with a code_verifier and its client_secret
    Then the token endpoint refuses the code_verifier of a code issued without a challenge
