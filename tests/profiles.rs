//! The bundled reference in its configuration profiles (targets/better-auth/server.mjs,
//! `BA_PROFILE`), each one documented Better Auth option, checked with `conform --target` and only
//! the flags that state facts the harness cannot discover: the signing secret, the OAuth client
//! registered for it, the accounts when sign-up is closed, the CA of a private certificate.
//! Everything else (mount path, cookie prefix, rate limit, capabilities) the harness must find
//! itself, and every profile must pass (exit 0): a failure here is the harness guessing wrong.
//!
//! The cheap profiles run in `cargo test`; the whole matrix, with timings, is
//! `scripts/profiles.sh` (results in docs/profiles.md), which also runs the ignored ones.

mod mutating_proxy;

use std::time::Instant;

use ba_harness::reference::ReferenceServer;
use mutating_proxy::{ConformRun, run_conform};

/// Boots the reference in `profile` (plus `extra_env`), runs `conform --target` with the facts
/// only (and `extra_args`), prints the run's figures, and returns it.
async fn run_profile(profile: &str, extra_env: &[(&str, &str)], extra_args: &[&str]) -> ConformRun {
    let https = profile.split(',').any(|p| p == "tls-proxy");
    let mut env = vec![("BA_PROFILE", profile)];
    env.extend_from_slice(extra_env);
    let booted = Instant::now();
    let server = ReferenceServer::boot_with(&env, https)
        .await
        .unwrap_or_else(|e| panic!("the reference boots in profile {profile}: {e}"));
    let boot_secs = booted.elapsed().as_secs_f64();
    assert_eq!(
        server.ready.profiles.join(","),
        profile,
        "the server reports the profiles it runs"
    );

    let mut args = vec![
        "--target".to_string(),
        server.ready.base_url.clone(),
        "--secret".to_string(),
        server.secret.clone(),
    ];
    // The OAuth client registered for the harness: a fact no server publishes.
    for (flag, value) in [
        ("--client-id", &server.ready.client_id),
        ("--redirect-uri", &server.ready.redirect_uri),
        ("--post-logout-redirect-uri", &server.ready.post_logout_redirect_uri),
    ] {
        if let Some(value) = value {
            args.extend([flag.to_string(), value.clone()]);
        }
    }
    // The accounts that exist when sign-up is closed.
    if let Some(users) = &server.ready.users_file {
        args.extend(["--users-file".to_string(), users.clone()]);
    }
    let ca_path = std::env::temp_dir().join(format!(
        "ba-harness-profile-ca-{}-{}.pem",
        std::process::id(),
        server.ready.port
    ));
    if let Some(ca) = &server.ca_pem {
        std::fs::write(&ca_path, ca).unwrap();
        args.extend(["--ca-cert".to_string(), ca_path.display().to_string()]);
    }
    args.extend(extra_args.iter().map(|a| a.to_string()));

    let started = Instant::now();
    let run = run_conform(args).await;
    let run_secs = started.elapsed().as_secs_f64();
    server.stop().await;
    let _ = std::fs::remove_file(&ca_path);
    let summary = run
        .output
        .lines()
        .rev()
        .find(|line| line.starts_with("conform:"))
        .unwrap_or("(no summary line)")
        .to_string();
    // One line per profile, collected by scripts/profiles.sh into docs/profiles.md.
    eprintln!(
        "PROFILE {profile} | exit {} | boot {boot_secs:.1} s | run {run_secs:.1} s | {summary}",
        run.code.map_or("none".to_string(), |c| c.to_string()),
    );
    run
}

