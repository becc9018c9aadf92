//! The command line: clap definitions, and the glue from arguments to runs and exit codes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::conform::{self, ConformOptions};
use crate::error::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, HarnessError};
use crate::redact::SecretRegistry;
use crate::reference::ReferenceServer;
use crate::target::Target;

#[derive(Debug, Parser)]
#[command(
    name = "ba-harness",
    version,
    about = "Conformance and load-testing harness for Better Auth-compatible servers",
    after_help = "Exit codes: 0 everything checked passed, 1 a conformance failure, \
                  2 bad usage or configuration, 3 target unreachable or boot failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a server against the documented Better Auth protocol (features/*.feature).
    ///
    /// Without --target, installs (first run) and starts the bundled real Better Auth server
    /// from targets/better-auth and checks that.
    Conform(ConformArgs),
    /// Load-test the hot paths (get-session, JWT issue and verification) with every response
    /// checked; bounded in time or iterations, and only against loopback targets.
    Load(crate::load::LoadArgs),
}

#[derive(Debug, Args)]
pub struct ConformArgs {
    /// Server to check: scheme, host and port (e.g. http://127.0.0.1:3000). Default: the
    /// bundled reference server, started for this run.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// Serve the bundled reference over https, with a certificate from a throwaway CA the
    /// harness makes and trusts (checks the https cookie rules: __Secure- prefix, Secure).
    #[arg(long, conflicts_with = "target")]
    pub reference_https: bool,

    /// Trust this CA certificate (PEM) for the target's https certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// A Next.js app that mounts the target's Better Auth (nextCookies, server actions, proxy.ts):
    /// runs the @next-app scenarios against it.
    #[arg(long, value_name = "URL")]
    pub next_app: Option<String>,

    /// Where Better Auth is mounted on the target.
    #[arg(long, value_name = "PATH", default_value = "/api/auth")]
    pub base_path: String,

    /// Cookie name prefix (Better Auth's advanced.cookiePrefix).
    #[arg(long, value_name = "PREFIX", default_value = "better-auth")]
    pub cookie_prefix: String,

    /// Folder of .feature files. Default: ./features, else the one shipped with ba-harness.
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,

    /// Run only scenarios matching a tag expression, e.g. '@session-cookie and not @slow'.
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,

    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write a JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// The target's signing secret (BETTER_AUTH_SECRET), to verify cookie signatures rather
    /// than only their shape. Never printed.
    #[arg(
        long,
        value_name = "SECRET",
        env = "BA_HARNESS_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,

    /// OAuth client_id of a public PKCE client registered on the target (OAuth scenarios).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// Redirect URI registered for --client-id.
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,

    /// Post-logout redirect URI registered for --client-id.
    #[arg(long, value_name = "URI")]
    pub post_logout_redirect_uri: Option<String>,

    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Bound on the whole run in seconds; unfinished scenarios then count as failed.
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub run_timeout: u64,

    /// An existing account to sign in with when the target's sign-up is closed.
    #[arg(long, value_name = "EMAIL", requires = "user_password")]
    pub user_email: Option<String>,

    /// Password of --user-email. Never printed.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "BA_HARNESS_USER_PASSWORD",
        hide_env_values = true,
        requires = "user_email"
    )]
    pub user_password: Option<String>,

    /// The target's sign-in rate limit (requests per 10 s window per client) for @rate-limit.
    /// Default: Better Auth's production limit, 3; 0 declares rate limiting off (skips @rate-limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub rate_limit_max: Option<u32>,

    /// The target's session.updateAge in seconds (10 or less enables @session-refresh).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub session_update_age: Option<u64>,

    /// Known-deviation list. Default: ./known-deviations.toml, else the one shipped with ba-harness.
    #[arg(long, value_name = "FILE")]
    pub deviations: Option<PathBuf>,

    /// Fail the run on SHOULD-rule failures too (by default they are warnings).
    #[arg(long)]
    pub strict: bool,

    /// Scenarios run at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
}

/// Better Auth's built-in limit for /sign-in and /sign-up in production: 3 requests per 10 s.
const DOCUMENTED_SIGN_IN_LIMIT: u32 = 3;

