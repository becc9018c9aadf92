//! `load`: goose scenarios on the hot paths (get-session, JWT issue + verification), every
//! response checked, with reports.
//!
//! The run: resolve the settings (flags over `--profile` over defaults), refuse a target that
//! is not loopback unless `--allow-remote` names its host (remote.rs), boot the bundled
//! reference in a load profile when no `--target` is given, sign every virtual user in before
//! the measured part starts (paced, its own phase), wait for `--start-at` when workers run
//! together, then hand goose a configuration built here (never goose's own argv parsing), show a
//! live status line while it runs (live.rs), and judge the metrics it returns against the
//! thresholds (goose's `execute()` is Ok even when every request failed). `load merge` joins
//! the workers' reports (merge.rs).

pub mod get_session;
pub mod interrupt;
pub mod jwt_verification;
pub mod live;
pub mod merge;
pub mod pacing;
pub mod profile;
pub mod remote;
pub mod report;
pub mod threshold;
pub mod user;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use goose::config::GooseConfiguration;
use goose::prelude::*;
use url::Url;

use serde::{Deserialize, Serialize};

use crate::error::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, HarnessError};
use crate::reference::ReferenceServer;
use crate::target::Target;

use profile::Profile;
use threshold::Thresholds;
use user::{RunContext, SetupLog};

/// Virtual users when neither a flag nor a profile says.
pub const DEFAULT_USERS: u64 = 8;
/// Run time when neither a flag nor a profile bounds the run.
pub const DEFAULT_RUN_TIME_SECS: u64 = 30;
/// The longest run time accepted (a soak is hours, not days).
pub const MAX_RUN_TIME_SECS: u64 = 24 * 3600;
/// A run bounded by `--iterations` is also stopped after this long, whatever is left.
pub const ITERATIONS_TIME_CAP: Duration = Duration::from_secs(30 * 60);
/// Sign-ups in flight at once while the virtual users are prepared.
const SETUP_PARALLELISM: usize = 8;
/// Sign-in requests per second during setup against a `--target`, unless `--sign-in-rate`
/// says (the bundled reference runs with its rate limits off: unpaced).
pub const DEFAULT_TARGET_SIGN_IN_RATE: f64 = 10.0;

/// The hot path a run loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScenarioKind {
    /// Loop GET <base>/get-session with the user's cookie; check 200 and the user's own id.
    GetSession,
    /// Loop GET <base>/token and verify every JWT against the JWKS (signature, iss, aud, exp,
    /// sub).
    JwtVerification,
}

impl ScenarioKind {
    pub fn name(self) -> &'static str {
        match self {
            ScenarioKind::GetSession => "get-session",
            ScenarioKind::JwtVerification => "jwt-verification",
        }
    }
}

/// goose's coordinated-omission mitigation modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CoMode {
    /// Latencies as measured: a stalled server is under-counted.
    Disabled,
    /// Backfill the requests a stalled user would have sent, at its average cadence.
    Average,
    /// ... at its slowest cadence.
    Maximum,
    /// ... at its fastest cadence (the most backfill).
    Minimum,
}

impl CoMode {
    pub fn name(self) -> &'static str {
        match self {
            CoMode::Disabled => "disabled",
            CoMode::Average => "average",
            CoMode::Maximum => "maximum",
            CoMode::Minimum => "minimum",
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        CoMode::from_str(text, true).map_err(|_| {
            format!("co_mitigation {text:?}: give disabled, average, maximum or minimum")
        })
    }

    fn goose(self) -> GooseCoordinatedOmissionMitigation {
        match self {
            CoMode::Disabled => GooseCoordinatedOmissionMitigation::Disabled,
            CoMode::Average => GooseCoordinatedOmissionMitigation::Average,
            CoMode::Maximum => GooseCoordinatedOmissionMitigation::Maximum,
            CoMode::Minimum => GooseCoordinatedOmissionMitigation::Minimum,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// `load merge`, beside the run itself.
#[derive(Debug, Subcommand)]
pub enum LoadAction {
    /// Merge the JSON reports of several `load --worker I/N` runs into one report: totals
    /// summed, percentiles from the merged latency histograms, thresholds judged again.
    Merge(merge::MergeArgs),
}

/// `--worker INDEX/COUNT`: this process runs its share of the virtual users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerShare {
    /// From 0 (a Kubernetes Indexed Job's JOB_COMPLETION_INDEX).
    pub index: u64,
    pub count: u64,
}

impl WorkerShare {
    /// Parses `INDEX/COUNT`. Pure.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("--worker {text:?}: give INDEX/COUNT, e.g. 0/3 (INDEX from 0 to COUNT-1)");
        let (index, count) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count || count > 10_000 {
            return Err(bad());
        }
        Ok(WorkerShare { index, count })
    }

    /// This worker's virtual users out of `total`, and the first one's number over all
    /// workers: an even split, the first `total % count` workers one more. Pure.
    pub fn users_of(self, total: u64) -> (u64, u64) {
        let base = total / self.count;
        let extra = total % self.count;
        let users = base + u64::from(self.index < extra);
        let first = self.index * base + self.index.min(extra);
        (users, first)
    }
}

/// `--start-at`: RFC 3339 (`2026-12-05T12:00:00Z`) or Unix seconds, as Unix ms. Pure.
pub fn parse_start_at(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs.saturating_mul(1000));
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|e| {
            format!(
                "--start-at {text:?}: give RFC 3339 (2026-12-05T12:00:00Z) or Unix seconds ({e})"
            )
        })
}

