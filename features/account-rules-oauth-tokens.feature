@oauth-provider
Feature: Better Auth accounts and OAuth tokens: where tokens travel and when they die
  RFC 6749 §10.8: access and refresh tokens never travel in a URL (the in-the-clear half is not
  observable on a loopback http harness); OAuth 2.1 §5.2: a protected resource does not take an
  access token from the URI query. Better Auth binds the provider's tokens to the session they
  were issued in and to the user: after sign-out or revoke-sessions, userinfo refuses the access
  token; after delete-user, userinfo refuses it and introspection reports it inactive.

  @oauth-client @oauth-authorize @rfc6749-10.8-a
  Scenario: No access or refresh token travels in a URL of an authorization, code exchange and refresh
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the OAuth client refreshes the tokens
    Then no URL of the flow carries an access or refresh token

  @oauth-client @oauth-userinfo @oauth21-5.2-a
  Scenario: userinfo refuses an access token sent in the URI query
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When userinfo is asked with the access token in the URI query only
    Then userinfo refuses the access token from the query

  @oauth-client @oauth-userinfo @better-auth-oauth-provider-j
  Scenario: After sign-out the OAuth access token issued in the session is refused by userinfo
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    And the access token works at userinfo
    When the user signs out
    Then userinfo refuses the access token issued in the session the user ended

  @oauth-client @oauth-userinfo @better-auth-oauth-provider-j
  Scenario: After revoke-sessions the OAuth access token issued in the session is refused by userinfo
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    And the access token works at userinfo
    When the user revokes all their sessions
    Then userinfo refuses the access token issued in the session the user ended

  @oauth-client @oauth-introspection @better-auth-user-b
  Scenario: After delete-user the user's OAuth access token is dead at userinfo and introspection
    Given a signed-in user
    And the confidential OAuth client holds tokens for the user
    And the access token works at userinfo
    And introspection by the confidential client reports the access token active
    When the user deletes their account
    Then the response status is 200
    And the deleted user's access token is refused by userinfo and reported inactive by introspection
