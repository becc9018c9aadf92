@oauth-provider
Feature: OAuth 2.1 / OIDC provider: only the registered redirect URI, exactly
  OAuth 2.1 §2.3.1: redirect URIs are compared as exact strings (only a loopback port may vary),
  so the registered URI with its path's case changed, a path segment or a query added, or another
  port off loopback, is another URI; RFC 6749 §3.1.2: a URI with a fragment is never a redirect
  target. Each look-alike is followed from a user-agent without a session through login and
  consent, and must never receive a code or an error. RFC 6749 §10.2: a user who has consented
  is not granted a repeated request without being asked unless the client is proven genuine,
  which for a public client is its registered redirect URI: a request for a look-alike gets no
  code there.

  @oauth-client @oauth-authorize @oauth21-2.3.1-b
  Scenario: Authorize with a look-alike of the registered redirect_uri never reaches it, through login and consent
    Given a registered user
    Then no look-alike of the registered redirect_uri receives a code or an error, through login and consent

  @oauth-client @oauth-authorize @rfc6749-3.1.2-a
  Scenario: Authorize with the registered redirect_uri plus a fragment never reaches it, through login and consent
    Given a registered user
    Then the registered redirect_uri with a fragment receives no code or error, through login and consent

  @oauth-client @oauth-authorize @rfc6749-10.2-a
  Scenario: A repeated authorization for a look-alike redirect_uri is not granted without the user
    Given a signed-in user
    And the user has authorized the OAuth client
    Then a repeated authorization naming a look-alike of the registered redirect_uri yields no code without the user
