@oauth-provider
Feature: OAuth 2.1 / OIDC provider: isolation between clients
  What the authorization server issued to one client belongs to that client. A refresh token
  presented by another client is refused (RFC 6749 §6, §10.4), and a revocation request by
  another client leaves the token alive (RFC 7009 §2.1: the server first checks that the token
  was issued to the client asking). The other client is a second public client registered once
  per run through dynamic client registration (RFC 7591), with the first one's redirect_uri;
  without a registration_endpoint these scenarios are skipped.

  @oauth-client @oauth-refresh @rfc6749-10.4-a @oidc-core-12.2-f @rfc6749-5.2-c
  Scenario: A refresh token is bound to the client it was issued to
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When another OAuth client refreshes with the client's refresh token
    Then the token endpoint refuses the refresh token presented by the other client

  @oauth-client @oauth-revocation @rfc7009-2.1-b
  Scenario: Another client cannot revoke the client's refresh token
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When another OAuth client revokes the client's refresh token
    Then the client's refresh token still works

  @oauth-client @oauth-revocation @rfc7009-2.1-b
  Scenario: Another client cannot revoke the client's access token
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When another OAuth client revokes the client's access token
    Then the client's access token still works at userinfo

  @oauth-client @oauth-userinfo @oidc-core-5.3.2-d @oidc-core-2-b
  Scenario: Each user's tokens describe their own user
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When a new user signs up and signs in
    And the user authorizes the OAuth client again
    Then each user's tokens describe their own user
