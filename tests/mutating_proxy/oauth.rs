//! Helpers for the OAuth flaw tests: run one scenario against a broken reference, read and
//! rewrite requests and answers (forms, queries, JSON, Location), and re-sign ID tokens with
//! the proxy's own published key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::{BrokenReference, ConformRun, Flaw, ProxyRequest, ProxyResponse, run_conform};

// ---------------------------------------------------------------------------------------------
// Running

/// Runs the OAuth scenarios matching `tags` from the shipped features (or from `features`).
pub async fn run_oauth(
    broken: &BrokenReference,
    features: Option<&Path>,
    tags: &str,
) -> ConformRun {
    let mut args = broken.target_args();
    if let Some(dir) = features {
        args.extend(["--features".into(), dir.display().to_string()]);
    }
    args.extend(["--tags".into(), tags.into()]);
    run_conform(args).await
}

/// A features folder holding only `scenario` (with its feature's header and tags), cut from
/// the shipped features/*.feature: each flaw test runs its one scenario, not its area.
pub struct OneScenario {
    pub dir: PathBuf,
}

impl OneScenario {
    pub fn new(scenario: &str) -> Self {
        let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
        let wanted = format!("Scenario: {scenario}");
        for entry in std::fs::read_dir(&features).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".feature") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let Some(at) = lines.iter().position(|l| l.trim() == wanted) else {
                continue;
            };
            let opens_block = |l: &str| {
                let t = l.trim();
                t.starts_with('@') || t.starts_with("Scenario:")
            };
            let feature = lines
                .iter()
                .position(|l| l.trim_start().starts_with("Feature:"))
                .unwrap();
            let header_end = (feature + 1..lines.len())
                .find(|&i| opens_block(lines[i]))
                .unwrap();
            let mut start = at;
            while start > 0 && lines[start - 1].trim().starts_with('@') {
                start -= 1;
            }
            let end = (at + 1..lines.len())
                .find(|&i| opens_block(lines[i]))
                .unwrap_or(lines.len());
            let mut cut: Vec<&str> = lines[..header_end].to_vec();
            cut.extend_from_slice(&lines[start..end]);
            let dir = std::env::temp_dir().join(format!(
                "ba-harness-oauth-{}-{}",
                std::process::id(),
                rand::random::<u64>()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), cut.join("\n") + "\n").unwrap();
            return OneScenario { dir };
        }
        panic!("no features/*.feature has `{wanted}`");
    }
}

impl Drop for OneScenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `scenario` alone against `broken` and requires it to fail on a rule naming
/// `rule_fragment`.
pub async fn assert_breaks(
    broken: &BrokenReference,
    scenario: &str,
    rule_fragment: &str,
) -> ConformRun {
    let one = OneScenario::new(scenario);
    let run = run_oauth(broken, Some(&one.dir), "@oauth-provider").await;
    run.assert_failed(scenario, rule_fragment);
    if std::env::var("BA_HARNESS_SHOW_RUNS").is_ok() {
        eprintln!("{}", run.output);
    }
    run
}

/// The flaw must make `scenario` fail on a rule naming `rule_fragment`.
pub async fn breaks(flaw: Flaw, scenario: &str, rule_fragment: &str) {
    let broken = BrokenReference::start(flaw, &[]).await;
    assert_breaks(&broken, scenario, rule_fragment).await;
    broken.server.stop().await;
}

/// Like [`breaks`], and what the failed scenario saw contains `in_actual`.
pub async fn breaks_showing(flaw: Flaw, scenario: &str, rule_fragment: &str, in_actual: &str) {
    let broken = BrokenReference::start(flaw, &[]).await;
    let actual = assert_breaks(&broken, scenario, rule_fragment)
        .await
        .actual(scenario);
    assert!(actual.contains(in_actual), "{actual}");
    broken.server.stop().await;
}

