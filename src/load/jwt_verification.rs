//! The JWT hot path: each virtual user loops `GET <base>/token` with its session cookie and
//! verifies every JWT it gets against the JWKS it fetched at start (cached by kid; a JWT whose
//! kid is not in the cache makes it refetch the JWKS once): signature, `iss` and `aud` (the
//! target's origin, the jwt plugin's defaults), `exp` in the future, and `sub` = this user.
//! A JWT that fails any of it is a failed request. The verification itself is timed and shows
//! as its own row, "JWT verify", in every report. With `--resource URL` the JWT is also sent
//! as a bearer token to a backend that must answer 200.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use goose::prelude::*;
use reqwest::header::AUTHORIZATION;
use serde_json::Value;

use crate::protocol::jwt::{self, ConfigurableClaim, JwksCache, JwtError, Verified};
use crate::redact::mask_jwts;

use super::get_session::read_body;
use super::live::Outcome;
use super::user::{RunContext, VirtualUser, measured_get, no_session};

/// The custom row goose reports verification under: method "JWT", name "verify".
pub const VERIFY_METHOD: &str = "JWT";
pub const VERIFY_NAME: &str = "verify";

pub use crate::protocol::jwt::ExpectedClaims;
pub use crate::protocol::resource::token_from_answer;

/// A JWT whose claims passed: the claims (`iss`, `aud`) it carries with a well-formed value other
/// than the origin while nothing was declared, so the run could not judge them (the deployment's
/// jwt.issuer or jwt.audience, as conform sees it too); the run says so at its end. Empty (no
/// allocation) for a JWT with the default claims.
pub type Accepted = Vec<&'static str>;

