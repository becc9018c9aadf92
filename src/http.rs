//! The HTTP client every runner uses: one cookie jar per virtual user, every Set-Cookie line
//! kept raw, and each request/response recorded as an [`Exchange`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::protocol::cookie::SetCookie;
use crate::redact::Secrets;

/// Largest response body kept; the rest is drained and dropped so a hostile server cannot make
/// the harness buffer without limit.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("could not connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    /// The TLS handshake failed (an untrusted or mismatched certificate, or no TLS at all).
    #[error("the TLS handshake with {url} failed: {detail}")]
    Tls { url: String, detail: String },
    /// Nothing came back (not even a status line) within the timeout.
    #[error("no answer from {url} within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    /// The status line and headers arrived, the body did not: it stalled past the timeout, or
    /// the connection broke before it was complete (a truncated chunked or Content-Length body).
    #[error(
        "HTTP {status} from {url}: the headers arrived but the body {} ({received} bytes of it arrived)",
        match timed_out_after { Some(s) => format!("was not complete within {s} s"), None => format!("was cut short: {detail}") }
    )]
    Body {
        url: String,
        status: u16,
        received: usize,
        /// Some(timeout in seconds) when the body stalled; None when the connection broke.
        timed_out_after: Option<u64>,
        detail: String,
    },
    /// The request could not be sent as built: a value the server handed out (a cookie, a
    /// token) holds characters a header cannot carry.
    #[error("could not send the request to {url}: {detail}")]
    Unsendable { url: String, detail: String },
    #[error("request to {url} failed: {detail}")]
    Other { url: String, detail: String },
}

impl HttpError {
    /// Whether the server answered HTTP at all (a status line arrived).
    pub fn server_answered(&self) -> bool {
        matches!(self, HttpError::Body { .. } | HttpError::Unsendable { .. })
    }
}

/// A request body as the harness sends it.
#[derive(Clone, Debug)]
pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
    /// Bytes sent as they are, with this content type (malformed bodies on purpose).
    Raw {
        content_type: String,
        text: String,
    },
}

/// What cookies to send with one request.
#[derive(Clone, Debug, Default)]
pub enum CookieChoice {
    /// Everything in the jar (the browser's behaviour).
    #[default]
    Jar,
    /// No Cookie header at all.
    None,
    /// Exactly these `name=value` pairs, ignoring the jar (replays and tampering).
    Exactly(Vec<(String, String)>),
}

/// One request, described relative to the target.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// Path under the auth base path (`/sign-in/email`), or an absolute path if `absolute`.
    pub path: String,
    pub absolute: bool,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    pub cookies: CookieChoice,
    /// Send the target's Origin header (the default for POSTs: Better Auth rejects a cookie-carrying
    /// POST without one). Origin-check scenarios turn it off or override it.
    pub send_origin: bool,
    /// Wait and retry when the target answers 429 (the default): a limit the request did not
    /// set out to meet is no verdict. The rate-limit scenarios turn it off to see the 429.
    pub retry_when_limited: bool,
}

impl Request {
    pub fn get(path: &str) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post_json(path: &str, body: Value) -> Self {
        let mut r = Self::new(Method::POST, path);
        r.body = Some(Body::Json(body));
        r
    }

    pub fn post(path: &str) -> Self {
        Self::new(Method::POST, path)
    }

    fn new(method: Method, path: &str) -> Self {
        let send_origin = method != Method::GET && method != Method::HEAD;
        Request {
            method,
            path: path.to_string(),
            absolute: false,
            headers: Vec::new(),
            body: None,
            cookies: CookieChoice::Jar,
            send_origin,
            retry_when_limited: true,
        }
    }

    /// Sends the 429 back instead of waiting it out (rate-limit scenarios).
    pub fn seeing_limits(mut self) -> Self {
        self.retry_when_limited = false;
        self
    }

    pub fn cookies(mut self, choice: CookieChoice) -> Self {
        self.cookies = choice;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A recorded request/response pair. Holds raw values; every display path goes through
/// [`Exchange::excerpt`], which redacts.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub status: u16,
    /// Response headers in arrival order, names lowercased; repeated headers stay separate.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub body_truncated: bool,
    pub elapsed: Duration,
    /// The redaction of the run that made the exchange (its endpoint's), for [`Self::excerpt`].
    pub secrets: Secrets,
}

impl Exchange {
    /// Every Set-Cookie header line, as sent (a value that is not UTF-8 is shown lossily).
    pub fn set_cookie_lines(&self) -> Vec<&str> {
        self.headers_named("set-cookie")
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).into_iter().next()
    }

