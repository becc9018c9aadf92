//! RP-Initiated Logout bound to its client (OIDC RP-Initiated Logout 1.0 §2-§3): the endpoint
//! takes a form POST, a hint issued to another client than client_id names is not acted on, a
//! post_logout_redirect_uri is the hint's client's own, and without a hint there is no
//! redirect. Negative flows are followed to their end: redirects on the OP's origin, and a
//! confirmation form the End-User would submit.

use super::end_session::post_logout_uri;
use super::*;
use crate::protocol::forms::post_form;

const RULE_POST: &str =
    "the end session endpoint accepts a form POST as well as GET (OIDC RP-Initiated Logout §2)";
const RULE_CLIENT_MISMATCH: &str = "when client_id and id_token_hint are both sent, the OP checks that the hint was issued to that client: a hint of another client neither ends the session nor redirects to the named client's post_logout_redirect_uri without the End-User (OIDC RP-Initiated Logout §2)";
const RULE_OTHER_CLIENTS_URI: &str = "a post_logout_redirect_uri registered only for another client than the hint's is never redirected to, even after the End-User confirms (OIDC RP-Initiated Logout §3)";
const RULE_NO_HINT: &str = "without id_token_hint (or other proof of the client) the OP does not redirect to the post_logout_redirect_uri, even after the End-User confirms (OIDC RP-Initiated Logout §3)";

/// How many hops a negative flow is followed for.
const MAX_HOPS: usize = 5;

/// End session with `params` (GET query, or a form POST), the user-agent's cookies along.
async fn end_session_with(
    world: &mut AuthWorld,
    params: Vec<(String, String)>,
    post: bool,
) -> Result<Exchange, StepFailure> {
    let query = if post { Vec::new() } else { params.clone() };
    let pick = |d: &Discovery| d.end_session_endpoint.clone();
    let request = endpoint_with_query(world, "end_session_endpoint", pick, &query).await?;
    let request = if post {
        let mut form = form_post(request, params);
        // A browser's form POST carries the session cookie (and an Origin).
        form.cookies = CookieChoice::Jar;
        form.send_origin = true;
        form
    } else {
        request.cookies(CookieChoice::Jar)
    };
    send(world, request).await
}

/// The hint, post_logout_redirect_uri and state parameters for the current ID token.
fn logout_params(world: &mut AuthWorld, uri: &str) -> Result<Vec<(String, String)>, StepFailure> {
    let (_, _, _, tokens, _) = current_id_token(world, &precondition("an ID token"))?;
    let hint = tokens.id_token.unwrap_or_default();
    world.secrets().register(&hint);
    let state = format!("ls-{}", world.random_string(16));
    world.oauth.logout_state = Some(state.clone());
    Ok(vec![
        ("id_token_hint".into(), hint),
        ("post_logout_redirect_uri".into(), uri.to_string()),
        ("state".into(), state),
    ])
}

/// Every answer of a flow that starts with `first`: redirects on the target's origin are
/// followed, and with `confirm` a confirmation form on it is submitted, as an End-User would.
async fn follow_to_end(
    world: &mut AuthWorld,
    first: Exchange,
    confirm: bool,
) -> Result<Vec<Exchange>, StepFailure> {
    let origin = world.target().endpoint().origin;
    let mut answers = vec![first.clone()];
    let mut last = first;
    while answers.len() < MAX_HOPS {
        let next = match redirect_of(&last) {
            Some(Ok(target)) => {
                // Only the OP's own hops: a redirect elsewhere ends the flow.
                let Ok(path) = path_on_origin(target.url.as_str(), &origin) else {
                    break;
                };
                let mut request = Request::get(&path);
                request.absolute = true;
                request
            }
            Some(Err(_)) => break,
            None => {
                let html = last.content_type().is_some_and(|c| c.contains("html"));
                let form = (confirm && html)
                    .then(|| post_form(&last.body, &last.url))
                    .flatten();
                let Some((action, fields)) = form else { break };
                let Ok(path) = path_on_origin(&action, &origin) else {
                    break;
                };
                let mut request = Request::get(&path);
                request.absolute = true;
                let mut request = form_post(request, fields);
                request.cookies = CookieChoice::Jar;
                request.send_origin = true;
                request
            }
        };
        last = send(world, next.cookies(CookieChoice::Jar)).await?;
        answers.push(last.clone());
    }
    Ok(answers)
}

/// The first answer of `answers` that redirects to `uri`, described.
fn redirect_to(answers: &[Exchange], uri: &str) -> Option<String> {
    answers
        .iter()
        .enumerate()
        .find_map(|(i, a)| match redirect_of(a) {
            Some(Ok(target)) if target.is_at(uri) => Some(format!(
                "{} HTTP {} to {}",
                if i == 0 {
                    "end session answered".to_string()
                } else {
                    format!("after {i} more step(s) of the flow, an answer of")
                },
                a.status,
                target.describe()
            )),
            _ => None,
        })
}

