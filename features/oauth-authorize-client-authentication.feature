@oauth-provider
Feature: OAuth 2.1 / OIDC provider: private_key_jwt client authentication
  OIDC Core §9 and RFC 7523 §3: a client registered with a public key (jwks) authenticates with
  assertions it signs; the server checks the signature against the registered key, iss and sub
  (the client_id), aud (itself) and exp, and takes each assertion once (jti). The harness
  registers such a client with a key of its own through dynamic client registration and
  authenticates it at the introspection endpoint, where discovery advertises private_key_jwt.

  @oauth-client @oauth-introspection @oidc-core-9-a
  Scenario: private_key_jwt client assertions are verified and single-use
    Then introspection takes a private_key_jwt client's fresh assertion once and refuses a replayed, foreign-signed, expired, mis-addressed or misnamed one
