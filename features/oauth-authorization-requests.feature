@oauth-provider
Feature: OAuth 2.1 / OIDC provider: authorization request parameters and every authorization response
  Beyond the happy path: a response_type the server does not offer, a scope it does not know,
  a client_id it never registered, prompt=login and max_age. Each flow is followed to its end
  as a browser would, through consent when the server asks for it. Every authorization
  response keeps the rules, errors included: an error goes to the registered redirect_uri with
  the state (RFC 6749 §4.1.2.1) and, when discovery advertises it, iss (RFC 9207 §2); nothing is
  ever sent to a redirect_uri named with an unknown client_id.

  @oauth-client @oauth-authorize @rfc6749-3.1.1-a @rfc6749-4.1.2.1-e @rfc6749-4.1.2.1-g @oauth21-10-a
  Scenario: Authorize with response_type token answers unsupported_response_type to the client
    Given a signed-in user
    When the OAuth client asks to authorize the user with response_type token
    Then the authorization server answers unsupported_response_type at the redirect URI with the state and no token

  @oauth-client @oauth-authorize @rfc6749-4.1.2.1-f @rfc6749-3.3-a @rfc6749-4.1.2.1-g
  Scenario: Authorize with an unknown scope answers invalid_scope to the client or leaves the scope out
    Given a signed-in user
    When the OAuth client asks to authorize the user with a scope the server does not know
    Then the authorization server answers invalid_scope at the redirect URI with the state, or grants without the unknown scope

  @oauth-client @oauth-authorize @rfc6749-4.1.2.1-b
  Scenario: Authorize with an unknown client_id never redirects to the redirect_uri it names
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with an unknown client_id
    Then the authorization server never redirects to the redirect_uri named with the unknown client_id

  @oauth-client @oauth-authorize @oidc-core-3.1.2.3-b
  Scenario: Authorize with prompt=login issues no code on the old session
    Given a signed-in user
    When the OAuth client sends the signed-in user to the authorization endpoint with prompt=login and the user consents without signing in again
    Then the authorization server issues no code without a new sign-in

  @oauth-client @oauth-id-token @oidc-core-3.1.2.1-g @oidc-core-3.1.2.1-f
  Scenario: The ID token carries auth_time after a request with max_age
    Given a signed-in user
    And the user has authorized the OAuth client with max_age
    And the OAuth client has exchanged the code for tokens
    Then the ID token carries an auth_time no older than max_age

  @oauth-client @oauth-authorize @rfc9207-2-b @rfc9207-2-c
  Scenario: The access_denied error response names the issuer
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    And the user denies consent on the consent page
    Then the error response names the issuer

  @oauth-client @oauth-authorize @rfc9207-2-b @rfc9207-2-c
  Scenario: The login_required error response names the issuer
    When the OAuth client sends a user without a session to the authorization endpoint with prompt=none
    Then the error response names the issuer

  @oauth-client @oauth-authorize @oidc-core-3.1.2.1-c @rfc6749-4.1.2.1-g
  Scenario: Authorize with prompt=none before consent answers consent_required to the client
    Given a signed-in user
    When the OAuth client sends the signed-in user to the authorization endpoint with prompt=none
    Then the authorization server answers consent_required at the redirect URI with the state

  @oauth-client @oauth-authorize @rfc7636-4.3-a @rfc7636-4.4.1-b
  Scenario: Authorize with a code_challenge but no code_challenge_method is refused
    Given a signed-in user
    When the OAuth client asks to authorize the user with a code_challenge but no code_challenge_method
    Then the authorization server refuses the code_challenge without a method

  @oauth-client @oauth-authorize @rfc6749-4.1.2.1-a @rfc6749-3.1.2.4-a
  Scenario: Authorize with an unregistered redirect_uri never reaches it, through login and consent
    Given a registered user
    When the OAuth client sends the user without a session to the authorization endpoint with an unregistered redirect_uri, and the user signs in and consents wherever asked
    Then no step of the flow, login and consent included, redirects to the unregistered redirect_uri

  @oauth-client @oauth-authorize @rfc9207-2-b @rfc9207-2-c
  Scenario: The invalid_scope error response names the issuer
    Given a signed-in user
    When the OAuth client asks to authorize the user with a scope the server does not know
    Then the error response names the issuer

  @oauth-client @oauth-authorize @rfc9207-2-b @rfc9207-2-c
  Scenario: The unsupported_response_type error response names the issuer
    Given a signed-in user
    When the OAuth client asks to authorize the user with response_type token
    Then the error response names the issuer

  @oauth-client @oauth-authorize @oidc-core-3.1.2.1-e
  Scenario: Authorize with prompt=none combined with consent is an error, never a code
    Given a signed-in user
    When the OAuth client sends the signed-in user to the authorization endpoint with prompt=none consent, and the user consents wherever asked
    Then the authorization server refuses prompt=none combined with another value
