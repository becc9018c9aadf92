@oauth-provider
Feature: OAuth 2.1 / OIDC provider: RP-initiated logout bound to its client
  The end session endpoint takes a form POST as it takes GET (OIDC RP-Initiated Logout 1.0
  §2). When client_id and id_token_hint are both sent, the OP checks that the hint was issued
  to that client: a genuine hint of the run's second client, sent with the first client's
  client_id and registered URI, must not end the session or redirect on the hint's strength.
  A post_logout_redirect_uri is the hint's client's own: one registered only for another
  client is never redirected to (§3), and without a hint the OP does not redirect at all
  (§3). Negative flows are followed to their end: redirects on the OP's origin, and a
  confirmation form the End-User would submit (except for the client_id check, where a
  redirect after the End-User's own confirmation is allowed).

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-2-b
  Scenario: End session accepts a form POST
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested by a form POST with the ID token, the registered post_logout_redirect_uri and a state
    Then end session accepts the POST and redirects to the post_logout_redirect_uri with the same state

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-2-g
  Scenario: End session does not act on a hint issued to another client than client_id names
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When the user authorizes the second OAuth client and it exchanges the code
    And end session is requested with the second client's ID token, the client's client_id and its registered post_logout_redirect_uri
    Then end session neither redirects to the client's post_logout_redirect_uri nor ends the session

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-3-b
  Scenario: End session never redirects to another client's post_logout_redirect_uri
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    When end session is requested with a post_logout_redirect_uri registered only for another client
    Then end session does not redirect to the other client's post_logout_redirect_uri

  @oauth-client @end-session @oauth-end-session @oidc-rp-logout-3-c
  Scenario: End session without an id_token_hint does not redirect
    Given a signed-in user
    When end session is requested without an ID token, with the registered post_logout_redirect_uri and a state
    Then end session does not redirect to the post_logout_redirect_uri, even once the End-User confirms
