//! The JWT plugin's rules against the real reference: every @jwt scenario passes for each key
//! algorithm Better Auth offers, and for every @jwt scenario a proxy flaw (or a reference
//! profile) breaks its rule and the harness fails that scenario naming the rule.
//!
//! Claim rules are isolated with a re-signing proxy: it publishes its own Ed25519 key as the
//! JWKS and re-signs every JWT (in /token's body and get-session's `set-auth-jwt`) after one
//! claim edit, so the signature still verifies and only the edited rule breaks.

mod mutating_proxy;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mutating_proxy::{BrokenReference, ConformRun, Flaw, ProxyRequest, ProxyResponse, run_conform};
use serde_json::{Map, Value, json};

const TOKEN_PATH: &str = "/api/auth/token";
const JWKS_PATH: &str = "/api/auth/jwks";
const SESSION_PATH: &str = "/api/auth/get-session";
/// The kid of the re-signing proxy's own key.
const PROXY_KID: &str = "mutating-proxy-key";

// The scenarios of features/jwt.feature.
const ISSUES_JWT: &str = "GET /token issues a JWT for a signed-in session";
const REFUSES: &str = "GET /token refuses a request without a session";
const JWKS_SHAPE: &str = "The JWKS lists each key with kty, kid, alg and its key material";
const JWKS_PUBLIC: &str = "The JWKS publishes public keys only";
const KID: &str = "The JWT names its signing key by a kid the JWKS lists";
const ALG: &str = "The JWT is signed with the algorithm its JWKS key declares";
const VERIFIES: &str = "The JWT's signature verifies against the JWKS";
const ALTERED: &str = "A JWT with an altered claim does not verify";
const ISS: &str = "The JWT's issuer is the deployment's issuer, by default the base URL's origin";
const AUD: &str =
    "The JWT's audience is the deployment's audience, by default the base URL's origin";
const SUB: &str = "The JWT's subject is the signed-in user";
const EMAIL: &str = "The JWT carries the user's email";
const EXP: &str = "A freshly issued JWT has not expired";
const IAT: &str = "The JWT was not issued in the future";
const LIFETIME: &str = "The JWT lives for the default 15 minutes";
const SET_AUTH_JWT: &str = "get-session sends a verifiable JWT for the user in set-auth-jwt";

const ALL: &[&str] = &[
    ISSUES_JWT,
    REFUSES,
    JWKS_SHAPE,
    JWKS_PUBLIC,
    KID,
    ALG,
    VERIFIES,
    ALTERED,
    ISS,
    AUD,
    SUB,
    EMAIL,
    EXP,
    IAT,
    LIFETIME,
    SET_AUTH_JWT,
];

/// Boots the reference behind `flaw` with `env`, runs the @jwt scenarios against it.
async fn run_jwt(flaw: Flaw, env: &[(&str, &str)]) -> (BrokenReference, ConformRun) {
    // The reference leaves jwt.issuer and jwt.audience at their default, its origin (the
    // proxy's): declared, as a user of such a deployment would, so a wrong iss or aud fails.
    let declared = [("--jwt-issuer", ORIGIN), ("--jwt-audience", ORIGIN)];
    run_jwt_declaring(flaw, env, &declared).await
}

/// Stands for the target's origin (the proxy's URL) in declared flag values.
const ORIGIN: &str = "ORIGIN";

/// As [`run_jwt`], with `declared` flags ([`ORIGIN`] stands for the target's origin).
async fn run_jwt_declaring(
    flaw: Flaw,
    env: &[(&str, &str)],
    declared: &[(&str, &str)],
) -> (BrokenReference, ConformRun) {
    let broken = BrokenReference::start(flaw, env).await;
    let mut args = broken.target_args();
    for (flag, value) in declared {
        let value = value.replace(ORIGIN, &broken.proxy.url);
        args.extend([flag.to_string(), value]);
    }
    args.extend([
        "--tags".into(),
        "@jwt".into(),
        "--timeout".into(),
        "20".into(),
    ]);
    let run = run_conform(args).await;
    (broken, run)
}

