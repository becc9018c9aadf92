//! The ID token (OIDC Core §2, §3.1.3.7).

use super::*;
use crate::protocol::oauth::check_refreshed_id_token;

#[then("the ID token is signed by a key from the discovery jwks_uri")]
async fn id_token_signed(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ID_SIGNATURE;
    let (id_token, header, _, _, exchange) = current_id_token(world, rule)?;
    let jwks_request = endpoint_request(world, "jwks_uri", |d| d.jwks_uri.clone()).await?;
    let jwks_exchange = send(world, jwks_request.cookies(CookieChoice::None)).await?;
    let jwks = json_body(world, &jwks_exchange, rule)?;
    match verify_id_token_signature(&id_token, &jwks) {
        Ok(()) => Ok(()),
        Err(e) => Err(world.fail_on(
            rule,
            format!(
                "a valid {} signature by key {} of the JWKS",
                header.get("alg").and_then(Value::as_str).unwrap_or("?"),
                header
                    .get("kid")
                    .and_then(Value::as_str)
                    .unwrap_or("(no kid)")
            ),
            e,
            Some(exchange.excerpt()),
        )),
    }
}

/// Verifies the ID token's signature against a JWKS through `protocol::jwt`.
pub(super) fn verify_id_token_signature(id_token: &str, jwks: &Value) -> Result<(), String> {
    use crate::protocol::jwt::{JwksCache, parse_jwks, verify};
    let jwks = parse_jwks(jwks).map_err(|e| format!("the JWKS is unusable: {e}"))?;
    verify(id_token, &JwksCache::new(&jwks))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[then("the ID token's iss is the discovery issuer")]
async fn id_token_iss(world: &mut AuthWorld) -> StepResult {
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_ISS)?;
    let issuer = discovery(world).await?.issuer;
    let outcome = check_id_token_iss(&claims, &issuer);
    let expected = format!("iss {issuer:?}");
    id_token_verdict(world, RULE_ID_ISS, &exchange, expected, outcome)
}

#[then("the ID token's aud is the client_id")]
async fn id_token_aud(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_AUD)?;
    let outcome = check_id_token_aud(&claims, &client.client_id);
    let expected = format!("aud {:?}", client.client_id);
    id_token_verdict(world, RULE_ID_AUD, &exchange, expected, outcome)
}

#[then("the ID token has not expired")]
async fn id_token_current(world: &mut AuthWorld) -> StepResult {
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_TIMES)?;
    let now = now();
    let outcome = check_id_token_times(&claims, now);
    let expected = format!("exp after {now}, iat at most {now}");
    id_token_verdict(world, RULE_ID_TIMES, &exchange, expected, outcome)
}

#[then("the ID token echoes the nonce sent to the authorization endpoint")]
async fn id_token_nonce(world: &mut AuthWorld) -> StepResult {
    let (_, _, claims, _, exchange) = current_id_token(world, RULE_ID_NONCE)?;
    let sent = sent_in_request(world, |r| r.nonce.clone()).unwrap_or_default();
    let outcome = check_id_token_nonce(&claims, &sent);
    let expected = format!("nonce {sent:?}");
    id_token_verdict(world, RULE_ID_NONCE, &exchange, expected, outcome)
}

#[then("the ID token's at_hash matches the access token")]
async fn id_token_at_hash(world: &mut AuthWorld) -> StepResult {
    let (_, header, claims, tokens, exchange) = current_id_token(world, RULE_ID_AT_HASH)?;
    let alg = header_alg(&header);
    let outcome = check_at_hash(&claims, &alg, &tokens.access_token);
    let expected = format!("at_hash = base64url(left half of the {alg} hash of the access token)");
    id_token_verdict(world, RULE_ID_AT_HASH, &exchange, expected, outcome)
}

#[then("the ID token's sub is the same for both authorizations")]
async fn id_token_sub_stable(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_ID_SUB_STABLE;
    let (_, _, second, _, exchange) = current_id_token(world, rule)?;
    let Some((first_tokens, _)) = world.oauth.first_tokens.clone() else {
        return Err(world.fail(
            &precondition("a first authorization issued tokens"),
            "a first token set",
            "none",
        ));
    };
    let first = first_tokens
        .id_token
        .as_deref()
        .ok_or_else(|| "no id_token".to_string())
        .and_then(decode_id_token)
        .map(|(_, c)| c);
    let first = match first {
        Ok(c) => c,
        Err(e) => return Err(world.fail_on(rule, "a decodable first ID token", e, None)),
    };
    match (&first.sub, &second.sub) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (Some(a), Some(b)) => Err(world.fail_on(
            rule,
            format!("sub {a:?} again"),
            format!("sub {b:?}"),
            Some(exchange.excerpt()),
        )),
        _ => Err(world.fail_on(
            rule,
            "a sub claim in both ID tokens",
            "a missing sub",
            Some(exchange.excerpt()),
        )),
    }
}

const RULE_REFRESHED_ID_TOKEN: &str = "an ID token issued at refresh keeps the original's iss, sub and aud, has its own iat, and any auth_time is still the original authentication's (OIDC Core §12.2)";

#[then("the ID token issued at refresh keeps the original's iss, sub, aud and auth_time")]
async fn refreshed_id_token_keeps_identity(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_REFRESHED_ID_TOKEN;
    let (tokens, exchange) = current_tokens(world)?;
    if tokens.id_token.is_none() {
        // OIDC Core §12.2: a refresh response might not contain an id_token.
        return Err(world.fail_on(
            &precondition("the refresh response carries an ID token"),
            "an id_token in the refresh response",
            "none (allowed by OIDC Core §12.2)",
            Some(exchange.excerpt()),
        ));
    }
    let (_, _, refreshed, _, _) = current_id_token(world, rule)?;
    let original = match first_id_token_claims(world) {
        Ok(c) => c,
        Err(e) => {
            return Err(world.fail(
                &precondition("the code exchange issued an ID token"),
                "a decodable ID token",
                e,
            ));
        }
    };
    check_refreshed_id_token(&original, &refreshed).map_err(|e| {
        world.fail_on(
            rule,
            "the original's iss, sub, aud and auth_time",
            e,
            Some(exchange.excerpt()),
        )
    })
}
