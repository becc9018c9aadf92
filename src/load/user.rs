//! A virtual user's life outside the measured loop: sign up and sign in once at start (through
//! the harness's own [`Client`], so none of it lands in goose's metrics), or only sign in with an
//! account of `--users-file`, paced (pacing.rs); fetch the JWKS once when the scenario verifies
//! JWTs, and give goose a client of its own for the loop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goose::prelude::*;
use reqwest::header::HeaderValue;
use serde_json::json;

use crate::http::{Client, CookieChoice, Endpoint, Exchange, HttpError, Request};
use crate::protocol::cookie::SetCookie;
use crate::protocol::jwt::{JwksCache, parse_jwks};
use crate::protocol::session::parse_auth_answer;
use crate::redact::Secrets;
use crate::test_user::random_string;
use crate::users_file::Account;

use super::ScenarioKind;
use super::live::LiveStats;
use super::pacing::{self, Pacer};

/// The claims (`iss`, `aud`) that some JWT of the run carried with a well-formed value other than
/// the target's origin while nothing was declared: the run accepted them without judging, and
/// says so at its end. Atomics, since every verification may note one.
#[derive(Debug, Default)]
pub struct UnjudgedClaims {
    iss: std::sync::atomic::AtomicBool,
    aud: std::sync::atomic::AtomicBool,
}

impl UnjudgedClaims {
    pub fn note(&self, claim: &str) {
        let flag = if claim == "iss" { &self.iss } else { &self.aud };
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The claims noted, with the flag that declares each.
    pub fn seen(&self) -> Vec<(&'static str, &'static str)> {
        [
            ("iss", "--jwt-issuer", &self.iss),
            ("aud", "--jwt-audience", &self.aud),
        ]
        .into_iter()
        .filter(|(_, _, flag)| flag.load(std::sync::atomic::Ordering::Relaxed))
        .map(|(claim, flag, _)| (claim, flag))
        .collect()
    }
}

/// What every virtual user of a run shares: where the target is, what to check, and where
/// setup failures are collected.
pub struct RunContext {
    pub scenario: ScenarioKind,
    /// The harness's own HTTP layer, for setup.
    pub endpoint: Endpoint,
    /// The target's origin (goose's host).
    pub origin: String,
    /// The `iss` and `aud` every JWT must carry (`--jwt-issuer`, `--jwt-audience`, else the origin).
    pub expected_claims: crate::protocol::jwt::ExpectedClaims,
    /// The claims some JWT carried with a value the run could not judge (nothing declared).
    pub unjudged_claims: UnjudgedClaims,
    /// Paths of the measured requests (base path included): the names in the reports.
    pub get_session_path: String,
    pub token_path: String,
    pub jwks_path: String,
    /// The same as URLs, parsed once (goose's `get_request_builder` parses the URL three
    /// times per request).
    pub get_session_url: url::Url,
    pub token_url: url::Url,
    pub jwks_url: url::Url,
    /// `--resource`: where to send each JWT as a bearer token.
    pub resource: Option<url::Url>,
    /// Makes request builders only: goose sends every request with the virtual user's own
    /// client.
    pub builder_client: reqwest::Client,
    pub timeout: Duration,
    pub setup: SetupLog,
    /// Users signed in before the run, handed out one per virtual user at its start.
    pub pool: Mutex<Vec<VirtualUser>>,
    /// `--users-file`: existing accounts to sign in with instead of signing up; virtual user
    /// `i` (counted over all workers) takes account `i % len`.
    pub accounts: Option<Arc<Vec<Account>>>,
    /// This worker's first virtual user, counted over all workers.
    pub first_user: usize,
    /// Spaces the sign-up and sign-in requests of the setup.
    pub pacer: Pacer,
    /// The measured transactions' outcomes, for the live status line and the timeline.
    pub live: Arc<LiveStats>,
}

/// Setup outcomes, collected across virtual users.
#[derive(Default)]
pub struct SetupLog {
    inner: Mutex<SetupCounts>,
}

#[derive(Clone, Debug, Default)]
pub struct SetupCounts {
    pub ready: usize,
    /// Distinct failure reasons with how often each happened (redacted).
    pub failures: BTreeMap<String, usize>,
    /// Some failure was the target not answering at all (exit 3 rather than 1).
    pub unreachable: bool,
    /// 429 answers waited out during setup, and the seconds waited.
    pub rate_limited: u64,
    pub rate_limited_wait_secs: f64,
}

impl SetupLog {
    fn ready(&self) {
        self.lock().ready += 1;
    }

    fn failed(&self, reason: String, unreachable: bool) {
        let mut counts = self.lock();
        *counts.failures.entry(reason).or_default() += 1;
        counts.unreachable |= unreachable;
    }