/// Runs the program with `args` and returns its exit code.
pub fn main(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ba-harness: could not start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            result = dispatch(cli) => result,
            _ = tokio::signal::ctrl_c() => {
                // Dropping the run future stops the bundled server (kill on drop).
                eprintln!("\nba-harness: interrupted; stopping");
                Ok(EXIT_INTERRUPTED)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "ba-harness: error: {}",
                crate::redact::scrub_text(&e.to_string())
            );
            e.exit_code()
        }
    }
}

async fn dispatch(cli: Cli) -> Result<i32, HarnessError> {
    match cli.command {
        Command::Conform(args) => conform_command(args).await,
        Command::Load(args) => crate::load::run(args).await,
    }
}

async fn conform_command(args: ConformArgs) -> Result<i32, HarnessError> {
    let timeout = Duration::from_secs(args.timeout);
    let features = args
        .features
        .clone()
        .unwrap_or_else(conform::default_features_dir);
    let options = ConformOptions {
        features,
        tags: args.tags.clone(),
        concurrency: args.concurrency as usize,
        run_timeout: Duration::from_secs(args.run_timeout),
        strict: args.strict,
        deviations: args
            .deviations
            .clone()
            .unwrap_or_else(crate::deviations::default_path),
    };

    conform::validate(&options)?;
    let ca_pem = args.ca_cert.as_deref().map(read_ca_cert).transpose()?;
    let (mut target, server) = match &args.target {
        Some(url) => (Target::new(url, &args.base_path, timeout)?, None),
        None => {
            eprintln!("ba-harness: starting the bundled Better Auth server (targets/better-auth)…");
            // A short cookie cache and updateAge let the run watch the cache's revocation delay
            // end and a session slide (cookie-cache, session-refresh features); everything else
            // is the reference's production config.
            let server = ReferenceServer::boot_with(
                &[("COOKIE_CACHE_MAX_AGE", "6"), ("SESSION_UPDATE_AGE", "3")],
                args.reference_https,
            )
            .await?;
            let target = server.target(timeout)?;
            (target, Some(server))
        }
    };
    apply_overrides(&mut target, &args);
    if let Some(app) = &args.next_app {
        target.next_app = Some(url::Url::parse(app).map_err(|e| {
            HarnessError::Usage(format!("--next-app `{app}` is not a URL ({e})"))
        })?);
    }
    if let Some(pem) = ca_pem {
        target.ca_pem = Some(std::sync::Arc::new(pem));
    }
    target.declare_configured_capabilities();
    println!("ba-harness conform: {}", target.description);

    let result = conform::run(target, &options).await;
    if let Some(server) = server {
        server.stop().await;
    }
    let report = result?;
    println!("{}", report.summary());
    if let Some(path) = &args.json {
        report.write_json(path)?;
        println!("JSON report: {}", path.display());
    }
    if let Some(path) = &args.junit {
        report.write_junit(path)?;
        println!("JUnit report: {}", path.display());
    }
    Ok(if report.passed() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn read_ca_cert(path: &std::path::Path) -> Result<String, HarnessError> {
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
        SecretRegistry::global().register(password);
        target.account = Some(crate::target::Account {
            email: email.clone(),
            password: password.clone(),
        });
    }
    match args.rate_limit_max {
        Some(0) => {
            target.rate_limit_max = None;
            target
                .discovery_notes
                .push("rate limiting declared off (--rate-limit-max 0)".into());
        }
        Some(max) => target.rate_limit_max = Some(max),
        // The bundled reference reports its limit; for another server, Better Auth's documented
        // production default applies unless the user says otherwise.
        None if target.rate_limit_max.is_none() && args.target.is_some() => {
            target.rate_limit_max = Some(DOCUMENTED_SIGN_IN_LIMIT);
            target.discovery_notes.push(format!(
                "assuming Better Auth's production sign-in rate limit, {DOCUMENTED_SIGN_IN_LIMIT} per 10 s per client \
                 (--rate-limit-max N to change, --rate-limit-max 0 if rate limiting is off)"
            ));
        }
        None => {}
    }
    if args.session_update_age.is_some() {
        target.session_update_age = args.session_update_age;
    }
    if let Some(secret) = &args.secret {
        SecretRegistry::global().register(secret);
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