/// With `flaw`, `scenario` is skipped (not failed, not passed) with a reason containing
/// `reason_fragment`: a server that leaves out something optional breaks no rule.
pub async fn skips(flaw: Flaw, scenario: &str, reason_fragment: &str) {
    let broken = BrokenReference::start(flaw, &[]).await;
    let one = OneScenario::new(scenario);
    let run = run_oauth(&broken, Some(&one.dir), "@oauth-provider").await;
    let outcome = run.scenario(scenario).expect("the scenario is reported");
    assert_eq!(outcome["status"], "skipped", "{}", run.output);
    let reason = outcome["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(reason_fragment), "{reason}");
    broken.server.stop().await;
}

/// With `flaw` every OAuth scenario still passes or is a known deviation
/// ([`assert_all_pass_or_known`]).
pub async fn passes_or_known(flaw: Flaw) {
    let broken = BrokenReference::start(flaw, &[]).await;
    let run = run_oauth(&broken, None, "@oauth-provider").await;
    assert_all_pass_or_known(&run);
    broken.server.stop().await;
}

/// Like [`breaks`], for flaws that need the reference's own values (its redirect URI).
pub async fn breaks_with(
    make: impl FnOnce(&BrokenReference) -> Flaw,
    scenario: &str,
    rule_fragment: &str,
) {
    let broken = BrokenReference::start(Flaw::none(), &[]).await;
    broken.proxy.set_flaw(make(&broken));
    assert_breaks(&broken, scenario, rule_fragment).await;
    broken.server.stop().await;
}

/// The client_id of the client the reference seeded.
pub fn seeded_client_id(broken: &BrokenReference) -> String {
    broken
        .server
        .ready
        .client_id
        .clone()
        .expect("the reference's client_id")
}

/// The redirect URI the reference registered for its seeded client.
pub fn registered_redirect_uri(broken: &BrokenReference) -> String {
    broken
        .server
        .ready
        .redirect_uri
        .clone()
        .expect("the reference's redirect_uri")
}

/// A scenario whose rule the reference breaks (a listed known deviation), seen three ways: the
/// reference alone is the deviation, `conforming` in front of it makes the scenario pass, and
/// `flawed` makes it fail on a rule naming `rule_fragment` (a failure, not the deviation).
/// Returns the failing run.
pub async fn deviation_conforming_and_flawed(
    scenario: &str,
    conforming: Flaw,
    flawed: Flaw,
    rule_fragment: &str,
) -> ConformRun {
    let broken = BrokenReference::start(Flaw::none(), &[]).await;
    let one = OneScenario::new(scenario);
    for (flaw, status) in [(Flaw::none(), "deviation"), (conforming, "passed")] {
        broken.proxy.set_flaw(flaw);
        let run = run_oauth(&broken, Some(&one.dir), "@oauth-provider").await;
        assert_eq!(
            run.scenario(scenario).unwrap()["status"],
            status,
            "{}",
            run.output
        );
    }
    broken.proxy.set_flaw(flawed);
    let run = assert_breaks(&broken, scenario, rule_fragment).await;
    broken.server.stop().await;
    run
}

/// (scenario, actual_contains) of every entry in known-deviations.toml.
pub fn known_deviations() -> Vec<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("known-deviations.toml");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let doc: toml::Table = toml::from_str(&text).expect("known-deviations.toml parses");
    doc.get("deviation")
        .and_then(|d| d.as_array())
        .map(|all| {
            all.iter()
                .map(|d| {
                    (
                        d["scenario"].as_str().unwrap_or_default().to_string(),
                        d["actual_contains"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Scenarios whose rule binds only when the server offers something the reference does not
/// (encryption keys, several signing keys, pairwise subjects), or only where a setting the
/// reference turns on is off (dynamic and unauthenticated registration): they skip with that
/// reason.
pub const SKIPPED_ON_THE_REFERENCE: [&str; 5] = [
    "Registration without a session is refused when unauthenticated registration is off",
    "The registration path registers nothing when dynamic registration is off",
    "Every JWKS key says its use when encryption keys are published",
    "The ID token names its key when the JWKS holds several keys",
    "Pairwise clients of different sectors see different subs",
];

/// Scenarios that need a fact these proxy runs do not declare: the code lifetime
/// (tests/oauth_code_rules.rs boots the reference with one and declares it).
pub const SKIPPED_WITHOUT_A_DECLARED_FACT: [&str; 1] =
    ["An authorization code is refused once its lifetime has passed"];

/// Every OAuth scenario ran, and each passed, is a listed known deviation, a listed SHOULD
/// warning, or skips because its rule does not bind on the reference or it needs a fact the run
/// does not declare.
pub fn assert_all_pass_or_known(run: &ConformRun) {
    let known = known_deviations();
    let scenarios = run.report["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        scenarios.len() >= 45,
        "only {} OAuth scenarios ran:\n{}",
        scenarios.len(),
        run.output
    );
    for s in &scenarios {
        let name = s["scenario"].as_str().unwrap_or_default();
        let actual = s["actual"].as_str().unwrap_or_default();
        let ok = match s["status"].as_str() {
            Some("passed") | Some("deviation") => true,
            // Rules that bind only when the server offers what the reference does not.
            Some("skipped") => {
                SKIPPED_ON_THE_REFERENCE.contains(&name)
                    || SKIPPED_WITHOUT_A_DECLARED_FACT.contains(&name)
            }
            Some("failed") if s["severity"] == "SHOULD" => super::is_reference_warning(s),
            // Before the deviation list is applied, a listed deviation shows as a failure.
            Some("failed") => known
                .iter()
                .any(|(n, a)| n == name && actual.contains(a.as_str())),
            _ => false,
        };
        assert!(
            ok,
            "`{name}` is {} ({actual}):\n{}",
            s["status"], run.output
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers for flaws

pub fn is(req: &ProxyRequest, suffix: &str) -> bool {
    req.path_only().ends_with(suffix)
}

pub fn form(req: &ProxyRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

pub fn form_value(req: &ProxyRequest, name: &str) -> Option<String> {
    form(req)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Whether a token request is a code exchange (grant_type authorization_code).
pub fn is_code_exchange(req: &ProxyRequest) -> bool {
    form_value(req, "grant_type").as_deref() == Some("authorization_code")
}

/// Form requests to `path_suffix` that `when` picks carry `value` in place of each `name` they
/// send.
pub fn form_value_set(
    path_suffix: &'static str,
    when: fn(&ProxyRequest) -> bool,
    name: &'static str,
    value: String,
) -> Flaw {
    Flaw::request(move |req| {
        if is(req, path_suffix) && when(req) {
            let mut pairs = form(req);
            rewrite_param(&mut pairs, name, |_| Some(value.clone()));
            set_form(req, &pairs);
        }
        None
    })
}

/// Gives each `name` pair the value `f` makes of its own, where `f` makes one.
pub fn rewrite_param(
    pairs: &mut [(String, String)],
    name: &str,
    f: impl Fn(&str) -> Option<String>,
) {
    for (n, v) in pairs.iter_mut() {
        if n == name
            && let Some(new) = f(v)
        {
            *v = new;
        }
    }
}

pub fn set_form(req: &mut ProxyRequest, pairs: &[(String, String)]) {
    req.body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes();
}

pub fn query(req: &ProxyRequest) -> Vec<(String, String)> {
    match req.path.split_once('?') {
        Some((_, q)) => url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect(),
        None => Vec::new(),
    }
}

pub fn query_value(req: &ProxyRequest, name: &str) -> Option<String> {
    query(req)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Rewrites the query of a (possibly relative) URL.
pub fn edit_query(url: &str, f: impl FnOnce(&mut Vec<(String, String)>)) -> String {
    let (head, q) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect();
    f(&mut pairs);
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    if q.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{q}")
    }
}

pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{base}?{q}")
}

pub fn set_location(resp: &mut ProxyResponse, f: impl FnOnce(&str) -> String) {
    if let Some(location) = resp.header("location").map(str::to_string) {
        resp.set_header("location", &f(&location));
    }
}

pub fn edit_json(resp: &mut ProxyResponse, f: impl FnOnce(&mut Value)) {
    if let Some(mut body) = resp.json() {
        f(&mut body);
        resp.set_json(&body);
    }
}

/// Rewrites the `url` of a JSON `{redirect: true, url}` answer.
pub fn edit_json_url(resp: &mut ProxyResponse, f: impl FnOnce(&str) -> String) {
    edit_json(resp, |body| {
        if let Some(url) = body.get("url").and_then(Value::as_str).map(str::to_string) {
            body["url"] = Value::String(f(&url));
        }
    });
}

pub fn json_response(status: u16, body: Value) -> ProxyResponse {
    ProxyResponse {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("cache-control".into(), "no-store".into()),
        ],
        body: serde_json::to_vec(&body).unwrap(),
    }
}

pub fn invalid_grant() -> ProxyResponse {
    json_response(
        400,
        json!({"error": "invalid_grant", "error_description": "refused by the proxy"}),
    )
}

pub fn redirect_response(location: &str, cookies: &[&str]) -> ProxyResponse {
    let mut headers = vec![("location".to_string(), location.to_string())];
    headers.extend(
        cookies
            .iter()
            .map(|c| ("set-cookie".to_string(), c.to_string())),
    );
    ProxyResponse {
        status: 302,
        headers,
        body: Vec::new(),
    }
}

/// A flaw on token-endpoint answers with status 200.
pub fn on_tokens(f: impl Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, "/oauth2/token") && resp.status == 200 {
            f(req, resp);
        }
    })
}

/// The answers of the endpoint at `path_suffix` with HTTP `from` come back with `to`.
pub fn status_swapped(path_suffix: &'static str, from: u16, to: u16) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, path_suffix) && resp.status == from {
            resp.status = to;
        }
    })
}

/// The answers of the endpoint at `path_suffix` claim the Content-Type `content_type`.
pub fn served_as(path_suffix: &'static str, content_type: &'static str) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, path_suffix) {
            resp.set_header("content-type", content_type);
        }
    })
}

