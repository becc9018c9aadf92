//! The harness against targets that are broken below the protocol: refused connections, silent
//! or trickling servers, error pages, bodies that never end or end too soon, redirect loops, an
//! untrusted certificate, a wrong content type, bytes that are not UTF-8. Each runs the real
//! binary against a local misbehaving server (wiremock where it can misbehave enough, else a raw
//! TCP listener written here) and asserts: exit 3 when nothing answers HTTP at all, otherwise
//! exit 1 with failed scenarios that name the cause; never a panic; and the whole run ends within
//! a generous bound (a hang guard, not a performance assertion).
//!
//! Everything listens on 127.0.0.1 and every wait is bounded.

mod mutating_proxy;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use mutating_proxy::{BrokenReference, Flaw, harness};

/// The per-request timeout every run here uses (`--timeout`).
const REQUEST_TIMEOUT_SECS: u64 = 2;
/// The whole-run bound every run here uses (`--run-timeout`).
const RUN_TIMEOUT_SECS: u64 = 30;
/// How long a run may take before the test calls it a hang: the run timeout plus the harness's
/// own start-up and discovery, with a wide margin for a loaded machine. Not a performance bound.
const HANG_GUARD: Duration = Duration::from_secs(90);

// ------------------------------------------------------------------------------------------
// Running the harness
// ------------------------------------------------------------------------------------------

/// One finished `ba-harness conform` run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    report: Value,
    elapsed: Duration,
}

