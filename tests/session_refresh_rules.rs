//! Sliding expiry, against the real reference: it extends a session older than updateAge; a
//! server that never extends (updateAge left at 1 day while the harness is told 3 s) and one
//! that extends but does not re-send the cookie (better-auth #3064/#4475) each fail the rule.

mod mutating_proxy;

use mutating_proxy::{BrokenReference, Flaw, run_conform};

const SCENARIO: &str = "get-session extends a session older than updateAge";

async fn run(flaw: Flaw, env: &[(&str, &str)]) -> mutating_proxy::ConformRun {
    let broken = BrokenReference::start(flaw, env).await;
    let mut args = broken.target_args();
    args.extend(["--tags", "@session-refresh", "--session-update-age", "3"].map(String::from));
    let run = run_conform(args).await;
    broken.server.stop().await;
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_short_update_age_passes() {
    let run = run(Flaw::none(), &[("SESSION_UPDATE_AGE", "3")]).await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_eq!(
        run.scenario(SCENARIO).unwrap()["status"],
        "passed",
        "{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_extends_fails() {
    // The reference's default updateAge is one day: nothing is extended within the run.
    let run = run(Flaw::none(), &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.output);
    run.assert_failed(SCENARIO, "sliding expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_extends_without_resending_the_cookie_fails() {
    let flaw = Flaw::response(|request, response| {
        if request.path_only().ends_with("/get-session") {
            response.map_set_cookies(|line| {
                (!line.contains("session_token=")).then(|| line.to_string())
            });
        }
    });
    let run = run(flaw, &[("SESSION_UPDATE_AGE", "3")]).await;
    assert_eq!(run.code, Some(1), "{}", run.output);
    run.assert_failed(SCENARIO, "re-issues its cookie");
}
