//! Shared verdicts of the OAuth steps: where an authorization ended, what a token or discovery
//! answer carries, and the failure each check reports.

use super::*;

/// The hops of the authorization before this step and its last one, or a failure of `rule`
/// when none was sent.
pub(super) fn authorization_hops(
    world: &mut AuthWorld,
    rule: &str,
) -> Result<(Vec<Hop>, Hop), StepFailure> {
    let hops = world.oauth.hops.clone();
    match hops.last().cloned() {
        Some(last) => Ok((hops, last)),
        None => Err(world.fail(rule, "an authorization request before this step", "none")),
    }
}

/// Fails `rule` with `expected` unless `answer` is HTTP 200, describing what came instead.
pub(super) fn require_token_answer_ok(
    world: &mut AuthWorld,
    answer: &Exchange,
    rule: &str,
    expected: &str,
) -> StepResult {
    if answer.status == 200 {
        return Ok(());
    }
    let body = answer.json().unwrap_or(Value::Null);
    Err(world.fail(rule, expected, describe_token_answer(answer.status, &body)))
}

/// The last hop, which a failure then quotes; fails `rule` when there was none (`before` names
/// what should have come before this step).
pub(super) fn quoted_last_hop(
    world: &mut AuthWorld,
    rule: &str,
    before: &str,
) -> Result<Hop, StepFailure> {
    let Some(hop) = last_hop(world) else {
        return Err(world.fail(rule, format!("{before} before this step"), "none"));
    };
    world.last = Some(hop.exchange.clone());
    Ok(hop)
}

/// Fails `rule` (with `expected`, quoting the hop) when a hop of `hops` delivered a code to the
/// client; `issued` says how the failure names the code ("a code was issued").
pub(super) fn fail_if_code_issued(
    world: &mut AuthWorld,
    hops: &[Hop],
    rule: &str,
    expected: &str,
    issued: &str,
) -> StepResult {
    for hop in hops {
        if let Some(AuthorizeHop::Client(p)) = &hop.hop
            && p.code().is_some()
        {
            world.last = Some(hop.exchange.clone());
            return Err(world.fail(rule, expected, format!("{issued}: {}", describe_hop(hop))));
        }
    }
    Ok(())
}

/// The outcome of checking the error the last hop delivered to the client (`params`): a
/// complaint fails `rule` with `expected`, naming the status it came with.
pub(super) fn client_error_verdict(
    world: &mut AuthWorld,
    rule: &str,
    expected: String,
    last: &Hop,
    outcome: Result<(), String>,
) -> StepResult {
    outcome.map_err(|e| {
        world.fail(
            rule,
            expected,
            format!("HTTP {} to the client with {e}", last.exchange.status),
        )
    })
}

/// The code the authorization ended with, or a failure of the precondition that it `returns`
/// one, describing where the authorization ended instead.
pub(super) fn require_code(world: &mut AuthWorld, returns: &str) -> Result<String, StepFailure> {
    if let Some(code) = world.oauth.code.clone() {
        return Ok(code);
    }
    let actual = last_hop(world)
        .map(|h| describe_hop(&h))
        .unwrap_or_default();
    Err(world.fail(
        &precondition(returns),
        "a redirect to the redirect_uri with `code`",
        actual,
    ))
}

/// Fails the precondition that the code exchange `issues` tokens unless `exchange` did.
pub(super) fn require_issued_tokens(
    world: &mut AuthWorld,
    exchange: &Exchange,
    issues: &str,
) -> StepResult {
    if exchange.status == 200 && world.oauth.tokens.is_some() {
        return Ok(());
    }
    let body = exchange.json().unwrap_or(Value::Null);
    Err(world.fail(
        &precondition(issues),
        "HTTP 200 with a token response",
        describe_token_answer(exchange.status, &body),
    ))
}

/// Judges the discovery document of the last answer with `check`; what `check` finds wrong
/// fails `rule`, with `expected` saying what the document should hold.
pub(super) fn judge_discovery(
    world: &mut AuthWorld,
    rule: &str,
    expected: &str,
    check: impl Fn(&Discovery) -> Result<(), String>,
) -> StepResult {
    let exchange = world.last_exchange()?;
    let d = discovery_in(world, &exchange, rule)?;
    check(&d).map_err(|e| world.fail(rule, expected, e))
}

/// Judges the last answer (its status, and its JSON body or null) with `check`; what `check`
/// finds wrong fails `rule`, with `expected` saying what should have come.
pub(super) fn judge_last_answer(
    world: &mut AuthWorld,
    rule: &str,
    expected: &str,
    check: impl FnOnce(u16, &Value) -> Result<(), String>,
) -> StepResult {
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    check(exchange.status, &body).map_err(|e| world.fail(rule, expected, e))
}

/// Fails `rule` unless `params` carry `name` exactly once, equal to `want`; `missing` is the
/// (expected, actual) to report when it is absent.
pub(super) fn require_param_once(
    world: &mut AuthWorld,
    rule: &str,
    params: &RedirectParams,
    (name, want): (&str, &str),
    missing: (String, String),
) -> StepResult {
    match params.all(name).as_slice() {
        [one] if *one == want => Ok(()),
        [] => Err(world.fail(rule, missing.0, missing.1)),
        found => Err(world.fail(
            rule,
            format!("{name}={want:?} (once)"),
            format!("{name} {found:?}"),
        )),
    }
}

/// The outcome of a check on the current ID token: a complaint fails `rule` with `expected`,
/// quoting the token answer (`exchange`).
pub(super) fn id_token_verdict(
    world: &mut AuthWorld,
    rule: &str,
    exchange: &Exchange,
    expected: String,
    outcome: Result<(), String>,
) -> StepResult {
    outcome.map_err(|e| world.fail_on(rule, expected, e, Some(exchange.excerpt())))
}

/// The `alg` a JOSE header names ("" when it names none).
pub(super) fn header_alg(header: &Value) -> String {
    header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
