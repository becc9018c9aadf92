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
use mutating_proxy::{ConformRun, run_conform_with};

/// How the facts reach the harness.
#[derive(Clone, Copy, PartialEq)]
enum Facts {
    /// As flags (`--target`, `--secret`, `--client-id`, ...).
    Flags,
    /// As a target file (`--config FILE`): the secret through `secret_env`.
    TargetFile,
}

/// Boots the reference in `profile` (plus `extra_env`), runs `conform --target` with the facts
/// only, prints the run's figures, and returns it.
async fn run_profile(profile: &str, extra_env: &[(&str, &str)]) -> ConformRun {
    run_profile_with(profile, extra_env, Facts::Flags, RUN_TIMEOUT_SECS).await
}

/// The bound on one conform run.
const RUN_TIMEOUT_SECS: u64 = 300;

async fn run_profile_with(
    profile: &str,
    extra_env: &[(&str, &str)],
    facts: Facts,
    run_timeout_secs: u64,
) -> ConformRun {
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
        (
            "--post-logout-redirect-uri",
            &server.ready.post_logout_redirect_uri,
        ),
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
    let config_path = std::env::temp_dir().join(format!(
        "ba-harness-profile-{}-{}.toml",
        std::process::id(),
        server.ready.port
    ));
    let secret_var = format!("BA_HARNESS_PROFILE_SECRET_{}", server.ready.port);
    if facts == Facts::TargetFile {
        std::fs::write(&config_path, target_file(&args, &secret_var)).unwrap();
        args = vec!["--config".to_string(), config_path.display().to_string()];
    }

    let started = Instant::now();
    let env: &[(&str, &str)] = if facts == Facts::TargetFile {
        &[(secret_var.as_str(), server.secret.as_str())]
    } else {
        &[]
    };
    let run = conform(args, env, run_timeout_secs).await;
    let _ = std::fs::remove_file(&config_path);
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

/// The same facts as a target file: every `--flag value` pair as its key, the secret as the name
/// of the variable that holds it.
fn target_file(flag_args: &[String], secret_var: &str) -> String {
    let mut top = Vec::new();
    let mut oauth = Vec::new();
    for pair in flag_args.chunks(2) {
        let (flag, value) = (pair[0].as_str(), &pair[1]);
        let quoted = format!("{value:?}");
        match flag {
            "--secret" => top.push(format!("secret_env = {secret_var:?}")),
            "--target" => top.push(format!("target = {quoted}")),
            "--users-file" => top.push(format!("users_file = {quoted}")),
            "--ca-cert" => top.push(format!("ca_cert = {quoted}")),
            "--client-id" => oauth.push(format!("client_id = {quoted}")),
            "--redirect-uri" => oauth.push(format!("redirect_uri = {quoted}")),
            "--post-logout-redirect-uri" => {
                oauth.push(format!("post_logout_redirect_uri = {quoted}"))
            }
            other => panic!("no target-file key for {other}"),
        }
    }
    format!("{}\n\n[oauth]\n{}\n", top.join("\n"), oauth.join("\n"))
}

/// Runs `ba-harness conform` with `args` and the child-only environment `env`, bounded by
/// `--run-timeout` (busy CI machines and the waits for the target's 429s need more than the other
/// suites' 120 s).
async fn conform(args: Vec<String>, env: &[(&str, &str)], run_timeout_secs: u64) -> ConformRun {
    run_conform_with(args, env, run_timeout_secs).await
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

/// Runs the reference in `profile` (with `extra_env`): it must pass, [`MIN_PASSED`] scenarios
/// or more.
async fn profile_passes(profile: &str, extra_env: &[(&str, &str)]) {
    let run = run_profile(profile, extra_env).await;
    assert_passes(&run, profile, MIN_PASSED);
}

mutating_proxy::proxy_tests! {
    profile_passes:
    mounted_elsewhere_with_another_cookie_prefix_passes_with_facts_only(
        // No --base-path, no --cookie-prefix: the harness finds /auth and `acme` itself.
        "mounted",
        &[],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sign_up_with_seeded_accounts_passes_with_the_users_file() {
    let run = run_profile("closed-signup", &[]).await;
    // Fewer pass: scenarios that need fresh accounts, or that test sign-up itself, are skipped.
    assert_passes(&run, "closed-signup", 20);
}

/// Runs `profile`: it must pass, and discovery must say `note` (what it saw of the profile).
async fn profile_passes_noting(profile: &str, note: &str) -> ConformRun {
    let run = run_profile(profile, &[]).await;
    assert_passes(&run, profile, MIN_PASSED);
    assert!(
        run.output.contains(note),
        "discovery says what it saw: {note}\n{}",
        run.output
    );
    run
}

/// The scenario that checks the session sign-up starts.
const SIGN_UP_STARTS_SESSION: &str = "Sign-up creates the user and starts a session";

/// emailAndPassword.autoSignIn false: sign-up answers `{"token": null}` and sets no cookie. Every
/// scenario signs its user in after sign-up, and only the two that check sign-up's own session
/// (and its 422 for a taken email, which such a server answers like a fresh sign-up) are skipped,
/// saying why. Before the harness knew this configuration, 144 scenarios failed against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_without_auto_sign_in_passes_signing_users_in_after_sign_up() {
    let run = profile_passes_noting(
        "no-auto-sign-in",
        "sign-up answered {\"token\": null} and set no cookie",
    )
    .await;
    let skipped = run
        .scenario(SIGN_UP_STARTS_SESSION)
        .unwrap_or_else(|| panic!("{SIGN_UP_STARTS_SESSION} is in the report\n{}", run.output));
    assert_eq!(skipped["status"], "skipped", "{}", run.output);
    assert!(
        skipped.to_string().contains("autoSignIn false"),
        "the skip names the configuration: {skipped}"
    );
    // What a duplicate sign-up does to the account is checked all the same.
    let kept = run.scenario(DUPLICATE_KEEPS_ACCOUNT).unwrap();
    assert_eq!(kept["status"], "passed", "{kept}");
}

/// The scenario that checks a duplicate sign-up changes nothing, on every server.
const DUPLICATE_KEEPS_ACCOUNT: &str = "A duplicate sign-up leaves the account as it was";

/// emailAndPassword.requireEmailVerification: a fresh account's sign-in answers 403
/// EMAIL_NOT_VERIFIED, so scenarios lease the given (verified) accounts, and those that must sign
/// in an account of their own are skipped with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_email_verification_passes_with_verified_accounts() {
    profile_passes_noting(
        "verify-email",
        "a freshly signed-up account cannot sign in (its sign-in answered HTTP 403 EMAIL_NOT_VERIFIED)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_registration_off_with_a_seeded_client_passes_with_a_target_file() {
    // The facts (target, OAuth client, the secret's variable) in a target file, no other flag.
    let run = run_profile_with("no-dcr", &[], Facts::TargetFile, RUN_TIMEOUT_SECS).await;
    assert!(
        run.output.contains("ba-harness: target file "),
        "{}",
        run.output
    );
    assert_passes(&run, "no-dcr", MIN_PASSED);
}

// The rest of the matrix: each a full run, several with waits (cookie cache, 429s), so together
// they take several minutes on a busy 2-core machine. scripts/profiles.sh runs them.

mutating_proxy::proxy_tests! {
    profile_passes:
    #[ignore = "full matrix: scripts/profiles.sh"]
    rate_limiter_off_passes_without_a_declared_limit("rate-limit-off", &[]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    a_custom_sign_in_limit_passes_without_a_declared_limit("rate-limit-custom", &[]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    the_compact_cookie_cache_passes("cookie-cache-compact", &[("COOKIE_CACHE_MAX_AGE", "6")]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    the_jwt_cookie_cache_passes("cookie-cache-jwt", &[("COOKIE_CACHE_MAX_AGE", "6")]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    the_jwe_cookie_cache_passes("cookie-cache-jwe", &[("COOKIE_CACHE_MAX_AGE", "6")]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    rs256_keys_pass("rs256", &[]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    es256_keys_pass("es256", &[]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    node_env_development_passes("development", &[]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    node_env_production_passes("production", &[]);
    #[ignore = "full matrix: scripts/profiles.sh"]
    behind_a_tls_terminating_proxy_passes("tls-proxy", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn one_rate_limit_bucket_for_every_client_passes() {
    // Every request counts against one client address: the harness's own sign-ins hit 429s it
    // did not ask for, and must wait them out rather than report them.
    let run = run_profile_with("one-ip", &[], Facts::Flags, 900).await;
    assert_passes(&run, "one-ip", MIN_PASSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full matrix: scripts/profiles.sh"]
async fn a_combined_deployment_passes() {
    // The two deployments in one: mounted elsewhere, sign-up closed, no dynamic
    // registration, a custom limit, JWT cookie cache, ES256, development.
    let profile =
        "mounted,closed-signup,no-dcr,rate-limit-custom,cookie-cache-jwt,es256,development";
    let run = run_profile(profile, &[]).await;
    assert_passes(&run, profile, 20);
}

// The target file's usage errors (exit 2) and precedence, without a server.

/// Writes `text` as a target file and returns its path.
fn write_target_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "ba-harness-target-file-{}-{name}.toml",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `conform --config path` and `extra` flags.
async fn conform_with_config(path: &std::path::Path, extra: &[&str]) -> ConformRun {
    let mut args = vec!["--config".to_string(), path.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    conform(args, &[], 30).await
}

/// The run is a usage error (exit 2) whose output says each of `says`.
fn assert_usage_error(run: &ConformRun, says: &[&str]) {
    assert_eq!(run.code, Some(2), "{}", run.output);
    for said in says {
        assert!(run.output.contains(said), "{}", run.output);
    }
}

/// The target file `text` (written as `name`) is a usage error whose output says each of `says`.
async fn target_file_is_a_usage_error(name: &str, text: &str, says: &[&str]) {
    let path = write_target_file(name, text);
    let run = conform_with_config(&path, &[]).await;
    let _ = std::fs::remove_file(&path);
    assert_usage_error(&run, says);
}

#[tokio::test]
async fn a_missing_config_file_is_a_usage_error() {
    let missing = std::env::temp_dir().join("ba-harness-no-such-target-file.toml");
    let run = conform_with_config(&missing, &[]).await;
    assert_usage_error(&run, &["no-such-target-file.toml"]);
}

mutating_proxy::proxy_tests! {
    target_file_is_a_usage_error:
    an_unknown_key_in_the_target_file_is_a_usage_error_naming_it(
        "unknown",
        "target = \"http://127.0.0.1:9\"\nbase_pth = \"/auth\"\n",
        &["unknown field `base_pth`", "line 2"],
    );
    a_secret_variable_the_target_file_names_must_be_set(
        "secret-env",
        "target = \"http://127.0.0.1:9\"\nsecret_env = \"BA_HARNESS_TEST_UNSET_SECRET_VAR\"\n",
        &["BA_HARNESS_TEST_UNSET_SECRET_VAR"],
    );
}

#[tokio::test]
async fn a_flag_overrides_the_target_file() {
    // The file's target is not a URL (exit 2 when used); the flag's is a closed loopback port
    // (exit 3, unreachable): exit 3 shows the flag won.
    let path = write_target_file("override", "target = \"not a url\"\n");
    let from_file = conform_with_config(&path, &[]).await;
    assert_usage_error(&from_file, &["not a url"]);
    let overridden = conform_with_config(&path, &["--target", "http://127.0.0.1:9"]).await;
    let _ = std::fs::remove_file(&path);
    assert_eq!(overridden.code, Some(3), "{}", overridden.output);
}
