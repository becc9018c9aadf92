@oauth-provider
Feature: OAuth 2.1 / OIDC provider: token lifetimes after revocation and reuse
  A token that was ended is dead wherever a client would use it, and it is judged there: at
  userinfo. Revoking an access token kills it at once (RFC 7009 §2.1-2.2). Revoking a refresh
  token should also kill the access token issued with it (RFC 7009 §2.1 SHOULD), and when a
  rotated refresh token is replayed, the family the server revokes (RFC 9700 §4.14.2) should
  take its access tokens with it.

  @oauth-client @oauth-revocation @rfc7009-2.1-d @rfc7009-2.2-a
  Scenario: A revoked access token is refused at userinfo
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client revokes the access token
    Then userinfo refuses the revoked access token

  @oauth-client @should @oauth-revocation @rfc7009-2.1-e
  Scenario: Revoking a refresh token kills the access token issued with it
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client revokes the refresh token
    Then userinfo refuses the access token issued with the revoked refresh token

  @oauth-client @should @oauth-refresh @oauth21-4.3.1-b @rfc7009-2.1-e
  Scenario: Replaying a rotated refresh token kills the access tokens of its family
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    And the OAuth client presents the rotated refresh token again
    Then userinfo refuses the newest access token of the replayed family

  @oauth-client @should @end-session @oauth-end-session @oidc-rp-logout-4-a
  Scenario: After end session the access token of the ended session is refused at userinfo
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with the ID token, the registered post_logout_redirect_uri and a state
    Then userinfo refuses the access token of the ended session

  @oauth-client @oauth-introspection @rfc7009-2.1-d @rfc7662-2.2-b
  Scenario: A revoked access token is reported inactive by introspection
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    When the confidential client revokes its access token after introspection found it active
    Then introspection reports the revoked access token inactive

  @oauth-client @oauth-introspection @rfc7662-2.2-a @rfc7662-2.2-d
  Scenario: Introspection describes a live access token truthfully
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    Then introspection describes the confidential client's live access token truthfully
