//! `releases` and `bisect`: the suite (or one scenario) across published Better Auth releases.
//!
//! Each release runs in a child `ba-harness conform --better-auth VERSION` process: the same
//! install, boot and run as a user's own `conform --better-auth`, one failure per release kept
//! apart, and its JSON report read back. The range and the search are pure
//! (crate::releases); this module only runs them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use tokio::process::Command;

use super::SuiteArgs;
use crate::error::{EXIT_FAILED, EXIT_OK, HarnessError};
use crate::reference_release::published_versions;
use crate::releases::{Outcome, RangeSpec, Version, bisect, select};

#[derive(Debug, Args)]
pub struct ReleasesArgs {
    /// The oldest release to run (e.g. 1.6.0).
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    /// The newest release to run (e.g. 1.7.25).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Only the newest N releases of the range.
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    /// Keep pre-releases (alpha, beta, rc) in the range.
    #[arg(long)]
    pub prereleases: bool,
    /// The scenarios to run, as for conform (e.g. '@oauth-provider').
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Write the rule × release matrix as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the rule × release matrix as Markdown.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    #[command(flatten)]
    pub work: ReleaseWorkArgs,
    /// Also record a snapshot per release into DIR/<version> and print, for each pair of
    /// consecutive releases, the exchanges that changed.
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    #[command(flatten)]
    pub common: SuiteArgs,
}

#[derive(Debug, Args)]
pub struct BisectArgs {
    /// The scenario whose verdict changed, by name (as in the report).
    #[arg(long, value_name = "NAME")]
    pub scenario: String,
    /// A release where the scenario passes.
    #[arg(long, value_name = "VERSION")]
    pub good: String,
    /// A release where it fails.
    #[arg(long, value_name = "VERSION")]
    pub bad: String,
    /// Search pre-releases too.
    #[arg(long)]
    pub prereleases: bool,
    #[command(flatten)]
    pub work: ReleaseWorkArgs,
    #[command(flatten)]
    pub common: SuiteArgs,
}

/// Where the release runs keep their logs and reports, and how long each may take.
#[derive(Debug, Args)]
pub struct ReleaseWorkArgs {
    /// Folder for each release's conform log and JSON report (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Bound on each release's conform run, install included.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub release_timeout: u64,
}

impl ReleaseWorkArgs {
    /// The --work-dir, or a temporary folder; made if missing.
    fn dir(&self) -> Result<PathBuf, HarnessError> {
        let dir = self.work_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ba-harness-releases-{}", std::process::id()))
        });
        std::fs::create_dir_all(&dir).map_err(|source| HarnessError::Output {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(dir)
    }

    /// The bound on one release's run.
    fn bound(&self) -> Duration {
        Duration::from_secs(self.release_timeout)
    }
}

/// One release's run: its verdict per scenario, how long it took, and why it has none.
struct ReleaseRun {
    version: Version,
    seconds: f64,
    outcomes: BTreeMap<String, Outcome>,
    /// Set when the run gave no report (install or boot failed, timed out).
    problem: Option<String>,
}

/// Where the release's changelog lives, when the registry names the repository.
async fn changelog_link(version: &Version) -> Option<String> {
    let output = Command::new("npm")
        .args(["view", &format!("better-auth@{version}"), "repository.url"])
        .output()
        .await
        .ok()?;
    let url = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let repo = url
        .trim_start_matches("git+")
        .trim_end_matches(".git")
        .to_string();
    repo.starts_with("https://github.com/")
        .then(|| format!("{repo}/releases/tag/v{version}"))
}

/// A child `ba-harness SUBCOMMAND --better-auth VERSION` over the chosen scenarios (--tags,
/// --features), killed when dropped; the caller adds the subcommand's own flags.
fn release_child(
    exe: &Path,
    subcommand: &str,
    version: &Version,
    tags: Option<&str>,
    suite: &SuiteArgs,
) -> Command {
    let mut command = Command::new(exe);
    command
        .arg(subcommand)
        .arg("--better-auth")
        .arg(version.to_string())
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    if let Some(tags) = tags {
        command.arg("--tags").arg(tags);
    }
    if let Some(features) = &suite.features {
        command.arg("--features").arg(features);
    }
    command
}

