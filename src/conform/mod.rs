//! `conform`: run the feature files against a target with cucumber and collect a report.
//!
//! The run prints nothing: it returns the report (capabilities, discovery notes, scenario
//! results, cleanup summary) and emits events to the listener in its options while it runs
//! (crate::report::event); the CLI's terminal reporter prints them.

pub mod steps;
pub mod world;
mod writer;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cucumber::event::ScenarioFinished;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::{World as _, gherkin};
use futures::FutureExt as _;

use crate::error::HarnessError;
use crate::report::event::{Listener, RunEvent};
use crate::report::{RunReport, ScenarioOutcome, Verdict};
use crate::target::{Target, capability_for_tag};
use world::{AuthWorld, RunContext, StepFailure, set_current};

/// A scenario started and not yet finished: feature, scenario, location, tags.
type InFlight = (String, String, String, Vec<String>);

/// How a conform run is shaped (the target aside).
#[derive(Clone, Debug)]
pub struct ConformOptions {
    pub features: PathBuf,
    pub tags: Option<String>,
    /// Scenarios in flight at once (every scenario has its own user, so they do not collide).
    pub concurrency: usize,
    /// Bound on the whole run; scenarios still running then are reported as failed.
    pub run_timeout: Duration,
    /// SHOULD failures fail the run too.
    pub strict: bool,
    /// The known-deviation list: a file, or the embedded known-deviations.toml.
    pub deviations: crate::deviations::DeviationList,
    /// Records every exchange, labelled with its scenario (snapshot runs; needs concurrency 1).
    pub recorder: Option<Arc<crate::snapshot::Recorder>>,
    /// Leave the accounts the run creates on the target (`--keep-users`); by default they are
    /// deleted at the end where the target allows it (crate::cleanup).
    pub keep_users: bool,
    /// Who hears the run's events (the terminal reporter; silent by default).
    pub listener: Listener,
    /// The command's redaction (`--show-secrets`), handed to every client of the run through
    /// the target.
    pub secrets: crate::redact::Secrets,
}

/// The features folder when --features is not given: `$BA_HARNESS_FEATURES_DIR` when set, else
/// the feature files embedded in the binary, unpacked into the cache folder (crate::cache). The
/// working directory plays no part: a run means the same from anywhere.
pub fn default_features_dir() -> Result<PathBuf, HarnessError> {
    if let Some(dir) = std::env::var_os("BA_HARNESS_FEATURES_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    Ok(crate::cache::assets_root()?.join(crate::assets::FEATURES_FOLDER))
}

fn parse_tags(expr: &str) -> Result<TagOperation, HarnessError> {
    TagOperation::from_str(expr).map_err(|e| {
        HarnessError::Usage(format!(
            "--tags `{expr}` is not a tag expression ({e}); example: --tags '@core and not @slow'"
        ))
    })
}

fn check_features_dir(dir: &Path) -> Result<(), HarnessError> {
    let has_features = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "feature"))
        })
        .unwrap_or(false);
    if has_features {
        Ok(())
    } else {
        Err(HarnessError::Usage(format!(
            "no .feature files in `{}`; give the folder with --features DIR",
            dir.display()
        )))
    }
}

fn location(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
    let path = feature
        .path
        .as_ref()
        .map(|p| {
            // Embedded features unpacked in the cache read as `features/<file>`, not as a
            // path in someone's home folder.
            let cwd = std::env::current_dir().unwrap_or_default();
            let unpacked = crate::cache::unpacked_root();
            unpacked
                .as_deref()
                .and_then(|root| p.strip_prefix(root).ok())
                .or_else(|| p.strip_prefix(&cwd).ok())
                .unwrap_or(p)
                .display()
                .to_string()
        })
        .unwrap_or_else(|| feature.name.clone());
    format!("{path}:{}", scenario.position.line)
}

