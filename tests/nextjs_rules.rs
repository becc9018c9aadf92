//! The @next-app rules against the real bundled Next.js app (targets/nextjs): it passes them all;
//! the same app built without nextCookies() fails the server-action sign-in, naming the missing
//! Set-Cookie; and for every other scenario a proxy in front of the real app breaks its rule,
//! and the harness must fail that scenario on that rule.
//!
//! The app is booted with its public URL set to the proxy's (BETTER_AUTH_URL), and the proxy
//! sends `X-Forwarded-Host` with its own host, as a reverse proxy does: Next refuses a server
//! action whose Origin host is neither the Host nor the X-Forwarded-Host it sees.

mod mutating_proxy;

use std::sync::Arc;

use ba_harness::next_app::{NextApp, NextAppOptions, Variant};
use mutating_proxy::{ConformRun, Flaw, MutatingProxy, ProxyRequest, ProxyResponse, run_conform};
use tokio::net::TcpListener;

const SESSION_TOKEN: &str = "better-auth.session_token";

/// The real app, optionally behind a proxy.
struct App {
    app: NextApp,
    proxy: Option<MutatingProxy>,
}

impl App {
    /// The app (with nextCookies) behind a proxy that applies `flaw`.
    async fn behind_proxy(flaw: Flaw) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_url = format!("http://{}", listener.local_addr().unwrap());
        let app = NextApp::boot_with(&NextAppOptions {
            variant: Variant::WithNextCookies,
            public_url: Some(proxy_url.clone()),
        })
        .await
        .expect("the bundled Next.js app boots");
        let upstream = format!("http://127.0.0.1:{}", app.port);
        let host = proxy_url.trim_start_matches("http://").to_string();
        let proxy = MutatingProxy::start(listener, upstream, forwarded(host, flaw));
        assert_eq!(proxy.url, proxy_url);
        App {
            app,
            proxy: Some(proxy),
        }
    }

    /// The app as built, reached directly.
    async fn direct(variant: Variant) -> Self {
        let app = NextApp::boot_with(&NextAppOptions {
            variant,
            public_url: None,
        })
        .await
        .expect("the bundled Next.js app boots");
        App { app, proxy: None }
    }

    fn url(&self) -> String {
        match &self.proxy {
            Some(proxy) => proxy.url.clone(),
            None => self.app.url.clone(),
        }
    }

    /// Runs the @next-app scenarios with the app as both the target (its Better Auth) and the
    /// Next.js app.
    async fn run(&self) -> ConformRun {
        let url = self.url();
        run_conform(vec![
            "--target".into(),
            url.clone(),
            "--next-app".into(),
            url,
            "--tags".into(),
            "@next-app".into(),
            "--strict".into(),
        ])
        .await
    }

    async fn stop(self) {
        drop(self.proxy);
        self.app.stop().await;
    }
}

/// Wraps `flaw` so that every request first gets the proxy's host as X-Forwarded-Host.
fn forwarded(host: String, flaw: Flaw) -> Flaw {
    let inner = flaw.on_request.clone();
    Flaw {
        on_request: Some(Arc::new(move |request: &mut ProxyRequest| {
            request.set_header("x-forwarded-host", &host);
            request.set_header("x-forwarded-proto", "http");
            inner.as_ref().and_then(|f| f(request))
        })),
        on_response: flaw.on_response,
    }
}

fn is(request: &ProxyRequest, method: &str, path: &str) -> bool {
    request.method == method && request.path_only() == path
}

/// A flaw on the answers to `method path` only.
fn on_answer(
    method: &'static str,
    path: &'static str,
    f: impl Fn(&mut ProxyResponse) + Send + Sync + 'static,
) -> Flaw {
    Flaw::response(move |request, response| {
        if is(request, method, path) {
            f(response);
        }
    })
}

/// A flaw on the requests to `method path` only: `f` rewrites one, or answers it itself.
fn on_request(
    method: &'static str,
    path: &'static str,
    f: impl Fn(&mut ProxyRequest) -> Option<ProxyResponse> + Send + Sync + 'static,
) -> Flaw {
    Flaw::request(move |request| is(request, method, path).then(|| f(request)).flatten())
}

/// The answers to `method path` lose their Set-Cookie lines.
fn drops_set_cookies(method: &'static str, path: &'static str) -> Flaw {
    on_answer(method, path, |response| {
        response.remove_header("set-cookie")
    })
}

async fn breaks(scenario: &str, rule_fragment: &str, flaw: Flaw) {
    let app = App::behind_proxy(flaw).await;
    let run = app.run().await;
    run.assert_breaks(scenario, rule_fragment);
    app.stop().await;
}

