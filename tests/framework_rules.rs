//! The framework scenarios (@express, @nestjs, @tanstack-start) against the real bundled apps
//! (targets/express, targets/nestjs, targets/tanstack-start): each app as its guide sets it up
//! passes them all; the same app with its framework's documented pitfall switched on fails
//! exactly the scenarios that pitfall breaks, naming the cause; and for every other scenario a
//! proxy in front of the real app breaks its rule, and the harness must fail that scenario.
//!
//! The Express app is installed on first use (npm ci, about 2 minutes with better-sqlite3
//! compiled from source). The NestJS and TanStack Start apps are heavier (tsc, vite): their tests
//! run when the app is installed (`conform --apps nestjs,tanstack-start` installs them) or when
//! BA_HARNESS_FRAMEWORK_TESTS=all asks for the install; otherwise they print why they skip.

mod mutating_proxy;

use std::collections::BTreeSet;
use std::time::Duration;

use ba_harness::framework_app::{Framework, FrameworkApp, FrameworkAppOptions};
use mutating_proxy::{ConformRun, Flaw, MutatingProxy, ProxyRequest, ProxyResponse, run_conform};
use tokio::net::TcpListener;

const SESSION_TOKEN: &str = "better-auth.session_token";

/// A real framework app, optionally behind a proxy.
struct App {
    app: FrameworkApp,
    proxy: Option<MutatingProxy>,
}

impl App {
    async fn direct(framework: Framework, pitfall: bool) -> Self {
        let mut options = FrameworkAppOptions::new(framework);
        options.pitfall = pitfall;
        let app = FrameworkApp::boot_with(&options)
            .await
            .unwrap_or_else(|e| panic!("the bundled {} app boots: {e}", framework.name()));
        App { app, proxy: None }
    }

    /// The app (as its guide sets it up) behind a proxy that applies `flaw`; the app's public
    /// URL is the proxy's, so Better Auth's origin checks agree with what the harness sends.
    async fn behind_proxy(framework: Framework, flaw: Flaw) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_url = format!("http://{}", listener.local_addr().unwrap());
        let mut options = FrameworkAppOptions::new(framework);
        options.public_url = Some(proxy_url.clone());
        let app = FrameworkApp::boot_with(&options)
            .await
            .unwrap_or_else(|e| panic!("the bundled {} app boots: {e}", framework.name()));
        let upstream = format!("http://127.0.0.1:{}", app.port);
        let proxy = MutatingProxy::start(listener, upstream, flaw);
        App {
            app,
            proxy: Some(proxy),
        }
    }

    fn url(&self) -> String {
        match &self.proxy {
            Some(proxy) => proxy.url.clone(),
            None => self.app.url.clone(),
        }
    }

    /// Runs the framework's own scenarios with the app as the target.
    async fn run(&self, extra: &[&str]) -> ConformRun {
        let framework = self.app.framework;
        let mut args = vec![
            "--target".to_string(),
            self.url(),
            "--target-kind".into(),
            framework.name().into(),
            "--tags".into(),
            format!("@{}", framework.name()),
            "--strict".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        run_conform(args).await
    }

    async fn stop(self) {
        drop(self.proxy);
        self.app.stop().await;
    }
}

/// Whether the tests of `framework` run: Express always (installed on first use); the heavier
/// apps when installed or when BA_HARNESS_FRAMEWORK_TESTS=all.
fn runs(framework: Framework) -> bool {
    if framework == Framework::Express
        || std::env::var("BA_HARNESS_FRAMEWORK_TESTS").is_ok_and(|v| v == "all")
    {
        return true;
    }
    let installed = framework
        .dir()
        .join("node_modules/.package-lock.json")
        .is_file();
    if !installed {
        println!(
            "skipped: the bundled {} app is not installed ({}); run `cargo run -- conform --apps {}` \
             once, or set BA_HARNESS_FRAMEWORK_TESTS=all, to install it and run this test",
            framework.name(),
            framework.dir().display(),
            framework.name()
        );
    }
    installed
}

fn is(request: &ProxyRequest, method: &str, path: &str) -> bool {
    request.method == method && request.path_only() == path
}

fn failed(run: &ConformRun) -> BTreeSet<String> {
    run.failed_names().into_iter().collect()
}

/// The run failed (exit 1), and exactly `scenarios` failed.
fn assert_failed_set(run: &ConformRun, scenarios: &[&str]) {
    assert_eq!(run.code, Some(1), "{}", run.output);
    let expected: BTreeSet<String> = scenarios.iter().map(|s| s.to_string()).collect();
    assert_eq!(failed(run), expected, "{}", run.output);
}