/// Every @jwt scenario passed: exit 0, none skipped, none a warning.
fn assert_all_passed(run: &ConformRun, what: &str) {
    assert_eq!(run.code, Some(0), "{what}: exit code\n{}", run.output);
    let scenarios = run.report["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: BTreeSet<&str> = scenarios
        .iter()
        .filter_map(|s| s["scenario"].as_str())
        .collect();
    let expected: BTreeSet<&str> = ALL.iter().copied().collect();
    assert_eq!(
        names, expected,
        "{what}: the @jwt scenarios\n{}",
        run.output
    );
    let not_passed: Vec<String> = scenarios
        .iter()
        .filter(|s| s["status"] != "passed")
        .map(|s| {
            format!(
                "{} [{}] rule: {} / expected: {} / actual: {} / reason: {}",
                s["scenario"], s["status"], s["rule"], s["expected"], s["actual"], s["reason"]
            )
        })
        .collect();
    assert!(
        not_passed.is_empty(),
        "{what}: not passed:\n{}\n{}",
        not_passed.join("\n"),
        run.output
    );
}

/// `scenario` failed naming `rule`; with `exactly`, those are all the scenarios that failed.
fn assert_breaks(run: &ConformRun, scenario: &str, rule: &str, exactly: Option<&[&str]>) {
    run.assert_failed(scenario, rule);
    assert_eq!(
        run.code,
        Some(1),
        "a MUST rule broke: exit 1\n{}",
        run.output
    );
    if let Some(expected) = exactly {
        let failed: BTreeSet<String> = run.failed_names().into_iter().collect();
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            failed, expected,
            "the flaw should break exactly these scenarios\n{}",
            run.output
        );
    }
}

// --- (a) every algorithm passes ---------------------------------------------------------------

async fn passes_with(alg: &str) {
    let (broken, run) = run_jwt(Flaw::none(), &[("JWT_ALG", alg)]).await;
    assert_all_passed(&run, alg);
    assert!(
        run.output.contains("jwt"),
        "the jwt capability was discovered\n{}",
        run.output
    );
    broken.server.stop().await;
}

mutating_proxy::proxy_tests! {
    passes_with:
    every_jwt_rule_holds_with_eddsa("EdDSA");
    every_jwt_rule_holds_with_rs256("RS256");
    every_jwt_rule_holds_with_ps256("PS256");
    every_jwt_rule_holds_with_es256("ES256");
    every_jwt_rule_holds_with_es512("ES512");
}

// --- flaw building blocks -----------------------------------------------------------------------

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Rewrites the JWT in /token's 200 body with `f`.
fn map_token_body(response: &mut ProxyResponse, f: &dyn Fn(&str) -> String) {
    if let Some(mut body) = response.json()
        && let Some(token) = body.get("token").and_then(Value::as_str)
    {
        body["token"] = Value::String(f(token));
        response.set_json(&body);
    }
}

/// Rewrites every key of a /jwks body with `f`.
fn map_jwks_keys(response: &mut ProxyResponse, f: &dyn Fn(&mut Map<String, Value>)) {
    if let Some(mut body) = response.json()
        && let Some(keys) = body.get_mut("keys").and_then(Value::as_array_mut)
    {
        for key in keys.iter_mut().filter_map(Value::as_object_mut) {
            f(key);
        }
        response.set_json(&body);
    }
}

type Edit = Arc<dyn Fn(&mut Map<String, Value>) + Send + Sync>;

/// A proxy that serves its own Ed25519 key as the JWKS (with the private `d` too when
/// `publish_private`) and re-signs every JWT the server issues: /token's after `token_edit`,
/// get-session's `set-auth-jwt` after `header_edit`.
fn resigning(publish_private: bool, token_edit: Edit, header_edit: Edit) -> Flaw {
    let seed: [u8; 32] = rand::random();
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let public = b64(pair.public_key().as_ref());
    let resign = move |token: &str, edit: &Edit| -> String {
        let payload = token.split('.').nth(1).unwrap_or_default();
        let mut claims: Map<String, Value> = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        edit(&mut claims);
        let header = json!({"alg": "EdDSA", "kid": PROXY_KID});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(Value::Object(claims).to_string().as_bytes())
        );
        format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()))
    };
    Flaw::response(
        move |request: &ProxyRequest, response: &mut ProxyResponse| match request.path_only() {
            JWKS_PATH if response.status == 200 => {
                let mut key = json!({
                    "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": PROXY_KID, "x": public,
                });
                if publish_private {
                    key["d"] = json!(b64(&seed));
                }
                response.set_json(&json!({"keys": [key]}));
            }
            TOKEN_PATH => map_token_body(response, &|t| resign(t, &token_edit)),
            SESSION_PATH => {
                if let Some(token) = response.header("set-auth-jwt").map(str::to_string) {
                    response.set_header("set-auth-jwt", &resign(&token, &header_edit));
                }
            }
            _ => {}
        },
    )
}