/// Arguments of `ba-harness load`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub action: Option<LoadAction>,

    /// The hot path to load.
    #[arg(long, value_enum, required = true)]
    pub scenario: Option<ScenarioKind>,

    /// A named profile from scenarios/<scenario>.toml (e.g. smoke, soak); flags given here win
    /// over its values.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Folder of the profile files (<scenario>.toml). Default: $BA_HARNESS_PROFILES_DIR, else the
    /// ones embedded in ba-harness.
    #[arg(long, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,

    /// Server to load: scheme, host and port. Loopback (127.0.0.0/8, ::1, localhost) runs as
    /// given; any other host only with --allow-remote naming it. Default: the bundled
    /// reference, started in a load profile (rate limits off).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// Consent to load a host that is not this machine: name the --target's (or --resource's)
    /// host again, e.g. --allow-remote auth.example.com. Repeatable.
    #[arg(long, value_name = "HOST")]
    pub allow_remote: Vec<String>,

    /// Trust this CA certificate (PEM) for the target's https certificate.
    #[arg(long, value_name = "FILE", requires = "target")]
    pub ca_cert: Option<PathBuf>,

    /// Serve the bundled reference over https, with a certificate from a throwaway CA the
    /// harness makes and trusts.
    #[arg(long, conflicts_with = "target")]
    pub reference_https: bool,

    /// Existing accounts to sign in with instead of signing up (closed sign-up): one
    /// `email,password` per line, `#` comments. Virtual user i takes line i (wrapping round).
    /// Default --users: one per account.
    #[arg(long, value_name = "FILE")]
    pub users_file: Option<PathBuf>,

    /// Sign-in requests per second while the virtual users are set up (sign-up and sign-in
    /// each count); 0 for no pacing. A 429 is waited out and halves the pace.
    /// [default: 10 against a --target, unpaced for the bundled reference]
    #[arg(long, value_name = "R")]
    pub sign_in_rate: Option<f64>,

    /// Run as worker INDEX (from 0) of COUNT: this process takes its share of --users (the
    /// total over all workers) and its JSON report is merged with `load merge`.
    #[arg(long, value_name = "INDEX/COUNT")]
    pub worker: Option<String>,

    /// Start the measured part at this time (RFC 3339, or Unix seconds), after the sign-in
    /// phase: every worker given the same time measures the same window.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,

    /// Print the status line every SECS seconds when the output is not a terminal (on a
    /// terminal it is one line rewritten every second); 0 for none.
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub progress_every: u64,

    /// Where Better Auth is mounted on the target.
    #[arg(long, value_name = "PATH", default_value = "/api/auth")]
    pub base_path: String,

    /// Virtual users [default: 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub users: Option<u64>,

    /// Virtual users started per second [default: all within the first second].
    #[arg(long, value_name = "R")]
    pub hatch_rate: Option<f64>,

    /// How long to hold all users once started: 30, 30s, 10m, 1h [default: 30s].
    #[arg(long, value_name = "TIME", conflicts_with = "iterations")]
    pub run_time: Option<String>,

    /// Requests per virtual user instead of a run time (the run is also stopped after 30 min).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub iterations: Option<u64>,

    #[command(flatten)]
    pub verdict: VerdictArgs,

    /// Coordinated-omission mitigation (goose): disabled, average, maximum, minimum
    /// [default: disabled]. The reports say which mode ran.
    #[arg(long, value_enum, value_name = "MODE")]
    pub co_mitigation: Option<CoMode>,

    /// The bundled reference's cookie cache (session_data cookie): on or off [default: on].
    #[arg(long, value_enum, value_name = "ON|OFF", conflicts_with = "target")]
    pub cookie_cache: Option<OnOff>,

    /// The bundled reference's JWT algorithm: EdDSA, ES256, ES512, RS256, PS256
    /// [default: EdDSA].
    #[arg(long, value_name = "ALG", conflicts_with = "target")]
    pub jwt_alg: Option<String>,

    #[command(flatten)]
    pub jwt_claims: crate::target::JwtClaimArgs,

    /// jwt-verification: also send each JWT as `Authorization: Bearer` to this backend URL
    /// (loopback, or a host named by --allow-remote) and require 200.
    #[arg(long, value_name = "URL")]
    pub resource: Option<String>,

    /// jwt-verification: start the bundled FastAPI resource server (targets/fastapi-resource)
    /// verifying the target's JWTs against its JWKS, and send it every JWT as with --resource
    /// (200 naming the virtual user required).
    #[arg(long, conflicts_with = "resource")]
    pub resource_server: bool,

    /// Leave the accounts the run signs up on a --target. By default they are deleted at the end
    /// (POST /delete-user, where the target enables it); the bundled reference's database is
    /// thrown away with it anyway.
    #[arg(long)]
    pub keep_users: bool,

    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

/// How a run is bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Hold all users for this many seconds once started.
    RunTime(u64),
    /// Each user runs the scenario this many times.
    Iterations(u64),
}

impl Bound {
    pub fn describe(self) -> String {
        match self {
            Bound::RunTime(s) => format!("run time {s} s"),
            Bound::Iterations(n) => format!("{n} iterations per user"),
        }
    }
}