    fn rate_limited(&self, waited: Duration) {
        let mut counts = self.lock();
        counts.rate_limited += 1;
        counts.rate_limited_wait_secs += waited.as_secs_f64();
    }

    pub fn snapshot(&self) -> SetupCounts {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SetupCounts> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One virtual user's state in the loop (goose session data).
#[derive(Clone)]
pub struct VirtualUser {
    /// The user id sign-in answered: every get-session answer and every JWT `sub` must carry it.
    pub user_id: Arc<str>,
    /// The cookies sign-in set, by name (raw values), and the Cookie header made from them.
    pub cookies: BTreeMap<String, String>,
    pub cookie_header: HeaderValue,
    /// The JWKS as fetched at start (jwt-verification only), keyed by kid.
    pub jwks: Option<Arc<JwksCache>>,
}

impl VirtualUser {
    /// Takes the cookies a response (re)sets, as a browser would: a refreshed cookie-cache
    /// cookie replaces the old one, a deletion removes it; the values are registered with the
    /// run's redaction. Returns whether anything changed.
    pub fn absorb_set_cookies<'a>(
        &mut self,
        secrets: &Secrets,
        lines: impl Iterator<Item = &'a str>,
    ) -> bool {
        let mut changed = false;
        for line in lines {
            let Ok(cookie) = SetCookie::parse(line) else {
                continue;
            };
            secrets.register(&cookie.value);
            if cookie.is_deletion() || cookie.max_age.is_some_and(|m| m <= 0) {
                changed |= self.cookies.remove(&cookie.name).is_some();
            } else if self.cookies.get(&cookie.name) != Some(&cookie.value) {
                self.cookies.insert(cookie.name, cookie.value);
                changed = true;
            }
        }
        if changed {
            self.cookie_header = cookie_header(&self.cookies);
        }
        changed
    }
}

/// `a=1; b=2`, marked sensitive so that nothing debug-prints it.
pub fn cookie_header(cookies: &BTreeMap<String, String>) -> HeaderValue {
    let joined = cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut value = HeaderValue::from_str(&joined).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

/// Why setup failed, and whether the target answered at all.
struct SetupError {
    /// Scrubbed with the run's redaction where it is recorded ([`prepare_users`]).
    reason: String,
    unreachable: bool,
}

impl SetupError {
    fn http(step: &str, e: HttpError) -> Self {
        let unreachable = matches!(e, HttpError::Connect { .. } | HttpError::Timeout { .. });
        SetupError {
            reason: format!("{step}: {e}"),
            unreachable,
        }
    }

    fn answer(step: &str, exchange: &Exchange, what: &str) -> Self {
        let body: String = exchange
            .secrets
            .redact_body(&exchange.body)
            .chars()
            .take(200)
            .collect();
        SetupError {
            reason: format!(
                "{step} answered HTTP {} ({what}){}",
                exchange.status,
                if body.is_empty() {
                    String::new()
                } else {
                    format!(": {body}")
                }
            ),
            unreachable: false,
        }
    }
}

use crate::harvest::register_answer_secrets;

/// Sends a sign-up or sign-in at the pacer's turn; a 429 is waited out (its Retry-After, or
/// Better Auth's X-Retry-After), slows the pace and is sent again, a few times at most.
async fn send_paced(
    ctx: &RunContext,
    client: &mut Client,
    step: &str,
    request: Request,
) -> Result<Exchange, SetupError> {
    let mut attempts = 0;
    loop {
        ctx.pacer.turn().await;
        // The pacer handles 429s itself (it slows down and counts them for the report), so the
        // client must hand them back rather than wait them out on its own.
        let exchange = client
            .send(request.clone().seeing_limits())
            .await
            .map_err(|e| SetupError::http(step, e))?;
        register_answer_secrets(&exchange);
        if exchange.status != 429 || attempts >= pacing::MAX_RATE_LIMITED_RETRIES {
            return Ok(exchange);
        }
        attempts += 1;
        let wait = pacing::retry_after(exchange.header("retry-after"))
            .or_else(|| pacing::retry_after(exchange.header("x-retry-after")))
            .unwrap_or(pacing::DEFAULT_WAIT);
        ctx.setup.rate_limited(wait);
        ctx.pacer.back_off(wait).await;
    }
}

/// POSTs `body` to `path` without cookies, paced; anything but 200 is a setup error that says
/// `expected`.
async fn post_for_200(
    ctx: &RunContext,
    client: &mut Client,
    path: &str,
    body: serde_json::Value,
    expected: &str,
) -> Result<Exchange, SetupError> {
    let step = format!("POST {path}");
    let request = Request::post_json(path, body).cookies(CookieChoice::None);
    let exchange = send_paced(ctx, client, &step, request).await?;
    if exchange.status != 200 {
        return Err(SetupError::answer(&step, &exchange, expected));
    }
    Ok(exchange)
}

/// Signs virtual user `index` in: a fresh account signed up then in (a session of its own), or
/// with `--users-file`, that file's account; then fetches the JWKS when the scenario needs it.
async fn sign_up_and_in(ctx: &RunContext, index: usize) -> Result<VirtualUser, SetupError> {
    let mut client = Client::new(ctx.endpoint.clone()).map_err(|e| SetupError {
        reason: format!("an HTTP client: {e}"),
        unreachable: false,
    })?;
    let (email, password) = match &ctx.accounts {
        Some(accounts) => {
            let account = &accounts[(ctx.first_user + index) % accounts.len()];
            ctx.endpoint.secrets.register(&account.password);
            (account.email.clone(), account.password.clone())
        }
        None => {
            let suffix = random_string(12).to_lowercase();
            let email = format!("load-{suffix}@ba-harness.test");
            let password = format!("Pw-{}-{}", random_string(20), random_string(4));
            ctx.endpoint.secrets.register(&password);
            post_for_200(
                ctx,
                &mut client,
                "/sign-up/email",
                json!({"email": email, "password": password, "name": format!("Load User {suffix}")}),
                "expected 200",
            )
            .await?;
            (email, password)
        }
    };

    let sign_in = post_for_200(
        ctx,
        &mut client,
        "/sign-in/email",
        json!({"email": email, "password": password}),
        if ctx.accounts.is_some() {
            "expected 200: check the --users-file account"
        } else {
            "expected 200"
        },
    )
    .await?;
    let answer = sign_in
        .json()
        .map_err(|e| e.to_string())
        .and_then(|body| parse_auth_answer(&body))
        .map_err(|e| SetupError::answer("POST /sign-in/email", &sign_in, &e))?;

    let mut cookies = BTreeMap::new();
    for cookie in sign_in.set_cookies() {
        if !cookie.is_deletion() && cookie.max_age.is_none_or(|m| m > 0) {
            cookies.insert(cookie.name, cookie.value);
        }
    }
    if cookies.is_empty() {
        return Err(SetupError::answer(
            "POST /sign-in/email",
            &sign_in,
            "no session cookie was set",
        ));
    }

    let jwks = match ctx.scenario {
        ScenarioKind::GetSession => None,
        ScenarioKind::JwtVerification => Some(Arc::new(fetch_jwks(&mut client).await?)),
    };

    Ok(VirtualUser {
        user_id: Arc::from(answer.user.id.as_str()),
        cookie_header: cookie_header(&cookies),
        cookies,
        jwks,
    })
}

async fn fetch_jwks(client: &mut Client) -> Result<JwksCache, SetupError> {
    let exchange = client
        .send(Request::get("/jwks").cookies(CookieChoice::None))
        .await
        .map_err(|e| SetupError::http("GET /jwks", e))?;
    if exchange.status != 200 {
        return Err(SetupError::answer(
            "GET /jwks",
            &exchange,
            "expected 200 with a JWKS",
        ));
    }
    let jwks = exchange
        .json()
        .map_err(|e| e.to_string())
        .and_then(|v| parse_jwks(&v))
        .map_err(|e| SetupError::answer("GET /jwks", &exchange, &e))?;
    let cache = JwksCache::new(&jwks);
    if cache.is_empty() {
        return Err(SetupError::answer(
            "GET /jwks",
            &exchange,
            "the JWKS has no keys",
        ));
    }
    Ok(cache)
}

/// A GET of `url` for goose to send (with the virtual user's client).
pub fn get(ctx: &RunContext, url: &url::Url) -> reqwest::RequestBuilder {
    reqwest::RequestBuilder::from_parts(
        ctx.builder_client.clone(),
        reqwest::Request::new(reqwest::Method::GET, url.clone()),
    )
}

/// GETs `url` (named `name` in goose's statistics) with the virtual user's cookie header.
/// Returns the answer and goose's record of the request (for `set_failure`); a transport error
/// (goose has recorded it as a failed request already) is counted in the live view and gives
/// `None`.
pub async fn measured_get(
    user: &mut GooseUser,
    ctx: &RunContext,
    url: &url::Url,
    name: &str,
    cookie: HeaderValue,
) -> Result<Option<(reqwest::Response, goose::metrics::GooseRequestMetric)>, Box<TransactionError>>
{
    let builder = get(ctx, url).header(reqwest::header::COOKIE, cookie);
    let request = GooseRequest::builder()
        .set_request_builder(builder)
        .name(name)
        .build();
    let goose = user.request(request).await?;
    let micros = goose.request.response_time_micros();
    match goose.response {
        Ok(response) => Ok(Some((response, goose.request))),
        Err(_) => {
            ctx.live.record(micros, super::live::Outcome::Failed);
            Ok(None)
        }
    }
}

/// The client goose measures the loop with: one per virtual user (its own connection, as a
/// browser has), no redirects followed (each hop would be a protocol step), no compression
/// (Better Auth sends none; it would only add a header and a decoder).
pub fn loop_client_builder(ctx: &RunContext) -> Result<reqwest::ClientBuilder, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ctx.timeout)
        .connect_timeout(ctx.timeout.min(Duration::from_secs(10)))
        .no_gzip()
        .user_agent(concat!("ba-harness-load/", env!("CARGO_PKG_VERSION")));
    // Loading the system trust store costs every client thousands of file reads: skip it
    // where it cannot matter (plain http), or trust exactly the target's private CA.
    if let Some(pem) = &ctx.endpoint.ca_pem {
        let certificate = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| format!("the CA certificate is not valid PEM: {e}"))?;
        builder = builder.tls_certs_only([certificate]);
    } else if ctx.endpoint.origin.starts_with("http://") {
        builder = builder.tls_certs_only([]);
    }
    Ok(builder)
}