fn unchanged() -> Edit {
    Arc::new(|_| {})
}

/// Every JWT re-signed after the same claim edit, with only the public key published.
fn resigned_claims(edit: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) -> Flaw {
    let edit: Edit = Arc::new(edit);
    resigning(false, Arc::clone(&edit), edit)
}

/// A deployment that sets jwt.issuer and jwt.audience (the resource servers' usual set-up, here
/// a re-signing proxy in front of the reference): without --jwt-issuer / --jwt-audience the
/// harness cannot tell that from a wrong claim, so the two scenarios are skipped naming the
/// flags, never failed; declared, they pass; declared otherwise, they fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_issuer_and_audience_are_judged_only_when_declared() {
    const ISSUER: &str = "https://auth.example.com";
    const AUDIENCE: &str = "https://api.example.com";
    let configured = || {
        resigned_claims(|claims| {
            claims.insert("iss".into(), json!(ISSUER));
            claims.insert("aud".into(), json!(AUDIENCE));
        })
    };
    let (broken, run) = run_jwt_declaring(configured(), &[], &[]).await;
    broken.server.stop().await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    for (scenario, flag) in [(ISS, "--jwt-issuer"), (AUD, "--jwt-audience")] {
        let seen = run.scenario(scenario).unwrap();
        assert_eq!(seen["status"], "skipped", "{scenario}: {seen}");
        assert!(seen.to_string().contains(flag), "{scenario}: {seen}");
    }
    let declared = [("--jwt-issuer", ISSUER), ("--jwt-audience", AUDIENCE)];
    let (broken, run) = run_jwt_declaring(configured(), &[], &declared).await;
    broken.server.stop().await;
    assert_all_passed(&run, "a declared issuer and audience");
    let (broken, run) = run_jwt(configured(), &[]).await;
    broken.server.stop().await;
    assert_breaks(
        &run,
        ISS,
        "iss is the jwt.issuer the deployment declares",
        Some(&[ISS, AUD]),
    );
}

/// A payload without the email (jwt.definePayload may leave it out) skips the email scenario,
/// saying why, rather than failing it; an email that is there and wrong fails
/// (`another_email_fails_that_rule`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_without_the_email_skips_the_email_scenario() {
    let (broken, run) = run_jwt(
        resigned_claims(|claims| {
            claims.remove("email");
        }),
        &[],
    )
    .await;
    broken.server.stop().await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    let seen = run.scenario(EMAIL).unwrap();
    assert_eq!(seen["status"], "skipped", "{seen}");
    assert!(seen.to_string().contains("definePayload"), "{seen}");
}

// --- (b) one flaw per rule ----------------------------------------------------------------------

/// Boots the reference behind `flaw` and runs @jwt: `scenario` fails naming `rule` (with
/// `exactly`, those are all the scenarios that failed). Returns the run.
async fn breaks(flaw: Flaw, scenario: &str, rule: &str, exactly: Option<&[&str]>) -> ConformRun {
    let (broken, run) = run_jwt(flaw, &[]).await;
    assert_breaks(&run, scenario, rule, exactly);
    broken.server.stop().await;
    run
}

/// /token's answers carry the JWT `f` makes of the one issued.
fn on_token_jwt(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |request, response| {
        if request.path_only() == TOKEN_PATH {
            map_token_body(response, &f);
        }
    })
}