    /// Parsed Set-Cookie lines; unparseable lines are skipped here (the rules that care report
    /// them from [`Exchange::set_cookie_lines`]).
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.set_cookie_lines()
            .into_iter()
            .filter_map(|l| SetCookie::parse(l).ok())
            .collect()
    }

    /// The last Set-Cookie for `name` (the one a browser would keep).
    pub fn set_cookie(&self, name: &str) -> Option<SetCookie> {
        self.set_cookies()
            .into_iter()
            .rev()
            .find(|c| c.name == name)
    }

    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.body)
    }

    /// What a JSON parse error of this body means, for a failure report: a body cut at
    /// [`MAX_BODY_BYTES`] is named as such, not as a JSON syntax error.
    pub fn describe_json_error(&self, error: &serde_json::Error) -> String {
        if self.body_truncated {
            format!(
                "a body over the {} MiB the harness reads (cut there, so not complete JSON: {error})",
                MAX_BODY_BYTES / (1024 * 1024)
            )
        } else {
            format!("a body that is not JSON ({error})")
        }
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// A redacted excerpt for failure reports: request line, response status, headers, and the
    /// first part of the body.
    pub fn excerpt(&self) -> String {
        let mut out = String::new();
        let secrets = &self.secrets;
        let _ = writeln!(out, "> {} {}", self.method, secrets.scrub_text(&self.url));
        for (n, v) in &self.request_headers {
            let _ = writeln!(
                out,
                "> {n}: {}",
                secrets.scrub_text(&secrets.redact_header(n, v))
            );
        }
        if let Some(body) = &self.request_body {
            let _ = writeln!(out, "> {}", shorten(&secrets.redact_body(body), 300));
        }
        let _ = writeln!(
            out,
            "< HTTP {} ({} ms)",
            self.status,
            self.elapsed.as_millis()
        );
        for (n, v) in &self.headers {
            let _ = writeln!(
                out,
                "< {n}: {}",
                secrets.scrub_text(&secrets.redact_header(n, v))
            );
        }
        if !self.body.is_empty() {
            let suffix = if self.body_truncated {
                " [body truncated]"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "< {}{suffix}",
                shorten(&secrets.redact_body(&self.body), 600)
            );
        }
        out
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}… [+{} chars]", text.chars().count() - max)
}

/// Sees every exchange a [`Client`] completes: the snapshot recorder, the account ledger for
/// cleanup. Whoever runs the clients (a conform run, a load run) owns its observers and hands
/// them to every client through the [`Endpoint`], so this layer imports nothing above it and
/// traffic that belongs to no run (cleanup's own) simply goes out without them.
pub trait ExchangeObserver: Send + Sync {
    fn observe(&self, endpoint: &Endpoint, request: &Request, exchange: &Exchange);
}

/// The observers of one run, shared by every client made from its endpoint.
#[derive(Clone, Default)]
pub struct Observers(Vec<std::sync::Arc<dyn ExchangeObserver>>);

impl Observers {
    pub fn push(&mut self, observer: std::sync::Arc<dyn ExchangeObserver>) {
        self.0.push(observer);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn notify(&self, endpoint: &Endpoint, request: &Request, exchange: &Exchange) {
        for observer in &self.0 {
            observer.observe(endpoint, request, exchange);
        }
    }
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Observers({})", self.0.len())
    }
}

/// Where the target lives, as the HTTP layer needs it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Scheme, host and port (`http://127.0.0.1:3000`); the Origin header we send.
    pub origin: String,
    /// The auth base path (`/api/auth`).
    pub base_path: String,
    pub timeout: Duration,
    /// An extra root certificate (PEM) to trust, for targets with a private CA (--ca-cert).
    pub ca_pem: Option<std::sync::Arc<String>>,
    /// What every client made from this endpoint reports its exchanges to.
    pub observers: Observers,
    /// Where its clients count the time they waited out the target's rate limit.
    pub limit_waits: std::sync::Arc<LimitWaits>,
    /// Where its clients take their X-Forwarded-For addresses from.
    pub client_ips: std::sync::Arc<ClientIps>,
    /// The run's redaction: its clients' exchanges carry it, the secret harvester fills it.
    pub secrets: Secrets,
}

impl Endpoint {
    pub fn new(base_url: &Url, base_path: &str, timeout: Duration) -> Self {
        Endpoint {
            origin: base_url.origin().ascii_serialization(),
            base_path: normalise_base_path(base_path),
            timeout,
            ca_pem: None,
            observers: Observers::default(),
            limit_waits: Default::default(),
            client_ips: Default::default(),
            secrets: Secrets::default(),
        }
    }

