//! Code lifetime: an authorization code is refused once the lifetime the deployment declares
//! (`--code-lifetime`, the oauth-provider's codeExpiresIn) has passed (RFC 6749 §4.1.2, §10.5).
//! The lifetime is a precondition (@code-lifetime): nothing a server publishes says it.

use std::time::Duration;

use super::*;

const RULE_CODE_EXPIRED: &str = "an authorization code expires: once the server's code lifetime (codeExpiresIn, declared with --code-lifetime) has passed, its exchange is refused with 400 invalid_grant (RFC 6749 §4.1.2, §5.2, §10.5)";

/// How long past the declared lifetime the client waits: a server may round the issue time
/// down to the second (Better Auth does) and compare expiry with a second's resolution.
const PAST_THE_LIFETIME: Duration = Duration::from_secs(2);

/// The declared lifetime; without one, a skip with the reason the @code-lifetime tag gives.
fn declared_lifetime(world: &mut AuthWorld) -> Result<Duration, StepFailure> {
    let declared = world.target().code_lifetime;
    let (_, reason) = crate::target::capability_for_tag("code-lifetime").unwrap_or_default();
    declared
        .map(Duration::from_secs)
        .ok_or_else(|| world.skip(reason))
}

#[when("the OAuth client exchanges the code once the code lifetime has passed")]
async fn exchanges_expired_code(world: &mut AuthWorld) -> StepResult {
    let lifetime = declared_lifetime(world)?;
    // The code was issued before this step began, so it is at least this old at the exchange.
    tokio::time::sleep(lifetime + PAST_THE_LIFETIME).await;
    exchange_code_with(world, None, None).await.map(|_| ())
}

#[then("the token endpoint refuses the expired code with invalid_grant")]
async fn refuses_expired_code(world: &mut AuthWorld) -> StepResult {
    let lifetime = declared_lifetime(world)?;
    let exchange = world.last_exchange()?;
    let body = exchange.json().unwrap_or(Value::Null);
    if exchange.status == 400 && parse_oauth_error(&body).is_ok_and(|e| e.error == "invalid_grant")
    {
        return Ok(());
    }
    Err(world.fail(
        RULE_CODE_EXPIRED,
        format!(
            "HTTP 400 with error invalid_grant for a code more than {} s old (declared lifetime {} s)",
            (lifetime + PAST_THE_LIFETIME).as_secs(),
            lifetime.as_secs()
        ),
        describe_token_answer(exchange.status, &body),
    ))
}
