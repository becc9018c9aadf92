@oauth-provider
Feature: OAuth 2.1 / OIDC provider: UserInfo by POST, in JSON, and subject identifiers
  UserInfo answers POST as well as GET (OIDC Core §5.3.1), in JSON (§5.3.2). The sub is at
  most 255 ASCII characters (§2). With the public subject type every client sees the same sub
  for the same user (§8); with the pairwise type, clients of different sectors (redirect hosts
  127.0.0.1 and localhost) see different ones (§8.1). The public check uses the run's second
  client (dynamic registration) and runs when subject_types_supported is public alone; the
  pairwise one registers two pairwise clients when the document offers pairwise, and has
  nothing to check otherwise (Better Auth: oauthProvider pairwiseSecret).

  @oauth-client @oauth-userinfo @oidc-core-5.3.1-b
  Scenario: UserInfo answers a POST with the access token
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When userinfo is asked by POST with the access token
    Then userinfo answers the POST with the ID token's sub

  @oauth-client @oauth-userinfo @oidc-core-5.3.2-b
  Scenario: UserInfo answers in application/json
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When userinfo is asked with the access token
    Then userinfo answers in application/json

  @oauth-client @oauth-id-token @oidc-core-2-c
  Scenario: The ID token's sub is at most 255 ASCII characters
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token's sub is at most 255 ASCII characters

  @oauth-client @oauth-id-token @oidc-core-8-a
  Scenario: Two public clients see the same sub for the same user
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the user authorizes the second OAuth client and it exchanges the code
    Then both clients see the same sub for the user

  @oauth-client @oauth-id-token @oidc-core-8.1-a
  Scenario: Pairwise clients of different sectors see different subs
    Given a signed-in user
    When the user authorizes two pairwise clients of different sectors
    Then the two sectors see different subs for the user
