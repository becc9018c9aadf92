@oauth-provider
Feature: OAuth 2.1 / OIDC provider: how the authorization endpoint reads its parameters
  RFC 6749 §3.1: the endpoint URL has no fragment; a parameter sent without a value counts as
  absent; a parameter the server does not know is ignored; a parameter sent twice is not taken
  as if it were sent once. §3.3: a request without scope gets a default scope or invalid_scope.
  §4.1.1 and §4.1.2.1 (OIDC Core §3.1.2.2): a request missing a required parameter is refused,
  at the registered redirect_uri with error=invalid_request and the state when the client and
  its redirect_uri are valid; a client that may not use the code grant is told
  unauthorized_client there; error values use RFC 6749's character set. Each request is the
  standard one (PKCE S256, openid profile email offline_access, state, nonce) bent in one way,
  and is followed as a browser would, signing in and consenting wherever asked.

  @oauth-discovery @rfc6749-3.1-a
  Scenario: The discovery document's authorization endpoint carries no fragment
    When the OAuth client fetches the discovery document
    Then the discovery document's authorization endpoint carries no fragment

  @oauth-client @oauth-authorize @rfc6749-3.1-c @rfc6749-4.1.2.1-d
  Scenario: Authorize with an empty code_challenge is refused as one without it
    Given a signed-in user
    When the OAuth client asks to authorize the user with an empty code_challenge, and the user consents wherever asked
    Then the authorization server answers invalid_request at the redirect URI with the state and no code

  @oauth-client @oauth-authorize @rfc6749-3.1-c
  Scenario: Authorize with an empty prompt goes on as without prompt
    Given a signed-in user
    When the OAuth client asks to authorize the user with an empty prompt, and the user consents wherever asked
    Then the authorization server issues a code as it does without the empty parameter

  @oauth-client @oauth-authorize @rfc6749-3.1-d
  Scenario: Authorize with a parameter the server does not know still issues a code
    Given a signed-in user
    When the OAuth client asks to authorize the user with a parameter the server does not know, and the user consents wherever asked
    Then the authorization server issues a code as it does without the unknown parameter

  @oauth-client @oauth-authorize @rfc6749-3.1-e
  Scenario: Authorize with the state sent twice is refused, never with a code
    Given a signed-in user
    When the OAuth client asks to authorize the user with the state sent twice, and the user consents wherever asked
    Then the authorization server refuses the repeated parameter, never with a code

  @oauth-client @oauth-authorize @rfc6749-3.3-b
  Scenario: Authorize without a scope gets a default scope or invalid_scope
    Given a signed-in user
    When the OAuth client asks to authorize the user without a scope, and the user consents wherever asked
    Then the authorization server answers invalid_scope at the redirect URI with the state, or issues a code that yields tokens

  @oauth-client @oauth-authorize @rfc6749-4.1.1-a @rfc6749-4.1.2.1-d @oidc-core-3.1.2.2-a @oidc-core-3.1.2.2-b
  Scenario: Authorize without a response_type answers invalid_request to the client
    Given a signed-in user
    When the OAuth client asks to authorize the user without a response_type, and the user consents wherever asked
    Then the authorization server answers invalid_request at the redirect URI with the state and no code

  @oauth-client @oauth-authorize @rfc6749-4.1.1-a @oidc-core-3.1.2.2-b
  Scenario: Authorize without a redirect_uri is refused, never with a code
    Given a registered user
    When the OAuth client asks to authorize the user without a redirect_uri, and the user consents wherever asked
    Then the authorization server refuses the request without redirect_uri, never with a code

  @oauth-client @oauth-authorize @rfc7636-4.4.1-a @rfc6749-4.1.2.1-d
  Scenario: Authorize without a code_challenge answers invalid_request to the client
    Given a signed-in user
    When the OAuth client asks to authorize the user without a code_challenge
    Then the authorization server answers invalid_request at the redirect URI with the state and no code

  @oauth-client @oauth-authorize @rfc6749-4.1.2.1-h
  Scenario: Authorization error responses use only the characters RFC 6749 allows
    Given a signed-in user
    Then every error the authorization server answers to malformed requests uses only the characters RFC 6749 allows

  @oauth-client @oauth-authorize @rfc6749-4.1.2.1-i
  Scenario: Authorize for a client registered without the code grant answers unauthorized_client to the client
    Given a signed-in user
    When a client registered without the authorization_code grant sends the user to the authorization endpoint
    Then the authorization server answers unauthorized_client at the redirect URI with the state