fn all_tags(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> Vec<String> {
    let mut tags: Vec<String> = feature.tags.clone();
    if let Some(rule) = rule {
        tags.extend(rule.tags.iter().cloned());
    }
    tags.extend(scenario.tags.iter().cloned());
    let mut seen = BTreeSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    tags
}

/// How many scenarios the tag filter selects in `dir` (for the `n/total` counter): the parser's
/// count before anything runs. Files that do not parse count nothing here (the run reports them).
fn count_selected(dir: &Path, filter: Option<&TagOperation>) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_none_or(|x| x != "feature") {
            continue;
        }
        let Ok(feature) = gherkin::Feature::parse_path(&path, gherkin::GherkinEnv::default())
        else {
            continue;
        };
        let selected = |rule: Option<&gherkin::Rule>, scenario: &gherkin::Scenario| {
            let tags = all_tags(&feature, rule, scenario);
            filter.is_none_or(|op| op.eval(tags.iter()))
        };
        total += feature
            .scenarios
            .iter()
            .filter(|s| selected(None, s))
            .count();
        for rule in &feature.rules {
            total += rule
                .scenarios
                .iter()
                .filter(|s| selected(Some(rule), s))
                .count();
        }
    }
    total
}

/// Steps that start with an account of the scenario's own: a fresh sign-up unless accounts are
/// given. On a target with closed sign-up and no given account, their scenarios cannot run.
const FRESH_ACCOUNT_STEPS: &[&str] = &[
    "a registered user",
    "a signed-in user",
    "a user signed in at the issuer",
];

/// Steps that end every session of the scenario's account, or every OAuth refresh token of the
/// account and client (a replayed refresh token makes Better Auth drop the whole (client, user)
/// family, RFC 9700 §4.14), and so other scenarios' on a shared given account.
const ACCOUNT_ENDING_STEPS: &[&str] = &[
    "the user revokes their other sessions",
    "the user revokes all their sessions",
    "the OAuth client presents the rotated refresh token again",
    "the OAuth client refreshes with the revoked refresh token",
];

/// Steps that change or delete the scenario's own account. An account the user gave
/// (`--user-email`, `--users-file`) is never changed: such scenarios need a fresh one.
const ACCOUNT_CHANGING_STEPS: &[&str] = &[
    "the user deletes their account",
    "the user changes their password and asks to revoke their other sessions",
    "the user sets a new password with the link from the mailbox",
    "the user changes their name",
    "the user changes their name, naming the other user's session token in the body",
];

/// Steps that sign up a second account of their own, whatever accounts are given.
const SECOND_ACCOUNT_STEPS: &[&str] = &[
    "another user is signed in",
    "a new user signs up with email and password",
    "a new user signs up and signs in",
];

/// Steps that sign in an account they have just signed up, whatever accounts are given.
const FRESH_SIGN_IN_STEPS: &[&str] = &[
    "another user is signed in",
    "a new user signs up and signs in",
    "a new user signs up with a mixed-case email",
];

/// What the target lets a run do with accounts, as discovery found it.
#[derive(Clone, Copy, Debug, Default)]
struct AccountFacts {
    /// `--user-email` or `--users-file` gave existing accounts.
    accounts_given: bool,
    /// Sign-up is refused (emailAndPassword.disableSignUp).
    sign_up_closed: bool,
    /// An account just signed up cannot sign in (emailAndPassword.requireEmailVerification).
    fresh_sign_in_refused: bool,
}

/// Why a scenario cannot run on this target with the accounts it has, before it runs: sign-up
/// closed and no account given, a given account it would change, or a second account it would
/// have to sign up.
fn account_precondition(scenario: &gherkin::Scenario, facts: AccountFacts) -> Option<String> {
    let AccountFacts {
        accounts_given,
        sign_up_closed,
        fresh_sign_in_refused,
    } = facts;
    if sign_up_closed && !accounts_given && has_step(scenario, FRESH_ACCOUNT_STEPS) {
        return Some(crate::target::SIGN_UP_CLOSED.into());
    }
    if fresh_sign_in_refused && !accounts_given && has_step(scenario, FRESH_ACCOUNT_STEPS) {
        return Some(crate::target::FRESH_SIGN_IN_REFUSED.into());
    }
    if accounts_given && has_step(scenario, ACCOUNT_CHANGING_STEPS) {
        return Some(
            "changes or deletes its account, and an account given with --user-email or \
             --users-file is never changed: runs with open sign-up and no given account"
                .into(),
        );
    }
    if sign_up_closed && has_step(scenario, SECOND_ACCOUNT_STEPS) {
        return Some(
            "needs a second account of its own, made by sign-up, which the target refuses \
             (emailAndPassword.disableSignUp)"
                .into(),
        );
    }
    if fresh_sign_in_refused && has_step(scenario, FRESH_SIGN_IN_STEPS) {
        return Some(
            "signs in an account of its own just made by sign-up, and the target refuses such \
             a sign-in (emailAndPassword.requireEmailVerification?)"
                .into(),
        );
    }
    None
}

