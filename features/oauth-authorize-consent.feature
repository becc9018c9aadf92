@oauth-provider
Feature: OAuth 2.1 / OIDC provider: what only the user's consent grants
  RFC 6749 §10.12: a consent posted by a page of another origin on the same site (another port of
  the target's host, where even SameSite cookies travel) with the user's cookies grants nothing.
  OIDC Core §11: a refresh token for offline_access only after the user consented to it. Better
  Auth stores consent per user and client: consent to one client is not consent to another, and
  a client registered for fewer scopes cannot obtain more. OIDC Core §3.1.2.2: a claims request
  for a specific sub is answered positively only for that End-User, and an id_token_hint the OP
  did not sign authenticates no one.

  @oauth-client @oauth-authorize @rfc6749-10.12-a
  Scenario: A consent posted from another origin grants nothing
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    And a page of another origin on the same site posts the user's consent
    Then the consent from the other origin grants nothing

  @oauth-client @oauth-authorize @oidc-core-11-a
  Scenario: A refresh token for offline_access is issued only after consent to offline_access
    Given a signed-in user
    When the OAuth client sends the user to the authorization endpoint with PKCE S256
    And the user consents on the consent page to every scope but offline_access
    Then the code exchange issues no refresh token, and offline_access is not granted without asking

  @oauth-client @oauth-authorize @better-auth-oauth-provider-i
  Scenario: Consent given to one client is not reused for another client
    Given a signed-in user
    And the user has authorized the OAuth client
    When another OAuth client sends the user to the authorization endpoint
    Then the authorization server asks the user to consent to the other client

  @oauth-client @oauth-authorize @better-auth-oauth-provider-h
  Scenario: A client registered for the openid scope only cannot obtain profile
    Given a signed-in user
    When a client registered for the openid scope only asks to authorize the user with openid and profile, and the user consents wherever asked
    Then the authorization server answers invalid_scope at the redirect URI with the state, or grants without the unregistered scope

  @oauth-client @oauth-authorize @oidc-core-3.1.2.2-c
  Scenario: Authorize with a claims request for another subject issues no code for the signed-in user
    Given a signed-in user
    When the OAuth client asks to authorize the user with a claims request for another subject, and the user consents wherever asked
    Then the authorization server answers no code for the signed-in user

  @oauth-client @oauth-authorize @oidc-core-3.1.2.2-d
  Scenario: Authorize with a forged id_token_hint and no session issues no code
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When a user-agent without a session sends the user to the authorization endpoint with prompt=none and the ID token's signature altered as id_token_hint
    Then the authorization server answers an error, never a code, to the forged id_token_hint