/// Where the reports go and the limits the verdict is judged against: the same flags for a run
/// (`load`) and for the merge of several workers' runs (`load merge`).
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// Write a report here; the extension picks the kind: .html (self-contained, charts drawn
    /// inline), .json (the harness's verdict, raw latency histograms and timeline, plus goose's
    /// JSON of a run that is not a merge), .md (summary for CI step summaries). Repeatable.
    /// Default: all three under reports/.
    #[arg(long, value_name = "FILE")]
    pub report: Vec<PathBuf>,

    /// Fail (exit 1) when the 95th percentile of the measured request is over this, in ms.
    /// Default: the profile's limit (`load merge`: the limit the workers ran with).
    #[arg(long, value_name = "MS")]
    pub max_p95_ms: Option<f64>,

    /// Fail (exit 1) when failed requests over all requests exceed this: a fraction (0.01) or
    /// a percentage (1%). Default: the profile's limit, else 0: any failed check fails the run
    /// (`load merge`: the limit the workers ran with).
    #[arg(long, value_name = "RATE")]
    pub max_error_rate: Option<String>,
}

impl VerdictArgs {
    /// The limits the flags give (each `None` when its flag is absent), the rate parsed.
    pub fn thresholds(&self) -> Result<Thresholds, String> {
        Ok(Thresholds {
            max_p95_ms: self.max_p95_ms,
            max_error_rate: (self.max_error_rate.as_deref())
                .map(profile::parse_rate)
                .transpose()?,
        })
    }
}

/// Everything a run needs, resolved: flags over profile over defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub scenario: ScenarioKind,
    pub profile: Option<String>,
    pub profile_description: Option<String>,
    /// This process's virtual users (its share, with --worker).
    pub users: u64,
    /// Virtual users over all workers.
    pub total_users: u64,
    /// The first of this process's users, counted over all workers.
    pub first_user: u64,
    pub worker: Option<WorkerShare>,
    /// `--start-at`, Unix ms.
    pub start_at_unix_ms: Option<i64>,
    /// Setup pace (requests/s); None: unpaced. Resolved against the target in `run`.
    pub sign_in_rate: Option<f64>,
    pub hatch_rate: f64,
    pub bound: Bound,
    pub thresholds: Thresholds,
    pub co: CoMode,
    pub cookie_cache: bool,
    pub jwt_alg: Option<String>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub resource: Option<Url>,
    pub timeout: Duration,
    pub base_path: String,
}

/// JWT algorithms the bundled reference can be started with (targets/better-auth JWT_ALG).
const REFERENCE_JWT_ALGS: &[&str] = &["EdDSA", "ES256", "ES512", "RS256", "PS256"];