/// Each of `scenarios` passed.
fn assert_passed(run: &ConformRun, scenarios: &[&str]) {
    for passing in scenarios {
        assert_eq!(
            run.scenario(passing).unwrap()["status"],
            "passed",
            "{passing}: {}",
            run.output
        );
    }
}

/// The app with its framework's documented pitfall switched on, and its run; None when the
/// framework's tests do not run here (see [`runs`]).
async fn run_with_pitfall(framework: Framework) -> Option<(App, ConformRun)> {
    if !runs(framework) {
        return None;
    }
    let app = App::direct(framework, true).await;
    let run = app.run(&[]).await;
    Some((app, run))
}

/// Asserts that exactly `scenarios` failed, each on a rule naming `rule_fragment`.
fn assert_fails_exactly(run: &ConformRun, scenarios: &[&str], rule_fragment: &str) {
    assert_failed_set(run, scenarios);
    for scenario in scenarios {
        run.assert_failed_and_show(scenario, rule_fragment, "as it should");
    }
}

async fn breaks(framework: Framework, flaw: Flaw, scenario: &str, rule_fragment: &str) {
    breaks_with(framework, flaw, &[], scenario, rule_fragment).await;
}

async fn breaks_with(
    framework: Framework,
    flaw: Flaw,
    extra: &[&str],
    scenario: &str,
    rule_fragment: &str,
) {
    if !runs(framework) {
        return;
    }
    let app = App::behind_proxy(framework, flaw).await;
    let run = app.run(extra).await;
    assert_fails_exactly(&run, &[scenario], rule_fragment);
    app.stop().await;
}

