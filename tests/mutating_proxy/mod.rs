//! A real Better Auth server behind a proxy that breaks exactly one rule.
//!
//! The reference is booted with its public base URL set to the proxy's address, so every URL it
//! hands out (issuer, redirects, JWT `iss`) and every Origin check agrees with what the harness
//! sees. The proxy forwards each request with reqwest and lets a test rewrite the request before
//! it goes upstream, the response before it comes back, or answer by itself.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use ba_harness::reference::ReferenceServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub mod harness;
pub mod oauth;

/// A table of proxy tests: each row `name(args...);` becomes one `#[tokio::test]` named `name`
/// that awaits `check(args...)` (the file's own "this flaw breaks that rule" or "the unbent
/// target passes" check), so a failing row is reported by its own name.
#[allow(unused_macros)]
macro_rules! proxy_tests {
    ($check:path: $($(#[$attr:meta])* $name:ident($($arg:expr),+ $(,)?);)+) => {
        $(
            $(#[$attr])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $check($($arg),+).await;
            }
        )+
    };
}
#[allow(unused_imports)]
pub(crate) use proxy_tests;

/// Scenarios whose SHOULD rule the pinned reference breaks: reported as warnings (failures
/// under --strict). docs/findings.md, "SHOULD warnings in the pinned release"; tests/cli.rs
/// lists the same for the bundled run.
pub const REFERENCE_SHOULD_WARNINGS: [&str; 4] = [
    // better-auth-rate-limit: the reference keeps Better Auth's default of trusting
    // X-Forwarded-For, which is also how the harness gives each client its own bucket.
    "Another X-Forwarded-For does not escape the sign-in limit",
    // rfc6265bis-4.1.1-a: session_data set twice, to different outcomes, in one answer.
    "change-password with revokeOtherSessions ends the other sessions and keeps the caller signed in",
    "A cookie cache altered to name someone else is not believed",
    // oidc-core-3.1.2.1-h: the provider ignores id_token_hint at the authorization endpoint.
    "Authorize with prompt=none and another user's id_token_hint issues no code",
];

/// Whether a reported scenario is one of the reference's listed SHOULD warnings.
pub fn is_reference_warning(scenario: &serde_json::Value) -> bool {
    scenario["status"] == "failed"
        && scenario["severity"] == "SHOULD"
        && REFERENCE_SHOULD_WARNINGS.contains(&scenario["scenario"].as_str().unwrap_or_default())
}

/// One request on its way through the proxy.
#[derive(Clone, Debug)]
pub struct ProxyRequest {
    pub method: String,
    /// Path and query, e.g. `/api/auth/get-session?x=1`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The first header named `name` (case-insensitive) in a request's or response's headers.
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Replaces every header named `name` by one with `value` (`None`: removes them).
fn replace_header(headers: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    if let Some(value) = value {
        headers.push((name.to_string(), value.to_string()));
    }
}

impl ProxyRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }

    pub fn remove_header(&mut self, name: &str) {
        replace_header(&mut self.headers, name, None);
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        replace_header(&mut self.headers, name, Some(value));
    }
}

/// One response on its way back.
#[derive(Clone, Debug)]
pub struct ProxyResponse {
    pub status: u16,
    /// Repeated headers (Set-Cookie) stay separate entries.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ProxyResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn headers_named(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn remove_header(&mut self, name: &str) {
        replace_header(&mut self.headers, name, None);
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        replace_header(&mut self.headers, name, Some(value));
    }

    /// Rewrites every Set-Cookie line with `f` (return None to drop the line).
    pub fn map_set_cookies(&mut self, f: impl Fn(&str) -> Option<String>) {
        let mut headers = Vec::with_capacity(self.headers.len());
        for (n, v) in self.headers.drain(..) {
            if n.eq_ignore_ascii_case("set-cookie") {
                if let Some(new) = f(&v) {
                    headers.push((n, new));
                }
            } else {
                headers.push((n, v));
            }
        }
        self.headers = headers;
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn set_json(&mut self, value: &serde_json::Value) {
        self.body = serde_json::to_vec(value).unwrap();
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Rewrites a request before it goes upstream; Some(response) answers it directly.
pub type RequestHook = dyn Fn(&mut ProxyRequest) -> Option<ProxyResponse> + Send + Sync;
/// Rewrites a response (the request as it was sent upstream is given for context).
pub type ResponseHook = dyn Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync;

/// What a test does to traffic. Each hook is optional.
#[derive(Clone, Default)]
pub struct Flaw {
    pub on_request: Option<Arc<RequestHook>>,
    pub on_response: Option<Arc<ResponseHook>>,
}

impl Flaw {
    pub fn none() -> Self {
        Flaw::default()
    }

    pub fn response(f: impl Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static) -> Self {
        Flaw {
            on_request: None,
            on_response: Some(Arc::new(f)),
        }
    }

    pub fn request(
        f: impl Fn(&mut ProxyRequest) -> Option<ProxyResponse> + Send + Sync + 'static,
    ) -> Self {
        Flaw {
            on_request: Some(Arc::new(f)),
            on_response: None,
        }
    }

    /// The request hook of `requests` with the response hook of `answers`.
    pub fn joined(requests: Flaw, answers: Flaw) -> Self {
        Flaw {
            on_request: requests.on_request,
            on_response: answers.on_response,
        }
    }

    /// A flaw on the requests `picks` selects: `f` rewrites each before it goes upstream, or
    /// answers it itself.
    pub fn on_requests(
        picks: impl Fn(&ProxyRequest) -> bool + Send + Sync + 'static,
        f: impl Fn(&mut ProxyRequest) -> Option<ProxyResponse> + Send + Sync + 'static,
    ) -> Self {
        Flaw::request(move |request| picks(request).then(|| f(request)).flatten())
    }

    /// A flaw on the answers to the requests `picks` selects.
    pub fn on_answers(
        picks: impl Fn(&ProxyRequest) -> bool + Send + Sync + 'static,
        f: impl Fn(&ProxyRequest, &mut ProxyResponse) + Send + Sync + 'static,
    ) -> Self {
        Flaw::response(move |request, response| {
            if picks(request) {
                f(request, response);
            }
        })
    }
}

pub struct MutatingProxy {
    pub url: String,
    flaw: Arc<RwLock<Flaw>>,
    task: JoinHandle<()>,
}

impl MutatingProxy {
    /// Starts a proxy on an already-bound listener (so its address is known before the upstream
    /// server is booted) forwarding to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(listener: TcpListener, upstream: String, flaw: Flaw) -> Self {
        let addr: SocketAddr = listener.local_addr().unwrap();
        let flaw = Arc::new(RwLock::new(flaw));
        let shared = Arc::clone(&flaw);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let flaw = Arc::clone(&shared);
                let client = client.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let flaw = flaw.read().unwrap().clone();
                        let client = client.clone();
                        let upstream = upstream.clone();
                        async move { Ok::<_, Infallible>(forward(req, &client, &upstream, &flaw).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        MutatingProxy {
            url: format!("http://{addr}"),
            flaw,
            task,
        }
    }

    /// Swaps the flaw for the next requests.
    pub fn set_flaw(&self, flaw: Flaw) {
        *self.flaw.write().unwrap() = flaw;
    }
}

impl Drop for MutatingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
];

async fn forward(
    req: hyper::Request<Incoming>,
    client: &reqwest::Client,
    upstream: &str,
    flaw: &Flaw,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let mut request = ProxyRequest {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into()),
        headers: parts
            .headers
            .iter()
            .filter(|(n, _)| !HOP_BY_HOP.contains(&n.as_str()))
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let direct = flaw.on_request.as_ref().and_then(|f| f(&mut request));
    let mut response = match direct {
        Some(r) => r,
        None => match send_upstream(client, upstream, &request).await {
            Ok(r) => r,
            Err(e) => ProxyResponse {
                status: 502,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: format!("proxy: upstream failed: {e}").into_bytes(),
            },
        },
    };
    if let Some(f) = &flaw.on_response {
        f(&request, &mut response);
    }
    let mut builder = hyper::Response::builder().status(response.status);
    for (n, v) in &response.headers {
        if !HOP_BY_HOP.contains(&n.to_ascii_lowercase().as_str()) {
            builder = builder.header(n, v);
        }
    }
    builder.body(Full::new(Bytes::from(response.body))).unwrap()
}

async fn send_upstream(
    client: &reqwest::Client,
    upstream: &str,
    request: &ProxyRequest,
) -> Result<ProxyResponse, reqwest::Error> {
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut builder = client.request(method, format!("{upstream}{}", request.path));
    for (n, v) in &request.headers {
        builder = builder.header(n, v);
    }
    let response = builder.body(request.body.clone()).send().await?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await?.to_vec();
    Ok(ProxyResponse {
        status,
        headers,
        body,
    })
}

/// The bundled reference behind a mutating proxy: the proxy's URL is the reference's public
/// base URL. `extra_env` selects a reference profile (JWT_ALG, RATE_LIMIT_MAX, ...).
pub struct BrokenReference {
    pub proxy: MutatingProxy,
    pub server: ReferenceServer,
}

impl BrokenReference {
    pub async fn start(flaw: Flaw, extra_env: &[(&str, &str)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_url = format!("http://{}", listener.local_addr().unwrap());
        let mut env: Vec<(&str, &str)> = vec![("BASE_URL", proxy_url.as_str())];
        env.extend_from_slice(extra_env);
        let server = ReferenceServer::boot(&env)
            .await
            .expect("the reference boots");
        let upstream = format!("http://127.0.0.1:{}", server.ready.port);
        let proxy = MutatingProxy::start(listener, upstream, flaw);
        assert_eq!(proxy.url, proxy_url);
        BrokenReference { proxy, server }
    }

    /// Arguments that point the harness at the proxy with everything the reference told us.
    pub fn target_args(&self) -> Vec<String> {
        let mut args = vec![
            "--target".to_string(),
            self.proxy.url.clone(),
            "--secret".to_string(),
            self.server.secret.clone(),
        ];
        if let Some(id) = &self.server.ready.client_id {
            args.extend(["--client-id".to_string(), id.clone()]);
        }
        if let Some(uri) = &self.server.ready.redirect_uri {
            args.extend(["--redirect-uri".to_string(), uri.clone()]);
        }
        if let Some(uri) = &self.server.ready.post_logout_redirect_uri {
            args.extend(["--post-logout-redirect-uri".to_string(), uri.clone()]);
        }
        args
    }
}

/// Result of one harness run.
pub struct ConformRun {
    pub code: Option<i32>,
    pub output: String,
    pub report: serde_json::Value,
}

impl ConformRun {
    pub fn scenario(&self, name: &str) -> Option<&serde_json::Value> {
        self.report["scenarios"]
            .as_array()?
            .iter()
            .find(|s| s["scenario"] == name)
    }

    /// What the report says `scenario` saw (its `actual`).
    pub fn actual(&self, scenario: &str) -> String {
        self.scenario(scenario).unwrap()["actual"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn failed_names(&self) -> Vec<String> {
        self.report["scenarios"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|s| s["status"] == "failed")
                    .map(|s| s["scenario"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts that `scenario` failed with a rule mentioning `rule_fragment`.
    pub fn assert_failed(&self, scenario: &str, rule_fragment: &str) {
        let s = self
            .scenario(scenario)
            .unwrap_or_else(|| panic!("scenario `{scenario}` not in the report:\n{}", self.output));
        assert_eq!(
            s["status"], "failed",
            "`{scenario}` did not fail:\n{}",
            self.output
        );
        let rule = s["rule"].as_str().unwrap_or_default();
        assert!(
            rule.contains(rule_fragment),
            "`{scenario}` failed on rule `{rule}`, expected one naming `{rule_fragment}`:\n{}",
            self.output
        );
    }

    /// Asserts that `scenario` failed on a rule naming `rule_fragment` and prints the failure
    /// (rule, expected, actual); `against` says what was broken (`as it should`, `against X`).
    pub fn assert_failed_and_show(&self, scenario: &str, rule_fragment: &str, against: &str) {
        self.assert_failed(scenario, rule_fragment);
        let failed = self.scenario(scenario).unwrap();
        let field = |name: &str| failed[name].as_str().unwrap_or_default().to_string();
        println!(
            "`{scenario}` failed {against}: rule `{}`; expected {}; actual {}",
            field("rule"),
            field("expected"),
            field("actual")
        );
    }

    /// The run failed, `scenario` among it on a rule naming `rule_fragment`; other scenarios
    /// the flaw also broke are printed, not asserted.
    pub fn assert_breaks(&self, scenario: &str, rule_fragment: &str) {
        assert_eq!(self.code, Some(1), "{}", self.output);
        self.assert_failed_and_show(scenario, rule_fragment, "as it should");
        let others: Vec<String> = self
            .failed_names()
            .into_iter()
            .filter(|n| n != scenario)
            .collect();
        if !others.is_empty() {
            println!("`{scenario}`: the flaw also failed {others:?}");
        }
    }

    /// The run passed, with `expected` scenarios, all of them passed; returns them.
    pub fn assert_all_passed(&self, expected: usize) -> Vec<serde_json::Value> {
        assert_eq!(self.code, Some(0), "{}", self.output);
        let scenarios = self.report["scenarios"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(scenarios.len(), expected, "{}", self.output);
        for scenario in &scenarios {
            assert_eq!(scenario["status"], "passed", "{scenario}\n{}", self.output);
        }
        scenarios
    }
}

/// Runs the harness binary with `args` (plus a JSON report) and reads the report.
pub async fn run_conform(args: Vec<String>) -> ConformRun {
    run_conform_with(args, &[], 120).await
}

/// Runs `ba-harness conform` with `args`, the child-only environment `env` and a JSON report,
/// bounded by `--run-timeout run_timeout_secs`, and reads the report.
pub async fn run_conform_with(
    args: Vec<String>,
    env: &[(&str, &str)],
    run_timeout_secs: u64,
) -> ConformRun {
    let json = harness::temp_file("proxy.json");
    let output = harness::command()
        .arg("conform")
        .args(args)
        .arg("--json")
        .arg(&json)
        .args(["--run-timeout", &run_timeout_secs.to_string()])
        .envs(env.iter().copied())
        .output()
        .await
        .expect("the harness runs");
    ConformRun {
        code: output.status.code(),
        output: harness::text(&output),
        report: harness::take_json(&json),
    }
}
