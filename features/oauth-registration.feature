@oauth-provider
Feature: OAuth 2.1 / OIDC provider: dynamic client registration
  A client registers by POSTing its metadata as JSON to the discovery registration_endpoint
  (RFC 7591 §3). A registration that succeeds answers 201 with the client_id and every
  metadata member registered, the server's choices included; an issued client_secret comes
  with client_secret_expires_at (§3.2.1). Members the server does not define are ignored
  (§2). A redirect URI with a fragment or one that is not absolute is refused with 400 and a
  JSON error (§2, §3.2.2). Registered metadata is self-asserted: a client that claims it may
  skip consent still gets no code before the user consents (§5).
  Every probe runs after a control: the run's second client (registered once, without a
  session) shows that a valid registration is accepted, so a refusal is about the one member
  the probe changed; without open registration the probes are skipped.
  Better Auth's switches, probed at its registration path without a session: a client is
  registered there only when the discovery document names a registration_endpoint
  (allowDynamicClientRegistration), and only when it lists "none" among the token endpoint
  auth methods, which Better Auth does exactly when allowUnauthenticatedClientRegistration
  is on (or a client-discovery profile is configured: then the check is skipped).

  @oauth-client @oauth-registration @rfc7591-3-a @rfc7591-3.2.1-a
  Scenario: A registration by JSON POST answers 201 with the client_id
    Given dynamic client registration without a session is open
    When a client registers with JSON metadata
    Then the registration answers 201 with the client_id in a JSON body

  @oauth-client @oauth-registration @rfc7591-3.2.1-c
  Scenario: The registration answer lists the metadata registered
    Given dynamic client registration without a session is open
    When a client registers with JSON metadata
    Then the registration answer lists every metadata member registered

  @oauth-client @oauth-registration @rfc7591-2-a
  Scenario: Registration ignores client metadata it does not define
    Given dynamic client registration without a session is open
    When a client registers with JSON metadata that includes a member the server does not define
    Then the registration succeeds despite the member it does not define

  @oauth-client @oauth-registration @rfc7591-3.2.1-b
  Scenario: A registration that issues a client_secret says when it expires
    Given dynamic client registration without a session is open
    When a confidential client registers with client_secret_post
    Then the registration answer says when the client_secret expires

  @oauth-client @oauth-registration @rfc7591-2-c @rfc7591-3.2.2-a
  Scenario: Registration refuses a redirect URI with a fragment
    Given dynamic client registration without a session is open
    When a client registers with a redirect URI that carries a fragment
    Then the registration is refused with 400 and a registration error

  @oauth-client @oauth-registration @rfc7591-2-c @rfc7591-3.2.2-a
  Scenario: Registration refuses a redirect URI that is not absolute
    Given dynamic client registration without a session is open
    When a client registers with a redirect URI that is not absolute
    Then the registration is refused with 400 and a registration error

  @oauth-client @oauth-registration @rfc7591-5-b
  Scenario: A client that registers skip_consent still needs the user's consent
    Given dynamic client registration without a session is open
    And a signed-in user
    When a client registers claiming it may skip consent
    Then the client gets no code before the user consents

  @oauth-client @oauth-registration @better-auth-oauth-provider-n
  Scenario: Registration without a session is refused when unauthenticated registration is off
    When a client registers without a session
    Then a registration without a session is accepted only where unauthenticated registration is on

  @oauth-client @oauth-registration @better-auth-oauth-provider-o
  Scenario: The registration path registers nothing when dynamic registration is off
    When a client registers at Better Auth's registration path
    Then a client is registered there only where the discovery document names a registration endpoint