    /// The same endpoint with no observers: for traffic that belongs to no scenario (cleanup).
    pub fn unobserved(&self) -> Self {
        Endpoint {
            observers: Observers::default(),
            ..self.clone()
        }
    }

    pub fn url_for(&self, path: &str, absolute: bool) -> String {
        if absolute {
            format!("{}{path}", self.origin)
        } else {
            format!("{}{}{path}", self.origin, self.base_path)
        }
    }
}

/// `api/auth/` → `/api/auth`; `/` → `` (auth mounted at the root).
pub fn normalise_base_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// One virtual user: a reqwest client that follows no redirects (each hop is a protocol step we
/// check) and a cookie jar we manage ourselves so every Set-Cookie line stays visible.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Endpoint,
    jar: BTreeMap<String, String>,
    /// This virtual user's address, sent as X-Forwarded-For.
    client_ip: String,
}

/// A distinct address per virtual user from 198.18.0.0/15 (RFC 2544, benchmarking), sent as
/// X-Forwarded-For. Better Auth rate-limits per (client IP, path); without it every client of
/// the run would share one bucket and trip the 3-per-10-s sign-in limit by accident.
/// Hands out those addresses in turn. The run owns one (through the target's endpoints, like
/// the observers), so every client of the run gets its own address; it starts at a random one
/// so that two runs against one server do not share buckets either.
#[derive(Debug)]
pub struct ClientIps(std::sync::atomic::AtomicU32);

impl Default for ClientIps {
    fn default() -> Self {
        ClientIps(std::sync::atomic::AtomicU32::new(
            rand::random::<u32>() % 0x1_0000,
        ))
    }
}

impl ClientIps {
    fn next(&self) -> String {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 0x2_0000;
        format!("198.{}.{}.{}", 18 + (n >> 16), (n >> 8) & 0xff, n & 0xff)
    }
}