pub fn on_discovery(f: impl Fn(&mut Value) + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, "/.well-known/openid-configuration") && resp.status == 200 {
            edit_json(resp, &f);
        }
    })
}

/// The discovery document leaves out its member `name`.
pub fn discovery_without(name: &'static str) -> Flaw {
    on_discovery(move |doc| {
        doc.as_object_mut().unwrap().remove(name);
    })
}

/// Token answers to the requests `when` picks leave out their member `name`.
pub fn tokens_without(name: &'static str, when: fn(&ProxyRequest) -> bool) -> Flaw {
    on_tokens(move |req, resp| {
        if when(req) {
            edit_json(resp, |b| {
                b.as_object_mut().unwrap().remove(name);
            });
        }
    })
}

pub fn on_consent_url(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, "/oauth2/consent") {
            edit_json_url(resp, &f);
        }
    })
}

pub fn drop_param(name: &'static str) -> impl Fn(&str) -> String {
    move |url| edit_query(url, |q| q.retain(|(n, _)| n != name))
}

/// The redirects of the endpoint at `path_suffix` lose the query parameter `name`.
pub fn drop_from_redirects(path_suffix: &'static str, name: &'static str) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, path_suffix) {
            set_location(resp, drop_param(name));
        }
    })
}

// --- re-signing ID tokens with the proxy's own key -----------------------------------------