/// Resolves the settings. `accounts`: how many `--users-file` accounts there are (the
/// default --users). Pure: no file or network access, so it is unit-tested.
pub fn resolve(
    args: &LoadArgs,
    profile: Option<&Profile>,
    accounts: Option<usize>,
) -> Result<Settings, HarnessError> {
    let usage = HarnessError::Usage;
    let scenario = args
        .scenario
        .ok_or_else(|| usage("--scenario is required: get-session or jwt-verification".into()))?;
    let p = profile.cloned().unwrap_or_default();
    let total_users = args
        .users
        .or(p.users)
        .or(accounts.map(|n| n as u64))
        .unwrap_or(DEFAULT_USERS);
    if !(1..=10_000).contains(&total_users) {
        return Err(usage(format!("users {total_users}: between 1 and 10000")));
    }
    let total_hatch_rate = args
        .hatch_rate
        .or(p.hatch_rate)
        .unwrap_or(total_users as f64);
    if !(total_hatch_rate.is_finite() && total_hatch_rate > 0.0 && total_hatch_rate <= 10_000.0) {
        return Err(usage(format!(
            "--hatch-rate {total_hatch_rate}: users started per second, above 0 and at most 10000"
        )));
    }
    let worker = args
        .worker
        .as_deref()
        .map(WorkerShare::parse)
        .transpose()
        .map_err(usage)?;
    let (users, first_user) = match worker {
        Some(w) => {
            let (users, first) = w.users_of(total_users);
            if users == 0 {
                return Err(usage(format!(
                    "--worker {}/{}: {total_users} users leave this worker none; give --users at least {}",
                    w.index, w.count, w.count
                )));
            }
            (users, first)
        }
        None => (total_users, 0),
    };
    // Each worker starts its share at its share of the rate: all finish starting together.
    let hatch_rate = total_hatch_rate * users as f64 / total_users as f64;
    let start_at_unix_ms = args
        .start_at
        .as_deref()
        .map(parse_start_at)
        .transpose()
        .map_err(usage)?;
    let sign_in_rate = match args.sign_in_rate {
        Some(0.0) => None,
        Some(r) if r.is_finite() && r > 0.0 && r <= 10_000.0 => Some(r),
        Some(r) => {
            return Err(usage(format!(
                "--sign-in-rate {r}: requests per second, above 0 (or 0 for no pacing)"
            )));
        }
        None if args.target.is_some() => Some(DEFAULT_TARGET_SIGN_IN_RATE),
        None => None,
    };
    // A bound given on the command line replaces the profile's, whichever kind it is.
    let bound = match (&args.run_time, args.iterations) {
        (Some(t), _) => Bound::RunTime(profile::parse_run_time(t).map_err(usage)?),
        (None, Some(n)) => Bound::Iterations(n),
        (None, None) => match (&p.run_time, p.iterations) {
            (Some(_), Some(_)) => {
                return Err(usage(
                    "the profile gives both run_time and iterations: give one".into(),
                ));
            }
            (Some(t), None) => Bound::RunTime(profile::parse_run_time(t).map_err(usage)?),
            (None, Some(0)) => return Err(usage("the profile's iterations is 0".into())),
            (None, Some(n)) => Bound::Iterations(n),
            (None, None) => Bound::RunTime(DEFAULT_RUN_TIME_SECS),
        },
    };
    if let Bound::RunTime(secs) = bound
        && secs > MAX_RUN_TIME_SECS
    {
        return Err(usage(format!(
            "run time {secs} s is over the {MAX_RUN_TIME_SECS} s a load run may take"
        )));
    }
    let given = args.verdict.thresholds().map_err(usage)?;
    let max_error_rate = match (given.max_error_rate, &p.max_error_rate) {
        (Some(rate), _) => rate,
        (None, Some(value)) => value.to_fraction().map_err(usage)?,
        (None, None) => 0.0,
    };
    let max_p95_ms = given.max_p95_ms.or(p.max_p95_ms);
    if let Some(ms) = max_p95_ms
        && !(ms.is_finite() && ms > 0.0)
    {
        return Err(usage(format!(
            "--max-p95-ms {ms}: a positive number of milliseconds"
        )));
    }
    let co = match (args.co_mitigation, &p.co_mitigation) {
        (Some(mode), _) => mode,
        (None, Some(text)) => CoMode::parse(text).map_err(usage)?,
        (None, None) => CoMode::Disabled,
    };
    let cookie_cache = match (args.cookie_cache, &p.cookie_cache) {
        (Some(v), _) => v == OnOff::On,
        (None, Some(text)) => match text.to_ascii_lowercase().as_str() {
            "on" => true,
            "off" => false,
            _ => {
                return Err(usage(format!(
                    "cookie_cache {text:?}: give \"on\" or \"off\""
                )));
            }
        },
        (None, None) => true,
    };
    let jwt_alg = args.jwt_alg.clone().or(p.jwt_alg.clone());
    if let Some(alg) = &jwt_alg
        && !REFERENCE_JWT_ALGS.contains(&alg.as_str())
    {
        return Err(usage(format!(
            "jwt alg {alg:?}: the bundled reference signs with one of {}",
            REFERENCE_JWT_ALGS.join(", ")
        )));
    }
    let resource = match &args.resource {
        Some(url) => {
            if scenario != ScenarioKind::JwtVerification {
                return Err(usage(
                    "--resource goes with --scenario jwt-verification (it receives the JWTs)"
                        .into(),
                ));
            }
            Some(remote::check_target(url, "--resource", &args.allow_remote)?)
        }
        None => None,
    };
    Ok(Settings {
        scenario,
        profile: args.profile.clone(),
        profile_description: p.description.clone(),
        users,
        total_users,
        first_user,
        worker,
        start_at_unix_ms,
        sign_in_rate,
        hatch_rate,
        bound,
        thresholds: Thresholds {
            max_p95_ms,
            max_error_rate: Some(max_error_rate),
        },
        co,
        cookie_cache,
        jwt_alg,
        jwt_issuer: args.jwt_claims.jwt_issuer.clone(),
        jwt_audience: args.jwt_claims.jwt_audience.clone(),
        resource,
        timeout: Duration::from_secs(args.timeout),
        base_path: args.base_path.clone(),
    })
}