impl Run {
    fn output(&self) -> String {
        format!(
            "exit {:?} after {:.1} s\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }

    fn scenarios(&self) -> Vec<&Value> {
        self.report["scenarios"]
            .as_array()
            .map(|all| all.iter().collect())
            .unwrap_or_default()
    }

    fn failed(&self) -> Vec<&Value> {
        self.scenarios()
            .into_iter()
            .filter(|s| s["status"] == "failed")
            .collect()
    }

    /// Never a panic, within the hang guard. (cucumber words every failed step "Step
    /// panicked", so a real panic is told by the panic hook's `panicked at`, and by a failure
    /// without a rule: cucumber catches a panicking step and the harness then reports it as the
    /// rule "the step runs".)
    fn assert_sane(&self) {
        for (stream, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            assert!(
                !text.contains("panicked at"),
                "the harness panicked ({stream}):\n{}",
                self.output()
            );
        }
        for scenario in self.failed() {
            assert_ne!(
                scenario["rule"],
                "the step runs",
                "a step panicked or failed without naming a rule:\n{}",
                self.output()
            );
        }
        assert!(
            self.elapsed < HANG_GUARD,
            "the run took {:?}:\n{}",
            self.elapsed,
            self.output()
        );
    }

    /// Exit 3, with `target unreachable` and every needle in the message.
    fn assert_unreachable(&self, needles: &[&str]) {
        self.assert_sane();
        assert_eq!(self.code, Some(3), "{}", self.output());
        let all = format!("{}{}", self.stdout, self.stderr);
        assert!(all.contains("target unreachable"), "{}", self.output());
        for needle in needles {
            assert!(
                all.contains(needle),
                "the message does not name `{needle}`:\n{}",
                self.output()
            );
        }
    }

    /// Exit 1 with at least one failed scenario, and every failed scenario's rule, expectation
    /// or answer naming the cause (one of `causes`, case-insensitively). Returns the failures.
    /// The run ended well within the bound: `--run-timeout 8` ended it.
    fn assert_bounded_by_run_timeout(&self) {
        assert!(
            self.elapsed < Duration::from_secs(40),
            "--run-timeout 8 did not bound the run:\n{}",
            self.output()
        );
    }

    /// [`Self::assert_failed_naming`], and one of the failures' `field` contains `needle`.
    fn assert_failed_one_saying(&self, causes: &[&str], field: &str, needle: &str) {
        let failed = self.assert_failed_naming(causes);
        assert!(
            failed.iter().any(|s| says(s, field, needle)),
            "{}",
            self.output()
        );
    }

    fn assert_failed_naming(&self, causes: &[&str]) -> Vec<&Value> {
        self.assert_sane();
        assert_eq!(self.code, Some(1), "{}", self.output());
        let failed = self.failed();
        assert!(!failed.is_empty(), "no failed scenario:\n{}", self.output());
        for scenario in &failed {
            let text = format!(
                "{} | {} | {}",
                scenario["rule"].as_str().unwrap_or_default(),
                scenario["expected"].as_str().unwrap_or_default(),
                scenario["actual"].as_str().unwrap_or_default()
            )
            .to_lowercase();
            assert!(
                causes.iter().any(|c| text.contains(&c.to_lowercase())),
                "scenario `{}` failed without naming the cause ({causes:?}): {text}\n{}",
                scenario["scenario"],
                self.output()
            );
        }
        // The terminal summary says the same as the report.
        assert!(
            self.stdout
                .contains(&format!("{} failed", self.report["counts"]["failed"])),
            "{}",
            self.output()
        );
        failed
    }
}

/// Runs `conform --target TARGET --timeout 2 --run-timeout 30 --tags @email-password --json F`
/// plus `extra`.
async fn conform(target: &str, extra: &[&str]) -> Run {
    conform_with(target, REQUEST_TIMEOUT_SECS, RUN_TIMEOUT_SECS, extra).await
}

async fn conform_with(target: &str, timeout: u64, run_timeout: u64, extra: &[&str]) -> Run {
    let json = harness::temp_file("broken-targets.json");
    let timeout = timeout.to_string();
    let run_timeout = run_timeout.to_string();
    let mut command = harness::command();
    command
        .args(["conform", "--target", target, "--timeout", &timeout])
        .args(["--run-timeout", &run_timeout, "--tags", "@email-password"])
        .arg("--json")
        .arg(&json)
        .args(extra);
    let started = Instant::now();
    let output = tokio::time::timeout(HANG_GUARD, command.output())
        .await
        .unwrap_or_else(|_| panic!("the harness hung: no exit within {HANG_GUARD:?} ({target})"))
        .expect("the harness binary runs");
    let elapsed = started.elapsed();
    Run {
        code: output.status.code(),
        stdout: harness::lossy(&output.stdout),
        stderr: harness::lossy(&output.stderr),
        report: harness::take_json(&json),
        elapsed,
    }
}

// ------------------------------------------------------------------------------------------
// A raw HTTP/1.1 server, for misbehaviour wiremock cannot produce
// ------------------------------------------------------------------------------------------

/// A listener on 127.0.0.1 whose connections are handed to a handler; dropping it stops the
/// listener and every connection.
struct RawServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RawServer {
    async fn start<F, Fut>(handler: F) -> Self
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            // Owned by this task, so aborting the server aborts every connection too.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                while connections.try_join_next().is_some() {}
                let handler = Arc::clone(&handler);
                connections.spawn(async move { handler(stream).await });
            }
        });
        RawServer { addr, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request as read off the wire.
struct RawRequest {
    method: String,
    path: String,
    body: Vec<u8>,
}

impl RawRequest {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Reads one request (head and a Content-Length body); None when the peer closes first.
async fn read_request(stream: &mut TcpStream) -> Option<RawRequest> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(RawRequest { method, path, body })
}

/// A complete response that closes the connection after it.
fn response(status: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(body);
    out
}

fn json_response(status: &str, body: &Value) -> Vec<u8> {
    response(
        status,
        &[("content-type", b"application/json")],
        body.to_string().as_bytes(),
    )
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Holds a connection open without answering, for far longer than any run here.
async fn hold(stream: TcpStream) {
    tokio::time::sleep(Duration::from_secs(600)).await;
    drop(stream);
}

// ------------------------------------------------------------------------------------------
// Nothing answers HTTP at all: exit 3
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_exits_3() {
    let port = free_port().await;
    let run = conform(&format!("http://127.0.0.1:{port}"), &[]).await;
    run.assert_unreachable(&["nothing accepted a connection", "Connection refused"]);
    assert!(run.elapsed < Duration::from_secs(30), "{}", run.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_accepts_but_never_answers_exits_3_after_the_request_timeout() {
    let server = RawServer::start(|mut stream| async move {
        let _ = read_request(&mut stream).await;
        hold(stream).await;
    })
    .await;
    let run = conform(&server.url(), &[]).await;
    run.assert_unreachable(&["accepted the connection", "within 2 s", "--timeout"]);
    assert!(run.elapsed < Duration::from_secs(30), "{}", run.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_self_signed_certificate_exits_3_naming_the_certificate() {
    let tls = TlsServer::start().await;
    let run = conform(&tls.url, &[]).await;
    run.assert_unreachable(&["certificate", "--ca-cert"]);
    assert!(
        !run.stderr.contains("nothing accepted a connection"),
        "a TLS failure is not a refused connection:\n{}",
        run.output()
    );
    assert!(run.elapsed < Duration::from_secs(30), "{}", run.output());
}

/// An https server (node's, since the test dependencies have no TLS server) with a self-signed
/// certificate for 127.0.0.1 that nothing trusts.
struct TlsServer {
    url: String,
    _child: tokio::process::Child,
    dir: PathBuf,
}

impl TlsServer {
    async fn start() -> Self {
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".into()])
                .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "ba-harness-broken-tls-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cert.pem"), certified.cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
        let script = r#"
            const fs = require('fs');
            const server = require('https').createServer(
              { key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) },
              (req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('null'); });
            server.listen(0, '127.0.0.1', () => console.log(server.address().port));
            setTimeout(() => process.exit(0), 120000);
        "#;
        let mut child = tokio::process::Command::new("node")
            .arg("-e")
            .arg(script)
            .arg(dir.join("key.pem"))
            .arg(dir.join("cert.pem"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (it runs the bundled reference too)");
        let mut stdout = child.stdout.take().unwrap();
        let mut line = Vec::new();
        let read = async {
            let mut byte = [0u8; 1];
            while stdout.read(&mut byte).await.unwrap_or(0) == 1 && byte[0] != b'\n' {
                line.push(byte[0]);
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("the TLS server starts within 20 s");
        let port: u16 = String::from_utf8_lossy(&line).trim().parse().unwrap();
        TlsServer {
            url: format!("https://127.0.0.1:{port}"),
            _child: child,
            dir,
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ------------------------------------------------------------------------------------------
// The server answers HTTP, badly: exit 1, failed scenarios naming the cause
// ------------------------------------------------------------------------------------------

/// Whether a failed scenario's `field` (rule, expected, actual) contains `needle`.
fn says(scenario: &Value, field: &str, needle: &str) -> bool {
    scenario[field]
        .as_str()
        .unwrap_or_default()
        .contains(needle)
}

/// A server that answers the harness's probe (get-session: null) and then never answers again.
async fn probe_then_silence() -> RawServer {
    RawServer::start(|mut stream| async move {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        if request.method == "GET" && request.path.ends_with("/get-session") {
            let _ = stream
                .write_all(&json_response("200 OK", &Value::Null))
                .await;
        } else {
            hold(stream).await;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_answers_the_probe_then_goes_silent_fails_steps_with_the_timeout() {
    let server = probe_then_silence().await;
    let run = conform(&server.url(), &[]).await;
    run.assert_failed_one_saying(&["within 2 s"], "rule", "answers POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_timeout_bounds_discovery_and_scenarios_even_with_a_long_request_timeout() {
    // Every request but the probe hangs, and --timeout 60 would let discovery alone wait three
    // minutes: --run-timeout 8 must end the whole run, discovery included.
    let server = probe_then_silence().await;
    let run = conform_with(&server.url(), 60, 8, &[]).await;
    run.assert_failed_naming(&["--run-timeout"]);
    run.assert_bounded_by_run_timeout();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_timeout_ends_scenarios_stuck_on_a_long_request_timeout() {
    // Discovery gets quick answers (its sign-up a 500); every later POST hangs, and with
    // --timeout 60 only --run-timeout 8 can end the scenarios waiting on them.
    let posts = Arc::new(AtomicUsize::new(0));
    let server = RawServer::start(move |mut stream| {
        let posts = Arc::clone(&posts);
        async move {
            let Some(request) = read_request(&mut stream).await else {
                return;
            };
            let answer = if request.method == "GET" && request.path.ends_with("/get-session") {
                json_response("200 OK", &Value::Null)
            } else if request.method == "GET" {
                json_response("404 Not Found", &json!({"code": "NOT_FOUND"}))
            } else if posts.fetch_add(1, Ordering::SeqCst) == 0 {
                json_response("500 Internal Server Error", &json!({"code": "BOOM"}))
            } else {
                return hold(stream).await;
            };
            let _ = stream.write_all(&answer).await;
        }
    })
    .await;
    let run = conform_with(&server.url(), 60, 8, &[]).await;
    let failed = run.assert_failed_naming(&["--run-timeout", "HTTP 500"]);
    assert!(
        failed
            .iter()
            .any(|s| says(s, "actual", "still running when the run timed out")),
        "{}",
        run.output()
    );
    run.assert_bounded_by_run_timeout();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_fails_steps_with_the_timeout() {
    let server = RawServer::start(|mut stream| async move {
        if read_request(&mut stream).await.is_none() {
            return;
        }
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        // One byte every 300 ms: 4096 bytes would take 20 minutes.
        for _ in 0..4096 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if stream.write_all(b" ").await.is_err() {
                return;
            }
        }
    })
    .await;
    let run = conform(&server.url(), &[]).await;
    run.assert_failed_naming(&["body", "within 2 s"]);
    let all = run.output();
    assert!(all.contains("HTTP 200"), "{all}");
}

/// A Better Auth configured for another URL (baseURL, trustedOrigins) refuses the Origin the
/// harness sends, its own from --target, with 403 INVALID_ORIGIN. That is the run's set-up, not
/// a rule the server broke: exit 2 naming the origin and the fix, never "sign-up is closed" and
/// MUST failures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_configured_for_another_url_is_a_usage_error_naming_the_origin() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/api/auth/get-session"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("null", "application/json"))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            r#"{"code":"INVALID_ORIGIN","message":"Invalid origin"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let run = conform(&server.uri(), &[]).await;
    run.assert_sane();
    assert_eq!(run.code, Some(2), "{}", run.output());
    let origin = server.uri();
    for needle in [
        format!("(Origin: {origin}), with HTTP 403 INVALID_ORIGIN"),
        format!(
            "fix: point --target at the URL the server is configured with (its baseURL), or add {origin} to trustedOrigins"
        ),
    ] {
        assert!(run.stderr.contains(&needle), "{needle}\n{}", run.output());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_answering_500_fails_with_the_status() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/plain")
                .set_body_string("Internal Server Error"),
        )
        .mount(&server)
        .await;
    let run = conform(&server.uri(), &[]).await;
    run.assert_failed_naming(&["HTTP 500"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_fails_naming_the_body() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"token":"abc","user":{"id":"u1","email":"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let run = conform(&server.uri(), &[]).await;
    // Scenarios that expect another status fail on the status (200) before reading the body.
    run.assert_failed_one_saying(&["not JSON", "HTTP 200"], "actual", "not JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_error_page_fails_with_the_status() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                </body>\r\n</html>\r\n";
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(502).set_body_raw(page, "text/html"))
        .mount(&server)
        .await;
    let run = conform(&server.uri(), &[]).await;
    run.assert_failed_naming(&["HTTP 502"]);
    // The excerpt shows what came back, so a reader sees the proxy's page.
    assert!(run.stdout.contains("502 Bad Gateway"), "{}", run.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_body_is_read_only_up_to_the_cap() {
    const HUNDRED_MB: u64 = 100 * 1024 * 1024;
    // The most any one connection got written into its socket.
    let most_written = Arc::new(AtomicU64::new(0));
    let most = Arc::clone(&most_written);
    let server = RawServer::start(move |mut stream| {
        let most = Arc::clone(&most);
        async move {
            if read_request(&mut stream).await.is_none() {
                return;
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {HUNDRED_MB}\r\n\r\n{{\"token\":\""
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'a'; 64 * 1024];
            let mut written = 0u64;
            while written < HUNDRED_MB {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
                written += chunk.len() as u64;
                most.fetch_max(written, Ordering::Relaxed);
            }
        }
    })
    .await;
    let run = conform(&server.url(), &[]).await;
    run.assert_failed_naming(&["over the 2 MiB", "HTTP 200"]);
    let written = most_written.load(Ordering::Relaxed);
    // The harness keeps 2 MiB and drops the connection; the rest of what got written sat in
    // socket buffers. Nowhere near 100 MB.
    assert!(
        written < 32 * 1024 * 1024,
        "a connection took {written} bytes: the read is not bounded\n{}",
        run.output()
    );
}

/// Answers every request with a redirect to itself.
struct RedirectToSelf;

impl Respond for RedirectToSelf {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        ResponseTemplate::new(302).insert_header("location", request.url.as_str())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_is_not_followed_and_fails_with_the_status() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(RedirectToSelf)
        .mount(&server)
        .await;
    let run = conform(&server.uri(), &[]).await;
    run.assert_failed_naming(&["HTTP 302"]);
    // Each step sent one request: a followed loop would have sent many per step.
    let requests = server.received_requests().await.unwrap_or_default().len();
    assert!(requests < 40, "{requests} requests:\n{}", run.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_chunked_body_fails_naming_the_cut() {
    let server = RawServer::start(|mut stream| async move {
        if read_request(&mut stream).await.is_none() {
            return;
        }
        // A chunk announced as 0x40 bytes, 13 of them sent, then the connection closes.
        let text = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n40\r\n{\"token\":\"ab";
        let _ = stream.write_all(text.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
    let run = conform(&server.url(), &[]).await;
    run.assert_failed_naming(&["cut short"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_content_type_on_a_real_server_fails_the_content_type_rules() {
    // The real reference, every response relabelled text/html: the bodies are still right, so
    // only the rules about the JSON content type may fail, and they must.
    let flaw = Flaw::response(|_, response| {
        response.set_header("content-type", "text/html; charset=utf-8");
    });
    let broken = BrokenReference::start(flaw, &[]).await;
    let run = conform(&broken.proxy.url, &[]).await;
    let failed = run.assert_failed_naming(&["content-type"]);
    assert!(
        failed.iter().all(|s| says(s, "actual", "text/html")),
        "{}",
        run.output()
    );
    broken.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_bytes_in_set_cookie_fail_naming_the_cookie() {
    // A server that signs users up and in, setting a session cookie whose value holds bytes
    // that are not UTF-8 (and so not the RFC 6265 cookie-octets either).
    let names: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>> = Arc::default();
    let server = RawServer::start(move |mut stream| {
        let names = Arc::clone(&names);
        async move {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        let body = request.json();
        let answer = if request.path.ends_with("/sign-up/email")
            || request.path.ends_with("/sign-in/email")
        {
            let email = body["email"].as_str().unwrap_or("x@y.test").to_lowercase();
            let name = {
                let mut names = names.lock().unwrap();
                if let Some(given) = body["name"].as_str() {
                    names.insert(email.clone(), given.to_string());
                }
                names.get(&email).cloned().unwrap_or_default()
            };
            let user = json!({
                "id": "u1", "email": email, "name": name, "emailVerified": false, "image": null,
                "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
            });
            let body = json!({"token": "tok-0123456789abcdef", "user": user}).to_string();
            response(
                "200 OK",
                &[
                    ("content-type", b"application/json"),
                    (
                        "set-cookie",
                        b"better-auth.session_token=tok-\xff\xfe\xc3(-0123456789abcdef.sig; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
                    ),
                ],
                body.as_bytes(),
            )
        } else {
            json_response("200 OK", &Value::Null)
        };
        let _ = stream.write_all(&answer).await;
        }
    })
    .await;
    let run = conform(&server.url(), &[]).await;
    run.assert_sane();
    assert_eq!(run.code, Some(1), "{}", run.output());
    // The fake is minimal (it refuses nothing), so other scenarios fail on their statuses; the
    // two that receive the broken cookie must fail on it, naming the cookie and the bytes.
    for scenario in [
        "Sign-up creates the user and starts a session",
        "Sign-in with the right password starts a session for that user",
    ] {
        let s = run
            .scenarios()
            .into_iter()
            .find(|s| s["scenario"] == scenario)
            .unwrap_or_else(|| panic!("`{scenario}` not in the report:\n{}", run.output()));
        let actual = s["actual"].as_str().unwrap_or_default();
        assert!(
            s["status"] == "failed"
                && actual.contains("`better-auth.session_token`")
                && actual.contains("not UTF-8"),
            "`{scenario}` does not fail naming the cookie and its bytes:\n{}",
            run.output()
        );
    }
}