/// A proxy answer with the given status and JSON body.
fn json_answer(status: u16, body: serde_json::Value) -> ProxyResponse {
    ProxyResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// A protected route that lets anyone in, with a made-up user.
fn open_route() -> ProxyResponse {
    json_answer(
        200,
        serde_json::json!({"user": {"id": "x", "email": "someone@example.test"}}),
    )
}

/// The protected route `/api/me` never sees the session cookie.
fn route_without_the_cookie() -> Flaw {
    Flaw::request(|request| {
        if is(request, "GET", "/api/me") {
            request.remove_header("cookie");
        }
        None
    })
}

/// The protected route `/api/me` lets a visitor without a cookie in.
fn route_open_to_visitors() -> Flaw {
    Flaw::request(|request| {
        (is(request, "GET", "/api/me") && request.header("cookie").is_none()).then(open_route)
    })
}

/// A well-formed sign-in is held past the harness's --timeout 3 (run with [`HANG_TIMEOUT`]);
/// block_in_place hands this worker's other tasks to another thread while it waits.
fn sign_in_that_hangs() -> Flaw {
    Flaw::request(|request| {
        if is(request, "POST", "/api/auth/sign-in/email")
            && serde_json::from_slice::<serde_json::Value>(&request.body).is_ok()
        {
            tokio::task::block_in_place(|| std::thread::sleep(Duration::from_secs(5)));
        }
        None
    })
}

/// The bound a hanging sign-in outlasts.
const HANG_TIMEOUT: &[&str] = &["--timeout", "3"];

/// The app, as its guide sets it up, passes every scenario of its framework (`count` of them).
async fn passes_every_scenario(framework: Framework, count: usize) {
    if !runs(framework) {
        return;
    }
    let app = App::direct(framework, false).await;
    let run = app.run(&[]).await;
    run.assert_all_passed(count);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Express

const EXPRESS_ME_OK: &str = "Express: the protected route answers 200 with the signed-in user";
const EXPRESS_ME_401: &str = "Express: the protected route refuses a visitor without a session";
const EXPRESS_ME_FORGED: &str = "Express: the protected route refuses a forged session cookie";
const EXPRESS_NO_HANG: &str = "Express: sign-in through the mounted handler does not hang";
const EXPRESS_CORS_TRUSTED: &str =
    "Express: the trusted front end may call Better Auth with credentials";
const EXPRESS_CORS_UNTRUSTED: &str =
    "Express: an untrusted origin may not call Better Auth with credentials";
const EXPRESS_MALFORMED: &str =
    "Express: a malformed JSON body reaches Better Auth, not express.json()";

mutating_proxy::proxy_tests! {
    passes_every_scenario:
    the_express_app_passes_every_express_scenario(Framework::Express, 7);
    the_nestjs_app_passes_every_nestjs_scenario(Framework::Nestjs, 7);
    the_tanstack_start_app_passes_every_tanstack_start_scenario(Framework::TanstackStart, 4);
}

/// express.json() before toNodeHandler: with better-auth 1.7.25 (better-call 1.4.5) sign-in no
/// longer hangs (better-call re-serialises req.body), so the hang scenario passes; what the
/// pitfall still breaks is the malformed body, answered by Express's HTML error page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_json_before_the_handler_fails_the_malformed_body_scenario() {
    let Some((app, run)) = run_with_pitfall(Framework::Express).await else {
        return;
    };
    assert_fails_exactly(&run, &[EXPRESS_MALFORMED], "express.json()");
    let actual = run.actual(EXPRESS_MALFORMED);
    assert!(actual.contains("text/html"), "{actual}");
    assert_passed(&run, &[EXPRESS_NO_HANG, EXPRESS_ME_OK, EXPRESS_ME_401]);
    app.stop().await;
}

mutating_proxy::proxy_tests! {
    breaks_with:
    /// A sign-in that never gets an answer in time (as with express.json() before the handler on
    /// releases that read the raw body only): the bounded wait fails it and names the pitfall.
    a_sign_in_that_hangs_fails_naming_the_body_parser(
        Framework::Express,
        sign_in_that_hangs(),
        HANG_TIMEOUT,
        EXPRESS_NO_HANG,
        "no request hangs",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    a_protected_route_that_never_sees_the_cookie_fails(
        Framework::Express,
        route_without_the_cookie(),
        EXPRESS_ME_OK,
        "answers 200 with the signed-in user",
    );
    a_protected_route_open_to_visitors_fails(
        Framework::Express,
        route_open_to_visitors(),
        EXPRESS_ME_401,
        "refuses a request without a valid session with 401",
    );
    /// Only checks that a session cookie is present, never validates it.
    a_protected_route_that_trusts_any_session_cookie_fails(
        Framework::Express,
        Flaw::request(|request| {
            // A session cookie alone (no cookie cache beside it, as the forged request sends).
            (is(request, "GET", "/api/me")
                && request.header("cookie").is_some_and(|c| {
                    c.contains(SESSION_TOKEN) && !c.contains("better-auth.session_data")
                }))
            .then(open_route)
        }),
        EXPRESS_ME_FORGED,
        "refuses a request without a valid session with 401",
    );
}

// ---------------------------------------------------------------------------------------------
// NestJS

const NEST_ME_OK: &str = "NestJS: the guarded route answers 200 with the signed-in user";
const NEST_ME_401: &str = "NestJS: AuthGuard refuses a visitor without a session";
const NEST_ME_FORGED: &str = "NestJS: AuthGuard refuses a forged session cookie";
const NEST_NO_HANG: &str = "NestJS: sign-in through the mounted handler does not hang";
const NEST_CORS_TRUSTED: &str =
    "NestJS: the trusted front end may call Better Auth with credentials";
const NEST_CORS_UNTRUSTED: &str =
    "NestJS: an untrusted origin may not call Better Auth with credentials";
const NEST_MALFORMED: &str =
    "NestJS: a malformed JSON body reaches Better Auth, not Nest's body parser";

/// Nest's body parser left on (the documented pitfall): sign-in still works with better-auth
/// 1.7.25, but Nest answers the malformed body with its own error shape, without Better Auth's
/// `code`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nest_body_parser_on_fails_the_malformed_body_scenario() {
    let Some((app, run)) = run_with_pitfall(Framework::Nestjs).await else {
        return;
    };
    assert_fails_exactly(&run, &[NEST_MALFORMED], "bodyParser: false");
    assert_passed(&run, &[NEST_NO_HANG, NEST_ME_OK, NEST_ME_401]);
    app.stop().await;
}

/// disableGlobalAuthGuard: /api/me answers anyone (200, empty body), so both refusal scenarios
/// fail. The signed-in user gets an empty 200 too: @Session() reads what AuthGuard attached to
/// the request, so without the guard it is undefined even with a valid cookie (the README does
/// not say so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nest_without_the_global_auth_guard_fails_the_guarded_route_scenarios() {
    if !runs(Framework::Nestjs) {
        return;
    }
    let mut options = FrameworkAppOptions::new(Framework::Nestjs);
    options.env = vec![("NEST_AUTH_GUARD".into(), "off".into())];
    let app = App {
        app: FrameworkApp::boot_with(&options)
            .await
            .expect("the NestJS app boots"),
        proxy: None,
    };
    let run = app.run(&[]).await;
    assert_failed_set(&run, &[NEST_ME_401, NEST_ME_FORGED, NEST_ME_OK]);
    for refused in [NEST_ME_401, NEST_ME_FORGED] {
        run.assert_failed(
            refused,
            "refuses a request without a valid session with 401",
        );
        let actual = run.actual(refused);
        assert!(
            actual.contains("HTTP 200") && actual.contains("AuthGuard"),
            "{actual}"
        );
    }
    run.assert_failed(NEST_ME_OK, "answers 200 with the signed-in user");
    app.stop().await;
}