impl Client {
    pub fn new(endpoint: Endpoint) -> Result<Self, HttpError> {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &endpoint.ca_pem {
            let certificate =
                reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| HttpError::Other {
                    url: endpoint.origin.clone(),
                    detail: format!("the CA certificate is not valid PEM: {e}"),
                })?;
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder
            .redirect(reqwest::redirect::Policy::none())
            .timeout(endpoint.timeout)
            .connect_timeout(endpoint.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("ba-harness/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Other {
                url: endpoint.origin.clone(),
                detail: e.to_string(),
            })?;
        Ok(Client {
            http,
            client_ip: endpoint.client_ips.next(),
            endpoint,
            jar: BTreeMap::new(),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The jar's current value for a cookie (raw, as the server sent it).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    pub fn clear_cookies(&mut self) {
        self.jar.clear();
    }

    /// Sends one request, records it, and updates the jar from its Set-Cookie lines.
    pub async fn send(&mut self, request: Request) -> Result<Exchange, HttpError> {
        let url = self.endpoint.url_for(&request.path, request.absolute);
        let mut headers: Vec<(String, String)> =
            vec![("x-forwarded-for".into(), self.client_ip.clone())];
        if request.send_origin {
            headers.push(("origin".into(), self.endpoint.origin.clone()));
        }
        let cookie_header = match &request.cookies {
            CookieChoice::Jar => join_cookies(self.jar.iter()),
            CookieChoice::None => None,
            CookieChoice::Exactly(pairs) => join_cookies(pairs.iter().map(|(n, v)| (n, v))),
        };
        if let Some(c) = cookie_header {
            headers.push(("cookie".into(), c));
        }
        for (n, v) in &request.headers {
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(n));
            headers.push((n.to_ascii_lowercase(), v.clone()));
        }

        if let Some(detail) = unsendable_header(&headers, &request.cookies, &self.jar) {
            return Err(HttpError::Unsendable { url, detail });
        }
        let mut builder = self.http.request(request.method.clone(), &url);
        for (n, v) in &headers {
            builder = builder.header(n, v);
        }
        let request_body = match &request.body {
            Some(Body::Json(v)) => {
                let text = v.to_string();
                builder = builder
                    .header("content-type", "application/json")
                    .body(text.clone());
                headers.push(("content-type".into(), "application/json".into()));
                Some(text)
            }
            Some(Body::Form(pairs)) => {
                let text = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish();
                builder = builder
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(text.clone());
                headers.push((
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
                Some(text)
            }
            Some(Body::Raw { content_type, text }) => {
                builder = builder
                    .header("content-type", content_type.as_str())
                    .body(text.clone());
                headers.push(("content-type".into(), content_type.clone()));
                Some(text.clone())
            }
            None => None,
        };

        let mut retries = 0;
        let (started, status, response_headers, bytes, truncated) = loop {
            let attempt = builder.try_clone();
            let started = Instant::now();
            let response = builder
                .send()
                .await
                .map_err(|e| classify(&url, self.endpoint.timeout, e))?;
            let (status, response_headers, bytes, truncated) =
                read_response(response, &url, self.endpoint.timeout).await?;
            match attempt {
                Some(again)
                    if status == 429
                        && request.retry_when_limited
                        && retries < MAX_LIMIT_RETRIES =>
                {
                    let header = |name: &str| {
                        response_headers
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, v)| v.as_str())
                    };
                    let wait = crate::protocol::rate_limit::wait_before_retry(
                        crate::protocol::rate_limit::announced_retry(
                            header("x-retry-after"),
                            header("retry-after"),
                        ),
                    );
                    // Up to a second of jitter, so clients refused together do not all come
                    // back at the same instant and collide again.
                    let wait = wait + Duration::from_millis(rand::random::<u64>() % 1000);
                    self.endpoint.limit_waits.note(wait);
                    tokio::time::sleep(wait).await;
                    retries += 1;
                    builder = again;
                }
                _ => break (started, status, response_headers, bytes, truncated),
            }
        };
        let exchange = Exchange {
            method: request.method.to_string(),
            url,
            request_headers: headers,
            request_body,
            status,
            headers: response_headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            body_truncated: truncated,
            elapsed: started.elapsed(),
            secrets: self.endpoint.secrets.clone(),
        };
        self.store_cookies(&exchange);
        self.endpoint
            .observers
            .notify(&self.endpoint, &request, &exchange);
        Ok(exchange)
    }

    fn store_cookies(&mut self, exchange: &Exchange) {
        for cookie in exchange.set_cookies() {
            if cookie.is_deletion() || cookie.max_age.is_some_and(|m| m <= 0) {
                self.jar.remove(&cookie.name);
            } else {
                self.jar.insert(cookie.name, cookie.value);
            }
        }
    }
}

/// How often one request is retried after a 429 it did not ask for: with every client in one
/// bucket (a proxy that sets the client IP), several clients race for the few requests each
/// window allows, so a request may lose a few windows in a row.
const MAX_LIMIT_RETRIES: u32 = 12;

/// The time a run's clients waited out the target's rate limit, and how many requests they
/// retried (429s a request did not ask for). The run owns one and hands it to every client
/// through the endpoint, like its observers.
#[derive(Debug, Default)]
pub struct LimitWaits {
    waited_ms: std::sync::atomic::AtomicU64,
    retries: std::sync::atomic::AtomicU64,
}

impl LimitWaits {
    fn note(&self, wait: Duration) {
        use std::sync::atomic::Ordering;
        self.waited_ms
            .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// How long was waited, and how many requests were retried.
    pub fn total(&self) -> (Duration, u64) {
        use std::sync::atomic::Ordering;
        (
            Duration::from_millis(self.waited_ms.load(Ordering::Relaxed)),
            self.retries.load(Ordering::Relaxed),
        )
    }
}

/// Status, headers (names lowercased, repeats kept apart) and a body read up to
/// [`MAX_BODY_BYTES`]; a body that stalls or is cut short is an error naming the cause.
pub(crate) async fn read_response(
    mut response: reqwest::Response,
    url: &str,
    timeout: Duration,
) -> Result<(u16, Vec<(String, String)>, Vec<u8>, bool), HttpError> {
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut bytes: Vec<u8> = Vec::new();
    let mut truncated = false;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                return Err(HttpError::Body {
                    url: url.to_string(),
                    status,
                    received: bytes.len(),
                    timed_out_after: e.is_timeout().then_some(timeout.as_secs()),
                    // The innermost cause says it ("end of file before message length
                    // reached"); the layers above it only repeat "error decoding body".
                    detail: root_cause(&e),
                });
            }
        };
        let room = MAX_BODY_BYTES.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((status, headers, bytes, truncated))
}

