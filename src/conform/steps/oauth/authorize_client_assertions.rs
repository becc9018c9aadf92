//! private_key_jwt client authentication (OIDC Core §9, RFC 7523 §3): a client registered with
//! the harness's own public key authenticates at the introspection endpoint (RFC 7662 §2.1: the
//! authorization server's client authentication) with assertions it signs. A fresh assertion is
//! taken once; the same assertion again (same jti), one signed by another key, an expired one, one
//! addressed to another server and one issued in another name are refused. Runs only where
//! discovery advertises private_key_jwt for the introspection endpoint.

use super::*;
use crate::protocol::client_assertion::{
    AssertionKey, BadAssertion, assertion_claims, assertion_form, spoiled,
};

const RULE_ASSERTIONS: &str = "private_key_jwt client assertions are validated (signature with the client's registered key, iss and sub the client_id, aud the server, exp) and single-use: a replayed assertion (same jti) is refused (OIDC Core §9; RFC 7523 §3)";

/// Whether the raw discovery document lists private_key_jwt for `field`.
fn advertises(doc: &Value, field: &str) -> bool {
    doc.get(field)
        .and_then(Value::as_array)
        .is_some_and(|m| m.iter().any(|v| v == "private_key_jwt"))
}

/// Introspects a token the server never issued, authenticating with `assertion`: HTTP 200
/// means the client was authenticated (the token itself is inactive either way).
async fn introspect_with(world: &mut AuthWorld, assertion: &str) -> Result<Exchange, StepFailure> {
    world.secrets().register_with_form_encoding(assertion);
    let mut form = vec![
        (
            "token".to_string(),
            format!("ba-harness-never-issued-{}", world.random_string(16)),
        ),
        ("token_type_hint".to_string(), "access_token".to_string()),
    ];
    form.extend(assertion_form(assertion));
    super::revocation::client_form_call(
        world,
        "introspection_endpoint",
        |d| d.introspection_endpoint.clone(),
        form,
    )
    .await
}

#[then(
    "introspection takes a private_key_jwt client's fresh assertion once and refuses a replayed, foreign-signed, expired, mis-addressed or misnamed one"
)]
async fn assertions_checked(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ASSERTIONS;
    let raw = fetch_discovery(world).await?.json().unwrap_or(Value::Null);
    if !advertises(&raw, "introspection_endpoint_auth_methods_supported") {
        return Err(world.skip(
            "the discovery document does not list private_key_jwt in \
             introspection_endpoint_auth_methods_supported: the OP does not offer it there",
        ));
    }
    let d = discovery(world).await?;
    let client = client_config(world)?;
    let key = AssertionKey::generate(&format!("ba-harness-{}", world.random_string(8)))
        .map_err(|e| world.fail(&precondition("an Ed25519 key"), "a key", e))?;
    let mut metadata =
        public_client_registration("ba-harness private_key_jwt client", &client.redirect_uri);
    metadata["token_endpoint_auth_method"] = json!("private_key_jwt");
    metadata["grant_types"] = json!(["authorization_code"]);
    metadata["jwks"] = json!({"keys": [key.public_jwk()]});
    let (client_id, _) = super::authorize_clients::register_restricted(world, metadata).await?;
    let audiences: Vec<String> = [
        Some(d.issuer.clone()),
        d.introspection_endpoint.clone(),
        d.token_endpoint.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let made_up = world.target().made_up.clone();
    let fresh = || assertion_claims(&client_id, &audiences, &made_up.random_string(24), now());

    let first = key.sign(&fresh());
    let answer = introspect_with(world, &first).await?;
    let authenticated =
        precondition("introspection takes a fresh, valid private_key_jwt assertion");
    require_token_answer_ok(
        world,
        &answer,
        &authenticated,
        "HTTP 200 (the client authenticated)",
    )?;
    let mut probes = vec![("the same assertion again (a replayed jti)", first)];
    let other_key = AssertionKey::generate(&key.kid)
        .map_err(|e| world.fail(&precondition("an Ed25519 key"), "a key", e))?;
    for bad in BadAssertion::ALL {
        let claims = spoiled(fresh(), bad);
        let signer = if bad == BadAssertion::OtherKey {
            &other_key
        } else {
            &key
        };
        probes.push((bad.describe(), signer.sign(&claims)));
    }
    for (what, assertion) in probes {
        let answer = introspect_with(world, &assertion).await?;
        if answer.status == 200 {
            return Err(world.fail(
                rule,
                format!("{what} refused (HTTP 401 invalid_client)"),
                "HTTP 200: the client was authenticated with it",
            ));
        }
    }
    Ok(())
}