/// Runs a load test and returns the exit code.
pub async fn run(mut args: LoadArgs, secrets: crate::redact::Secrets) -> Result<i32, HarnessError> {
    if let Some(LoadAction::Merge(merge_args)) = args.action.take() {
        return merge::run(merge_args, &secrets);
    }
    // The consent gate comes first: nothing is started, read or sent before it.
    if let Some(url) = &args.target {
        remote::check_target(url, "--target", &args.allow_remote)?;
    }
    // Before anything else: Ctrl-C stays the harness's (see interrupt.rs).
    interrupt::install();
    let scenario = args
        .scenario
        .ok_or_else(|| HarnessError::Usage("--scenario is required".into()))?;
    let profile = match &args.profile {
        Some(name) => Some(profile::load_profile(
            args.profiles_dir.as_deref(),
            scenario.name(),
            name,
        )?),
        None => None,
    };
    let accounts = match &args.users_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                HarnessError::Usage(format!("--users-file {}: {e}", path.display()))
            })?;
            let accounts = crate::users_file::parse_users_file(&text).map_err(|e| {
                HarnessError::Usage(format!("--users-file {}: {e}", path.display()))
            })?;
            for account in &accounts {
                secrets.register(&account.password);
            }
            Some(Arc::new(accounts))
        }
        None => None,
    };
    let mut settings = resolve(&args, profile.as_ref(), accounts.as_ref().map(|a| a.len()))?;
    let ca_pem = args
        .ca_cert
        .as_deref()
        .map(crate::tls::read_ca_pem)
        .transpose()?;
    if args.resource_server && settings.scenario != ScenarioKind::JwtVerification {
        return Err(HarnessError::Usage(
            "--resource-server goes with --scenario jwt-verification (it receives the JWTs)".into(),
        ));
    }
    let reports = report::ReportPaths::resolve(&args.verdict.report, settings.scenario)?;

    let (target, server) = match &args.target {
        Some(url) => {
            let mut target = Target::new(url, &settings.base_path, settings.timeout)?;
            target.ca_pem = ca_pem.map(Arc::new);
            (target, None)
        }
        None => {
            let mut env: Vec<(&str, &str)> = vec![("RATE_LIMIT", "off")];
            if !settings.cookie_cache {
                env.push(("COOKIE_CACHE", "off"));
            }
            if let Some(alg) = &settings.jwt_alg {
                env.push(("JWT_ALG", alg.as_str()));
            }
            eprintln!(
                "ba-harness: starting the bundled Better Auth server (targets/better-auth) in a load profile: {}rate limits off, cookie cache {}{}…",
                if args.reference_https { "https, " } else { "" },
                if settings.cookie_cache { "on" } else { "off" },
                settings
                    .jwt_alg
                    .as_deref()
                    .map(|a| format!(", JWT {a}"))
                    .unwrap_or_default()
            );
            let server = tokio::select! {
                server = ReferenceServer::boot_with(&env, args.reference_https) => server?,
                // Dropping the boot kills the half-started server.
                _ = interrupt::wait() => return Ok(interrupted_before("the reference's start")),
            };
            match server.target(settings.timeout) {
                Ok(target) => (target, Some(server)),
                Err(e) => {
                    server.stop().await;
                    return Err(e);
                }
            }
        }
    };
    // --resource-server: the bundled backend, verifying this target's JWTs.
    let backend = if args.resource_server {
        eprintln!(
            "ba-harness: starting the bundled resource server (targets/fastapi-resource) for the JWTs of {}…",
            target.description
        );
        let options = crate::resource_server::ResourceServerOptions {
            jwks_url: target.endpoint().url_for("/jwks", false),
            issuer: target.endpoint().origin.clone(),
            ..Default::default()
        };
        let booted = tokio::select! {
            booted = crate::resource_server::ResourceServer::boot(&options) => booted,
            _ = interrupt::wait() => {
                if let Some(server) = server {
                    server.stop().await;
                }
                return Ok(interrupted_before("the resource server's start"));
            }
        };
        match booted {
            Ok(backend) => {
                println!(
                    "  resource server: bundled ({}) at {}, started in {} ms",
                    backend.version, backend.url, backend.startup_ms
                );
                settings.resource = Some(backend.me_url());
                Some(backend)
            }
            Err(e) => {
                if let Some(server) = server {
                    server.stop().await;
                }
                return Err(e);
            }
        }
    } else {
        None
    };
    // The accounts the virtual users' sign-ups create, for cleanup at the end.
    let ledger = Arc::new(crate::cleanup::Ledger::default());
    let mut target = target;
    target.secrets = secrets;
    target
        .observers
        .push(Arc::new(crate::harvest::SecretHarvester));
    target.observers.push(ledger.clone());
    let result = run_against(
        &settings,
        &target,
        &reports,
        server.is_some(),
        accounts,
        args.progress_every,
    )
    .await;
    let created = ledger.take_accounts(&target.endpoint());
    if server.is_none() && !created.is_empty() {
        if args.keep_users {
            println!(
                "cleanup: --keep-users: left the {} accounts this run created",
                created.len()
            );
        } else {
            let summary = crate::cleanup::delete_accounts(
                &target.endpoint(),
                created,
                8,
                Duration::from_secs(60),
            )
            .await;
            println!("{summary}");
        }
    }
    if let Some(backend) = backend {
        backend.stop().await;
    }
    // Stopped on every way out; a drop (Ctrl-C) kills it too.
    if let Some(server) = server {
        server.stop().await;
    }
    result
}

