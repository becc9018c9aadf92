//! The @resource-server rules against the real bundled FastAPI backend (targets/fastapi-resource)
//! and a real issuer (the bundled reference with JWT_TEST_PROFILES=on and key rotation every
//! 4 s): the backend as shipped passes every scenario; the same backend with one rule switched
//! off (its BROKEN=<rule> environment switch, or a wrong audience in its configuration) fails
//! the scenario of that rule, naming it, while the scenarios of the rules it keeps still pass.
//! And `load --resource-server` drives the backend with fresh JWTs, every answer checked.

mod mutating_proxy;

use ba_harness::reference::ReferenceServer;
use ba_harness::resource_server::{
    BUNDLED_ROTATION_INTERVAL_SECS, ResourceServer, ResourceServerOptions, issuer_of,
};
use mutating_proxy::{ConformRun, harness, run_conform};

const ACCEPTED: &str = "A fresh JWT from the issuer is accepted and names the signed-in user";
const OWN_SUBJECT: &str = "Two users calling in turn each get their own subject";
const NO_TOKEN: &str = "A request without a bearer token is refused";
const ALTERED_SIGNATURE: &str = "A JWT whose signature was altered is refused";
const ALTERED_SUBJECT: &str = "A JWT whose subject was changed after signing is refused";
const ALG_NONE: &str = "An unsigned JWT (alg none) is refused";
const FOREIGN_KEY: &str = "A JWT signed by a key that is not in the issuer's JWKS is refused";
const CHALLENGE: &str =
    r#"A refused JWT is challenged with WWW-Authenticate: Bearer error="invalid_token""#;
const WRONG_ISSUER: &str = "A JWT from another issuer is refused";
const WRONG_AUDIENCE: &str = "A JWT for another audience is refused";
const EXPIRED: &str = "An expired JWT is refused";
const ROTATION: &str =
    "After the issuer rotates its key, JWTs signed with the new key are accepted";

/// Every refusal scenario: a backend that keeps its checks passes them all.
const REFUSALS: &[&str] = &[
    NO_TOKEN,
    ALTERED_SIGNATURE,
    ALTERED_SUBJECT,
    ALG_NONE,
    FOREIGN_KEY,
    WRONG_ISSUER,
    WRONG_AUDIENCE,
    EXPIRED,
];

/// The issuer and the backend verifying its JWTs.
struct Setup {
    issuer: ReferenceServer,
    backend: ResourceServer,
}

impl Setup {
    /// A fresh issuer, and the backend with `broken` switched off (None: as shipped) and, when
    /// given, a configured audience.
    async fn start(broken: Option<&str>, audience: Option<&str>) -> Self {
        let interval = BUNDLED_ROTATION_INTERVAL_SECS.to_string();
        let issuer = ReferenceServer::boot(&[
            ("JWT_TEST_PROFILES", "on"),
            ("JWKS_ROTATION_INTERVAL", interval.as_str()),
            ("RATE_LIMIT", "off"),
        ])
        .await
        .expect("the issuer boots");
        let info = issuer_of(&issuer, true, Some(BUNDLED_ROTATION_INTERVAL_SECS)).unwrap();
        let backend = ResourceServer::boot(&ResourceServerOptions {
            jwks_url: info.jwks_url(),
            issuer: info.origin(),
            audience: audience.map(str::to_string),
            broken: broken.map(str::to_string),
        })
        .await
        .expect("the resource server boots");
        Setup { issuer, backend }
    }

    /// Runs the @resource-server scenarios selected by `tags` with the issuer as the target.
    async fn run(&self, tags: &str) -> ConformRun {
        run_conform(vec![
            "--target".into(),
            self.issuer.ready.base_url.clone(),
            "--resource".into(),
            self.backend.me_url().to_string(),
            "--issuer-profiles".into(),
            "--jwks-rotation-interval".into(),
            BUNDLED_ROTATION_INTERVAL_SECS.to_string(),
            "--tags".into(),
            tags.into(),
            "--strict".into(),
        ])
        .await
    }

    async fn stop(self) {
        self.backend.stop().await;
        self.issuer.stop().await;
    }
}

fn status(run: &ConformRun, scenario: &str) -> String {
    run.scenario(scenario)
        .and_then(|s| s["status"].as_str())
        .unwrap_or("missing")
        .to_string()
}

