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
    /// Record the conformance flows' exchanges, normalised, as insta .snap files (one per
    /// exchange) for diffing two releases of a server. Runs scenarios one at a time.
    Snapshot(SnapshotArgs),
    /// Compare two snapshot folders: a coloured unified diff per changed exchange and a summary.
    /// Exit 1 when anything differs, 0 when identical.
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Folder for the .snap files (its old .snap files are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub conform: ConformArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The snapshot folder of the old release.
    pub before: PathBuf,
    /// The snapshot folder of the new release.
    pub after: PathBuf,
    /// Lines matching this regular expression are accepted differences (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub ignore: Vec<String>,
    /// Colour the diff: auto (when stdout is a terminal), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

/// Scenarios left out of snapshots: they poll until something expires, so how many exchanges
/// they make depends on timing, not on the protocol.
/// The Next.js scenarios post multipart forms outside the recorded client, so they are left out too.
/// The resource-server scenarios talk to a backend on a random port outside the recorded target.
const SNAPSHOT_EXCLUDED_TAGS: &str = "not @short-cookie-cache and not @session-refresh and not @rate-limit and not @next-app and not @resource-server";

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

    /// Run another Better Auth release as the bundled reference (installed on first use into
    /// targets/better-auth/releases/VERSION), e.g. to snapshot two releases and diff them.
    #[arg(long, value_name = "VERSION", conflicts_with = "target")]
    pub better_auth: Option<String>,

    /// Boot the bundled reference in these configuration profiles (comma-separated, e.g.
    /// `mounted,closed-signup`; each a documented Better Auth option, listed in docs/profiles.md).
    /// The reference's facts (mount, cookie prefix, seeded accounts, OAuth client) are used.
    #[arg(
        long,
        value_name = "PROFILES",
        conflicts_with = "target",
        env = "BA_HARNESS_REFERENCE_PROFILE"
    )]
    pub reference_profile: Option<String>,

    /// Trust this CA certificate (PEM) for the target's https certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// A Next.js app that mounts the target's Better Auth (nextCookies, server actions, proxy.ts):
    /// runs the @next-app scenarios against it.
    #[arg(long, value_name = "URL")]
    pub next_app: Option<String>,

    /// A resource server (backend) that verifies the target's JWTs: the URL where it answers
    /// `Authorization: Bearer <JWT>` with JSON naming the user (`sub`), e.g.
    /// http://127.0.0.1:8000/api/me. Runs the @resource-server scenarios. Without --target the
    /// bundled FastAPI backend (targets/fastapi-resource) runs them, with an issuer of its own.
    #[arg(long, value_name = "URL")]
    pub resource: Option<String>,

    /// The issuer (--target) serves the bundled reference's JWT test profiles: it is
    /// targets/better-auth run with JWT_TEST_PROFILES=on. Enables @issuer-profiles.
    #[arg(long, requires = "resource")]
    pub issuer_profiles: bool,

    /// The issuer's jwks.rotationInterval in seconds (10 or less enables @key-rotation).
    #[arg(long, value_name = "SECS", requires = "resource", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub jwks_rotation_interval: Option<u64>,

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

    /// Existing accounts, one `email,password` per line (`#` comments): each scenario leases
    /// one, so a scenario that ends every session of its account does not hold up the others.
    #[arg(long, value_name = "FILE")]
    pub users_file: Option<PathBuf>,

    /// The target's sign-in rate limit (requests per 10 s window per client) for @rate-limit.
    /// Without it the limit is probed (@rate-limit-probe); 0 declares rate limiting off.
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

    /// Print and write passwords, session tokens, cookie values, JWTs, authorization codes,
    /// PKCE verifiers and refresh tokens as they are, unredacted, in the terminal output and the
    /// reports. For debugging against a throwaway server: never in logs that are kept.
    #[arg(long)]
    pub show_secrets: bool,

    /// What kind of app mounts Better Auth at --target: express, nestjs, tanstack-start, nextjs
    /// or node (plain Better Auth, no app-level features). Runs that framework's app-level
    /// scenarios (@express, @nestjs, @tanstack-start, @next-app) against the target itself.
    #[arg(long, value_name = "KIND", value_enum, requires = "target")]
    pub target_kind: Option<crate::framework_app::TargetKind>,

    /// Also boot these bundled framework apps (comma-separated: express, nestjs,
    /// tanstack-start) and run the suite against each one after the reference, then print the
    /// framework matrix. Installed and built on first use.
    #[arg(
        long,
        value_name = "APPS",
        value_enum,
        value_delimiter = ',',
        conflicts_with = "target"
    )]
    pub apps: Vec<crate::framework_app::Framework>,

    /// The target file: the facts about the deployment that cannot be discovered (target, base
    /// path, cookie prefix, OAuth client, accounts, rate limit, where the secret is). Default:
    /// ./ba-harness.toml when present. Flags override it. See docs/configuration.md.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Leave the accounts the run creates on the target. By default the harness deletes them at
    /// the end (POST /delete-user, where the target enables it) so repeated runs against a
    /// staging server do not pile up accounts.
    #[arg(long)]
    pub keep_users: bool,
}

