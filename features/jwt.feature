@jwt
Feature: The JWT plugin
  Better Auth's jwt plugin turns a session into a signed JWT for services that cannot read the
  session cookie: GET /token answers {"token": "<JWT>"} to a signed-in user and 401 to anyone
  else, get-session sends the same kind of JWT in a `set-auth-jwt` header, and GET /jwks
  publishes the public keys that verify them (EdDSA over Ed25519 by default; ES256, ES512,
  RS256 or PS256 when configured). The JWT's header names its key by kid and its alg; its
  payload is the user's record plus sub (the user id), iat, exp (iat + 15 minutes by default),
  and iss and aud: jwt.issuer and jwt.audience when the deployment sets them (declare them with
  --jwt-issuer / --jwt-audience), else the base URL's origin without the auth base path.
  The harness verifies every JWT itself against the JWKS; it never trusts alg "none" or a
  shared-secret algorithm.

  @better-auth-jwt-a
  Scenario: GET /token issues a JWT for a signed-in session
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then GET /token answers 200 with a JWT

  @better-auth-jwt-a
  Scenario: GET /token refuses a request without a session
    When a client without a session asks GET /token for a JWT
    Then GET /token refuses it with 401 and issues no JWT

  @better-auth-jwt-c
  Scenario: The JWKS lists each key with kty, kid, alg and its key material
    When the JWKS is fetched
    Then the JWKS lists keys that each have kty, kid, alg and the key material for their kty

  @better-auth-jwt-c
  Scenario: The JWKS publishes public keys only
    When the JWKS is fetched
    Then the JWKS publishes no private or symmetric key material

  @better-auth-jwt-d
  Scenario: The JWT names its signing key by a kid the JWKS lists
    Given a signed-in user
    And the JWKS is fetched
    When the user asks GET /token for a JWT
    Then the JWT header has a kid that the JWKS lists

  @better-auth-jwt-d
  Scenario: The JWT is signed with the algorithm its JWKS key declares
    Given a signed-in user
    And the JWKS is fetched
    When the user asks GET /token for a JWT
    Then the JWT header's alg is the alg its JWKS key declares

  @better-auth-jwt-d
  Scenario: The JWT's signature verifies against the JWKS
    Given a signed-in user
    And the JWKS is fetched
    When the user asks GET /token for a JWT
    Then the JWT verifies against the JWKS

  @better-auth-jwt-d
  Scenario: A JWT with an altered claim does not verify
    Given a signed-in user
    And the JWKS is fetched
    When the user asks GET /token for a JWT
    Then the JWT with an altered claim does not verify against the JWKS

  @better-auth-jwt-e
  Scenario: The JWT's issuer is the deployment's issuer, by default the base URL's origin
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then the JWT's iss is the deployment's issuer, by default the base URL's origin

  @better-auth-jwt-e
  Scenario: The JWT's audience is the deployment's audience, by default the base URL's origin
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then the JWT's aud is the deployment's audience, by default the base URL's origin

  @better-auth-jwt-e
  Scenario: The JWT's subject is the signed-in user
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then the JWT's sub is the signed-in user's id

  @better-auth-jwt-e
  Scenario: The JWT carries the user's email
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then the JWT carries the user's email

  @better-auth-jwt-f
  Scenario: A freshly issued JWT has not expired
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then the JWT's exp is in the future

  @better-auth-jwt-f
  Scenario: The JWT was not issued in the future
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then the JWT's iat is not in the future

  # A deployment may configure jwt.expirationTime; 15 minutes is the documented default
  # (protocol::jwt::DEFAULT_LIFETIME_SECS), hence SHOULD.
  @should @better-auth-jwt-g
  Scenario: The JWT lives for the default 15 minutes
    Given a signed-in user
    When the user asks GET /token for a JWT
    Then the JWT lives for Better Auth's default 15 minutes

  @better-auth-jwt-b
  Scenario: get-session sends a verifiable JWT for the user in set-auth-jwt
    Given a signed-in user
    And the JWKS is fetched
    When the user asks for the session with the cookies they were given
    Then the set-auth-jwt header holds a JWT that verifies against the JWKS and names the user