/// Whether a passive violation (its rule reads `[rule-id] …`) breaks a MUST or MUST NOT of the
/// inventory; a rule the inventory does not know counts as binding.
fn passive_rule_is_binding(rule: &str) -> bool {
    let id = rule
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(id, _)| id);
    id.and_then(|id| crate::rules::embedded().get(id))
        .is_none_or(|r| r.level.is_binding())
}

fn has_step(scenario: &gherkin::Scenario, steps: &[&str]) -> bool {
    scenario
        .steps
        .iter()
        .any(|s| steps.contains(&s.value.trim()))
}

fn ends_account_sessions(scenario: &gherkin::Scenario) -> bool {
    has_step(scenario, ACCOUNT_ENDING_STEPS)
}

/// Checks the options that need no target (features folder, tag expression), so a typo is
/// reported before the bundled server is booted.
pub fn validate(options: &ConformOptions) -> Result<(), HarnessError> {
    check_features_dir(&options.features)?;
    options.tags.as_deref().map(parse_tags).transpose()?;
    options.deviations.load()?;
    Ok(())
}

/// Runs the features against `target`. Returns the report; whether it passed decides the exit
/// code. Errors are configuration problems (exit 2) or an unreachable target (exit 3).
pub async fn run(mut target: Target, options: &ConformOptions) -> Result<RunReport, HarnessError> {
    check_features_dir(&options.features)?;
    target.secrets = options.secrets.clone();
    target.register_credentials();
    // The run's exchange observers: every client made from the target reports to them.
    let ledger = Arc::new(crate::cleanup::Ledger::default());
    target
        .observers
        .push(Arc::new(crate::harvest::SecretHarvester));
    target.observers.push(ledger.clone());
    if let Some(recorder) = &options.recorder {
        target.observers.push(recorder.clone());
        target.made_up = recorder.made_up();
    }
    let tag_filter = options.tags.as_deref().map(parse_tags).transpose()?;
    let deviations = options.deviations.load()?;
    let listener = options.listener.clone();
    listener.emit(&RunEvent::Started {
        target: &target.description,
        total: count_selected(&options.features, tag_filter.as_ref()),
        strict: options.strict,
    });
    let timestamp = crate::report::timestamp_now();
    // --run-timeout bounds everything that talks to the target: the reachability probe and
    // discovery (several requests, each up to --timeout) as well as the scenarios.
    let deadline = tokio::time::Instant::now() + options.run_timeout;
    let started = Instant::now();
    // This run's own count (a target reused across runs starts each at zero).
    target.limit_waits = Default::default();
    let run_secs = options.run_timeout.as_secs();
    match tokio::time::timeout_at(deadline, target.check_reachable()).await {
        Ok(reachable) => reachable?,
        Err(_) => {
            return Err(HarnessError::Unreachable {
                cause: format!(
                    "{} sent no answer within --run-timeout ({run_secs} s)",
                    target.auth_url()
                ),
                fix: "check that the server is healthy, or raise --run-timeout".into(),
            });
        }
    }
    let discovered =
        tokio::time::timeout_at(deadline, crate::discovery::discover(&mut target)).await;
    if let Ok(found) = discovered {
        // Better Auth not found at the base path nor a common mount: exit 2 naming --base-path.
        found?;
    } else {
        let failure = StepFailure {
            rule: "the run finishes within --run-timeout".into(),
            expected: format!("capability discovery to finish within {run_secs} s"),
            actual: "discovery was still waiting for the target when the run timed out \
                     (each request may take up to --timeout); no scenario was run"
                .into(),
            exchange: None,
        };
        let mut report = RunReport::new(
            target.description.clone(),
            started.elapsed().as_millis(),
            options.strict,
            vec![ScenarioOutcome::failed(
                "Capability discovery",
                "The target's capabilities are discovered",
                "(discovery)".into(),
                Vec::new(),
                failure,
            )],
        );
        report.timestamp = timestamp;
        report.discovery_notes = target.discovery_notes.clone();
        report.deviation_list = options.deviations.describe();
        return Ok(report);
    }
    let found_capabilities: Vec<String> = target.capabilities.iter().cloned().collect();
    let discovery_notes = target.discovery_notes.clone();
    listener.emit(&RunEvent::Discovered {
        capabilities: &found_capabilities,
        notes: &discovery_notes,
    });

    let description = target.description.clone();
    let capabilities = target.capabilities.clone();
    let endpoint = target.endpoint();
    let accounts = world::AccountPool::new(target.accounts());
    let account_facts = AccountFacts {
        accounts_given: !target.accounts().is_empty(),
        sign_up_closed: target.sign_up_closed.is_some(),
        fresh_sign_in_refused: target.fresh_sign_in_refused.is_some(),
    };
    let limit_waits = target.limit_waits.clone();
    let secrets = target.secrets.clone();
    set_current(Some(Arc::new(RunContext {
        target,
        accounts,
        clients: Default::default(),
    })));

    let outcomes: Arc<Mutex<Vec<ScenarioOutcome>>> = Arc::default();
    let in_flight: Arc<Mutex<Vec<InFlight>>> = Arc::default();

    let record = Arc::clone(&outcomes);
    let flight_done = Arc::clone(&in_flight);
    let skipped = Arc::clone(&outcomes);
    let flight_start = Arc::clone(&in_flight);
    // Outcomes on their way from the after hook to the writer, which announces them.
    let pending: writer::Pending = Arc::default();
    let announce = Arc::clone(&pending);
    let skip_listener = listener.clone();

    // When each scenario started (by location), for its duration in the reports.
    let started_at: Arc<Mutex<std::collections::HashMap<String, Instant>>> = Arc::default();
    let start_clock = Arc::clone(&started_at);
    let end_clock = Arc::clone(&started_at);
    let recorder = options.recorder.clone();
    // A skipped step is a failed scenario: the after hook's verdict says so (StepSkipped).
    let cucumber = AuthWorld::cucumber()
        .with_writer(writer::RunWriter::new(
            listener.clone(),
            Arc::clone(&pending),
            deviations.clone(),
            secrets.clone(),
        ))
        .with_default_cli()
        .max_concurrent_scenarios(options.concurrency.max(1))
        .before(move |feature, _, scenario, world| {
            start_clock
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(location(feature, scenario), Instant::now());
            if let Some(recorder) = &recorder {
                recorder.set_scenario(&scenario.name);
            }
            // A given account is leased for the whole scenario: exclusively by one that ends
            // every session of it, so no other scenario loses its session meanwhile.
            let exclusive = ends_account_sessions(scenario);
            async move { world.lease_account(exclusive).await }.boxed_local()
        })
        .after(move |feature, rule, scenario, finished, mut world| {
            let loc = location(feature, scenario);
            let mut tags = all_tags(feature, rule, scenario);
            let verdict = match finished {
                // Every step passed; a passive rule (protocol::passive) broken on one of the
                // scenario's exchanges still fails it.
                ScenarioFinished::StepPassed => {
                    match world
                        .as_deref_mut()
                        .and_then(world::passive::take_violation)
                    {
                        Some(failure) if passive_rule_is_binding(&failure.rule) => {
                            ScenarioOutcome::failed(
                                &feature.name,
                                &scenario.name,
                                loc.clone(),
                                tags.clone(),
                                failure,
                            )
                            .verdict
                        }
                        // A passive rule the spec states as a SHOULD (NOT): the scenario's
                        // failure is a warning, as a @should scenario's is. A MUST failure must
                        // mean the server broke a MUST.
                        Some(failure) => {
                            tags.push("should".to_string());
                            failure.into_verdict()
                        }
                        None => Verdict::Passed,
                    }
                }
                ScenarioFinished::StepSkipped => Verdict::Failed {
                    rule: "every step is implemented".into(),
                    expected: "a step definition for each step".into(),
                    actual: "a step was skipped".into(),
                    exchange: None,
                },
                ScenarioFinished::StepFailed(..)
                    if world.as_ref().is_some_and(|w| w.skip_reason.is_some()) =>
                {
                    Verdict::Skipped {
                        reason: world
                            .as_mut()
                            .and_then(|w| w.skip_reason.take())
                            .unwrap_or_default(),
                    }
                }
                ScenarioFinished::StepFailed(_, _, error) => {
                    let failure = world
                        .as_mut()
                        .and_then(|w| w.failure.take())
                        .unwrap_or_else(|| StepFailure {
                            rule: "the step runs".into(),
                            expected: "the step to finish".into(),
                            actual: secrets.scrub_text(&error.to_string()),
                            exchange: None,
                        });
                    let outcome = ScenarioOutcome::failed(
                        &feature.name,
                        &scenario.name,
                        loc.clone(),
                        tags.clone(),
                        failure,
                    );
                    outcome.verdict
                }
                ScenarioFinished::BeforeHookFailed(_) => Verdict::Failed {
                    rule: "the scenario can start".into(),
                    expected: "the scenario's setup to succeed".into(),
                    actual: "its before hook failed".into(),
                    exchange: None,
                },
            };
            flight_done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(_, _, l, _)| *l != loc);
            let duration_ms = end_clock
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&loc)
                .map(|start| start.elapsed().as_millis());
            let mut outcome =
                ScenarioOutcome::new(&feature.name, &scenario.name, loc.clone(), tags, verdict);
            outcome.duration_ms = duration_ms;
            announce
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(loc, outcome.clone());
            record
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(outcome);
            // A given account's sessions this scenario started end with it (they would pile up
            // run after run), and the account is free for the next scenario.
            async move {
                if let Some(w) = world {
                    w.end_given_account_sessions().await;
                    w.account_lease = None;
                }
            }
            .boxed_local()
        });

    let filter = move |feature: &gherkin::Feature,
                       rule: Option<&gherkin::Rule>,
                       scenario: &gherkin::Scenario| {
        let tags = all_tags(feature, rule, scenario);
        if let Some(op) = &tag_filter
            && !op.eval(tags.iter())
        {
            return false;
        }
        let skip = |reason: String| {
            let outcome = ScenarioOutcome::new(
                &feature.name,
                &scenario.name,
                location(feature, scenario),
                tags.clone(),
                Verdict::Skipped { reason },
            );
            skip_listener.emit(&RunEvent::ScenarioFinished {
                outcome: &outcome,
                steps: &[],
            });
            skipped
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(outcome);
        };
        for tag in &tags {
            if let Some((capability, reason)) = capability_for_tag(tag)
                && !capabilities.contains(capability)
            {
                skip(format!("needs @{capability}: {reason}"));
                return false;
            }
        }
        if let Some(reason) = account_precondition(scenario, account_facts) {
            skip(reason);
            return false;
        }
        flight_start
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((
                feature.name.clone(),
                scenario.name.clone(),
                location(feature, scenario),
                tags,
            ));
        true
    };

    let run = cucumber.filter_run(options.features.clone(), filter);
    let parse_errors = match tokio::time::timeout_at(deadline, run).await {
        Ok(writer) => writer.parse_errors,
        Err(_) => {
            // Whatever had not finished is a failure with the cause, not a silent gap.
            let unfinished =
                std::mem::take(&mut *in_flight.lock().unwrap_or_else(|e| e.into_inner()));
            let mut all = outcomes.lock().unwrap_or_else(|e| e.into_inner());
            for (feature, scenario, loc, tags) in unfinished {
                all.push(ScenarioOutcome::failed(
                    &feature,
                    &scenario,
                    loc,
                    tags,
                    StepFailure {
                        rule: "the run finishes within --run-timeout".into(),
                        expected: format!(
                            "the scenario to finish within {} s",
                            options.run_timeout.as_secs()
                        ),
                        actual: "it was still running when the run timed out".into(),
                        exchange: None,
                    },
                ));
            }
            // A run that timed out before any scenario was even listed still fails: a timed-out
            // run must never read as "nothing failed".
            if all
                .iter()
                .all(|o| matches!(o.verdict, Verdict::Skipped { .. }))
            {
                all.push(ScenarioOutcome::failed(
                    "Scenario run",
                    "The scenarios run",
                    "(run)".into(),
                    Vec::new(),
                    StepFailure {
                        rule: "the run finishes within --run-timeout".into(),
                        expected: format!("the scenarios to run within {run_secs} s"),
                        actual: "the run timed out before any scenario finished".into(),
                        exchange: None,
                    },
                ));
            }
            Vec::new()
        }
    };
    set_current(None);
    let created = ledger.take_accounts(&endpoint);
    let cleanup = if options.keep_users {
        (!created.is_empty()).then(|| {
            format!(
                "cleanup: --keep-users: left the {} accounts this run created",
                created.len()
            )
        })
    } else {
        // Cleanup gets what is left of --run-timeout, but at least 15 s and at most 60 s.
        let bound = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .clamp(Duration::from_secs(15), Duration::from_secs(60));
        let summary =
            crate::cleanup::delete_accounts(&endpoint, created, options.concurrency, bound).await;
        Some(summary.to_string())
    };
    if let Some(summary) = &cleanup {
        listener.emit(&RunEvent::Cleanup { summary });
    }
    if !parse_errors.is_empty() {
        return Err(HarnessError::Usage(format!(
            "{} feature file(s) in `{}` could not be parsed:\n  {}",
            parse_errors.len(),
            options.features.display(),
            parse_errors.join("\n  ")
        )));
    }
    let (waited, retries) = limit_waits.total();
    if retries > 0 {
        listener.emit(&RunEvent::RateLimitWaits { waited, retries });
    }
    let mut outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|e| e.into_inner()));
    for outcome in &mut outcomes {
        crate::deviations::apply(outcome, &deviations);
    }
    let mut report = RunReport::new(
        description,
        started.elapsed().as_millis(),
        options.strict,
        outcomes,
    );
    report.timestamp = timestamp;
    report.capabilities = found_capabilities;
    report.discovery_notes = discovery_notes;
    report.cleanup = cleanup;
    report.deviation_list = options.deviations.describe();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::{AccountFacts, account_precondition, gherkin, passive_rule_is_binding};

    /// The scenarios of a feature text, by name.
    fn scenario(text: &str, name: &str) -> gherkin::Scenario {
        let feature = gherkin::Feature::parse(text, gherkin::GherkinEnv::default()).unwrap();
        feature
            .scenarios
            .into_iter()
            .find(|s| s.name == name)
            .unwrap()
    }

    const FEATURE: &str = "Feature: f

  Scenario: own account
    Given a signed-in user
    Then the response status is 200

  Scenario: second account
    Given a signed-in user
    When a new user signs up and signs in
    Then the response status is 200