/// An Ed25519 key the proxy signs with (generated for these tests; it protects nothing).
pub const PROXY_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEILGIVCRdPNn9NTbulYleUAkADIdEhMUlWETcD9pe0l+w
-----END PRIVATE KEY-----
";
pub const PROXY_KEY_X: &str = "61EdOHbu8pnr_hYkB4ZCDoqy63ejfXz1q0Z40alJpww";
pub const PROXY_KID: &str = "ba-harness-proxy-key";

pub fn resign(id_token: &str, mutate: &dyn Fn(&mut Map<String, Value>)) -> String {
    let payload = id_token.split('.').nth(1).expect("a JWS");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    let mut claims: Map<String, Value> = serde_json::from_slice(&bytes).expect("JSON claims");
    mutate(&mut claims);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(PROXY_KID.into());
    header.typ = None;
    let key =
        jsonwebtoken::EncodingKey::from_ed_pem(PROXY_KEY_PEM.as_bytes()).expect("the proxy key");
    jsonwebtoken::encode(&header, &claims, &key).expect("signing")
}

/// Publishes the proxy's key in the JWKS (the server's own key stays) and re-signs every
/// issued ID token with it after `mutate` changed its claims. The server verifies
/// id_token_hint against its JWKS fetched through its public URL, i.e. through this proxy, so
/// end session keeps accepting the re-signed tokens.
pub fn resign_id_tokens(mutate: impl Fn(&mut Map<String, Value>) + Send + Sync + 'static) -> Flaw {
    Flaw::response(move |req, resp| {
        if is(req, "/jwks") && resp.status == 200 {
            edit_json(resp, |jwks| {
                if let Some(keys) = jwks.get_mut("keys").and_then(Value::as_array_mut) {
                    keys.push(json!({
                        "kty": "OKP", "crv": "Ed25519", "x": PROXY_KEY_X,
                        "kid": PROXY_KID, "alg": "EdDSA", "use": "sig"
                    }));
                }
            });
        }
        if is(req, "/oauth2/token") && resp.status == 200 {
            edit_json(resp, |body| {
                if let Some(id_token) = body
                    .get("id_token")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                {
                    body["id_token"] = Value::String(resign(&id_token, &mutate));
                }
            });
        }
    })
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

// ---------------------------------------------------------------------------------------------
// Replays at the token endpoint

/// A token endpoint that remembers its first 200 answer for each `field` value (`code`,
/// `refresh_token`) and answers a later request with that value itself: `again(first)`.
fn on_redeemed_again(
    field: &'static str,
    again: impl Fn(&ProxyResponse) -> ProxyResponse + Send + Sync + 'static,
) -> Flaw {
    let first: Arc<Mutex<HashMap<String, ProxyResponse>>> = Arc::default();
    let lookup = Arc::clone(&first);
    Flaw {
        on_request: Some(Arc::new(move |req| {
            let value = form_value(req, field).filter(|_| is(req, "/oauth2/token"))?;
            lookup.lock().unwrap().get(&value).map(&again)
        })),
        on_response: Some(Arc::new(move |req, resp| {
            if is(req, "/oauth2/token")
                && resp.status == 200
                && let Some(value) = form_value(req, field)
            {
                first
                    .lock()
                    .unwrap()
                    .entry(value)
                    .or_insert_with(|| resp.clone());
            }
        })),
    }
}

/// A token endpoint that answers a `field` value it already redeemed with its first answer
/// again (the same tokens), instead of refusing it.
pub fn replays_first_answer(field: &'static str) -> Flaw {
    on_redeemed_again(field, ProxyResponse::clone)
}

/// A token endpoint that refuses a redeemed `field` value again with invalid_grant itself, so
/// the server never learns of the replay (and revokes nothing).
pub fn refuses_replays_silently(field: &'static str) -> Flaw {
    on_redeemed_again(field, |_| invalid_grant())
}