/// The claim checks after the signature verified: iss and aud are the expected ones (see
/// [`jwt::judge_configurable_claim`]), exp is in the future, sub is this user. `Err` is a stable
/// reason (no per-request values).
pub fn check_claims(
    verified: &Verified,
    expected: &ExpectedClaims,
    user_id: &str,
    now: i64,
) -> Result<Accepted, String> {
    let claims = &verified.jwt.claims;
    let mut unjudged = Vec::new();
    let configurable: [(&'static str, &str, _, ClaimCheck); 2] = [
        ("iss", "issuer", &expected.issuer, jwt::check_issuer),
        ("aud", "audience", &expected.audience, jwt::check_audience),
    ];
    for (claim, option, declared, check) in configurable {
        let declared = declared.as_deref();
        match jwt::judge_configurable_claim(claims, claim, declared, &expected.origin, check) {
            ConfigurableClaim::Matches => {}
            ConfigurableClaim::Undeclared(_) => unjudged.push(claim),
            ConfigurableClaim::Wrong(_) => {
                return Err(match declared {
                    Some(value) => {
                        format!("the JWT's {claim} is not the declared {value} (--jwt-{option})")
                    }
                    None => format!("the JWT has no well-formed {claim}"),
                });
            }
        }
    }
    jwt::check_not_expired(claims, now).map_err(|e| {
        if e.starts_with("exp ") {
            "the JWT has expired (exp is not in the future)".to_string()
        } else {
            format!("the JWT's exp: {e}")
        }
    })?;
    jwt::check_subject(claims, user_id)
        .map_err(|_| "the JWT's sub is not this virtual user".to_string())?;
    Ok(unjudged)
}

type ClaimCheck = fn(&serde_json::Map<String, Value>, &str) -> Result<(), String>;

/// A reason for a JWT that did not verify, stable across requests.
pub fn verify_reason(error: &JwtError) -> String {
    match error {
        // The token itself never goes into a reason; these variants name only the defect.
        JwtError::UnknownKid { .. } => {
            "the JWT's kid is not in the JWKS, even after refetching it".into()
        }
        // JWTs masked here; the registered secrets go where goose's error table is written
        // (report.rs scrubs it with the run's redaction).
        other => mask_jwts(&format!("the JWT does not verify: {other}")),
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Verifies `token` for `user_id`: the harness's one verifier (`protocol::jwt::verify`), then
/// the claims. Returns the verdict and the time it took.
pub fn verify_for_user(
    token: &str,
    keys: &JwksCache,
    expected: &ExpectedClaims,
    user_id: &str,
) -> (Result<Accepted, Verdict>, Duration) {
    let started = Instant::now();
    let verdict = match jwt::verify(token, keys) {
        Ok(verified) => {
            check_claims(&verified, expected, user_id, now_secs()).map_err(Verdict::Claims)
        }
        Err(e @ JwtError::UnknownKid { .. }) => Err(Verdict::UnknownKid(e)),
        Err(e) => Err(Verdict::Signature(e)),
    };
    (verdict, started.elapsed())
}

/// Why a JWT was refused.
#[derive(Debug)]
pub enum Verdict {
    UnknownKid(JwtError),
    Signature(JwtError),
    Claims(String),
}

impl Verdict {
    fn reason(&self) -> String {
        match self {
            Verdict::UnknownKid(e) | Verdict::Signature(e) => verify_reason(e),
            Verdict::Claims(reason) => reason.clone(),
        }
    }
}

/// The measured transaction.
pub async fn get_token_and_verify(user: &mut GooseUser, ctx: &RunContext) -> TransactionResult {
    let Some(state) = user.get_session_data::<VirtualUser>() else {
        return no_session().await;
    };
    let cookie = state.cookie_header.clone();
    let user_id = state.user_id.clone();
    let Some(mut keys) = state.jwks.clone() else {
        return no_session().await;
    };

    let Some((response, mut metric)) =
        measured_get(user, ctx, &ctx.token_url, &ctx.token_path, cookie).await?
    else {
        return Ok(());
    };
    let micros = metric.response_time_micros();
    let status = response.status().as_u16();
    let token = match read_body(response).await {
        Ok(body) => token_from_answer(status, &body),
        Err(reason) => Err(reason),
    };
    let token = match token {
        Ok(token) => token,
        Err(reason) => {
            ctx.live.record(micros, Outcome::of(status, false));
            if !metric.success {
                return Ok(());
            }
            return user.set_failure(&reason, &mut metric, None, None);
        }
    };

    let (mut verdict, mut spent) = verify_for_user(&token, &keys, &ctx.expected_claims, &user_id);
    if matches!(verdict, Err(Verdict::UnknownKid(_))) {
        // Key rotation: refetch the JWKS once (a request of its own in the reports), retry.
        if let Some(fresh) = refetch_jwks(user, ctx).await {
            keys = Arc::new(fresh);
            if let Some(state) = user.get_session_data_mut::<VirtualUser>() {
                state.jwks = Some(keys.clone());
            }
            let (again, took) = verify_for_user(&token, &keys, &ctx.expected_claims, &user_id);
            verdict = again;
            spent += took;
        }
    }
    for claim in verdict.iter().flatten() {
        ctx.unjudged_claims.note(claim);
    }
    let reason = verdict.as_ref().err().map(Verdict::reason);
    ctx.live.record(
        micros,
        if reason.is_none() {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
    );
    user.record_custom_request_duration(
        VERIFY_METHOD,
        VERIFY_NAME,
        spent,
        reason.is_none(),
        None,
        reason.as_deref(),
    )
    .await?;
    if let Some(reason) = reason {
        return user.set_failure(&reason, &mut metric, None, None);
    }

    if let Some(resource) = &ctx.resource {
        return call_resource(user, ctx, resource, &token, &user_id).await;
    }
    Ok(())
}

/// GET the JWKS again (measured, under its own name). None when it cannot be had; the JWT
/// then fails as "kid not in the JWKS".
async fn refetch_jwks(user: &mut GooseUser, ctx: &RunContext) -> Option<JwksCache> {
    let name = format!("{} (refetch: unknown kid)", ctx.jwks_path);
    let builder = super::user::get(ctx, &ctx.jwks_url);
    let request = GooseRequest::builder()
        .set_request_builder(builder)
        .name(name.as_str())
        .build();
    let mut goose = user.request(request).await.ok()?;
    let response = goose.response.ok()?;
    let status = response.status().as_u16();
    let parsed = read_body(response).await.and_then(|body| {
        if status != 200 {
            return Err(format!("the JWKS refetch answered {status}, not 200"));
        }
        let value: Value = serde_json::from_slice(&body)
            .map_err(|_| "the JWKS refetch answered a body that is not JSON".to_string())?;
        jwt::parse_jwks(&value).map_err(|e| format!("the JWKS refetch answered no JWKS: {e}"))
    });
    match parsed {
        Ok(jwks) => Some(JwksCache::new(&jwks)),
        Err(reason) => {
            if goose.request.success {
                let _ = user.set_failure(&reason, &mut goose.request, None, None);
            }
            None
        }
    }
}

/// `--resource`: the backend must accept the JWT as a bearer token with 200 and JSON naming this
/// virtual user (`sub`), as `protocol::resource::check_accepted` judges it.
async fn call_resource(
    user: &mut GooseUser,
    ctx: &RunContext,
    resource: &url::Url,
    token: &str,
    user_id: &str,
) -> TransactionResult {
    let mut bearer =
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Box::new(TransactionError::Custom(
                "the JWT is not a header value".into(),
            ))
        })?;
    bearer.set_sensitive(true);
    let builder = super::user::get(ctx, resource).header(AUTHORIZATION, bearer);
    let request = GooseRequest::builder()
        .set_request_builder(builder)
        .name("resource (Bearer JWT)")
        .build();
    let mut goose = user.request(request).await?;
    let response = match goose.response {
        Ok(response) => response,
        Err(_) => return Ok(()),
    };
    let status = response.status().as_u16();
    let verdict = match read_body(response).await {
        Ok(body) => resource_verdict(status, &body, user_id),
        Err(reason) => Err(reason),
    };
    match verdict {
        Err(reason) if goose.request.success || status == 200 => {
            user.set_failure(&reason, &mut goose.request, None, None)
        }
        _ => Ok(()),
    }
}

/// A stable failure reason for the resource server's answer, or Ok when it named the user.
pub fn resource_verdict(status: u16, body: &[u8], user_id: &str) -> Result<(), String> {
    if status != 200 {
        return Err(format!(
            "the resource answered {status} to the JWT, not 200"
        ));
    }
    let expected = crate::protocol::resource::ExpectedUser {
        id: user_id,
        email: None,
    };
    crate::protocol::resource::check_accepted(status, body, &expected)
        .map_err(|e| format!("the resource answered {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_taken_from_a_200_answer_only() {
        assert_eq!(
            token_from_answer(200, br#"{"token":"a.b.c"}"#),
            Ok("a.b.c".to_string())
        );
        assert!(token_from_answer(401, b"").unwrap_err().contains("401"));
        assert!(
            token_from_answer(200, b"x")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(token_from_answer(200, br#"{"token":5}"#).is_err());
        assert!(token_from_answer(200, br#"{"token":""}"#).is_err());
    }

    #[test]
    fn the_resource_must_name_the_virtual_user() {
        assert_eq!(resource_verdict(200, br#"{"sub":"u1"}"#, "u1"), Ok(()));
        let r = resource_verdict(200, br#"{"sub":"u2"}"#, "u1").unwrap_err();
        assert!(r.contains("another subject"), "{r}");
        let r = resource_verdict(401, b"{}", "u1").unwrap_err();
        assert_eq!(r, "the resource answered 401 to the JWT, not 200");
    }

    #[test]
    fn unverifiable_tokens_get_a_reason_without_the_token() {
        let cache = JwksCache::default();
        let token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl";
        let (verdict, _) = verify_for_user(
            token,
            &cache,
            &ExpectedClaims::new("http://127.0.0.1:1", None, None),
            "u1",
        );
        let reason = verdict.unwrap_err().reason();
        assert!(reason.contains("does not verify"), "{reason}");
        assert!(!reason.contains("eyJ"), "{reason}");
        let (verdict, _) = verify_for_user(
            "not-a-jwt",
            &cache,
            &ExpectedClaims::new("http://127.0.0.1:1", None, None),
            "u1",
        );
        assert!(verdict.unwrap_err().reason().contains("not a compact JWT"));
    }
}

#[cfg(test)]
mod signed_tests {
    use super::*;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    const ORIGIN: &str = "http://127.0.0.1:3000";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn key_and_cache() -> (Ed25519KeyPair, JwksCache) {
        let pair = Ed25519KeyPair::generate().unwrap();
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1",
            "x": b64(pair.public_key().as_ref()),
        }]});
        (pair, JwksCache::new(&jwt::parse_jwks(&jwks).unwrap()))
    }

    fn sign(pair: &Ed25519KeyPair, kid: &str, claims: Value) -> String {
        let header = json!({"alg": "EdDSA", "kid": kid});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()))
    }

    fn claims(sub: &str, iss: &str, exp_in: i64) -> Value {
        let now = now_secs();
        json!({"sub": sub, "iss": iss, "aud": iss, "iat": now, "exp": now + exp_in})
    }

    fn reason(token: &str, cache: &JwksCache) -> Option<String> {
        verify_for_user(token, cache, &ExpectedClaims::new(ORIGIN, None, None), "u1")
            .0
            .err()
            .map(|v| v.reason())
    }

    #[test]
    fn a_good_jwt_passes_and_each_claim_is_checked() {
        let (pair, cache) = key_and_cache();
        assert_eq!(
            reason(&sign(&pair, "k1", claims("u1", ORIGIN, 900)), &cache),
            None
        );
        let r = reason(&sign(&pair, "k1", claims("u2", ORIGIN, 900)), &cache).unwrap();
        assert!(r.contains("sub"), "{r}");
        let r = reason(&sign(&pair, "k1", claims("u1", ORIGIN, -5)), &cache).unwrap();
        assert!(r.contains("expired"), "{r}");
        let mut no_iss = claims("u1", ORIGIN, 900);
        no_iss.as_object_mut().unwrap().remove("iss");
        let r = reason(&sign(&pair, "k1", no_iss), &cache).unwrap();
        assert!(r.contains("no well-formed iss"), "{r}");
    }

    /// iss and aud are judged as conform judges them: another value with nothing declared is
    /// the deployment's jwt.issuer as far as the run can tell (accepted, and noted); declared,
    /// it must be that value.
    #[test]
    fn a_declared_issuer_replaces_the_origin_and_an_undeclared_one_is_noted() {
        let (pair, cache) = key_and_cache();
        let mut custom = claims("u1", ORIGIN, 900);
        custom["iss"] = json!("https://auth.example.com");
        let token = sign(&pair, "k1", custom);
        let undeclared = ExpectedClaims::new(ORIGIN, None, None);
        let (verdict, _) = verify_for_user(&token, &cache, &undeclared, "u1");
        assert_eq!(verdict.ok(), Some(vec!["iss"]));
        let declared = ExpectedClaims::new(ORIGIN, Some("https://auth.example.com"), None);
        let (verdict, _) = verify_for_user(&token, &cache, &declared, "u1");
        assert_eq!(verdict.ok(), Some(vec![]));
        let elsewhere = ExpectedClaims::new(ORIGIN, Some("https://elsewhere.example"), None);
        let (verdict, _) = verify_for_user(&token, &cache, &elsewhere, "u1");
        let r = verdict.err().map(|v| v.reason()).unwrap();
        assert!(
            r.contains("not the declared https://elsewhere.example (--jwt-issuer)"),
            "{r}"
        );
    }

    #[test]
    fn another_keys_signature_and_an_unknown_kid_fail() {
        let (_, cache) = key_and_cache();
        let (other, _) = key_and_cache();
        let r = reason(&sign(&other, "k1", claims("u1", ORIGIN, 900)), &cache).unwrap();
        assert!(r.contains("signature does not verify"), "{r}");
        let (verdict, _) = verify_for_user(
            &sign(&other, "k2", claims("u1", ORIGIN, 900)),
            &cache,
            &ExpectedClaims::new(ORIGIN, None, None),
            "u1",
        );
        assert!(matches!(verdict, Err(Verdict::UnknownKid(_))));
    }
}