mutating_proxy::proxy_tests! {
    breaks_with:
    a_nest_sign_in_that_hangs_fails_naming_the_body_parser(
        Framework::Nestjs,
        sign_in_that_hangs(),
        HANG_TIMEOUT,
        NEST_NO_HANG,
        "no request hangs",
    );
}

mutating_proxy::proxy_tests! {
    breaks:
    a_nest_route_that_never_sees_the_cookie_fails(
        Framework::Nestjs,
        route_without_the_cookie(),
        NEST_ME_OK,
        "answers 200 with the signed-in user",
    );
}

// ---------------------------------------------------------------------------------------------
// TanStack Start

const TSS_ME_OK: &str =
    "TanStack Start: the protected server route answers 200 with the signed-in user";
const TSS_ME_401: &str =
    "TanStack Start: the protected server route refuses a visitor without a session";
const TSS_SERVER_FN_COOKIE: &str =
    "TanStack Start: signing in through a server function sets the session cookie";
const TSS_SERVER_FN_PAGE: &str =
    "TanStack Start: the server function's session cookie opens the protected page";

/// Without tanstackStartCookies(): the server function signs the user in on the server and
/// redirects, but its answer has no Set-Cookie, so the protected page sends the user back to
/// sign-in. The handler route and /api/me do not depend on the plugin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tanstack_start_without_the_cookie_plugin_fails_the_server_function_scenarios() {
    let Some((app, run)) = run_with_pitfall(Framework::TanstackStart).await else {
        return;
    };
    assert_failed_set(&run, &[TSS_SERVER_FN_COOKIE, TSS_SERVER_FN_PAGE]);
    run.assert_failed(TSS_SERVER_FN_COOKIE, "tanstackStartCookies()");
    let actual = run.actual(TSS_SERVER_FN_COOKIE);
    // The redirect itself happened: only the cookie never reached the browser.
    assert!(
        actual.contains("HTTP 307")
            && actual.contains(&format!("no Set-Cookie for `{SESSION_TOKEN}`")),
        "{actual}"
    );
    run.assert_failed(
        TSS_SERVER_FN_PAGE,
        "the session cookie opens the protected page",
    );
    app.stop().await;
}

mutating_proxy::proxy_tests! {
    breaks:
    a_tanstack_route_that_never_sees_the_cookie_fails(
        Framework::TanstackStart,
        route_without_the_cookie(),
        TSS_ME_OK,
        "answers 200 with the signed-in user",
    );
    a_tanstack_route_open_to_visitors_fails(
        Framework::TanstackStart,
        route_open_to_visitors(),
        TSS_ME_401,
        "refuses a request without a valid session with 401",
    );
}

// ---------------------------------------------------------------------------------------------
// CORS (Express and NestJS): the preflight loses Allow-Credentials (the front end's cookies are
// dropped by the browser), or any origin is echoed back (any site may call with cookies).

fn without_allow_credentials() -> Flaw {
    Flaw::response(|request, response| {
        if request.method == "OPTIONS" {
            response.remove_header("access-control-allow-credentials");
        }
    })
}

fn echoing_any_origin() -> Flaw {
    Flaw::response(|request, response| {
        if request.method == "OPTIONS"
            && let Some(origin) = request.header("origin")
        {
            let origin = origin.to_string();
            response.set_header("access-control-allow-origin", &origin);
            response.set_header("access-control-allow-credentials", "true");
        }
    })
}

mutating_proxy::proxy_tests! {
    breaks:
    an_express_preflight_without_credentials_fails(
        Framework::Express,
        without_allow_credentials(),
        EXPRESS_CORS_TRUSTED,
        "trusted front end",
    );
    an_express_preflight_that_echoes_any_origin_fails(
        Framework::Express,
        echoing_any_origin(),
        EXPRESS_CORS_UNTRUSTED,
        "untrusted origin",
    );
    a_nest_preflight_without_credentials_fails(
        Framework::Nestjs,
        without_allow_credentials(),
        NEST_CORS_TRUSTED,
        "trusted front end",
    );
    a_nest_preflight_that_echoes_any_origin_fails(
        Framework::Nestjs,
        echoing_any_origin(),
        NEST_CORS_UNTRUSTED,
        "untrusted origin",
    );
}
