//! The real reference behind a proxy that breaks one rule: the harness must fail that rule.
//! (tests/broken_servers.rs does the same with a wiremock fake; this file covers rules where
//! a real server is easier to bend than to fake.)

mod mutating_proxy;

use mutating_proxy::{BrokenReference, Flaw, run_conform};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_alone_changes_nothing() {
    let broken = BrokenReference::start(Flaw::none(), &[]).await;
    let run = run_conform(broken.target_args()).await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    broken.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_without_httponly_fails_that_rule() {
    let flaw = Flaw::response(|_, response| {
        response.map_set_cookies(|line| Some(line.replace("; HttpOnly", "")));
    });
    let broken = BrokenReference::start(flaw, &[]).await;
    let mut args = broken.target_args();
    args.extend(["--tags".into(), "@session-cookie".into()]);
    let run = run_conform(args).await;
    assert_eq!(run.code, Some(1), "{}", run.output);
    run.assert_failed("The session cookie is HttpOnly", "HttpOnly");
    broken.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_without_delete_user_leaves_the_accounts_and_says_why() {
    // user.deleteUser.enabled off, as on many deployments: cleanup cannot delete, the verdict is
    // untouched, and the run names how many accounts it left and the setting that would fix it.
    let broken = BrokenReference::start(Flaw::none(), &[("DELETE_USER", "off")]).await;
    let mut args = broken.target_args();
    args.extend(["--tags".into(), "@email-password".into()]);
    let run = run_conform(args).await;
    broken.server.stop().await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    let line = run
        .output
        .lines()
        .find(|l| l.starts_with("cleanup:"))
        .unwrap_or_else(|| panic!("no cleanup line:\n{}", run.output));
    assert!(
        line.contains("deleted 0 of") && line.contains("left behind"),
        "{line}"
    );
    assert!(line.contains("user.deleteUser.enabled"), "{line}");
}
