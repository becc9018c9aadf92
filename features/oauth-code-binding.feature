@oauth-provider
Feature: OAuth 2.1 / OIDC provider: what a code is bound to must be presented with it
  An authorization code is bound to the redirect_uri of its authorization request and, when the
  request carried a code_challenge, to its code_verifier. An exchange that leaves either out is
  refused like one that gets it wrong (RFC 6749 §4.1.3; RFC 7636 §4.5-4.6): 400 with
  invalid_request (a required parameter is missing) or invalid_grant, and never tokens.

  @oauth-client @oauth-token @rfc6749-4.1.3-e @oidc-core-3.1.3.2-e
  Scenario: The token endpoint refuses an exchange without the redirect_uri
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code without the redirect_uri
    Then the token endpoint refuses the exchange without the redirect_uri

  @oauth-client @oauth-token @rfc7636-4.6-b
  Scenario: The token endpoint refuses an exchange without the code_verifier
    Given a signed-in user
    And the user has authorized the OAuth client
    When the OAuth client exchanges the code without the code_verifier
    Then the token endpoint refuses the exchange without the code_verifier