/// Runs the program with `args` and returns its exit code.
pub fn main(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> i32 {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    // The target file (ba-harness.toml / --config) fills what the flags leave unset.
    if let Err(e) = apply_target_file(&mut cli, &matches) {
        eprintln!("ba-harness: error: {e}");
        return e.exit_code();
    }
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
        Command::Conform(args) => conform_command(args, None).await,
        Command::Load(args) => crate::load::run(args).await,
        Command::Snapshot(args) => snapshot_command(args).await,
        Command::Diff(args) => diff_command(args),
    }
}

async fn snapshot_command(args: SnapshotArgs) -> Result<i32, HarnessError> {
    conform_command(args.conform, Some(args.out)).await
}

fn diff_command(args: DiffArgs) -> Result<i32, HarnessError> {
    use std::io::IsTerminal as _;
    let ignore = args
        .ignore
        .iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| {
                HarnessError::Usage(format!("--ignore `{p}` is not a regular expression: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let read = |dir: &std::path::Path| {
        crate::snapshot::read_snapshots(dir).map_err(|e| {
            HarnessError::Usage(format!(
                "cannot read snapshots in {}: {e} (make them with `ba-harness snapshot --out DIR`)",
                dir.display()
            ))
        })
    };
    let (before, after) = (read(&args.before)?, read(&args.after)?);
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal(),
    };
    let diff = crate::snapshot::diff_snapshots(&before, &after, &ignore, color);
    for (name, text) in &diff.changed {
        println!("changed: {name}\n{text}");
    }
    for name in &diff.added {
        println!("added: {name}");
    }
    for name in &diff.removed {
        println!("removed: {name}");
    }
    println!(
        "diff: {} changed, {} added, {} removed, {} unchanged",
        diff.changed.len(),
        diff.added.len(),
        diff.removed.len(),
        before.len() - diff.changed.len() - diff.removed.len()
    );
    Ok(if diff.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

async fn conform_command(
    mut args: ConformArgs,
    snapshot_out: Option<PathBuf>,
) -> Result<i32, HarnessError> {
    if args.show_secrets {
        crate::redact::set_show_secrets(true);
        eprintln!(
            "ba-harness: --show-secrets: passwords, tokens and cookie values are printed and \
             written unredacted"
        );
    }
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
        record: false,
        keep_users: args.keep_users,
    };
    let mut options = options;
    if snapshot_out.is_some() {
        options.record = true;
        options.concurrency = 1;
        options.tags = Some(match &options.tags {
            Some(tags) => format!("({tags}) and {SNAPSHOT_EXCLUDED_TAGS}"),
            None => SNAPSHOT_EXCLUDED_TAGS.to_string(),
        });
        crate::snapshot::start_recording("discovery");
    }

    conform::validate(&options)?;
    let ca_pem = args.ca_cert.as_deref().map(read_ca_cert).transpose()?;
    // The bundled resource server (targets/fastapi-resource) and its issuer, for @resource-server.
    let mut bundled_resource = None;
    let (mut target, server, next_app) = match &args.target {
        Some(url) => (Target::new(url, &args.base_path, timeout)?, None, None),
        None => {
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
            // A short cookie cache and updateAge let the run watch the cache's revocation delay
            // end and a session slide (cookie-cache, session-refresh features); everything else
            // is the reference's production config.
            // --reference-profile: BA_PROFILE for server.mjs; tls-proxy is served over https.
            let mut reference_env =
                vec![("COOKIE_CACHE_MAX_AGE", "6"), ("SESSION_UPDATE_AGE", "3")];
            let profile = args.reference_profile.as_deref().unwrap_or_default();
            if !profile.is_empty() {
                reference_env.push(("BA_PROFILE", profile));
            }
            let tls_proxy = profile.split(',').any(|p| p.trim() == "tls-proxy");
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
            // Whichever failed, the other is stopped by its drop.
            let (server, next_app, resource) = (server?, next_app?, resource?);
            bundled_resource = resource;
            // A profile's cookie prefix and seeded accounts, unless given.
            if let Some(prefix) = &server.ready.cookie_prefix
                && args.cookie_prefix == "better-auth"
            {
                args.cookie_prefix = prefix.clone();
            }
            if args.users_file.is_none() && args.user_email.is_none() {
                args.users_file = server.ready.users_file.as_ref().map(PathBuf::from);
            }
            let mut target = server.target(timeout)?;
            if let Some(app) = &next_app {
                target.next_app = Some(app.app_url());
                target.description = format!(
                    "{}; bundled Next.js app ({}) at {}",
                    target.description, app.version, app.url
                );
            }
            (target, Some(server), next_app)
        }
    };
    apply_overrides(&mut target, &args);
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
        target.ca_pem = Some(std::sync::Arc::new(pem));
    }
    if let Some(resource) = &bundled_resource {
        resource.configure(&mut target);
    }
    crate::resource_server::apply_resource_args(
        &mut target,
        args.resource.as_deref(),
        args.issuer_profiles,
        args.jwks_rotation_interval,
    )?;
    target.declare_configured_capabilities();
    println!("ba-harness conform: {}", target.description);

    let result = conform::run(target, &options).await;
    if let Some(server) = server {
        server.stop().await;
    }
    if let Some(app) = next_app {
        app.stop().await;
    }
    if let Some(resource) = bundled_resource {
        resource.stop().await;
    }
    let report = result?;
    println!("{}", report.summary());
    if let Some(dir) = &snapshot_out {
        return write_snapshot_dir(dir);
    }
    if let Some(path) = &args.json {
        report.write_json(path)?;
        println!("JSON report: {}", path.display());
    }
    if let Some(path) = &args.junit {
        report.write_junit(path)?;
        println!("JUnit report: {}", path.display());
    }
    let apps_passed = crate::framework_app::run_apps(
        &args.apps,
        &options,
        timeout,
        &report,
        args.json.as_deref(),
    )
    .await?;
    Ok(if report.passed() && apps_passed {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// Replaces the .snap files in `dir` with this run's.
fn write_snapshot_dir(dir: &std::path::Path) -> Result<i32, HarnessError> {
    let files = crate::snapshot::finish_recording();
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
    println!(
        "snapshot: {} exchanges written to {}",
        written.len(),
        dir.display()
    );
    Ok(EXIT_OK)
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

/// Fills the conform/snapshot arguments the command line leaves unset from the target file
/// (`--config FILE`, else ./ba-harness.toml when present): see src/config.rs.
fn apply_target_file(cli: &mut Cli, matches: &clap::ArgMatches) -> Result<(), HarnessError> {
    let (args, matches) = match (&mut cli.command, matches.subcommand()) {
        (Command::Conform(args), Some(("conform", sub))) => (args, sub),
        (Command::Snapshot(snapshot), Some(("snapshot", sub))) => (&mut snapshot.conform, sub),
        _ => return Ok(()),
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let Some(path) =
        crate::config::locate(args.config.as_deref(), &cwd).map_err(HarnessError::Usage)?
    else {
        return Ok(());
    };
    let mut file = crate::config::read(&path).map_err(HarnessError::Usage)?;
    // A flag that asks for the bundled reference overrides the file's target.
    if args.reference_https || args.better_auth.is_some() || !args.apps.is_empty() {
        file.target = None;
    }
    // base_path and cookie_prefix have defaults: only a value typed on the command line wins.
    let given = |id: &str| {
        matches!(
            matches.value_source(id),
            Some(clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable)
        )
    };
    let flags = crate::config::Facts {
        target: args.target.clone(),
        base_path: given("base_path").then(|| args.base_path.clone()),
        cookie_prefix: given("cookie_prefix").then(|| args.cookie_prefix.clone()),
        ca_cert: args.ca_cert.clone(),
        secret: args.secret.clone(),
        rate_limit_max: args.rate_limit_max,
        session_update_age: args.session_update_age,
        users_file: args.users_file.clone(),
        account: args.user_email.clone().zip(args.user_password.clone()),
        client_id: args.client_id.clone(),
        redirect_uri: args.redirect_uri.clone(),
        post_logout_redirect_uri: args.post_logout_redirect_uri.clone(),
    };
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let facts = crate::config::merge(flags, &file, dir, &|var| std::env::var(var).ok())
        .map_err(|e| HarnessError::Usage(format!("{}: {e}", path.display())))?;
    args.target = facts.target;
    if let Some(base_path) = facts.base_path {
        args.base_path = base_path;
    }
    if let Some(prefix) = facts.cookie_prefix {
        args.cookie_prefix = prefix;
    }
    args.ca_cert = facts.ca_cert;
    args.secret = facts.secret;
    args.rate_limit_max = facts.rate_limit_max;
    args.session_update_age = facts.session_update_age;
    (args.user_email, args.user_password) = facts.account.unzip();
    args.client_id = facts.client_id;
    args.redirect_uri = facts.redirect_uri;
    args.post_logout_redirect_uri = facts.post_logout_redirect_uri;
    args.users_file = facts.users_file;
    eprintln!(
        "ba-harness: target file {} (flags override it)",
        path.display()
    );
    Ok(())
}
