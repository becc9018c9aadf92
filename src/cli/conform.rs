//! `ba-harness conform` (and the run under `snapshot`): check the report paths, boot what the
//! run needs, build the Target, run, then print the summary and write the reports.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{ConformArgs, Output};
use crate::conform::{self, ConformOptions};
use crate::error::{HarnessError, Outcome};
use crate::redact::Secrets;
use crate::reference::ReferenceServer;
use crate::report::RunReport;
use crate::report::event::Listener;
use crate::report::terminal::{TerminalReporter, Verbosity};
use crate::target::Target;

/// Runs `conform`; with `snapshot_out`, records the exchanges there instead of writing reports.
pub(super) async fn run(
    mut args: ConformArgs,
    snapshot_out: Option<PathBuf>,
    output: Output,
    secrets: Secrets,
) -> Result<Outcome, HarnessError> {
    if secrets.showing() {
        eprintln!(
            "ba-harness: --show-secrets: passwords, tokens and cookie values are printed and \
             written unredacted"
        );
    }
    // A report path that cannot be written is found now, not after the whole run.
    check_report_paths(&args)?;
    check_code_lifetime_fits(&args)?;
    let reporter = Arc::new(TerminalReporter::new(output.verbosity, output.color));
    let timeout = Duration::from_secs(args.timeout);
    let options = options(
        &args,
        snapshot_out.is_some(),
        Listener(reporter.clone()),
        secrets,
    )?;
    conform::validate(&options)?;
    let ca_pem = args.ca_cert.as_deref().map(read_ca_cert).transpose()?;

    let bundled = match &args.target {
        Some(_) => Bundled::default(),
        None => Bundled::boot(&args, &options, output.verbosity).await?,
    };
    // A reference profile's cookie prefix and seeded accounts, unless given.
    if let Some(server) = &bundled.server {
        if let Some(prefix) = &server.ready.cookie_prefix
            && args.cookie_prefix == "better-auth"
        {
            args.cookie_prefix = prefix.clone();
        }
        if args.users_file.is_none() && args.user_email.is_none() {
            args.users_file = server.ready.users_file.as_ref().map(PathBuf::from);
        }
    }
    let target = match &args.target {
        Some(url) => Target::new(url, &args.base_path, timeout),
        None => bundled.target(timeout),
    };
    // The bundled Next.js app's signing secret is no target's: the run's redaction learns it here.
    if let Some(app) = &bundled.next_app {
        options.secrets.register(&app.secret);
    }
    let target = match target.and_then(|t| configure_target(t, &args, &bundled, ca_pem)) {
        Ok(target) => target,
        Err(e) => {
            bundled.stop().await;
            return Err(e);
        }
    };

    let result = conform::run(target, &options).await;
    bundled.stop().await;
    let report = result?;
    reporter.summary(&report);
    if let (Some(dir), Some(recorder)) = (&snapshot_out, &options.recorder) {
        return write_snapshot_dir(dir, recorder, &reporter);
    }
    write_reports(&report, &args, &reporter)?;
    let apps_passed =
        super::apps::run_apps(&args.apps, &options, timeout, &report, args.json.as_deref()).await?;
    Ok(Outcome::from_passed(report.passed() && apps_passed))
}

/// Every report path given (--json, --junit, --report), checked before anything runs (exit 2).
fn check_report_paths(args: &ConformArgs) -> Result<(), HarnessError> {
    for (flag, path) in [
        ("--json", &args.json),
        ("--junit", &args.junit),
        ("--report", &args.report),
    ] {
        if let Some(path) = path {
            crate::report::check_writable(path, flag)?;
        }
    }
    Ok(())
}

/// The code-lifetime scenario waits the declared lifetime out: a run bounded more tightly than
/// that would cut it off and count it failed, so the pair is refused before anything runs.
fn check_code_lifetime_fits(args: &ConformArgs) -> Result<(), HarnessError> {
    // The wait (lifetime + 2 s) plus room for the sign-up, authorization and exchange before it.
    const ROOM_SECS: u64 = 30;
    match args.code_lifetime {
        Some(lifetime) if args.run_timeout <= lifetime + ROOM_SECS => {
            Err(HarnessError::Usage(format!(
                "--code-lifetime {lifetime} needs a run longer than the wait: give --run-timeout \
                 above {}",
                lifetime + ROOM_SECS
            )))
        }
        _ => Ok(()),
    }
}