/// Every key /jwks lists is rewritten with `f`.
fn on_jwks_keys(f: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |request, response| {
        if request.path_only() == JWKS_PATH {
            map_jwks_keys(response, &f);
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_answering_without_a_jwt_fails_that_rule() {
    let run = breaks(
        on_token_jwt(|_| "not-a-jwt".into()),
        ISSUES_JWT,
        "GET /token with a valid session answers 200",
        None,
    )
    .await;
    // Every scenario that reads /token's JWT fails too, each on its precondition.
    run.assert_failed(
        ISS,
        "GET /token issues a JWT for a signed-in session (precondition)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_publishing_the_private_key_fails_both_rules_it_breaks() {
    let run = breaks(
        resigning(true, unchanged(), unchanged()),
        JWKS_PUBLIC,
        "publishes public keys only",
        Some(&[JWKS_PUBLIC, ALTERED]),
    )
    .await;
    // The harness forges a JWT with the published `d`, and says so.
    run.assert_failed(ALTERED, "whose claims were altered does not verify");
    assert!(
        run.actual(ALTERED).contains("anyone can mint"),
        "{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_whose_signature_does_not_verify_fails_that_rule() {
    let run = breaks(
        on_token_jwt(|token| {
            // Flip one character in the middle of the signature (never the last one, whose
            // low bits may be padding).
            let (input, signature) = token.rsplit_once('.').unwrap();
            let mut chars: Vec<char> = signature.chars().collect();
            let middle = chars.len() / 2;
            chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
            format!("{input}.{}", chars.into_iter().collect::<String>())
        }),
        VERIFIES,
        "signature verifies with the JWKS key its header names",
        Some(&[VERIFIES, ALTERED]),
    )
    .await;
    // The altered-claim check refuses to pass on a JWT that never verified.
    run.assert_failed(ALTERED, "(precondition)");
}

mutating_proxy::proxy_tests! {
    breaks:
    a_token_endpoint_issuing_a_jwt_without_a_session_fails_that_rule(
        Flaw::request(|request| {
            if request.path_only() == TOKEN_PATH && request.header("cookie").is_none() {
                let header = b64(br#"{"alg":"EdDSA","kid":"k"}"#);
                let payload = b64(br#"{"sub":"nobody"}"#);
                return Some(ProxyResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: json!({"token": format!("{header}.{payload}.c2lnbmF0dXJl")})
                        .to_string()
                        .into_bytes(),
                });
            }
            None
        }),
        REFUSES,
        "GET /token without a session is refused with 401",
        Some(&[REFUSES]),
    );
    a_jwks_key_without_its_key_material_fails_that_rule(
        on_jwks_keys(|key| {
            key.remove("x");
        }),
        JWKS_SHAPE,
        "each with kty, kid, alg and the public key material",
        Some(&[JWKS_SHAPE, VERIFIES, ALTERED, SET_AUTH_JWT]),
    );
    a_kid_the_jwks_does_not_list_fails_that_rule(
        on_jwks_keys(|key| {
            let kid = key.get("kid").and_then(Value::as_str).unwrap_or_default();
            key.insert("kid".into(), json!(format!("{kid}-rotated")));
        }),
        KID,
        "the JWT names its signing key",
        Some(&[KID, ALG, VERIFIES, ALTERED, SET_AUTH_JWT]),
    );
    a_jwks_key_declaring_another_alg_fails_that_rule(
        // Ed25519 is RFC 9864's fully specified name for EdDSA over Ed25519: a well-formed key for
        // the JWKS rule, but not the alg the JWT header says.
        on_jwks_keys(|key| {
            key.insert("alg".into(), json!("Ed25519"));
        }),
        ALG,
        "alg is the alg its JWKS key declares",
        Some(&[ALG, VERIFIES, ALTERED, SET_AUTH_JWT]),
    );
    an_issuer_with_the_base_path_fails_that_rule(
        // The confusion of better-auth#5496: the base path in iss.
        resigned_claims(|claims| {
            let iss = claims["iss"].as_str().unwrap_or_default().to_string();
            claims.insert("iss".into(), json!(format!("{iss}/api/auth")));
        }),
        ISS,
        "iss is the jwt.issuer the deployment declares",
        Some(&[ISS]),
    );
    another_audience_fails_that_rule(
        resigned_claims(|claims| {
            claims.insert("aud".into(), json!(["https://elsewhere.example"]));
        }),
        AUD,
        "aud is the jwt.audience the deployment declares",
        Some(&[AUD]),
    );
    another_subject_fails_that_rule(
        resigned_claims(|claims| {
            claims.insert("sub".into(), json!("someone-else"));
        }),
        // set-auth-jwt is re-signed with the same edit, so its sub check fails too.
        SUB,
        "sub is the id of the user",
        Some(&[SUB, SET_AUTH_JWT]),
    );
    another_email_fails_that_rule(
        resigned_claims(|claims| {
            claims.insert("email".into(), json!("someone@else.example"));
        }),
        EMAIL,
        "including the email",
        Some(&[EMAIL]),
    );
    an_expired_jwt_fails_that_rule(
        // Issued an hour ago with the right 15-minute lifetime: expired, nothing else wrong.
        resigned_claims(|claims| {
            let iat = now() - 3600;
            claims.insert("iat".into(), json!(iat));
            claims.insert("exp".into(), json!(iat + 900));
        }),
        EXP,
        "has not expired",
        Some(&[EXP]),
    );
    a_jwt_issued_in_the_future_fails_that_rule(
        resigned_claims(|claims| {
            let iat = now() + 3600;
            claims.insert("iat".into(), json!(iat));
            claims.insert("exp".into(), json!(iat + 900));
        }),
        IAT,
        "iat is not in the future",
        Some(&[IAT]),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_hour_lifetime_fails_the_default_lifetime_rule() {
    // The real server configured with jwt.expirationTime "1h": an honest configuration change,
    // reported as a SHOULD warning (exit 0 unless --strict).
    let (broken, run) = run_jwt(Flaw::none(), &[("JWT_EXPIRATION", "1h")]).await;
    run.assert_failed(LIFETIME, "exp - iat = 900 s");
    assert_eq!(
        run.failed_names(),
        vec![LIFETIME.to_string()],
        "{}",
        run.output
    );
    assert_eq!(
        run.code,
        Some(0),
        "a SHOULD warning alone exits 0\n{}",
        run.output
    );
    assert!(
        run.actual(LIFETIME).starts_with("exp - iat = 3600 s"),
        "{}",
        run.output
    );
    broken.server.stop().await;
}

mutating_proxy::proxy_tests! {
    breaks:
    get_session_without_set_auth_jwt_fails_that_rule(
        Flaw::response(|request, response| {
            if request.path_only() == SESSION_PATH {
                response.remove_header("set-auth-jwt");
            }
        }),
        SET_AUTH_JWT,
        "get-session with a valid session sends `set-auth-jwt`",
        Some(&[SET_AUTH_JWT]),
    );
    a_set_auth_jwt_for_another_user_fails_that_rule(
        // Only the header's JWT names someone else; /token's is re-signed unchanged.
        resigning(
            false,
            unchanged(),
            Arc::new(|claims| {
                claims.insert("sub".into(), json!("someone-else"));
            }),
        ),
        SET_AUTH_JWT,
        "whose sub is the user's id",
        Some(&[SET_AUTH_JWT]),
    );
}

/// Which flaw test breaks each scenario (kept next to the tests; checked against the feature).
const BROKEN_BY: &[(&str, &str)] = &[
    (
        ISSUES_JWT,
        "a_token_endpoint_answering_without_a_jwt_fails_that_rule",
    ),
    (
        REFUSES,
        "a_token_endpoint_issuing_a_jwt_without_a_session_fails_that_rule",
    ),
    (
        JWKS_SHAPE,
        "a_jwks_key_without_its_key_material_fails_that_rule",
    ),
    (
        JWKS_PUBLIC,
        "a_jwks_publishing_the_private_key_fails_both_rules_it_breaks",
    ),
    (KID, "a_kid_the_jwks_does_not_list_fails_that_rule"),
    (ALG, "a_jwks_key_declaring_another_alg_fails_that_rule"),
    (
        VERIFIES,
        "a_jwt_whose_signature_does_not_verify_fails_that_rule",
    ),
    (
        ALTERED,
        "a_jwks_publishing_the_private_key_fails_both_rules_it_breaks",
    ),
    (ISS, "an_issuer_with_the_base_path_fails_that_rule"),
    (AUD, "another_audience_fails_that_rule"),
    (SUB, "another_subject_fails_that_rule"),
    (EMAIL, "another_email_fails_that_rule"),
    (EXP, "an_expired_jwt_fails_that_rule"),
    (IAT, "a_jwt_issued_in_the_future_fails_that_rule"),
    (
        LIFETIME,
        "a_one_hour_lifetime_fails_the_default_lifetime_rule",
    ),
    (
        SET_AUTH_JWT,
        "get_session_without_set_auth_jwt_fails_that_rule",
    ),
];

/// Every scenario of features/jwt.feature is listed, and has a flaw test that exists.
#[test]
fn every_jwt_scenario_is_broken_by_some_flaw() {
    let feature = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features/jwt.feature"),
    )
    .unwrap();
    let in_feature: BTreeSet<&str> = feature
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Scenario: "))
        .collect();
    let listed: BTreeSet<&str> = ALL.iter().copied().collect();
    assert_eq!(
        in_feature, listed,
        "ALL lists features/jwt.feature's scenarios"
    );
    let covered: BTreeSet<&str> = BROKEN_BY.iter().map(|(s, _)| *s).collect();
    assert_eq!(covered, listed, "every scenario has a flaw test");
    let source = include_str!("jwt_rules.rs");
    for (_, test) in BROKEN_BY {
        // A test function, or a row of a proxy_tests! table.
        assert!(
            source.contains(&format!("async fn {test}()"))
                || source.contains(&format!("\n    {test}(\n")),
            "no test named {test}"
        );
    }
}
