//! The command line: the clap definitions and the dispatch to one module per subcommand
//! (src/cli/*.rs). Each subcommand returns how it ended (crate::error::Outcome) or an error;
//! `main` maps that to the exit code (crate::error holds the mapping).

mod completions;
mod conform;
mod diff;
mod load;
mod snapshot;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod apps;
mod matrix;
mod releases;
mod rules;

use crate::error::{EXIT_OK, EXIT_USAGE, HarnessError, Outcome};
use crate::report::style::ColorWhen;
use crate::report::terminal::Verbosity;

#[derive(Debug, Parser)]
#[command(
    name = "ba-harness",
    version,
    about = "Conformance and load-testing harness for Better Auth-compatible servers",
    after_help = concat!(
        "Exit codes: 0 everything checked passed, 1 a conformance failure, \
         2 bad usage or configuration, 3 target unreachable or boot failed.",
        "\n\n",
        "Environment (docs/usage.md):\n",
        "  BA_HARNESS_CACHE_DIR     cache folder for the bundled servers, unpacked from the binary on first\n",
        "                           use and installed there (default $XDG_CACHE_HOME/ba-harness, else\n",
        "                           ~/.cache/ba-harness)\n",
        "  BA_HARNESS_TARGETS_DIR   use this folder's bundled servers instead of the embedded ones\n",
        "  BA_HARNESS_FEATURES_DIR  default for --features (default: the embedded feature files)\n",
        "  BA_HARNESS_DEVIATIONS    default for --deviations (default: the embedded list)\n",
        "  BA_HARNESS_PROFILES_DIR  default for load --profiles-dir (default: the embedded profiles)\n",
        "  BA_HARNESS_SECRET        --secret;  BA_HARNESS_USER_PASSWORD  --user-password\n",
        "  BA_HARNESS_PYTHON        interpreter for the bundled FastAPI backend's venv (default python3)\n",
        "  NO_COLOR                 no colour"
    )
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// How the terminal output looks; every subcommand takes these (before or after its name).
#[derive(Clone, Debug, Args)]
pub struct OutputArgs {
    /// Colour the output: auto (when it goes to a terminal and NO_COLOR is unset), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorWhen::Auto
    )]
    pub color: ColorWhen,

    /// Print each scenario's steps as it finishes, then the summary.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print only the failures and the closing summary (no line per scenario, no progress).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The output settings a subcommand gets.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub color: ColorWhen,
    pub verbosity: Verbosity,
}