/// Boots a backend with `broken`, runs `tags`, and asserts that `failing` failed, each on a rule
/// naming its fragment, that nothing else failed but `may_fail`, and that every scenario in
/// `passing` passed.
async fn breaks_allowing(
    broken: Option<&str>,
    audience: Option<&str>,
    tags: &str,
    failing: &[(&str, &str)],
    may_fail: &[&str],
    passing: &[&str],
) {
    let setup = Setup::start(broken, audience).await;
    let run = setup.run(tags).await;
    assert_eq!(run.code, Some(1), "{}", run.output);
    for (scenario, rule) in failing {
        run.assert_failed_and_show(scenario, rule, &format!("against BROKEN={broken:?}"));
    }
    let mut failed: Vec<String> = run
        .failed_names()
        .into_iter()
        .filter(|name| !may_fail.contains(&name.as_str()))
        .collect();
    failed.sort();
    let mut expected: Vec<String> = failing.iter().map(|(s, _)| s.to_string()).collect();
    expected.sort();
    assert_eq!(failed, expected, "exactly these fail:\n{}", run.output);
    for scenario in passing {
        assert_eq!(
            status(&run, scenario),
            "passed",
            "{scenario} passes against BROKEN={broken:?}:\n{}",
            run.output
        );
    }
    // No JWT reaches the output: every one the run made or received is redacted.
    assert!(!run.output.contains("eyJ"), "a JWT leaked:\n{}", run.output);
    setup.stop().await;
}

const WITHOUT_ROTATION: &str = "@resource-server and not @key-rotation";

/// [`breaks_allowing`] for the backend with its BROKEN=`switch`: outside the key rotation,
/// `failing` fails (on a rule naming its fragment) and nothing else, while `passing` pass.
async fn switched_off(switch: &str, failing: (&str, &str), passing: &[&str]) {
    breaks_allowing(
        Some(switch),
        None,
        WITHOUT_ROTATION,
        &[failing],
        &[],
        passing,
    )
    .await;
}

/// [`breaks_allowing`] for the key rotation: with BROKEN=`switch` it fails on a rule naming
/// `fragment`, and nothing else fails.
async fn rotation_breaks(switch: &str, fragment: &str) {
    breaks_allowing(
        Some(switch),
        None,
        "@key-rotation",
        &[(ROTATION, fragment)],
        &[],
        &[],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// The backend as shipped passes every scenario.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_backend_passes_every_resource_server_scenario() {
    let setup = Setup::start(None, None).await;
    let run = setup.run("@resource-server").await;
    run.assert_all_passed(12);
    assert!(!run.output.contains("eyJ"), "a JWT leaked:\n{}", run.output);
    setup.stop().await;
}

// ---------------------------------------------------------------------------------------------
// One rule off at a time.

mutating_proxy::proxy_tests! {
    breaks_allowing:
    /// A backend configured with another audience than the issuer's refuses every real JWT.
    a_backend_expecting_another_audience_fails_acceptance(
        None,
        Some("https://another-api.ba-harness.test"),
        WITHOUT_ROTATION,
        &[
            (ACCEPTED, "accepts a fresh JWT from the issuer"),
            (OWN_SUBJECT, "own subject"),
        ],
        &[],
        REFUSALS,
    );
    /// A process-wide user cache without a key: everyone is the first user it served.
    a_backend_that_answers_the_first_user_to_everyone_fails(
        // The two-user scenario fails whatever ran first: its two users cannot both be the first
        // user served. The one-user scenario passes only if its call happened to be the first 200.
        Some("first-subject"),
        None,
        WITHOUT_ROTATION,
        &[(OWN_SUBJECT, "that JWT's own subject")],
        &[ACCEPTED],
        &[NO_TOKEN, ALTERED_SIGNATURE, ALG_NONE, FOREIGN_KEY],
    );
}

mutating_proxy::proxy_tests! {
    switched_off:
    /// No token at all is treated as a guest and answered 200.
    a_backend_that_lets_anonymous_requests_through_fails(
        "allow-anonymous",
        (NO_TOKEN, "refuses no Authorization header with 401"),
        &[
            ACCEPTED,
            OWN_SUBJECT,
            ALTERED_SIGNATURE,
            ALG_NONE,
            FOREIGN_KEY,
        ],
    );
}

mutating_proxy::proxy_tests! {
    breaks_allowing:
    /// Signature verification off (iss, aud and exp still checked).
    a_backend_that_skips_the_signature_fails_the_tampering_scenarios(
        Some("skip-signature"),
        None,
        WITHOUT_ROTATION,
        &[
            (ALTERED_SIGNATURE, "whose signature was altered with 401"),
            (
                ALTERED_SUBJECT,
                "whose sub was changed after signing with 401",
            ),
            // Its refusal never comes, so there is no challenge to check.
            (CHALLENGE, "whose signature was altered with 401"),
        ],
        &[],
        &[ACCEPTED, ALG_NONE, FOREIGN_KEY, WRONG_ISSUER, EXPIRED],
    );
}

mutating_proxy::proxy_tests! {
    switched_off:
    a_backend_that_accepts_alg_none_fails(
        "accept-alg-none",
        (ALG_NONE, "an unsigned JWT (alg none) with 401"),
        &[ACCEPTED, ALTERED_SIGNATURE, ALTERED_SUBJECT, FOREIGN_KEY],
    );
    /// The key the token offers in its own header is trusted (RFC 7515 `jwk`).
    a_backend_that_trusts_the_jwk_header_fails(
        "trust-header-jwk",
        (
            FOREIGN_KEY,
            "signed by a key the issuer's JWKS does not list with 401",
        ),
        &[ACCEPTED, ALTERED_SIGNATURE, ALG_NONE],
    );
    a_backend_that_skips_the_issuer_check_fails(
        "skip-iss",
        (WRONG_ISSUER, "wrong-issuer profile with 401"),
        &[ACCEPTED, WRONG_AUDIENCE, EXPIRED, ALTERED_SIGNATURE],
    );
    a_backend_that_skips_the_audience_check_fails(
        "skip-aud",
        (WRONG_AUDIENCE, "wrong-audience profile with 401"),
        &[ACCEPTED, WRONG_ISSUER, EXPIRED, ALTERED_SIGNATURE],
    );
    a_backend_that_skips_the_expiry_check_fails(
        "skip-exp",
        (EXPIRED, "expired profile with 401"),
        &[ACCEPTED, WRONG_ISSUER, WRONG_AUDIENCE, ALTERED_SIGNATURE],
    );
    /// Refusals without a challenge, as a bare `HTTPException(401)` sends them: a SHOULD rule, so
    /// the run fails only with --strict (which these runs use).
    a_backend_that_refuses_without_a_challenge_fails(
        "no-challenge",
        (CHALLENGE, "WWW-Authenticate: Bearer"),
        &[
            ACCEPTED,
            ALTERED_SIGNATURE,
            ALG_NONE,
            FOREIGN_KEY,
            WRONG_ISSUER,
        ],
    );
}

mutating_proxy::proxy_tests! {
    rotation_breaks:
    /// The JWKS is fetched once and never again: the rotated-in key stays unknown.
    a_backend_that_never_refetches_the_jwks_fails_the_rotation("no-jwks-refetch", "accepts JWTs signed with the new key");
    /// Only the newest key of the JWKS is kept: JWTs of the previous key, still listed during the
    /// grace period and not expired, are refused after the rotation.
    a_backend_that_keeps_only_the_newest_key_fails_the_rotation("newest-key-only", "signed with the previous key");
}

// ---------------------------------------------------------------------------------------------
// The load path: every JWT of the loop goes to the backend, and every answer is checked.

/// Runs `ba-harness load --scenario jwt-verification` for 3 s with 2 users and `extra`; returns
/// the exit code, the output and the JSON report.
async fn load(extra: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let json = harness::temp_file("resource-load.json");
    let output = harness::command()
        .args(["load", "--scenario", "jwt-verification", "--users", "2"])
        .args(["--run-time", "3s", "--report"])
        .arg(&json)
        .args(extra)
        .output()
        .await
        .expect("the harness runs");
    (
        output.status.code(),
        harness::text(&output),
        harness::take_json(&json),
    )
}

fn resource_row(report: &serde_json::Value) -> serde_json::Value {
    report["ba_harness"]["rows"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["request"] == "GET resource (Bearer JWT)")
                .cloned()
        })
        .unwrap_or_else(|| panic!("no resource row in {report}"))
}

