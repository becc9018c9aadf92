@oauth-provider
Feature: OAuth 2.1 / OIDC provider: RP-initiated logout (end session)
  GET <end_session_endpoint>?id_token_hint=…&post_logout_redirect_uri=…&state=… ends the
  session the ID token names: the answer redirects to the registered post_logout_redirect_uri
  with the same state, clears the session cookies, and the old session cookie is no session
  afterwards. A post_logout_redirect_uri that is not registered is never redirected to. A
  request whose ID token does not belong to the session of the user-agent (here: it carries
  no session at all) must not log the user out before the End-User confirms (OIDC
  RP-Initiated Logout 1.0 §2).
  The id_token_hint counts only when its signature verifies against the OP's keys: an unsigned
  copy (alg none) or one whose signature was altered must end no session and redirect nowhere
  (RP-Initiated Logout §2; oauth-provider PR #10812 rejects alg=none hints).
  Known deviation of Better Auth 1.7.25 / oauth-provider 1.7.5 (known-deviations.toml): the
  id_token_hint alone, with no session cookie, ends the hinted session without asking.
  Needs a client with end session enabled and its registered post_logout_redirect_uri
  (--post-logout-redirect-uri; the bundled reference seeds one).

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-2-a @oidc-rp-logout-3-d @oidc-rp-logout-3-e @better-auth-oauth-provider-f
  Scenario: End session redirects to the registered post_logout_redirect_uri with the same state
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with the ID token, the registered post_logout_redirect_uri and a state
    Then end session redirects to the post_logout_redirect_uri with the same state

  @oauth-client @end-session @oauth-end-session @rfc6265bis-4.1.2-a @better-auth-oauth-provider-f
  Scenario: End session clears the session cookies
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with the ID token, the registered post_logout_redirect_uri and a state
    Then end session clears the session cookies

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-2-f @better-auth-oauth-provider-f
  Scenario: End session ends the session on the server
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with the ID token, the registered post_logout_redirect_uri and a state
    Then end session leaves no session behind the old session cookie

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-3-a
  Scenario: End session never redirects to an unregistered post_logout_redirect_uri
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with an unregistered post_logout_redirect_uri
    Then end session does not redirect to the unregistered post_logout_redirect_uri

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-2-d
  Scenario: End session without the user's session asks the End-User before logging out
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with the ID token but without the user's session cookie
    Then the user's session survives until the End-User confirms the logout

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-2-c @oidc-rp-logout-4-a
  Scenario: End session refuses an unsigned id_token_hint
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with an unsigned copy of the ID token (alg none), the registered post_logout_redirect_uri and a state
    Then end session neither redirects to the post_logout_redirect_uri nor ends the user's session

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-2-c @oidc-rp-logout-4-a
  Scenario: End session refuses an id_token_hint whose signature was altered
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with the ID token's signature altered, the registered post_logout_redirect_uri and a state
    Then end session neither redirects to the post_logout_redirect_uri nor ends the user's session