fn write_reports(
    report: &RunReport,
    args: &ConformArgs,
    reporter: &TerminalReporter,
) -> Result<(), HarnessError> {
    if let Some(path) = &args.json {
        report.write_json(path)?;
        reporter.line(&format!("JSON report: {}", path.display()));
    }
    if let Some(path) = &args.junit {
        report.write_junit(path)?;
        reporter.line(&format!("JUnit report: {}", path.display()));
    }
    if let Some(path) = &args.report {
        report.write_markdown(path)?;
        reporter.line(&format!("Markdown report: {}", path.display()));
    }
    Ok(())
}

/// How the run is shaped, from the flags (a snapshot run: one scenario at a time, recorded,
/// without the timing-dependent scenarios).
fn options(
    args: &ConformArgs,
    snapshot: bool,
    listener: Listener,
    secrets: Secrets,
) -> Result<ConformOptions, HarnessError> {
    let features = match args.suite.features.clone() {
        Some(dir) => dir,
        None => conform::default_features_dir()?,
    };
    let mut options = ConformOptions {
        features,
        // A port runs the compatibility matrix's selection unless told otherwise.
        tags: args.tags.clone().or_else(|| {
            args.port
                .map(|_| crate::bundled::port::MATRIX_TAGS.to_string())
        }),
        concurrency: args.concurrency as usize,
        run_timeout: Duration::from_secs(args.run_timeout),
        strict: args.strict,
        deviations: match (&args.port, &args.suite.deviations) {
            (Some(_), None) => crate::deviations::DeviationList::Empty,
            _ => crate::deviations::DeviationList::from_flag(args.suite.deviations.clone()),
        },
        recorder: None,
        keep_users: args.keep_users,
        listener,
        secrets,
    };
    if snapshot {
        options.recorder = Some(Arc::new(crate::snapshot::Recorder::default()));
        options.concurrency = 1;
        options.tags = Some(match &options.tags {
            Some(tags) => format!("({tags}) and {SNAPSHOT_EXCLUDED_TAGS}"),
            None => SNAPSHOT_EXCLUDED_TAGS.to_string(),
        });
    }
    Ok(options)
}

/// The bundled reference's authorization code lifetime (CODE_EXPIRES_IN, seconds): short enough
/// that the code-lifetime scenario's wait hides among the other scenarios, long enough that
/// every other flow (a sign-in on the login page included, under a signed query the provider
/// bounds by the same lifetime) finishes well within it on a loaded machine. A sign-in can queue
/// behind a dozen scrypt hashes of concurrent scenarios (about 10 a second here, fewer under a
/// full CI build), hence 15 s rather than the few seconds an idle run would allow.
const BUNDLED_CODE_LIFETIME: &str = "15";

/// The bundled servers a run without --target boots: the reference, and the Next.js app and
/// the resource server (with an issuer of its own) when the tags select their scenarios.
#[derive(Default)]
struct Bundled {
    server: Option<ReferenceServer>,
    port: Option<crate::bundled::port::PortServer>,
    next_app: Option<crate::next_app::NextApp>,
    resource: Option<crate::resource_server::BundledResource>,
}

