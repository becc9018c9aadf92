//! Passive checks (protocol::passive) on every exchange a scenario makes through its World, and
//! on the exchanges of its other clients that a step hands in with [`observe`].
//!
//! How a violation is reported: as a MUST failure of the scenario where it happened, naming the
//! passive rule id (`[better-auth-passive-a] ...`) and quoting the offending exchange (redacted).
//! The first violation is kept and reported when the scenario's own steps have all passed
//! (conform::run's after-hook), so a scenario that checks the same answer for its own rule (an
//! error scenario that expects a JSON error, say) reports its own rule first. Known deviations
//! and --strict apply as to any MUST failure.

use serde_json::Value;

use crate::conform::world::{AuthWorld, StepFailure, StepResult};
use crate::http::Exchange;
use crate::protocol::passive::{Forbidden, PassiveViolation, ResponseView, check};

/// What the scenario has sent or learnt that no response may carry.
#[derive(Clone, Debug, Default)]
pub struct PassiveState {
    /// Passwords this scenario's requests carried.
    pub passwords: Vec<String>,
    /// Session tokens of other users this scenario made (isolation scenarios).
    pub foreign_tokens: Vec<String>,
    /// The first violation seen, reported once the scenario's steps have passed.
    pub violation: Option<StepFailure>,
    /// Whether the kept violation breaks a MUST (NOT).
    pub binding: bool,
}

/// The password fields of a JSON or form request body.
fn sent_passwords(exchange: &Exchange) -> Vec<String> {
    const FIELDS: &[&str] = &["password", "newPassword", "currentPassword"];
    let Some(body) = exchange.request_body.as_deref() else {
        return Vec::new();
    };
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) {
        return FIELDS
            .iter()
            .filter_map(|f| map.get(*f).and_then(Value::as_str).map(str::to_string))
            .collect();
    }
    url::form_urlencoded::parse(body.as_bytes())
        .filter(|(k, _)| FIELDS.contains(&k.as_ref()))
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default()
}

/// The passive rules on one exchange, with what `world` knows; `foreign` says whether the
/// exchange was made for the scenario's own user (other users' tokens are foreign to it).
fn violation(
    world: &mut AuthWorld,
    exchange: &Exchange,
    own_user: bool,
) -> Option<PassiveViolation> {
    for password in sent_passwords(exchange) {
        if !world.passive.passwords.contains(&password) {
            world.passive.passwords.push(password);
        }
    }
    let mut forbidden = Forbidden {
        passwords: world.passive.passwords.clone(),
        foreign_tokens: if own_user {
            world.passive.foreign_tokens.clone()
        } else {
            Vec::new()
        },
    };
    if let Some(user) = &world.user
        && !forbidden.passwords.contains(&user.password)
    {
        forbidden.passwords.push(user.password.clone());
    }
    let path = path_of(&exchange.url);
    let view = ResponseView {
        method: &exchange.method,
        path: &path,
        status: exchange.status,
        headers: &exchange.headers,
        body: &exchange.body,
    };
    check(&view, &forbidden, &world.target().endpoint().base_path)
}

/// Whether a passive rule is a MUST (NOT) of the inventory; an unknown id counts as one.
fn binding(rule_id: &str) -> bool {
    crate::rules::embedded()
        .get(rule_id)
        .is_none_or(|r| r.level.is_binding())
}

fn record(world: &mut AuthWorld, exchange: &Exchange, v: PassiveViolation) {
    // The first violation is kept, except that a MUST broken later replaces a SHOULD kept
    // earlier: a warning must not hide a failure.
    if world.passive.violation.is_some() && (world.passive.binding || !binding(v.rule_id)) {
        return;
    }
    world.passive.binding = binding(v.rule_id);
    let failure = StepFailure {
        rule: format!("[{}] {} (passive check, every exchange)", v.rule_id, v.rule),
        expected: "no exchange of the scenario breaks it".into(),
        actual: world.secrets().scrub_text(&format!(
            "{} {} -> HTTP {}: {}",
            exchange.method,
            path_of(&exchange.url),
            exchange.status,
            v.found
        )),
        exchange: Some(exchange.excerpt()),
    };
    world.passive.violation = Some(failure);
}

/// The passive violation to report for a scenario whose steps all passed, if any.
pub fn take_violation(world: &mut AuthWorld) -> Option<StepFailure> {
    world.passive.violation.take()
}

/// Runs the passive rules on an exchange of the scenario's own user (its World client, or
/// another client of the same user: a second device, a probe).
pub(crate) fn observe(world: &mut AuthWorld, exchange: &Exchange) -> StepResult {
    if let Some(v) = violation(world, exchange, true) {
        record(world, exchange, v);
    }
    Ok(())
}

/// Runs the passive rules on an exchange made for ANOTHER user of the scenario (its own token
/// is not foreign to it).
pub(crate) fn observe_other_user(world: &mut AuthWorld, exchange: &Exchange) -> StepResult {
    if let Some(v) = violation(world, exchange, false) {
        record(world, exchange, v);
    }
    Ok(())
}
