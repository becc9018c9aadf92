//! Discovery: the OpenID Provider Metadata document (OIDC Discovery §3-§4, RFC 9207 §3).

use super::*;

#[given("the authorization server publishes its discovery document")]
async fn discovery_published(world: &mut AuthWorld) -> StepResult {
    discovery(world).await.map(|_| ())
}

#[when("the OAuth client fetches the discovery document")]
async fn fetch_discovery_step(world: &mut AuthWorld) -> StepResult {
    fetch_discovery(world).await.map(|_| ())
}

#[then("the discovery document names the auth base URL as its issuer")]
async fn discovery_issuer(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, RULE_DISCOVERY_ISSUER)?;
    let endpoint = world.target().endpoint();
    let expected = expected_issuer(&endpoint.origin, &endpoint.base_path);
    check_issuer(&d, &expected)
        .map_err(|e| world.fail(RULE_DISCOVERY_ISSUER, format!("issuer {expected:?}"), e))
}

#[then("the discovery document lists the authorization, token, userinfo and JWKS endpoints")]
async fn discovery_endpoints(world: &mut AuthWorld) -> StepResult {
    judge_discovery(
        world,
        RULE_DISCOVERY_ENDPOINTS,
        "authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri: absolute http(s) URLs",
        check_endpoints,
    )
}

#[then("the discovery document offers PKCE S256 and not plain")]
async fn discovery_pkce(world: &mut AuthWorld) -> StepResult {
    judge_discovery(
        world,
        RULE_DISCOVERY_PKCE,
        "code_challenge_methods_supported with \"S256\" and without \"plain\"",
        check_pkce_methods,
    )
}

#[then("the discovery document lists the code response type")]
async fn discovery_code(world: &mut AuthWorld) -> StepResult {
    judge_discovery(
        world,
        RULE_DISCOVERY_CODE,
        "response_types_supported containing \"code\"",
        check_response_types,
    )
}

#[then("the discovery document advertises the iss authorization response parameter")]
async fn discovery_iss_param(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, RULE_DISCOVERY_ISS_PARAM)?;
    if d.authorization_response_iss_parameter_supported {
        return Ok(());
    }
    let raw = exchange.json().ok().and_then(|b| {
        b.get("authorization_response_iss_parameter_supported")
            .cloned()
    });
    Err(world.fail(
        RULE_DISCOVERY_ISS_PARAM,
        "authorization_response_iss_parameter_supported: true",
        match raw {
            Some(v) => format!("authorization_response_iss_parameter_supported: {v}"),
            None => "the field is absent".into(),
        },
    ))
}
