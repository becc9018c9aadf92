//! The SHOULD rules a security reviewer expects: each check (a passive check on every exchange,
//! or a @should scenario) warns against the real reference behind a proxy that breaks exactly
//! its rule. A warning is a failed scenario of severity SHOULD: it never counts as a MUST
//! failure.

mod mutating_proxy;

use mutating_proxy::oauth::*;
use mutating_proxy::{BrokenReference, Flaw};
use serde_json::Value;

/// Runs `scenario` alone (its feature's `tag` selects it) behind `flaw` and requires a warning
/// (severity SHOULD) naming `rule_fragment`.
async fn warns(flaw: Flaw, tag: &str, scenario: &str, rule_fragment: &str) {
    let (broken, run) = run_alone(flaw, tag, scenario).await;
    run.assert_failed(scenario, rule_fragment);
    let found = run.scenario(scenario).unwrap();
    assert_eq!(
        found["severity"], "SHOULD",
        "`{scenario}` must warn, not fail a MUST:\n{}",
        run.output
    );
    broken.server.stop().await;
}

/// Runs `scenario` alone behind `flaw`.
async fn run_alone(
    flaw: Flaw,
    tag: &str,
    scenario: &str,
) -> (BrokenReference, mutating_proxy::ConformRun) {
    let broken = BrokenReference::start(flaw, &[]).await;
    let one = OneScenario::new(scenario);
    let run = run_oauth(&broken, Some(&one.dir), tag).await;
    (broken, run)
}

const SIGN_UP: &str = "Sign-up creates the user and starts a session";

/// Sign-up's session cookie says SameSite=None over plain HTTP, without Secure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_site_none_cookie_without_secure_warns() {
    let flaw = Flaw::response(|request, response| {
        if request.method == "POST" && is(request, "/sign-up/email") {
            response.map_set_cookies(|line| {
                let kept: Vec<&str> = line
                    .split(';')
                    .filter(|a| {
                        let a = a.trim().to_ascii_lowercase();
                        !a.starts_with("samesite") && a != "secure"
                    })
                    .collect();
                Some(format!("{}; SameSite=None", kept.join(";")))
            });
        }
    });
    warns(flaw, "@email-password", SIGN_UP, "[rfc6265bis-4.1.2.7-a]").await;
}

/// Sign-up sets its session cookie twice: first a deletion, then the value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_set_twice_in_one_response_warns() {
    let flaw = Flaw::response(|request, response| {
        if request.method == "POST"
            && is(request, "/sign-up/email")
            && let Some(line) = response
                .headers_named("set-cookie")
                .into_iter()
                .find(|l| l.contains("session_token="))
            && let Some((name, _)) = line.split_once('=')
        {
            let deletion = format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
            response.headers.insert(0, ("set-cookie".into(), deletion));
        }
    });
    warns(flaw, "@email-password", SIGN_UP, "[rfc6265bis-4.1.1-a]").await;
}

/// `path_suffix`'s JSON answers that `applies` picks get `member` (name, string value) added.
fn adds_member(
    path_suffix: &'static str,
    applies: fn(&Value) -> bool,
    (name, value): (&'static str, &'static str),
) -> Flaw {
    Flaw::response(move |request, response| {
        if is(request, path_suffix) {
            edit_json(response, |body| {
                if applies(body) {
                    body[name] = Value::from(value);
                }
            });
        }
    })
}

const INACTIVE_BARE: &str =
    "Introspection of an inactive token says nothing more than active false";
const PUBLIC_NO_SECRET: &str = "A public client's registration issues no client_secret";
const OPENID_ALONE: &str = "A grant of scope openid alone releases no email or profile claim";

fn reports_inactive(body: &Value) -> bool {
    body["active"] == false
}

fn registers_public(body: &Value) -> bool {
    body["token_endpoint_auth_method"] == "none"
}

fn names_a_subject(body: &Value) -> bool {
    body.get("sub").is_some()
}