/// What kind of failure a reqwest error is: timeout, TLS handshake, refused connection, other.
pub(crate) fn classify(url: &str, timeout: Duration, error: reqwest::Error) -> HttpError {
    let detail = error_chain(&error);
    if error.is_timeout() {
        HttpError::Timeout {
            url: url.to_string(),
            seconds: timeout.as_secs(),
        }
    } else if error.is_connect() && is_tls_failure(url, &detail) {
        HttpError::Tls {
            url: url.to_string(),
            detail,
        }
    } else if error.is_connect() {
        HttpError::Connect {
            url: url.to_string(),
            detail,
        }
    } else {
        HttpError::Other {
            url: url.to_string(),
            detail,
        }
    }
}

/// Whether a connect error is the TLS handshake's (rustls words: "invalid peer certificate",
/// "received fatal alert", "received corrupt message" for plain HTTP on an https URL).
fn is_tls_failure(url: &str, detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    url.starts_with("https:")
        && [
            "certificate",
            "tls",
            "handshake",
            "alert",
            "corrupt message",
            "peer is",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// Why a request cannot be sent as built, naming the header or cookie (never its value): a
/// header value must not hold control characters. Values the harness copies from a response
/// body into a Cookie or Authorization header could (a token with a newline in it).
fn unsendable_header(
    headers: &[(String, String)],
    choice: &CookieChoice,
    jar: &BTreeMap<String, String>,
) -> Option<String> {
    let sendable = |v: &str| reqwest::header::HeaderValue::from_str(v).is_ok();
    let (name, _) = headers.iter().find(|(_, v)| !sendable(v))?;
    if name != "cookie" {
        return Some(format!(
            "the {name} header would hold control characters (from a value the server sent)"
        ));
    }
    let bad = |pairs: &mut dyn Iterator<Item = (&String, &String)>| -> Vec<String> {
        pairs
            .filter(|(n, v)| !sendable(n) || !sendable(v))
            .map(|(n, _)| format!("`{n}`"))
            .collect()
    };
    let names = match choice {
        CookieChoice::Jar => bad(&mut jar.iter()),
        CookieChoice::Exactly(pairs) => bad(&mut pairs.iter().map(|(n, v)| (n, v))),
        CookieChoice::None => Vec::new(),
    };
    Some(format!(
        "cookie {} holds control characters, which a Cookie header cannot carry (RFC 6265 \
         cookie values are visible ASCII)",
        if names.is_empty() {
            "(unknown)".to_string()
        } else {
            names.join(", ")
        }
    ))
}

fn join_cookies<'a>(pairs: impl Iterator<Item = (&'a String, &'a String)>) -> Option<String> {
    let joined = pairs
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    (!joined.is_empty()).then_some(joined)
}

/// The innermost error of a chain.
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// reqwest's Display hides the cause ("error sending request"); the chain names it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ips_are_distinct_benchmarking_addresses() {
        let ips = ClientIps::default();
        let (a, b) = (ips.next(), ips.next());
        assert_ne!(a, b);
        assert!(a.starts_with("198.18.") || a.starts_with("198.19."), "{a}");
    }

    #[test]
    fn base_paths_normalise() {
        assert_eq!(normalise_base_path("/api/auth"), "/api/auth");
        assert_eq!(normalise_base_path("api/auth/"), "/api/auth");
        assert_eq!(normalise_base_path("/"), "");
    }

    #[test]
    fn endpoint_builds_urls_and_origin() {
        let url = Url::parse("http://127.0.0.1:3000/ignored/path").unwrap();
        let e = Endpoint::new(&url, "/api/auth", Duration::from_secs(5));
        assert_eq!(e.origin, "http://127.0.0.1:3000");
        assert_eq!(
            e.url_for("/get-session", false),
            "http://127.0.0.1:3000/api/auth/get-session"
        );
        assert_eq!(e.url_for("/health", true), "http://127.0.0.1:3000/health");
    }

    #[test]
    fn excerpt_redacts_cookies_and_tokens() {
        let exchange = Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:3000/api/auth/sign-in/email".into(),
            request_headers: vec![(
                "cookie".into(),
                "better-auth.session_token=abcdefgh.sig".into(),
            )],
            request_body: Some(r#"{"email":"a@b.test","password":"hunter2hunter2"}"#.into()),
            status: 200,
            headers: vec![(
                "set-cookie".into(),
                "better-auth.session_token=tok123456.sig%3D; Max-Age=604800; Path=/".into(),
            )],
            body: r#"{"token":"tok123456","user":{"id":"u1"}}"#.into(),
            body_truncated: false,
            elapsed: Duration::from_millis(3),
            secrets: Default::default(),
        };
        let text = exchange.excerpt();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("tok123456"), "{text}");
        assert!(!text.contains("abcdefgh"), "{text}");
        assert!(text.contains("Max-Age=604800"));
    }
}
