@resource-server
Feature: A resource server that verifies Better Auth JWTs
  A common deployment has Better Auth's jwt plugin issue JWTs (GET /token) and a separate
  backend, the resource server, accept them as `Authorization: Bearer <JWT>` before it serves
  its API. The backend fetches the issuer's public keys from its JWKS (GET /jwks), keeps them by
  kid, and verifies every JWT itself: the signature with the key its kid names (an asymmetric
  alg the key declares, never "none"), iss and aud as configured, exp in the future. It answers
  the user the JWT names, and 401 with a JSON error for anything else.

  The resource server is given with --resource URL (the URL it answers the user at, e.g.
  http://127.0.0.1:8000/api/me, which must answer 200 with JSON whose `sub` is the user's id).
  A bundled run starts the bundled FastAPI backend (targets/fastapi-resource) and an issuer of its
  own: the bundled reference with key rotation every 4 s and its JWT test profiles.

  How each JWT is made: the fresh ones come from the issuer's GET /token for a user signed in
  there. The harness derives the forged ones from a fresh one itself: one bit of the signature
  flipped; the sub changed after signing; the claims in an unsigned JWT (alg "none"); the claims
  signed with an Ed25519 key it makes on the spot, under a kid of its own, offering that key in
  the header (`jwk`, RFC 7515 §4.1.3). The harness cannot sign with the issuer's key, so JWTs
  with a wrong issuer, a wrong audience or an exp in the past come from the issuer itself: the
  bundled reference with JWT_TEST_PROFILES=on also serves Better Auth instances on the same
  database, secret and keys with one jwt option changed (jwt.issuer, jwt.audience, and an iat
  back-dated one hour through jwt.definePayload, so that its 15-minute JWTs expired 45 minutes
  ago), whose GET /token takes the user's session. Those scenarios need --issuer-profiles.

  Key rotation is the jwt plugin's own: with jwks.rotationInterval, the first signing after the
  key's interval mints a new key, and the JWKS lists the old one for the grace period (30 days
  by default). That scenario needs the interval (--jwks-rotation-interval, at most 10 s).

  @better-auth-jwt-verify-a
  Scenario: A fresh JWT from the issuer is accepted and names the signed-in user
    Given a user signed in at the issuer
    When the user calls the resource server with a fresh JWT from /token
    Then the resource server answers 200 naming the user

  @better-auth-jwt-verify-a
  Scenario: Two users calling in turn each get their own subject
    Given two users signed in at the issuer
    When each user calls the resource server with a fresh JWT from /token
    Then the resource server names each user, never the other

  @better-auth-jwt-verify-b
  Scenario: A request without a bearer token is refused
    When a client calls the resource server without an Authorization header
    Then the resource server refuses it with 401

  @better-auth-jwt-verify-b
  Scenario: A JWT whose signature was altered is refused
    Given a user signed in at the issuer
    When the user calls the resource server with their JWT with one bit of the signature flipped
    Then the resource server refuses it with 401

  @better-auth-jwt-verify-b
  Scenario: A JWT whose subject was changed after signing is refused
    Given a user signed in at the issuer
    When the user calls the resource server with their JWT with its subject changed after signing
    Then the resource server refuses it with 401

  @better-auth-jwt-verify-c
  Scenario: An unsigned JWT (alg none) is refused
    Given a user signed in at the issuer
    When the user calls the resource server with their JWT's claims in an unsigned JWT (alg none)
    Then the resource server refuses it with 401

  @better-auth-jwt-verify-c
  Scenario: A JWT signed by a key that is not in the issuer's JWKS is refused
    Given a user signed in at the issuer
    When the user calls the resource server with their JWT's claims signed by a key of the harness's own, offered in the header
    Then the resource server refuses it with 401

  # RFC 6750 §3 makes the challenge a MUST for OAuth bearer tokens; Better Auth documents no
  # contract for the backend that takes its JWTs the same way, hence SHOULD.
  @should @better-auth-jwt-verify-f
  Scenario: A refused JWT is challenged with WWW-Authenticate: Bearer error="invalid_token"
    Given a user signed in at the issuer
    When the user calls the resource server with their JWT with one bit of the signature flipped
    Then the resource server refuses it with 401
    And the refusal carries WWW-Authenticate: Bearer with error="invalid_token"

  @issuer-profiles @better-auth-jwt-verify-d
  Scenario: A JWT from another issuer is refused
    Given a user signed in at the issuer
    When the user calls the resource server with a JWT from the issuer's wrong-issuer profile
    Then the resource server refuses it with 401

  @issuer-profiles @better-auth-jwt-verify-d
  Scenario: A JWT for another audience is refused
    Given a user signed in at the issuer
    When the user calls the resource server with a JWT from the issuer's wrong-audience profile
    Then the resource server refuses it with 401

  # The JWT expired 45 minutes ago: beyond any clock-skew leeway a verifier may allow.
  @issuer-profiles @better-auth-jwt-verify-d
  Scenario: An expired JWT is refused
    Given a user signed in at the issuer
    When the user calls the resource server with a JWT from the issuer's expired profile
    Then the resource server refuses it with 401

  @key-rotation @better-auth-jwt-verify-e @better-auth-jwt-h
  Scenario: After the issuer rotates its key, JWTs signed with the new key are accepted
    Given a user signed in at the issuer
    And the resource server has accepted the user's JWT
    When the issuer rotates its signing key
    And the user calls the resource server with a fresh JWT from /token
    Then the resource server answers 200 naming the user
    And the JWT from before the rotation is still accepted