/// Signs up and in `count` virtual users before goose starts (at most `parallel` at a time),
/// so that neither the password hashing nor a failure of it lands in the measured run.
pub async fn prepare_users(ctx: &RunContext, count: usize, parallel: usize) -> Vec<VirtualUser> {
    use futures::StreamExt as _;
    futures::stream::iter(0..count)
        .map(|index| async move {
            match sign_up_and_in(ctx, index).await {
                Ok(user) => {
                    ctx.setup.ready();
                    Some(user)
                }
                Err(e) => {
                    ctx.setup
                        .failed(ctx.endpoint.secrets.scrub_text(&e.reason), e.unreachable);
                    None
                }
            }
        })
        .buffer_unordered(parallel.max(1))
        .filter_map(|u| async move { u })
        .collect()
        .await
}

/// The on_start transaction: take one of the prepared users and give goose a client of its own
/// for the loop. Nothing here is measured.
pub async fn on_start(user: &mut GooseUser, ctx: &RunContext) -> TransactionResult {
    let prepared = ctx.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let Some(prepared) = prepared else {
        goose::trigger_killswitch("more virtual users started than were signed in");
        return Err(Box::new(TransactionError::Custom(
            "no prepared user left for this virtual user".into(),
        )));
    };
    let builder = loop_client_builder(ctx).map_err(|e| Box::new(TransactionError::Custom(e)))?;
    if let Err(e) = user.set_client_builder(builder).await {
        goose::trigger_killswitch("the load client could not be built");
        return Err(Box::new(e));
    }
    user.set_session_data(prepared);
    ctx.live
        .users
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// The loop's guard for a user whose setup failed: wait for the stop the failure triggered
/// rather than spin.
pub async fn no_session() -> TransactionResult {
    tokio::time::sleep(Duration::from_millis(100)).await;
    Err(Box::new(TransactionError::Custom(
        "this virtual user has no session (its setup failed)".into(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(cookies: &[(&str, &str)]) -> VirtualUser {
        let cookies: BTreeMap<String, String> = cookies
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        VirtualUser {
            user_id: Arc::from("u1"),
            cookie_header: cookie_header(&cookies),
            cookies,
            jwks: None,
        }
    }

    #[test]
    fn cookie_header_joins_and_is_sensitive() {
        let u = user(&[("a.session_token", "t1"), ("a.session_data", "d1")]);
        assert_eq!(
            u.cookie_header.to_str().unwrap(),
            "a.session_data=d1; a.session_token=t1"
        );
        assert!(u.cookie_header.is_sensitive());
    }

    #[test]
    fn refreshed_and_deleted_cookies_are_absorbed() {
        let mut u = user(&[("a.session_token", "t1"), ("a.session_data", "d1")]);
        assert!(!u.absorb_set_cookies(
            &Secrets::default(),
            ["a.session_token=t1; Path=/"].into_iter()
        ));
        assert!(
            u.absorb_set_cookies(
                &Secrets::default(),
                [
                    "a.session_data=d2; Max-Age=300; Path=/",
                    "a.other=; Max-Age=0; Path=/"
                ]
                .into_iter()
            )
        );
        assert_eq!(
            u.cookie_header.to_str().unwrap(),
            "a.session_data=d2; a.session_token=t1"
        );
        assert!(u.absorb_set_cookies(
            &Secrets::default(),
            ["a.session_data=; Max-Age=0"].into_iter()
        ));
        assert_eq!(u.cookie_header.to_str().unwrap(), "a.session_token=t1");
    }
}