fn status(run: &ConformRun, scenario: &str) -> String {
    run.scenario(scenario)
        .and_then(|s| s["status"].as_str())
        .unwrap_or("missing")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// The real app passes; the app without nextCookies fails the server-action sign-in.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_app_passes_every_next_app_scenario() {
    let app = App::behind_proxy(Flaw::none()).await;
    let run = app.run().await;
    run.assert_all_passed(7);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_without_next_cookies_fails_the_server_action_sign_in() {
    let app = App::direct(Variant::WithoutNextCookies).await;
    let run = app.run().await;
    let scenario = "Signing in through the server-action form sets the session cookie";
    run.assert_breaks(scenario, "nextCookies()");
    let failed = run.scenario(scenario).unwrap();
    let expected = failed["expected"].as_str().unwrap_or_default();
    let actual = failed["actual"].as_str().unwrap_or_default();
    assert!(
        expected.contains(&format!("Set-Cookie: {SESSION_TOKEN}=")),
        "the failure names the missing Set-Cookie: {expected}"
    );
    assert!(
        actual.contains(&format!("no Set-Cookie for `{SESSION_TOKEN}`")),
        "the failure says it is missing: {actual}"
    );
    // The action itself still worked (it redirected): only the cookie never reached the browser.
    assert!(actual.contains("HTTP 303"), "{actual}");
    // The route handler and proxy.ts do not depend on nextCookies.
    for passing in [
        "The route handler sends every cookie on its own Set-Cookie line",
        "Without a session cookie the protected page redirects to sign-in",
        "A session cookie the server does not know does not open the protected page",
    ] {
        assert_eq!(
            status(&run, passing),
            "passed",
            "{passing}:\n{}",
            run.output
        );
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// One flaw per rule, through the proxy.

/// Something between the app and the browser strips the cookies of the sign-up action's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_up_action_whose_cookie_is_dropped_fails() {
    breaks(
        "Signing up through the server-action form signs the user in",
        "sends the session cookie",
        drops_set_cookies("POST", "/sign-up"),
    )
    .await;
}

/// The server action's session cookie loses HttpOnly (scripts could read the session token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_action_cookie_without_http_only_fails() {
    breaks(
        "Signing in through the server-action form sets the session cookie",
        "means the same as the route handler's",
        on_answer("POST", "/sign-in", |response| {
            response.map_set_cookies(|line| {
                Some(
                    line.split(';')
                        .filter(|part| !part.trim().eq_ignore_ascii_case("httponly"))
                        .collect::<Vec<_>>()
                        .join(";"),
                )
            })
        }),
    )
    .await;
}

/// The session cookie never reaches the page (a CDN that strips cookies from page requests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_that_never_sees_the_cookie_fails() {
    breaks(
        "The session cookie from the server action opens the protected page",
        "opens the protected page",
        on_request("GET", "/dashboard", |request| {
            request.remove_header("cookie");
            None
        }),
    )
    .await;
}

/// No route protection: /dashboard renders for anyone (proxy.ts missing or not matching).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_open_to_visitors_without_a_cookie_fails() {
    breaks(
        "Without a session cookie the protected page redirects to sign-in",
        "proxy.ts",
        on_request("GET", "/dashboard", |request| {
            request.header("cookie").is_none().then(dashboard_page)
        }),
    )
    .await;
}

/// A page that only checks that a session cookie is present, as proxy.ts does, and never
/// validates it: any cookie opens it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_that_trusts_any_session_cookie_fails() {
    breaks(
        "A session cookie the server does not know does not open the protected page",
        "validates the session itself",
        on_request("GET", "/dashboard", |request| {
            let cookie = request.header("cookie");
            cookie
                .is_some_and(|c| c.contains(SESSION_TOKEN))
                .then(dashboard_page)
        }),
    )
    .await;
}

/// The sign-out action's answer loses its Set-Cookie lines: the browser keeps the cookies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_action_that_clears_no_cookie_fails() {
    breaks(
        "Signing out through a server action clears the session cookie",
        "clears every cookie the sign-in set",
        drops_set_cookies("POST", "/dashboard"),
    )
    .await;
}

/// Sign-out only in the browser: the proxy answers the sign-out action itself, clearing the
/// cookies without the session ever being revoked on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_that_does_not_revoke_the_session_fails() {
    let cleared = |name: &str| format!("{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=lax");
    let signed_out = ProxyResponse {
        status: 303,
        headers: vec![
            ("location".into(), "/sign-in".into()),
            ("set-cookie".into(), cleared(SESSION_TOKEN)),
            ("set-cookie".into(), cleared("better-auth.session_data")),
        ],
        body: Vec::new(),
    };
    breaks(
        "Signing out through a server action clears the session cookie",
        "no longer opens the protected page",
        on_request("POST", "/dashboard", move |_| Some(signed_out.clone())),
    )
    .await;
}

/// The route handler's answer keeps only its last Set-Cookie (better-call #118: `headers.set`
/// instead of `append`): session_data arrives, the session cookie is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_handler_that_keeps_one_set_cookie_fails() {
    breaks(
        "The route handler sends every cookie on its own Set-Cookie line",
        "passes every Set-Cookie through on its own line",
        on_answer("POST", "/api/auth/sign-in/email", |response| {
            let last = response.headers_named("set-cookie").pop();
            response.remove_header("set-cookie");
            if let Some(line) = last {
                response.headers.push(("set-cookie".into(), line));
            }
        }),
    )
    .await;
}

/// A page that renders for anyone, in place of the redirect.
fn dashboard_page() -> ProxyResponse {
    ProxyResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: b"<!DOCTYPE html><main><h1>Dashboard</h1></main>".to_vec(),
    }
}