impl Bundled {
    async fn boot(
        args: &ConformArgs,
        options: &ConformOptions,
        verbosity: Verbosity,
    ) -> Result<Self, HarnessError> {
        if let Some(port) = args.port {
            if verbosity != Verbosity::Quiet {
                eprintln!("ba-harness: starting the bundled {} port…", port.name());
            }
            return Ok(Bundled {
                port: Some(crate::bundled::port::PortServer::boot(port).await?),
                ..Bundled::default()
            });
        }
        // The bundled Next.js app (targets/nextjs) runs the @next-app scenarios; it is booted
        // with the reference, in parallel, whenever the tag filter selects them (by default;
        // `--tags 'not @next-app'` leaves it out) and no --next-app URL is given.
        let with_next_app = args.next_app.is_none()
            && options.tags.as_deref().is_none_or(|expr| {
                use cucumber::tag::Ext as _;
                use std::str::FromStr as _;
                cucumber::gherkin::tagexpr::TagOperation::from_str(expr)
                    .is_ok_and(|op| op.eval(["next-app".to_string()].iter()))
            });
        // Likewise the bundled FastAPI resource server and an issuer of its own, unless a
        // --resource is given or the tags select no @resource-server scenario.
        let with_resource = args.resource.is_none()
            && crate::resource_server::tags_select_resource_scenarios(options.tags.as_deref());
        if verbosity != Verbosity::Quiet {
            eprintln!(
                "ba-harness: starting the bundled Better Auth server (targets/better-auth){}{}…",
                if with_next_app {
                    " and the bundled Next.js app (targets/nextjs)"
                } else {
                    ""
                },
                if with_resource {
                    " and the bundled resource server (targets/fastapi-resource) with its issuer"
                } else {
                    ""
                }
            );
        }
        // A short cookie cache, updateAge and code lifetime let the run watch the cache's
        // revocation delay end, a session slide and a code expire (cookie-cache,
        // session-refresh, oauth-code-lifetime features); everything else is the reference's
        // production config.
        // --reference-profile: BA_PROFILE for server.mjs; tls-proxy is served over https.
        let mut reference_env = vec![("COOKIE_CACHE_MAX_AGE", "6"), ("SESSION_UPDATE_AGE", "3")];
        let profile = args.reference_profile.as_deref().unwrap_or_default();
        if !profile.is_empty() {
            reference_env.push(("BA_PROFILE", profile));
        }
        let has_profile = |name: &str| profile.split(',').any(|p| p.trim() == name);
        // Not with one-ip: there every client shares one rate-limit bucket, and a request that
        // waits out a 429 could outlive a short code or signed login query.
        if !has_profile("one-ip") {
            reference_env.push(("CODE_EXPIRES_IN", BUNDLED_CODE_LIFETIME));
        }
        let tls_proxy = has_profile("tls-proxy");
        let (server, next_app, resource) = tokio::join!(
            ReferenceServer::boot_release(
                args.better_auth.as_deref(),
                &reference_env,
                args.reference_https || tls_proxy,
            ),
            async {
                if with_next_app {
                    crate::next_app::NextApp::boot().await.map(Some)
                } else {
                    Ok(None)
                }
            },
            async {
                if with_resource {
                    crate::resource_server::BundledResource::boot()
                        .await
                        .map(Some)
                } else {
                    Ok(None)
                }
            }
        );
        // Whichever failed, the others are stopped by their drop.
        Ok(Bundled {
            server: Some(server?),
            port: None,
            next_app: next_app?,
            resource: resource?,
        })
    }

    /// The bundled reference (or port) as the target, with the Next.js app when it runs.
    fn target(&self, timeout: Duration) -> Result<Target, HarnessError> {
        let mut target = match (&self.server, &self.port) {
            (_, Some(port)) => port.target(timeout)?,
            (Some(server), None) => server.target(timeout)?,
            (None, None) => unreachable!("the bundled server boots when no --target is given"),
        };
        if let Some(app) = &self.next_app {
            target.next_app = Some(app.app_url());
            target.description = format!(
                "{}; bundled Next.js app ({}) at {}",
                target.description, app.version, app.url
            );
        }
        Ok(target)
    }

    async fn stop(self) {
        if let Some(server) = self.server {
            server.stop().await;
        }
        if let Some(port) = self.port {
            port.stop().await;
        }
        if let Some(app) = self.next_app {
            app.stop().await;
        }
        if let Some(resource) = self.resource {
            resource.stop().await;
        }
    }
}

/// The flags that describe the target, applied to it.
fn configure_target(
    mut target: Target,
    args: &ConformArgs,
    bundled: &Bundled,
    ca_pem: Option<String>,
) -> Result<Target, HarnessError> {
    apply_overrides(&mut target, args);
    if let Some(path) = &args.users_file {
        target.more_accounts = crate::target::read_users_file(path)?;
    }
    crate::framework_app::apply_target_kind(&mut target, args.target_kind);
    if let Some(app) = &args.next_app {
        target.next_app =
            Some(url::Url::parse(app).map_err(|e| {
                HarnessError::Usage(format!("--next-app `{app}` is not a URL ({e})"))
            })?);
    }
    if let Some(pem) = ca_pem {
        target.ca_pem = Some(Arc::new(pem));
    }
    if let Some(resource) = &bundled.resource {
        resource.configure(&mut target);
    }
    crate::resource_server::apply_resource_args(
        &mut target,
        args.resource.as_deref(),
        args.issuer_profiles,
        args.jwks_rotation_interval,
    )?;
    target.declare_configured_capabilities();
    Ok(target)
}