";

    #[test]
    fn a_target_that_refuses_fresh_sign_ins_skips_what_needs_one() {
        let refused = AccountFacts {
            fresh_sign_in_refused: true,
            ..AccountFacts::default()
        };
        let own = scenario(FEATURE, "own account");
        let second = scenario(FEATURE, "second account");
        let reason = account_precondition(&own, refused).unwrap();
        assert!(reason.contains("--users-file"), "{reason}");
        // Given accounts: the scenario leases one, but a second account is still its own.
        let given = AccountFacts {
            accounts_given: true,
            ..refused
        };
        assert_eq!(account_precondition(&own, given), None);
        let reason = account_precondition(&second, given).unwrap();
        assert!(reason.contains("requireEmailVerification"), "{reason}");
        // A target that lets fresh accounts sign in runs both.
        assert_eq!(account_precondition(&own, AccountFacts::default()), None);
        assert_eq!(account_precondition(&second, AccountFacts::default()), None);
    }

    #[test]
    fn a_passive_should_rule_is_not_a_must_failure() {
        assert!(passive_rule_is_binding(
            "[better-auth-passive-a] no password comes back (passive check, every exchange)"
        ));
        assert!(!passive_rule_is_binding(
            "[rfc6750-5.3-a] no token in a URL (passive check, every exchange)"
        ));
        // Not an inventory id: binding, as every scenario without @should is.
        assert!(passive_rule_is_binding("[no-such-rule] x"));
        assert!(passive_rule_is_binding("no brackets"));
    }
}