/// `load --resource-server`: the bundled reference issues, the bundled backend verifies; every
/// JWT of the loop is accepted and answered with its own virtual user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_drives_the_bundled_backend_with_fresh_jwts() {
    let (code, output, report) = load(&["--resource-server"]).await;
    assert_eq!(code, Some(0), "{output}");
    let row = resource_row(&report);
    assert!(row["requests"].as_u64().unwrap_or(0) > 0, "{row}");
    assert_eq!(row["failures"], 0, "{row}");
    assert!(!output.contains("eyJ"), "a JWT leaked:\n{output}");
}

/// A backend that answers 200 with the wrong user fails every resource request after its
/// first, under load as in conform.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_fails_a_backend_that_answers_another_user() {
    let issuer = ReferenceServer::boot(&[("RATE_LIMIT", "off")])
        .await
        .expect("the issuer boots");
    let info = issuer_of(&issuer, false, None).unwrap();
    let backend = ResourceServer::boot(&ResourceServerOptions {
        jwks_url: info.jwks_url(),
        issuer: info.origin(),
        broken: Some("first-subject".into()),
        ..ResourceServerOptions::default()
    })
    .await
    .expect("the resource server boots");
    let me = backend.me_url().to_string();
    let (code, output, report) =
        load(&["--target", &issuer.ready.base_url, "--resource", &me]).await;
    assert_eq!(code, Some(1), "{output}");
    let row = resource_row(&report);
    let failures = row["failures"].as_u64().unwrap_or(0);
    assert!(failures > 0, "{row}");
    assert!(output.contains("another subject"), "{output}");
    backend.stop().await;
    issuer.stop().await;
}