fn read_ca_cert(path: &Path) -> Result<String, HarnessError> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| HarnessError::Usage(format!("--ca-cert {}: {e}", path.display())))?;
    reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| {
        HarnessError::Usage(format!(
            "--ca-cert {} is not a PEM certificate: {e}",
            path.display()
        ))
    })?;
    Ok(pem)
}

fn apply_overrides(target: &mut Target, args: &ConformArgs) {
    target.cookie_prefix = args.cookie_prefix.clone();
    if let (Some(email), Some(password)) = (&args.user_email, &args.user_password) {
        target.account = Some(crate::target::Account {
            email: email.clone(),
            password: password.clone(),
        });
    }
    match args.rate_limit_max {
        Some(0) => {
            target.rate_limit_max = None;
            target.rate_limit_off = true;
            target
                .discovery_notes
                .push("rate limiting declared off (--rate-limit-max 0)".into());
        }
        Some(max) => target.rate_limit_max = Some(max),
        // The bundled reference reports its limit; for another server an undeclared limit is
        // probed (features/rate-limit.feature), never assumed.
        None => {}
    }
    if args.session_update_age.is_some() {
        target.session_update_age = args.session_update_age;
    }
    if args.code_lifetime.is_some() {
        target.code_lifetime = args.code_lifetime;
    }
    if args.jwt_claims.jwt_issuer.is_some() {
        target.jwt_issuer = args.jwt_claims.jwt_issuer.clone();
    }
    if args.jwt_claims.jwt_audience.is_some() {
        target.jwt_audience = args.jwt_claims.jwt_audience.clone();
    }
    if let Some(n) = args.min_password_length {
        target.min_password_length = Some(n as usize);
    }
    if let Some(n) = args.max_password_length {
        target.max_password_length = Some(n as usize);
    }
    target.account_settings = target
        .account_settings
        .overridden_by(&args.account_settings());
    if let Some(secret) = &args.secret {
        target.secret = Some(secret.clone());
    }
    if let Some(id) = &args.client_id {
        target.oauth.client_id = Some(id.clone());
    }
    if let Some(uri) = &args.redirect_uri {
        target.oauth.redirect_uri = Some(uri.clone());
    }
    if let Some(uri) = &args.post_logout_redirect_uri {
        target.oauth.post_logout_redirect_uri = Some(uri.clone());
    }
}

/// Scenarios left out of snapshots: they poll until something expires, so how many exchanges
/// they make depends on timing, not on the protocol.
/// The Next.js scenarios post multipart forms outside the recorded client, so they are left out too.
/// The resource-server scenarios talk to a backend on a random port outside the recorded target.
/// The code-lifetime scenario waits the lifetime out, which one-at-a-time snapshots would pay in full.
const SNAPSHOT_EXCLUDED_TAGS: &str = "not @short-cookie-cache and not @session-refresh and not @rate-limit and not @code-lifetime and not @next-app and not @resource-server";

/// Replaces the .snap files in `dir` with this run's.
fn write_snapshot_dir(
    dir: &Path,
    recorder: &crate::snapshot::Recorder,
    reporter: &TerminalReporter,
) -> Result<Outcome, HarnessError> {
    let files = recorder.files();
    let output_error = |source: std::io::Error| HarnessError::Output {
        path: dir.display().to_string(),
        source,
    };
    if dir.exists() {
        for old in crate::snapshot::read_snapshots(dir)
            .map_err(output_error)?
            .keys()
        {
            std::fs::remove_file(dir.join(old)).map_err(output_error)?;
        }
    }
    let written = crate::snapshot::write_snapshots(dir, &files).map_err(output_error)?;
    reporter.line(&format!(
        "snapshot: {} exchanges written to {}",
        written.len(),
        dir.display()
    ));
    Ok(Outcome::Passed)
}
