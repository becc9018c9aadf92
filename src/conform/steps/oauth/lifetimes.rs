//! Token lifetimes: an access token is dead once it was revoked (RFC 7009 §2.1), once the
//! refresh token it was issued with was revoked (RFC 7009 §2.1 SHOULD), and once refresh-token
//! reuse revoked its family (RFC 9700 §4.14.2); judged where a client would use it, at userinfo.

use super::*;

const RULE_REVOKED_ACCESS: &str = "revoking an access token answers 200 and kills it at once: userinfo then refuses it with 401 (RFC 7009 §2.1-2.2)";
const RULE_REFRESH_REVOCATION_KILLS_ACCESS: &str = "revoking a refresh token also kills the access token issued with it: userinfo then refuses it with 401 (RFC 7009 §2.1 SHOULD)";
const RULE_END_SESSION_KILLS_ACCESS: &str = "after end session, the access token issued in the ended session is refused by userinfo with 401 (OIDC RP-Initiated Logout §4 SHOULD for tokens bound to the session; Better Auth binds its access tokens to the session, sid)";
const RULE_REUSE_KILLS_ACCESS: &str = "when a rotated refresh token is replayed, the access tokens of the revoked family die too: userinfo then refuses the newest one with 401 (RFC 9700 §4.14.2, RFC 7009 §2.1 SHOULD)";

/// Revokes `token` (with `hint`) as the client `client_id` and keeps the answer.
pub(super) async fn revoke_as(
    world: &mut AuthWorld,
    token: &str,
    hint: &str,
    client_id: &str,
) -> Result<Exchange, StepFailure> {
    world.secrets().register_with_form_encoding(token);
    let answer = client_form_call(
        world,
        "revocation_endpoint",
        |d| d.revocation_endpoint.clone(),
        revocation_form(token, hint, client_id),
    )
    .await?;
    world.oauth.revocation = Some(answer.clone());
    Ok(answer)
}

#[when("the OAuth client revokes the access token")]
async fn revokes_access(world: &mut AuthWorld) -> StepResult {
    let client = client_config(world)?;
    let (tokens, _) = current_tokens(world)?;
    revoke_as(
        world,
        &tokens.access_token,
        "access_token",
        &client.client_id,
    )
    .await
    .map(|_| ())
}

/// Fails `rule` unless the revocation before this step answered 200 (RFC 7009 §2.2).
pub(super) fn require_revocation_ok(world: &mut AuthWorld, rule: &str) -> StepResult {
    let Some(revocation) = world.oauth.revocation.clone() else {
        return Err(world.fail(rule, "a revocation request before this step", "none"));
    };
    if revocation.status == 200 {
        return Ok(());
    }
    let body = revocation.json().unwrap_or(Value::Null);
    Err(world.fail_on(
        rule,
        "HTTP 200 from the revocation endpoint",
        format!(
            "the revocation answered {}",
            describe_token_answer(revocation.status, &body)
        ),
        Some(revocation.excerpt()),
    ))
}

/// Asks userinfo with the current access token and fails `rule` unless it is refused with 401.
pub(super) async fn expect_access_token_dead(
    world: &mut AuthWorld,
    rule: &str,
    why: &str,
) -> StepResult {
    let (tokens, _) = current_tokens(world)?;
    let exchange = userinfo_call(world, Some(&tokens.access_token)).await?;
    if exchange.status == 401 {
        return Ok(());
    }
    Err(world.fail(
        rule,
        format!("HTTP 401 from userinfo: {why}"),
        format!("HTTP {}: the access token still works", exchange.status),
    ))
}

/// An access token userinfo must refuse: the rule, why it is dead, and whether a revocation
/// that must have succeeded killed it.
#[derive(Clone, Copy)]
struct DeadToken {
    rule: &'static str,
    why: &'static str,
    revoked: bool,
}

/// The phrase → the dead access token it names.
const DEAD_TOKENS: &[(&str, DeadToken)] = &[
    (
        "userinfo refuses the revoked access token",
        DeadToken {
            rule: RULE_REVOKED_ACCESS,
            why: "the access token was revoked",
            revoked: true,
        },
    ),
    (
        "userinfo refuses the access token issued with the revoked refresh token",
        DeadToken {
            rule: RULE_REFRESH_REVOCATION_KILLS_ACCESS,
            why: "its refresh token was revoked",
            revoked: true,
        },
    ),
    (
        "userinfo refuses the newest access token of the replayed family",
        DeadToken {
            rule: RULE_REUSE_KILLS_ACCESS,
            why: "its refresh-token family was revoked when a rotated refresh token was replayed",
            revoked: false,
        },
    ),
    (
        "userinfo refuses the access token of the ended session",
        DeadToken {
            rule: RULE_END_SESSION_KILLS_ACCESS,
            why: "the session it was issued in was ended",
            revoked: false,
        },
    ),
];

#[then(
    regex = r"^(userinfo refuses the revoked access token|userinfo refuses the access token issued with the revoked refresh token|userinfo refuses the newest access token of the replayed family|userinfo refuses the access token of the ended session)$"
)]
async fn userinfo_refuses_dead_token(world: &mut AuthWorld, phrase: String) -> StepResult {
    let dead = *crate::conform::steps::phrase_entry(world, DEAD_TOKENS, &phrase)?;
    if dead.revoked {
        require_revocation_ok(world, dead.rule)?;
    }
    expect_access_token_dead(world, dead.rule, dead.why).await
}
