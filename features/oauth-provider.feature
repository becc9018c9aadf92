@oauth-provider
Feature: OAuth 2.1 / OIDC provider: discovery and authorization
  The provider plugin (@better-auth/oauth-provider) publishes OpenID discovery at the issuer
  path, <auth base URL>/.well-known/openid-configuration, and its issuer is the auth base URL
  (<origin>/api/auth). Authorization is the code flow with PKCE S256, which public clients
  must use: with a session, authorize redirects to the consent page with a signed copy of the
  request; without one, to the login page, whose sign-in carries that signed query onward.
  Consent sends the user back to the registered redirect_uri with a code, the state exactly as
  sent, and iss (RFC 9207); a denied consent sends it back with error=access_denied and no code.
  prompt=none never shows a page: without a session the answer is error=login_required at the
  redirect_uri. Errors never go to a redirect_uri that is not registered.
  Every scenario signs up its own user and uses the target's public PKCE client (--client-id,
  --redirect-uri; the bundled reference seeds one that needs consent).

  @oauth-discovery @oidc-discovery-4-a @oidc-discovery-4.3-a
  Scenario: The discovery document names the auth base URL as its issuer
    When the OAuth client fetches the discovery document
    Then the discovery document names the auth base URL as its issuer

  @oauth-discovery @oidc-discovery-3-a
  Scenario: The discovery document lists the authorization, token, userinfo and JWKS endpoints
    When the OAuth client fetches the discovery document
    Then the discovery document lists the authorization, token, userinfo and JWKS endpoints

  @oauth-discovery @rfc8414-2-a @better-auth-oauth-provider-c
  Scenario: The discovery document offers PKCE S256 and not plain
    When the OAuth client fetches the discovery document
    Then the discovery document offers PKCE S256 and not plain

  @oauth-discovery @oidc-discovery-3-c
  Scenario: The discovery document offers the authorization code response type
    When the OAuth client fetches the discovery document
    Then the discovery document lists the code response type

  @should @oauth-discovery @rfc9207-3-a
  Scenario: The discovery document advertises the iss authorization response parameter
    When the OAuth client fetches the discovery document
    Then the discovery document advertises the iss authorization response parameter

  @oauth-client @oauth-authorize @oidc-core-3.1.2.4-a @better-auth-oauth-provider-a
  Scenario: Authorize with a session asks for consent with a signed query
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    Then the authorization server asks for consent with a signed query

  @oauth-client @oauth-authorize @rfc6749-3.1-b @rfc6749-4.1.2-f @oidc-core-3.1.2.5-a
  Scenario: Consent returns the user to the redirect URI with a code
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    And the user grants consent on the consent page
    Then the authorization server redirects to the redirect URI with a code

  @oauth-client @oauth-authorize @rfc6749-4.1.2-e @rfc6749-10.14-a
  Scenario: The authorization response returns the state exactly as sent
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with a state of reserved characters
    And the user grants consent on the consent page
    Then the authorization response carries the state unchanged

  @oauth-client @oauth-authorize @rfc9207-2-a @rfc9207-2-c
  Scenario: The authorization response names the issuer
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    And the user grants consent on the consent page
    Then the authorization response names the issuer

  @oauth-client @oauth-authorize @oidc-core-3.1.2.3-a @better-auth-oauth-provider-b
  Scenario: Authorize without a session goes through the login page and on to a code
    Given a registered user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    Then the authorization server sends the user to the login page with a signed query
    When the user signs in on the login page with the signed query
    Then the authorization server continues the authorization after sign-in
    When the user grants consent on the consent page
    Then the authorization server redirects to the redirect URI with a code

  @oauth-client @oauth-authorize @oauth21-4.1.1-b
  Scenario: Authorize without a code_challenge is refused for a public client
    Given a signed-in user
    When the OAuth client asks to authorize the user without a code_challenge
    Then the authorization server refuses the authorization request without PKCE

  @oauth-client @oauth-authorize @better-auth-oauth-provider-c
  Scenario: Authorize with code_challenge_method plain is refused
    Given a signed-in user
    When the OAuth client asks to authorize the user with code_challenge_method plain
    Then the authorization server refuses the plain code_challenge_method

  @oauth-client @oauth-authorize @rfc6749-3.1.2.2-a @rfc6749-3.1.2.3-a @rfc6749-3.1.2.4-a @oauth21-2.3.1-a @oidc-core-3.1.2.1-a
  Scenario: Authorize never redirects to an unregistered redirect_uri
    Given a signed-in user
    When the OAuth client asks to authorize the user with an unregistered redirect_uri
    Then the authorization server never redirects to the unregistered redirect_uri

  @oauth-client @oauth-authorize @oidc-core-3.1.2.1-b @oidc-core-3.1.2.6-a @rfc6749-4.1.2.1-g
  Scenario: Authorize with prompt=none and no session answers login_required to the client
    When the OAuth client sends a user without a session to the authorization endpoint with prompt=none
    Then the authorization server answers login_required at the redirect URI with the state

  @oauth-client @oauth-authorize @rfc6749-4.1.2.1-c @rfc6749-4.1.2.1-g @oidc-core-3.1.2.6-a
  Scenario: Denied consent answers access_denied to the client without a code
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    And the user denies consent on the consent page
    Then the authorization server answers access_denied at the redirect URI with the state and no code
