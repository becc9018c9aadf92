//! The https cookie rules against the real reference served over TLS: the correct server
//! passes, and the same server with `advanced.useSecureCookies: false` (better-auth #7156) fails
//! both @https scenarios.

mod mutating_proxy;

use ba_harness::reference::ReferenceServer;
use mutating_proxy::run_conform;

async fn run_against_https_reference(
    extra_env: &[(&str, &str)],
    tags: &str,
) -> mutating_proxy::ConformRun {
    let server = ReferenceServer::boot_with(extra_env, true)
        .await
        .expect("the https reference boots");
    let ca = std::env::temp_dir().join(format!(
        "ba-harness-ca-{}-{}.pem",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&ca, server.ca_pem.as_deref().expect("a CA for https")).unwrap();
    let run = run_conform(vec![
        "--target".into(),
        server.ready.base_url.clone(),
        "--ca-cert".into(),
        ca.display().to_string(),
        "--secret".into(),
        server.secret.clone(),
        "--tags".into(),
        tags.into(),
    ])
    .await;
    server.stop().await;
    let _ = std::fs::remove_file(ca);
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_https_reference_passes_the_https_and_session_cookie_rules() {
    let run = run_against_https_reference(&[], "@https or @session-cookie").await;
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(
        run.output
            .contains("conform: 17 passed, 0 failed, 0 skipped"),
        "{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_turned_off_on_https_fail_the_https_rules() {
    let run = run_against_https_reference(&[("USE_SECURE_COOKIES", "false")], "@https").await;
    assert_eq!(run.code, Some(1), "{}", run.output);
    run.assert_failed(
        "Over https the session cookie is __Secure- prefixed and Secure",
        "__Secure-",
    );
    run.assert_failed(
        "Over https every auth cookie is __Secure- prefixed and Secure",
        "every auth cookie is Secure",
    );
}