/// The run passed (exit 0) and really checked something: at least `min_passed` scenarios
/// passed, so a profile cannot pass by having everything skipped.
fn assert_passes(run: &ConformRun, profile: &str, min_passed: usize) {
    let failed = run.failed_names();
    assert_eq!(
        run.code,
        Some(0),
        "profile {profile}: exit {:?}, failed: {failed:?}\n{}",
        run.code,
        run.output
    );
    let passed = run.report["scenarios"]
        .as_array()
        .map(|all| all.iter().filter(|s| s["status"] == "passed").count())
        .unwrap_or(0);
    assert!(
        passed >= min_passed,
        "profile {profile}: only {passed} scenarios passed (expected at least {min_passed})\n{}",
        run.output
    );
}

/// Scenarios that must pass in every profile (a plain --target run passes about 120).
const MIN_PASSED: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mounted_elsewhere_with_another_cookie_prefix_passes_with_facts_only() {
    // No --base-path, no --cookie-prefix: the harness finds /auth and `acme` itself.
    let run = run_profile("mounted", &[], &[]).await;
    assert_passes(&run, "mounted", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sign_up_with_seeded_accounts_passes_with_the_users_file() {
    let run = run_profile("closed-signup", &[], &[]).await;
    // Fewer pass: scenarios that need fresh accounts, or that test sign-up itself, are skipped.
    assert_passes(&run, "closed-signup", 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_registration_off_with_a_seeded_client_passes() {
    let run = run_profile("no-dcr", &[], &[]).await;
    assert_passes(&run, "no-dcr", MIN_PASSED);
}

// The rest of the matrix: each a full run, several with waits (cookie cache, 429s), so together
// they take several minutes on a busy 2-core machine. scripts/profiles.sh runs them.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn rate_limiter_off_passes_without_a_declared_limit() {
    let run = run_profile("rate-limit-off", &[], &[]).await;
    assert_passes(&run, "rate-limit-off", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn a_custom_sign_in_limit_passes_without_a_declared_limit() {
    let run = run_profile("rate-limit-custom", &[], &[]).await;
    assert_passes(&run, "rate-limit-custom", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn the_compact_cookie_cache_passes() {
    let run = run_profile("cookie-cache-compact", &[("COOKIE_CACHE_MAX_AGE", "6")], &[]).await;
    assert_passes(&run, "cookie-cache-compact", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn the_jwt_cookie_cache_passes() {
    let run = run_profile("cookie-cache-jwt", &[("COOKIE_CACHE_MAX_AGE", "6")], &[]).await;
    assert_passes(&run, "cookie-cache-jwt", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn the_jwe_cookie_cache_passes() {
    let run = run_profile("cookie-cache-jwe", &[("COOKIE_CACHE_MAX_AGE", "6")], &[]).await;
    assert_passes(&run, "cookie-cache-jwe", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn rs256_keys_pass() {
    let run = run_profile("rs256", &[], &[]).await;
    assert_passes(&run, "rs256", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn es256_keys_pass() {
    let run = run_profile("es256", &[], &[]).await;
    assert_passes(&run, "es256", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn node_env_development_passes() {
    let run = run_profile("development", &[], &[]).await;
    assert_passes(&run, "development", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn node_env_production_passes() {
    let run = run_profile("production", &[], &[]).await;
    assert_passes(&run, "production", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn behind_a_tls_terminating_proxy_passes() {
    let run = run_profile("tls-proxy", &[], &[]).await;
    assert_passes(&run, "tls-proxy", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn one_rate_limit_bucket_for_every_client_passes() {
    // Every request counts against one client address: the harness's own sign-ins hit 429s it
    // did not ask for, and must wait them out rather than report them.
    let run = run_profile("one-ip", &[], &["--run-timeout", "900"]).await;
    assert_passes(&run, "one-ip", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn a_combined_deployment_passes() {
    // The two deployments in one: mounted elsewhere, sign-up closed, no dynamic
    // registration, a custom limit, JWT cookie cache, ES256, development.
    let profile = "mounted,closed-signup,no-dcr,rate-limit-custom,cookie-cache-jwt,es256,development";
    let run = run_profile(profile, &[], &[]).await;
    assert_passes(&run, profile, 20);
}