/// Runs `conform --better-auth VERSION` in a child process and reads its JSON report.
async fn run_release(
    version: &Version,
    tags: Option<&str>,
    common: &SuiteArgs,
    dir: &Path,
    bound: Duration,
) -> ReleaseRun {
    let started = Instant::now();
    let report = dir.join(format!("conform-{version}.json"));
    let log = dir.join(format!("conform-{version}.log"));
    let _ = std::fs::remove_file(&report);
    let mut run = ReleaseRun {
        version: version.clone(),
        seconds: 0.0,
        outcomes: BTreeMap::new(),
        problem: None,
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            run.problem = Some(format!("cannot find the harness binary: {e}"));
            return run;
        }
    };
    let mut command = release_child(&exe, "conform", version, tags, common);
    command
        .arg("--json")
        .arg(&report)
        .arg("--run-timeout")
        .arg(bound.as_secs().to_string());
    if let Some(deviations) = &common.deviations {
        command.arg("--deviations").arg(deviations);
    }
    let output = tokio::time::timeout(bound + Duration::from_secs(60), command.output()).await;
    run.seconds = started.elapsed().as_secs_f64();
    match output {
        Err(_) => run.problem = Some(format!("no result within {} s", bound.as_secs())),
        Ok(Err(e)) => run.problem = Some(format!("could not run conform: {e}")),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let _ = std::fs::write(&log, &text);
            match std::fs::read_to_string(&report)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            {
                Some(json) => run.outcomes = outcomes_of(&json),
                None => {
                    let last = text
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    run.problem = Some(format!(
                        "exit {} without a report: {last} (log: {})",
                        out.status.code().unwrap_or(-1),
                        log.display()
                    ));
                }
            }
        }
    }
    run
}

/// Scenario name → outcome, from a conform JSON report.
fn outcomes_of(report: &Value) -> BTreeMap<String, Outcome> {
    let mut map = BTreeMap::new();
    for scenario in report
        .get("scenarios")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = scenario.get("scenario").and_then(Value::as_str) else {
            continue;
        };
        let outcome = match scenario.get("status").and_then(Value::as_str) {
            Some("passed") => Outcome::Pass,
            Some("failed") => Outcome::Fail,
            Some("deviation") => Outcome::Deviation,
            Some("skipped") => Outcome::Skipped,
            other => Outcome::Unknown(format!("status {other:?}")),
        };
        map.insert(name.to_string(), outcome);
    }
    map
}

/// `ba-harness releases`: the chosen scenarios against each release of the range.
pub(crate) async fn releases_command(args: ReleasesArgs) -> Result<i32, HarnessError> {
    let spec = RangeSpec {
        from: args.from.clone(),
        to: args.to.clone(),
        last: args.last,
        include_prereleases: args.prereleases,
    };
    if spec.from.is_none() && spec.to.is_none() && spec.last.is_none() {
        return Err(HarnessError::Usage(
            "say which releases: --from VERSION and/or --to VERSION, or --last N".into(),
        ));
    }
    let published = published_versions("better-auth").await?;
    let chosen = select(&published, &spec).map_err(HarnessError::Usage)?;
    let dir = args.work.dir()?;
    println!(
        "releases: {} better-auth release(s): {} (logs in {})",
        chosen.len(),
        chosen
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        dir.display()
    );
    let bound = args.work.bound();
    let mut runs = Vec::new();
    for (i, version) in chosen.iter().enumerate() {
        println!("[{}/{}] better-auth {version}…", i + 1, chosen.len());
        let run = run_release(version, args.tags.as_deref(), &args.common, &dir, bound).await;
        println!("  {}", run_line(&run));
        runs.push(run);
    }
    if let Some(root) = &args.snapshots {
        snapshot_releases(root, &chosen, args.tags.as_deref(), &args.common, bound).await?;
    }
    let markdown = matrix_markdown(&runs);
    println!("\n{markdown}");
    if let Some(path) = &args.markdown {
        write(path, &markdown)?;
        println!("Markdown matrix: {}", path.display());
    }
    if let Some(path) = &args.json {
        write(
            path,
            &serde_json::to_string_pretty(&matrix_json(&runs, args.tags.as_deref()))
                .unwrap_or_default(),
        )?;
        println!("JSON matrix: {}", path.display());
    }
    let all_ran = runs.iter().all(|r| r.problem.is_none());
    Ok(if all_ran { EXIT_OK } else { EXIT_FAILED })
}