/// Fails `rule` when the flow from the last answer reaches `uri`.
async fn judge_no_redirect(
    world: &mut AuthWorld,
    rule: &str,
    uri: &str,
    confirm: bool,
) -> StepResult {
    let first = world.last_exchange()?;
    let answers = follow_to_end(world, first, confirm).await?;
    match redirect_to(&answers, uri) {
        None => Ok(()),
        Some(how) => Err(world.fail(rule, format!("no redirect to {uri}"), how)),
    }
}

#[when(
    "end session is requested by a form POST with the ID token, the registered post_logout_redirect_uri and a state"
)]
async fn end_session_post(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    let params = logout_params(world, &uri)?;
    end_session_with(world, params, true).await.map(|_| ())
}

#[then(
    "end session accepts the POST and redirects to the post_logout_redirect_uri with the same state"
)]
async fn post_accepted(world: &mut AuthWorld) -> StepResult {
    let exchange = world.last_exchange()?;
    if matches!(exchange.status, 404 | 405 | 415) {
        let body = exchange.json().unwrap_or(Value::Null);
        return Err(world.fail(
            RULE_POST,
            "the POST handled as the GET is",
            describe_token_answer(exchange.status, &body),
        ));
    }
    super::end_session::end_session_redirects(world).await
}

#[when(
    "end session is requested with the second client's ID token, the client's client_id and its registered post_logout_redirect_uri"
)]
async fn end_session_mismatch(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    let client = client_config(world)?;
    let mut params = logout_params(world, &uri)?;
    params.push(("client_id".into(), client.client_id));
    end_session_with(world, params, false).await.map(|_| ())
}

#[then(
    "end session neither redirects to the client's post_logout_redirect_uri nor ends the session"
)]
async fn mismatch_not_acted_on(world: &mut AuthWorld) -> StepResult {
    let rule = RULE_CLIENT_MISMATCH;
    let uri = post_logout_uri(world)?;
    // Not confirmed: after the End-User's own confirmation, a redirect to the client_id's
    // registered URI is allowed (client_id alone may name it, §2).
    judge_no_redirect(world, rule, &uri, false).await?;
    let Some(probe) = ended_session_probe(world, rule).await? else {
        return Ok(());
    };
    Err(world.fail_on(
        rule,
        "the user's session still valid: the mismatched hint is not acted on",
        "get-session with the user's session cookie answers null after end session with another client's hint",
        Some(probe.excerpt()),
    ))
}

#[when(
    "end session is requested with a post_logout_redirect_uri registered only for another client"
)]
async fn end_session_other_clients_uri(world: &mut AuthWorld) -> StepResult {
    let own = post_logout_uri(world)?;
    let other_uri = unregistered_variant(&own, "/ba-harness-other-client-logged-out");
    let client = client_config(world)?;
    let metadata = crate::protocol::registration::with_member(
        crate::protocol::registration::probe_metadata(&client.redirect_uri),
        "post_logout_redirect_uris",
        json!([other_uri]),
    );
    let answer = super::registration_probes::register(world, metadata).await?;
    let body = answer.json().unwrap_or(Value::Null);
    let registered = crate::protocol::registration::registered_client_id(answer.status, &body)
        .is_some()
        && body
            .get("post_logout_redirect_uris")
            .and_then(Value::as_array)
            .is_some_and(|uris| uris.iter().any(|u| u.as_str() == Some(other_uri.as_str())));
    if !registered {
        return Err(world.skip(format!(
            "needs another client with its own post_logout_redirect_uri, registered through \
             dynamic client registration, which the target refused or did not echo (HTTP {})",
            answer.status
        )));
    }
    world.oauth.unregistered_logout_uri = Some(other_uri.clone());
    let params = logout_params(world, &other_uri)?;
    end_session_with(world, params, false).await.map(|_| ())
}

#[then("end session does not redirect to the other client's post_logout_redirect_uri")]
async fn other_clients_uri_refused(world: &mut AuthWorld) -> StepResult {
    let Some(uri) = world.oauth.unregistered_logout_uri.clone() else {
        return Err(world.fail(
            "scenario wiring",
            "an end-session request naming another client's URI",
            "none",
        ));
    };
    judge_no_redirect(world, RULE_OTHER_CLIENTS_URI, &uri, true).await
}

#[when(
    "end session is requested without an ID token, with the registered post_logout_redirect_uri and a state"
)]
async fn end_session_no_hint(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    let state = format!("ls-{}", world.random_string(16));
    let params = vec![
        ("post_logout_redirect_uri".to_string(), uri),
        ("state".to_string(), state),
    ];
    end_session_with(world, params, false).await.map(|_| ())
}

#[then(
    "end session does not redirect to the post_logout_redirect_uri, even once the End-User confirms"
)]
async fn no_hint_no_redirect(world: &mut AuthWorld) -> StepResult {
    let uri = post_logout_uri(world)?;
    judge_no_redirect(world, RULE_NO_HINT, &uri, true).await
}
