@oauth-provider
Feature: OAuth 2.1 / OIDC provider: what the metadata documents promise
  A discovery document is a promise about the server (OIDC Discovery §3, RFC 8414 §2): the
  grant types it lists are served at the token endpoint and the ones it leaves out are refused;
  a flag it leaves out means its default (response_modes_supported defaults to query and
  fragment for a dynamic OP), and the authorization response keeps the stated or default
  modes; a server that offers revocation and introspection lists them; a JWKS that holds
  encryption keys next to signing keys says every key's use; with several keys in the JWKS the
  ID token names its key (OIDC Core §10.1). The two key rules bind only such a JWKS: with no
  encryption key, or one key, there is nothing to check and the scenario passes.
  The grant probes carry made-up credentials: a listed grant may fail on them, never with
  unsupported_grant_type. Revocation and introspection are looked for at Better Auth's paths
  under the issuer.

  @oauth-client @oauth-discovery @oidc-discovery-3-k
  Scenario: The token endpoint serves the grant types the discovery document lists and no others
    When the OAuth client fetches the discovery document
    Then the token endpoint serves the grant types the discovery document lists and refuses the others

  @oauth-client @oauth-discovery @oidc-discovery-3-j
  Scenario: The authorization response keeps the response modes stated or defaulted
    Given a signed-in user
    And the user has authorized the OAuth client
    Then the authorization responses use the response modes the discovery document promises

  @oauth-client @oauth-discovery @rfc8414-2-b
  Scenario: The metadata documents list the revocation and introspection endpoints offered
    When the OAuth client fetches the discovery document
    Then the metadata documents list the revocation and introspection endpoints the server offers

  @oauth-client @oauth-discovery @oidc-discovery-3-l
  Scenario: Every JWKS key says its use when encryption keys are published
    When the OAuth client fetches the discovery document
    Then every key of the JWKS says its use when the JWKS holds encryption keys

  @oauth-client @oauth-id-token @oidc-core-10.1-a
  Scenario: The ID token names its key when the JWKS holds several keys
    Given a signed-in user
    And the user has authorized the OAuth client
    And the OAuth client has exchanged the code for tokens
    Then the ID token's header names its key with a kid the JWKS holds