/// Runs the scenario against `target`, writes the reports and returns the exit code.
async fn run_against(
    settings: &Settings,
    target: &Target,
    reports: &report::ReportPaths,
    bundled_reference: bool,
    accounts: Option<Arc<Vec<crate::users_file::Account>>>,
    progress_every: u64,
) -> Result<i32, HarnessError> {
    tokio::select! {
        reachable = target.check_reachable() => reachable?,
        _ = interrupt::wait() => return Ok(interrupted_before("the reachability check")),
    }
    let endpoint = target.endpoint();
    let auth = |path: &str| format!("{}{path}", endpoint.base_path);
    let url = |path: &str| {
        Url::parse(&endpoint.url_for(path, false))
            .map_err(|e| HarnessError::Usage(format!("--base-path {path}: {e}")))
    };
    let builder_client = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .map_err(|e| HarnessError::Usage(format!("an HTTP client: {e}")))?;
    let ctx = Arc::new(RunContext {
        scenario: settings.scenario,
        origin: endpoint.origin.clone(),
        expected_claims: crate::protocol::jwt::ExpectedClaims::new(
            &endpoint.origin,
            settings.jwt_issuer.as_deref(),
            settings.jwt_audience.as_deref(),
        ),
        unjudged_claims: Default::default(),
        get_session_path: auth("/get-session"),
        token_path: auth("/token"),
        jwks_path: auth("/jwks"),
        get_session_url: url("/get-session")?,
        token_url: url("/token")?,
        jwks_url: url("/jwks")?,
        resource: settings.resource.clone(),
        builder_client,
        timeout: settings.timeout,
        endpoint,
        setup: SetupLog::default(),
        pool: Mutex::new(Vec::new()),
        accounts: accounts.clone(),
        first_user: settings.first_user as usize,
        pacer: pacing::Pacer::new(settings.sign_in_rate),
        live: Arc::new(live::LiveStats::default()),
    });

    println!(
        "ba-harness load: {} against {}",
        settings.scenario.name(),
        target.description
    );
    if let (Some(name), Some(description)) = (&settings.profile, &settings.profile_description) {
        println!("  profile {name}: {description}");
    }
    println!(
        "  {} users (started at {}/s), {}, coordinated-omission mitigation {}",
        settings.users,
        settings.hatch_rate,
        settings.bound.describe(),
        settings.co.name()
    );
    if let Some(w) = settings.worker {
        println!(
            "  worker {}/{}: users {} to {} of {}",
            w.index,
            w.count,
            settings.first_user,
            settings.first_user + settings.users - 1,
            settings.total_users
        );
    }
    let how = if accounts.is_some() {
        "sign-in (--users-file)"
    } else {
        "sign-up and sign-in"
    };
    println!(
        "  {how} of {} virtual users ({}; not measured)…",
        settings.users,
        settings
            .sign_in_rate
            .map(|r| format!("paced at {r} requests/s"))
            .unwrap_or_else(|| "unpaced".into())
    );
    let started = std::time::Instant::now();
    let prepared = tokio::select! {
        prepared = user::prepare_users(&ctx, settings.users as usize, SETUP_PARALLELISM) => prepared,
        _ = interrupt::wait() => return Ok(interrupted_before("sign-up and sign-in")),
    };
    let setup = ctx.setup.snapshot();
    let sign_in = pacing::SignInPhase {
        users_ready: setup.ready,
        users_failed: setup.failures.values().sum(),
        secs: started.elapsed().as_secs_f64(),
        how: how.into(),
        rate: settings.sign_in_rate,
        final_rate: ctx.pacer.rate().await,
        rate_limited_answers: setup.rate_limited,
        rate_limited_wait_secs: setup.rate_limited_wait_secs,
    };
    println!("{}", sign_in.line());
    if !setup.failures.is_empty() {
        let total: usize = setup.failures.values().sum();
        let reasons = setup
            .failures
            .iter()
            .map(|(reason, n)| format!("\n  {n}× {reason}"))
            .collect::<String>();
        let cause = format!(
            "{total} of {} virtual users could not sign up and sign in:{reasons}",
            settings.users
        );
        if setup.unreachable {
            return Err(HarnessError::Unreachable {
                cause,
                fix: "check that the target is up and answering, or raise --timeout".into(),
            });
        }
        println!("load: setup failed: {cause}");
        // A target that refuses fresh accounts (closed sign-up, unverified email) is a set-up
        // the user can meet with accounts of their own.
        if accounts.is_none() && reasons.contains("answered HTTP 4") {
            println!(
                "  fix: if the target closes sign-up or refuses a fresh account's sign-in \
                 (emailAndPassword.disableSignUp, requireEmailVerification), give existing \
                 accounts with --users-file"
            );
        }
        println!("load: failed (nothing was measured)");
        return Ok(EXIT_FAILED);
    }
    *ctx.pool.lock().unwrap_or_else(|e| e.into_inner()) = prepared;

    if let Some(at) = settings.start_at_unix_ms {
        let now = unix_ms();
        if now > at {
            return Err(HarnessError::Usage(format!(
                "--start-at was {:.1} s ago when the sign-in phase ended ({:.1} s): give a later --start-at (the same to every worker)",
                (now - at) as f64 / 1000.0,
                sign_in.secs
            )));
        }
        println!(
            "  waiting {:.1} s for --start-at (every worker starts then)…",
            (at - now) as f64 / 1000.0
        );
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis((at - now) as u64)) => {}
            _ = interrupt::wait() => return Ok(interrupted_before("the wait for --start-at")),
        }
    }

    let temp = report::GooseDir::new()?;
    let configuration = goose_configuration(settings, &ctx.origin, reports, &temp, target);
    let attack = build_attack(
        configuration,
        settings.scenario,
        ctx.clone(),
        settings.timeout,
    )
    .map_err(|e| HarnessError::Usage(format!("goose refused the configuration: {e}")))?;

    let cap = matches!(settings.bound, Bound::Iterations(_)).then(|| {
        tokio::spawn(async {
            tokio::time::sleep(ITERATIONS_TIME_CAP).await;
            goose::trigger_killswitch("the iterations run reached its time cap");
        })
    });
    // goose clears its killswitch as the run starts: a Ctrl-C pressed just before would be
    // lost, so keep pulling it once interrupted.
    let stopper = tokio::spawn(async {
        interrupt::wait().await;
        loop {
            goose::trigger_killswitch("interrupted (Ctrl-C)");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let progress = {
        use std::io::IsTerminal as _;
        let hatch_secs = settings.users as f64 / settings.hatch_rate;
        let (total, planned) = match settings.bound {
            Bound::RunTime(secs) => (Some(secs as f64 + hatch_secs.ceil()), None),
            Bound::Iterations(n) => (None, Some(settings.users * n)),
        };
        live::Progress::start(
            ctx.live.clone(),
            total,
            planned,
            Duration::from_secs(progress_every.max(1)),
            std::io::stdout().is_terminal(),
            progress_every == 0,
        )
    };
    let executed = attack.execute().await;
    let timeline = progress.finish();
    stopper.abort();
    if let Some(cap) = cap {
        cap.abort();
    }
    let metrics = executed.map_err(|e| {
        HarnessError::Usage(
            target
                .secrets
                .scrub_text(&format!("the goose run failed: {e}")),
        )
    })?;

    let measured_path = match settings.scenario {
        ScenarioKind::GetSession => &ctx.get_session_path,
        ScenarioKind::JwtVerification => &ctx.token_path,
    };
    let mut summary = report::Summary::build(
        settings,
        target,
        &metrics,
        &sign_in,
        measured_path,
        bundled_reference,
    );
    summary.timeline = timeline;
    if interrupt::interrupted() {
        summary.mark_interrupted();
    }
    summary.print();
    for (claim, flag) in ctx.unjudged_claims.seen() {
        println!(
            "load: note: the JWTs' {claim} is not the target's origin (Better Auth's default) and \
             was not judged; give {flag} if the deployment sets it"
        );
    }
    summary.write(reports, Some(&temp), &target.secrets)?;
    Ok(if summary.interrupted {
        EXIT_INTERRUPTED
    } else if summary.passed {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Ctrl-C before goose started: nothing was measured, no report is written.
fn interrupted_before(phase: &str) -> i32 {
    println!("load: interrupted (Ctrl-C) during {phase}; nothing was measured");
    EXIT_INTERRUPTED
}

/// goose's configuration, built in code from the settings (goose never sees the argv).
fn goose_configuration(
    settings: &Settings,
    origin: &str,
    reports: &report::ReportPaths,
    temp: &report::GooseDir,
    target: &Target,
) -> GooseConfiguration {
    let mut c = GooseConfiguration::default();
    c.host = Some(origin.to_string());
    c.users = Some(settings.users as usize);
    c.increase_rate = Some(settings.hatch_rate.to_string());
    match settings.bound {
        Bound::RunTime(secs) => c.run_time = Some(secs.to_string()),
        Bound::Iterations(n) => c.iterations = Some(n as usize),
    }
    c.co_mitigation = Some(settings.co.goose());
    c.timeout = Some(settings.timeout.as_secs().to_string());
    // No controllers: no telnet on 127.0.0.1:5116, no WebSocket; nothing else listens.
    c.no_telnet = true;
    c.websocket = false;
    // Goose's own console output: warnings only, and no metrics table (the harness prints its
    // summary; the reports carry goose's tables).
    c.quiet = 1;
    c.no_print_metrics = true;
    c.report_file = reports.goose_files(temp);
    c.notes = Some(report::notes(settings, target));
    c
}

/// A goose transaction that runs `check(user, &ctx)`, each call on its own handle to the run's
/// context.
macro_rules! transaction {
    ($ctx:expr, $check:path) => {{
        let ctx = $ctx.clone();
        let function: TransactionFunction = Arc::new(move |user| {
            let ctx = ctx.clone();
            Box::pin(async move { $check(user, &ctx).await })
        });
        function
    }};
}

fn build_attack(
    configuration: GooseConfiguration,
    scenario: ScenarioKind,
    ctx: Arc<RunContext>,
    timeout: Duration,
) -> Result<GooseAttack, GooseError> {
    let on_start = transaction!(ctx, user::on_start);
    let (scenario_name, transaction_name, work) = match scenario {
        ScenarioKind::GetSession => (
            "get-session",
            "get-session (checked)",
            transaction!(ctx, get_session::get_session),
        ),
        ScenarioKind::JwtVerification => (
            "jwt-verification",
            "token + verify (checked)",
            transaction!(ctx, jwt_verification::get_token_and_verify),
        ),
    };
    let scenario = Scenario::new(scenario_name)
        .register_transaction(
            Transaction::new(on_start)
                .set_name("sign-in (prepared before the run)")
                .set_on_start(),
        )
        .register_transaction(Transaction::new(work).set_name(transaction_name));
    GooseAttack::initialize_with_config(configuration)?
        .set_client_builder_without_cookies(
            goose::client::GooseClientBuilder::new()
                .without_cookies()
                .timeout(timeout)
                .user_agent(concat!("ba-harness-load/", env!("CARGO_PKG_VERSION"))),
        )
        .map(|attack| attack.register_scenario(scenario))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        load: LoadArgs,
    }

    fn args(line: &[&str]) -> LoadArgs {
        let mut argv = vec!["load"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).unwrap().load
    }

    fn usage_message(result: Result<Settings, HarnessError>) -> String {
        match result {
            Err(HarnessError::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn workers_split_the_users_evenly() {
        let w = |t: &str| WorkerShare::parse(t).unwrap();
        assert_eq!(w("0/3"), WorkerShare { index: 0, count: 3 });
        // 10 users over 3 workers: 4, 3, 3; numbered 0-3, 4-6, 7-9.
        assert_eq!(w("0/3").users_of(10), (4, 0));
        assert_eq!(w("1/3").users_of(10), (3, 4));
        assert_eq!(w("2/3").users_of(10), (3, 7));
        let total: u64 = (0..7)
            .map(|i| WorkerShare { index: i, count: 7 }.users_of(100).0)
            .sum();
        assert_eq!(total, 100);
        for bad in ["3/3", "1", "a/3", "0/0", "-1/3"] {
            assert!(WorkerShare::parse(bad).is_err(), "{bad}");
        }
        let s = resolve(
            &args(&[
                "--scenario",
                "get-session",
                "--users",
                "10",
                "--hatch-rate",
                "5",
                "--worker",
                "1/3",
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!((s.users, s.total_users, s.first_user), (3, 10, 4));
        assert!((s.hatch_rate - 1.5).abs() < 1e-9);
        let m = usage_message(resolve(
            &args(&[
                "--scenario",
                "get-session",
                "--users",
                "2",
                "--worker",
                "2/3",
            ]),
            None,
            None,
        ));
        assert!(m.contains("none"), "{m}");
    }

    #[test]
    fn start_at_takes_rfc3339_or_unix_seconds() {
        assert_eq!(parse_start_at("1764936000"), Ok(1_764_936_000_000));
        assert_eq!(
            parse_start_at("2025-12-05T12:00:00Z"),
            Ok(1_764_936_000_000)
        );
        assert_eq!(
            parse_start_at("2025-12-05T13:00:00.5+01:00"),
            Ok(1_764_936_000_500)
        );
        assert!(parse_start_at("tomorrow").is_err());
    }

    #[test]
    fn the_sign_in_pace_defaults_by_target() {
        let pace = |line: &[&str]| resolve(&args(line), None, None).unwrap().sign_in_rate;
        let against_a_target = [
            "--scenario",
            "get-session",
            "--target",
            "http://127.0.0.1:1",
        ];
        assert_eq!(pace(&["--scenario", "get-session"]), None);
        assert_eq!(pace(&against_a_target), Some(DEFAULT_TARGET_SIGN_IN_RATE));
        assert_eq!(
            pace(&[&against_a_target[..], &["--sign-in-rate", "0"]].concat()),
            None
        );
        // --users-file: one virtual user per account unless --users says.
        let s = resolve(&args(&["--scenario", "get-session"]), None, Some(5)).unwrap();
        assert_eq!(s.users, 5);
    }

    #[test]
    fn merge_is_a_subcommand_without_scenario() {
        let cli = Cli::try_parse_from(["load", "merge", "a.json", "b.json", "--report", "m.html"])
            .unwrap();
        match cli.load.action {
            Some(LoadAction::Merge(m)) => assert_eq!(m.reports.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(
            Cli::try_parse_from(["load"]).is_err(),
            "--scenario stays required"
        );
    }

    #[test]
    fn defaults_bound_the_run_and_fail_on_any_error() {
        let s = resolve(&args(&["--scenario", "get-session"]), None, None).unwrap();
        assert_eq!(s.users, DEFAULT_USERS);
        assert_eq!(s.hatch_rate, DEFAULT_USERS as f64);
        assert_eq!(s.bound, Bound::RunTime(DEFAULT_RUN_TIME_SECS));
        assert_eq!(s.thresholds.max_error_rate, Some(0.0));
        assert_eq!(s.thresholds.max_p95_ms, None);
        assert_eq!(s.co, CoMode::Disabled);
        assert!(s.cookie_cache);
    }

    #[test]
    fn flags_win_over_the_profile() {
        let profile = Profile {
            users: Some(4),
            hatch_rate: Some(2.0),
            run_time: Some("5m".into()),
            max_p95_ms: Some(100.0),
            max_error_rate: Some(profile::RateValue::Text("1%".into())),
            co_mitigation: Some("average".into()),
            cookie_cache: Some("off".into()),
            ..Profile::default()
        };
        let s = resolve(&args(&["--scenario", "get-session"]), Some(&profile), None).unwrap();
        assert_eq!(
            (s.users, s.hatch_rate, s.bound),
            (4, 2.0, Bound::RunTime(300))
        );
        assert_eq!(s.thresholds.max_error_rate, Some(0.01));
        assert_eq!(s.co, CoMode::Average);
        assert!(!s.cookie_cache);

        let s = resolve(
            &args(&[
                "--scenario",
                "get-session",
                "--users",
                "2",
                "--iterations",
                "7",
                "--max-error-rate",
                "0",
                "--max-p95-ms",
                "5",
                "--co-mitigation",
                "minimum",
                "--cookie-cache",
                "on",
            ]),
            Some(&profile),
            None,
        )
        .unwrap();
        assert_eq!((s.users, s.bound), (2, Bound::Iterations(7)));
        assert_eq!(s.thresholds.max_error_rate, Some(0.0));
        assert_eq!(s.thresholds.max_p95_ms, Some(5.0));
        assert_eq!(s.co, CoMode::Minimum);
        assert!(s.cookie_cache);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let cases: [(&[&str], &str); 7] = [
            (&["--scenario", "get-session", "--run-time", "0s"], "zero"),
            (&["--scenario", "get-session", "--run-time", "25h"], "over"),
            (
                &["--scenario", "get-session", "--hatch-rate", "0"],
                "hatch-rate",
            ),
            (
                &["--scenario", "get-session", "--max-error-rate", "2"],
                "out of range",
            ),
            (
                &[
                    "--scenario",
                    "get-session",
                    "--resource",
                    "http://127.0.0.1:9/",
                ],
                "jwt-verification",
            ),
            (
                &[
                    "--scenario",
                    "jwt-verification",
                    "--resource",
                    "http://10.0.0.1/",
                ],
                "loopback",
            ),
            (
                &["--scenario", "jwt-verification", "--jwt-alg", "HS256"],
                "HS256",
            ),
        ];
        for (argv, says) in cases {
            let m = usage_message(resolve(&args(argv), None, None));
            assert!(m.contains(says), "{argv:?}: {m}");
        }
        let both = Profile {
            run_time: Some("5s".into()),
            iterations: Some(3),
            ..Profile::default()
        };
        let m = usage_message(resolve(
            &args(&["--scenario", "get-session"]),
            Some(&both),
            None,
        ));
        assert!(m.contains("both"), "{m}");
    }

    #[test]
    fn run_time_and_iterations_conflict_on_the_command_line() {
        let argv = [
            "load",
            "--scenario",
            "get-session",
            "--run-time",
            "5s",
            "--iterations",
            "3",
        ];
        assert!(Cli::try_parse_from(argv).is_err());
        let argv = [
            "load",
            "--scenario",
            "get-session",
            "--target",
            "http://127.0.0.1:1",
            "--cookie-cache",
            "off",
        ];
        assert!(Cli::try_parse_from(argv).is_err());
    }
}