impl From<&OutputArgs> for Output {
    fn from(args: &OutputArgs) -> Self {
        let verbosity = if args.quiet {
            Verbosity::Quiet
        } else if args.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Output {
            color: args.color,
            verbosity,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a server against the documented Better Auth protocol (features/*.feature).
    ///
    /// Without --target, installs (first run) and starts the bundled real Better Auth server
    /// from targets/better-auth and checks that.
    Conform(ConformArgs),
    /// Load-test the hot paths (get-session, JWT issue and verification) with every response
    /// checked; bounded in time or iterations; a host other than loopback only with
    /// --allow-remote naming it. `load merge` joins the reports of several workers.
    Load(crate::load::LoadArgs),
    /// Record the conformance flows' exchanges, normalised, as insta .snap files (one per
    /// exchange) for diffing two releases of a server. Runs scenarios one at a time.
    Snapshot(SnapshotArgs),
    /// Compare two snapshot folders: a coloured unified diff per changed exchange and a summary.
    /// Exit 1 when anything differs, 0 when identical.
    Diff(DiffArgs),
    /// Run the chosen scenarios (--tags) against a range of published Better Auth releases and
    /// print a scenario × release matrix (each release installed once, into its own folder).
    Releases(releases::ReleasesArgs),
    /// Find the first published release between --good and --bad where a scenario's verdict
    /// changes (the release that fixed it, or the one that broke it).
    Bisect(releases::BisectArgs),
    /// Print a shell completion script, e.g. `ba-harness completions bash > ~/.local/share/bash-completion/completions/ba-harness`.
    Completions {
        /// The shell: bash, elvish, fish, powershell or zsh.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `ba-harness man | man -l -`; with --out, write
    /// ba-harness.1 and one page per subcommand into a folder.
    Man {
        /// Folder for the man pages.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// The rule inventory (rules/*.toml) joined with the scenarios that check each rule: per
    /// spec, how many rules are covered, not observable, not applicable or missing.
    Rules(RulesArgs),
    /// The compatibility matrix of conform JSON reports (the reference first, then ports or
    /// other servers): counts per feature area, then every failure next to what the first
    /// report does. See docs/compatibility.md.
    Matrix(MatrixArgs),
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Reports as NAME=FILE or FILE (named after the file); the first is the reference.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<String>,
    /// Write the matrix into this Markdown file's generated block instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub into: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Folder of .feature files whose rule-id tags count as coverage. Default: as for conform.
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,
    /// Folder of the inventory files. Default: `rules` next to the features folder.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// List only the rules no scenario covers and no declaration excuses.
    #[arg(long)]
    pub missing: bool,
    /// Print JSON (every rule with its status, and the per-spec counts) instead of text.
    #[arg(long)]
    pub json: bool,
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

    /// Check a bundled port of Better Auth to another language instead of the reference
    /// (built or installed on first use; judged without the known-deviation list, and by
    /// default without the app-level scenarios: see docs/compatibility.md).
    #[arg(long, value_enum, value_name = "PORT", conflicts_with_all = ["target", "reference_https", "better_auth", "reference_profile"])]
    pub port: Option<crate::bundled::port::Port>,

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

    #[command(flatten)]
    pub suite: SuiteArgs,

    /// Run only scenarios matching a tag expression, e.g. '@session-cookie and not @slow'.
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,

    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write a JSON report here (docs/report.schema.json).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write a Markdown summary here, for CI step summaries (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, visible_alias = "markdown", value_name = "FILE.md")]
    pub report: Option<PathBuf>,

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

    #[command(flatten)]
    pub jwt_claims: crate::target::JwtClaimArgs,

    /// The target's emailAndPassword.minPasswordLength, when it is not Better Auth's default 8:
    /// sign-up must refuse a password one character shorter.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..=1024))]
    pub min_password_length: Option<u64>,

    /// The target's emailAndPassword.maxPasswordLength, when it is not Better Auth's default 128:
    /// sign-up must refuse a password one character longer.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_password_length: Option<u64>,

    /// The target's authorization code lifetime in seconds (the oauth-provider's
    /// codeExpiresIn): enables @code-lifetime, which waits it out and expects the code refused.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub code_lifetime: Option<u64>,
    /// A mailbox the harness can read: `GET URL?email=ADDRESS` answers `{"token", "url"}` of the
    /// last password-reset message sent there (docs/configuration.md). Enables @mailbox.
    #[arg(long, value_name = "URL")]
    pub mailbox: Option<url::Url>,

    /// The target sets emailAndPassword.revokeSessionsOnPasswordReset (with --mailbox: checks
    /// that a reset ends every earlier session).
    #[arg(long)]
    pub revoke_sessions_on_password_reset: bool,

    /// The target's emailAndPassword.resetPasswordTokenExpiresIn in seconds (at most 120; with
    /// --mailbox: checks that an expired reset token is refused).
    #[arg(long, value_name = "SECS", value_parser = |s: &str| crate::target::short_lifetime("--reset-token-expires-in", s))]
    pub reset_token_expires_in: Option<u64>,

    /// The target's session.expiresIn in seconds (at most 120): checks that an expired session
    /// is no session.
    #[arg(long, value_name = "SECS", value_parser = |s: &str| crate::target::short_lifetime("--session-expires-in", s))]
    pub session_expires_in: Option<u64>,

    /// The target's session.freshAge in seconds (at most 120): checks that a stale session
    /// cannot delete its user.
    #[arg(long, value_name = "SECS", value_parser = |s: &str| crate::target::short_lifetime("--fresh-age", s))]
    pub fresh_age: Option<u64>,

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

/// The suite a conform run checks with: its feature files and its known-deviation list. The
/// same flags for `conform`/`snapshot` and for `releases`/`bisect`, which pass them on to the
/// conform run of each release.
#[derive(Debug, Args)]
pub struct SuiteArgs {
    /// Folder of .feature files. Default: $BA_HARNESS_FEATURES_DIR, else the ones embedded in
    /// ba-harness (unpacked into its cache folder).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,

    /// Known-deviation list (TOML). Default: $BA_HARNESS_DEVIATIONS, else the one embedded in
    /// ba-harness, made for the bundled release. A missing or malformed file is an error
    /// (conform exits 2).
    #[arg(long, value_name = "FILE")]
    pub deviations: Option<PathBuf>,
}

impl ConformArgs {
    /// The password-reset mailbox and lifetimes the flags declare.
    pub(crate) fn account_settings(&self) -> crate::target::AccountSettings {
        crate::target::AccountSettings {
            mailbox: self.mailbox.clone(),
            revoke_sessions_on_password_reset: self.revoke_sessions_on_password_reset,
            reset_token_expires_in: self.reset_token_expires_in,
            session_expires_in: self.session_expires_in,
            fresh_age: self.fresh_age,
        }
    }

    fn set_account_settings(&mut self, settings: crate::target::AccountSettings) {
        self.mailbox = settings.mailbox;
        self.revoke_sessions_on_password_reset = settings.revoke_sessions_on_password_reset;
        self.reset_token_expires_in = settings.reset_token_expires_in;
        self.session_expires_in = settings.session_expires_in;
        self.fresh_age = settings.fresh_age;
    }
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
    // The command's redaction: every run it starts registers its secrets here, and the error
    // line below is scrubbed with them.
    let show_secrets = match &cli.command {
        Command::Conform(args) => args.show_secrets,
        Command::Snapshot(snapshot) => snapshot.conform.show_secrets,
        _ => false,
    };
    let secrets = crate::redact::Secrets::new(show_secrets);
    let result = runtime.block_on(async {
        tokio::select! {
            result = dispatch(cli, secrets.clone()) => result,
            _ = tokio::signal::ctrl_c() => {
                // Dropping the run future stops the bundled server (kill on drop).
                eprintln!("\nba-harness: interrupted; stopping");
                Ok(Outcome::Interrupted)
            }
        }
    });
    if let Err(e) = &result {
        eprintln!("ba-harness: error: {}", secrets.scrub_text(&e.to_string()));
    }
    crate::error::exit_code(&result)
}

/// The outcome an exit code stands for (`releases` and `bisect` answer with codes).
fn outcome_of_code(code: i32) -> Outcome {
    match code {
        crate::error::EXIT_OK => Outcome::Passed,
        crate::error::EXIT_INTERRUPTED => Outcome::Interrupted,
        _ => Outcome::Failed,
    }
}

async fn dispatch(cli: Cli, secrets: crate::redact::Secrets) -> Result<Outcome, HarnessError> {
    let output = Output::from(&cli.output);
    match cli.command {
        Command::Conform(args) => conform::run(args, None, output, secrets).await,
        Command::Load(args) => load::run(args, secrets).await,
        Command::Snapshot(args) => snapshot::run(args, output, secrets).await,
        Command::Diff(args) => diff::run(args, output),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { out } => completions::man(out.as_deref()),
        Command::Rules(args) => rules::run(args),
        Command::Matrix(args) => matrix::run(args),
        Command::Releases(args) => releases::releases_command(args).await.map(outcome_of_code),
        Command::Bisect(args) => releases::bisect_command(args).await.map(outcome_of_code),
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
        code_lifetime: args.code_lifetime,
        jwt_issuer: args.jwt_claims.jwt_issuer.clone(),
        jwt_audience: args.jwt_claims.jwt_audience.clone(),
        min_password_length: args.min_password_length,
        max_password_length: args.max_password_length,
        account_settings: args.account_settings(),
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
    args.code_lifetime = facts.code_lifetime;
    args.jwt_claims.jwt_issuer = facts.jwt_issuer;
    args.jwt_claims.jwt_audience = facts.jwt_audience;
    args.min_password_length = facts.min_password_length;
    args.max_password_length = facts.max_password_length;
    args.set_account_settings(facts.account_settings);
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