/// Introspection tells whose an inactive token was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactive_token_described_by_introspection_warns() {
    let flaw = adds_member("/oauth2/introspect", reports_inactive, ("sub", "someone"));
    warns(flaw, "@oauth-provider", INACTIVE_BARE, "RFC 7662 §2.2").await;
}

/// Registration hands a public client a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_for_a_public_client_warns() {
    let secret = ("client_secret", "a-secret-the-client-cannot-keep");
    let flaw = adds_member("/oauth2/register", registers_public, secret);
    warns(flaw, "@oauth-provider", PUBLIC_NO_SECRET, "RFC 7591 §2").await;
}

/// userinfo releases the email whatever scope the token was granted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_released_without_the_email_scope_warns() {
    let email = ("email", "released-without-consent@ba-harness.test");
    let flaw = adds_member("/oauth2/userinfo", names_a_subject, email);
    warns(flaw, "@oauth-provider", OPENID_ALONE, "OIDC Core §5.4").await;
}

/// The authorization endpoint ignores prompt=consent: a user who consented before is sent
/// straight back with a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_without_consent_under_prompt_consent_warns() {
    let flaw = Flaw::request(|request| {
        if is(request, "/oauth2/authorize") {
            request.path = request
                .path
                .replace("prompt=consent", "prompt_ignored=consent");
        }
        None
    });
    let scenario = "Authorize with prompt=consent after consent was given asks for consent again";
    warns(flaw, "@oauth-provider", scenario, "OIDC Core §3.1.2.1").await;
}

/// userinfo challenges a request without credentials as if its token were invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_in_the_challenge_to_no_credentials_warns() {
    let flaw = Flaw::response(|request, response| {
        if is(request, "/oauth2/userinfo") && request.header("authorization").is_none() {
            response.set_header("www-authenticate", r#"Bearer error="invalid_token""#);
        }
    });
    let scenario = "userinfo's challenge to a request without credentials names no error code";
    warns(flaw, "@oauth-provider", scenario, "RFC 6750 §3").await;
}

/// get-session echoes the request's Origin in Access-Control-Allow-Origin, without Vary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_origin_echoed_without_vary_warns() {
    let flaw = Flaw::response(|request, response| {
        if let Some(origin) = request.header("origin").map(str::to_string)
            && is(request, "/get-session")
            && origin.contains("cors-probe")
        {
            response.set_header("access-control-allow-origin", &origin);
            response.remove_header("vary");
        }
    });
    let scenario = "An Access-Control-Allow-Origin that follows the Origin comes with Vary: Origin";
    warns(flaw, "@security-should", scenario, "Fetch §3.2.5").await;
}

const OTHER_USERS_HINT: &str =
    "Authorize with prompt=none and another user's id_token_hint issues no code";

/// The pinned reference itself ignores id_token_hint at the authorization endpoint: the
/// signed-in user gets a code though the hint names another user (docs/findings.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_despite_another_users_id_token_hint_warns() {
    warns(
        Flaw::none(),
        "@oauth-provider",
        OTHER_USERS_HINT,
        "OIDC Core §3.1.2.1",
    )
    .await;
}

/// A proxy that answers such a request with login_required, as the rule asks: the scenario
/// passes (the check is not a warning whatever the server does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_required_for_another_users_id_token_hint_passes() {
    let fixed = Flaw::request(|request| {
        let hinted =
            is(request, "/oauth2/authorize") && query_value(request, "id_token_hint").is_some();
        let redirect_uri = query_value(request, "redirect_uri").filter(|_| hinted)?;
        let state = query_value(request, "state").unwrap_or_default();
        let location = url::Url::parse_with_params(
            &redirect_uri,
            [("error", "login_required"), ("state", state.as_str())],
        )
        .ok()?;
        Some(redirect_response(location.as_str(), &[]))
    });
    let (broken, run) = run_alone(fixed, "@oauth-provider", OTHER_USERS_HINT).await;
    let found = run.scenario(OTHER_USERS_HINT).unwrap();
    assert_eq!(found["status"], "passed", "{}", run.output);
    broken.server.stop().await;
}