/// Records `snapshot --better-auth V` per release into `root/V` (child processes, as the runs),
/// then prints what changed between each pair of consecutive releases.
async fn snapshot_releases(
    root: &Path,
    versions: &[Version],
    tags: Option<&str>,
    common: &SuiteArgs,
    bound: Duration,
) -> Result<(), HarnessError> {
    let exe = std::env::current_exe().map_err(|e| HarnessError::Usage(e.to_string()))?;
    let mut recorded: Vec<(&Version, PathBuf)> = Vec::new();
    for version in versions {
        let out = root.join(version.to_string());
        let mut command = release_child(&exe, "snapshot", version, tags, common);
        command.arg("--out").arg(&out);
        let status = tokio::time::timeout(bound, command.output()).await;
        match status {
            Ok(Ok(_)) if out.is_dir() => {
                println!("snapshot {version}: {}", out.display());
                recorded.push((version, out));
            }
            _ => println!(
                "snapshot {version}: not recorded (see `ba-harness snapshot --better-auth {version}`)"
            ),
        }
    }
    println!();
    for pair in recorded.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let read = |dir: &Path| crate::snapshot::read_snapshots(dir).unwrap_or_default();
        let (before, after) = (read(&a.1), read(&b.1));
        let diff = crate::snapshot::diff_snapshots(&before, &after, &[], false);
        println!(
            "{} → {}: {} changed, {} added, {} removed",
            a.0,
            b.0,
            diff.changed.len(),
            diff.added.len(),
            diff.removed.len()
        );
        for (name, _) in diff.changed.iter().take(10) {
            println!("  changed: {name}");
        }
        if diff.changed.len() > 10 {
            println!(
                "  … and {} more: ba-harness diff {} {}",
                diff.changed.len() - 10,
                a.1.display(),
                b.1.display()
            );
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), HarnessError> {
    std::fs::write(path, text).map_err(|source| HarnessError::Output {
        path: path.display().to_string(),
        source,
    })
}

fn run_line(run: &ReleaseRun) -> String {
    if let Some(problem) = &run.problem {
        return format!("no verdict ({:.0} s): {problem}", run.seconds);
    }
    let count = |o: &Outcome| run.outcomes.values().filter(|x| *x == o).count();
    format!(
        "{} pass, {} fail, {} known deviation, {} skipped ({:.0} s, install included)",
        count(&Outcome::Pass),
        count(&Outcome::Fail),
        count(&Outcome::Deviation),
        count(&Outcome::Skipped),
        run.seconds
    )
}

/// Scenario rows × release columns; the last row is the time per release.
fn matrix_markdown(runs: &[ReleaseRun]) -> String {
    let mut scenarios: Vec<&String> = runs.iter().flat_map(|r| r.outcomes.keys()).collect();
    scenarios.sort();
    scenarios.dedup();
    let mut out = format!(
        "| scenario | {} |\n| --- |{}\n",
        runs.iter()
            .map(|r| r.version.to_string())
            .collect::<Vec<_>>()
            .join(" | "),
        " --- |".repeat(runs.len())
    );
    for name in scenarios {
        let cells: Vec<&str> = runs
            .iter()
            .map(|r| r.outcomes.get(name).map(Outcome::label).unwrap_or("–"))
            .collect();
        out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    out.push_str(&format!(
        "| *seconds (install + run)* | {} |\n",
        runs.iter()
            .map(|r| format!("{:.0}", r.seconds))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    out
}

fn matrix_json(runs: &[ReleaseRun], tags: Option<&str>) -> Value {
    json!({
        "harness_version": env!("CARGO_PKG_VERSION"),
        "tags": tags,
        "releases": runs.iter().map(|r| json!({
            "version": r.version.to_string(),
            "seconds": (r.seconds * 10.0).round() / 10.0,
            "problem": r.problem,
            "outcomes": r.outcomes.iter().map(|(k, v)| (k.clone(), Value::String(v.label().to_string()))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The tag expression that selects `scenario` and as few others as possible: the conjunction of
/// its own and its feature's tags, read from the feature files (crate::rules::load_scenarios).
fn tags_of_scenario(features: &Path, scenario: &str) -> Result<String, HarnessError> {
    let Some(found) = crate::rules::load_scenarios(features)?
        .into_iter()
        .find(|s| s.name.trim() == scenario)
    else {
        return Err(HarnessError::Usage(format!(
            "no scenario named `{scenario}` in {}; names are as in the report",
            features.display()
        )));
    };
    let mut tags: Vec<String> = found.tags.iter().map(|t| format!("@{t}")).collect();
    tags.sort();
    tags.dedup();
    Ok(tags.join(" and "))
}

/// `ba-harness bisect`: the first release between --good and --bad where the verdict changes.
pub(crate) async fn bisect_command(args: BisectArgs) -> Result<i32, HarnessError> {
    let good = Version::parse(&args.good)
        .ok_or_else(|| HarnessError::Usage(format!("--good `{}` is not a release", args.good)))?;
    let bad = Version::parse(&args.bad)
        .ok_or_else(|| HarnessError::Usage(format!("--bad `{}` is not a release", args.bad)))?;
    let features = match args.common.features.clone() {
        Some(dir) => dir,
        None => crate::conform::default_features_dir()?,
    };
    let tags = tags_of_scenario(&features, &args.scenario)?;
    let (old, new) = if good <= bad {
        (good.clone(), bad.clone())
    } else {
        (bad.clone(), good.clone())
    };
    let published = published_versions("better-auth").await?;
    let range = select(
        &published,
        &RangeSpec {
            from: Some(old.to_string()),
            to: Some(new.to_string()),
            last: None,
            include_prereleases: args.prereleases,
        },
    )
    .map_err(HarnessError::Usage)?;
    let dir = args.work.dir()?;
    println!(
        "bisect: `{}` over {} release(s) from {old} to {new} (tags: {}; logs in {})",
        args.scenario,
        range.len(),
        if tags.is_empty() { "none" } else { &tags },
        dir.display()
    );
    let bound = args.work.bound();
    let scenario = args.scenario.clone();
    let tags_ref = (!tags.is_empty()).then_some(tags.as_str());
    let common = &args.common;
    let dir_ref = &dir;
    let result = bisect(&range, &good, &bad, |version| {
        let scenario = scenario.clone();
        async move {
            let run = run_release(&version, tags_ref, common, dir_ref, bound).await;
            let outcome = match (&run.problem, run.outcomes.get(&scenario)) {
                (Some(problem), _) => Outcome::Unknown(problem.clone()),
                (None, Some(outcome)) => outcome.clone(),
                (None, None) => Outcome::Unknown("the scenario did not run".into()),
            };
            println!(
                "  {version}: {}{} ({:.0} s)",
                outcome.label(),
                match &outcome {
                    Outcome::Unknown(why) => format!(" ({why})"),
                    _ => String::new(),
                },
                run.seconds
            );
            outcome
        }
    })
    .await
    .map_err(HarnessError::Usage)?;
    let Some(first) = &result.first_changed else {
        println!("no release in the range changed the verdict");
        return Ok(EXIT_FAILED);
    };
    let word = if result.fixed {
        "first good (fixed in)"
    } else {
        "first bad"
    };
    let link = changelog_link(first).await;
    println!(
        "{word}: {first}{}{}",
        result
            .last_unchanged
            .as_ref()
            .map(|v| format!(" (last before it: {v})"))
            .unwrap_or_default(),
        link.map(|l| format!("\n  changelog: {l}"))
            .unwrap_or_default()
    );
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_release_runs_the_chosen_scenarios() {
        let suite = SuiteArgs {
            features: Some(PathBuf::from("feats")),
            deviations: None,
        };
        let version = Version::parse("1.4.0").unwrap();
        let command = release_child(Path::new("ba"), "snapshot", &version, Some("@x"), &suite);
        let args: Vec<_> = command.as_std().get_args().collect();
        assert_eq!(
            args,
            [
                "snapshot",
                "--better-auth",
                "1.4.0",
                "--tags",
                "@x",
                "--features",
                "feats"
            ]
        );
    }

    #[test]
    fn a_scenario_is_selected_by_its_own_and_its_feature_tags() {
        let dir = std::env::temp_dir().join(format!("ba-harness-bisect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("x.feature"),
            "@core @oauth-provider\nFeature: X\n  Text.\n\n  @should @rfc7636-4.6\n  Scenario: First one\n    Given a\n\n  Scenario: Second one\n    Given b\n",
        )
        .unwrap();
        assert_eq!(
            tags_of_scenario(&dir, "First one").unwrap(),
            "@core and @oauth-provider and @rfc7636-4.6 and @should"
        );
        assert_eq!(
            tags_of_scenario(&dir, "Second one").unwrap(),
            "@core and @oauth-provider"
        );
        assert!(tags_of_scenario(&dir, "Third").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn outcomes_are_read_from_a_conform_report() {
        let report = json!({"scenarios": [
            {"scenario": "a", "status": "passed", "severity": "MUST"},
            {"scenario": "b", "status": "failed", "severity": "MUST"},
            {"scenario": "c", "status": "deviation", "severity": "MUST"},
            {"scenario": "d", "status": "skipped", "severity": "MUST"},
        ]});
        let got = outcomes_of(&report);
        assert_eq!(got["a"], Outcome::Pass);
        assert_eq!(got["b"], Outcome::Fail);
        assert_eq!(got["c"], Outcome::Deviation);
        assert_eq!(got["d"], Outcome::Skipped);
    }
}
