//! The step library. Each step is a sentence from the feature files and thin glue over
//! `protocol::*`; each `Then` names the rule it checks so a failure report can quote it.

pub mod account_lifetime;
pub mod accounts;
pub mod bearer;
pub mod cache;
pub mod cookies;
pub mod framework;
pub mod isolation;
pub mod jwt;
pub mod nextjs;
pub mod oauth;
pub mod origin;
pub mod rate_limit;
pub mod resource;
pub mod responses;
pub mod session;
pub mod sessions;

use serde_json::Value;

use crate::http::Exchange;
use crate::protocol::session::is_json_content_type;

use super::world::{AuthWorld, StepFailure};

/// Parses the last response as JSON for `rule`, failing with the content type and body excerpt.
pub(crate) fn json_body(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
) -> Result<Value, StepFailure> {
    match exchange.json() {
        Ok(v) => Ok(v),
        Err(e) => Err(world.fail(
            rule,
            "a JSON body",
            format!(
                "{}; content-type {}",
                exchange.describe_json_error(&e),
                exchange.content_type().unwrap_or("absent")
            ),
        )),
    }
}

/// Fails `rule` unless the response's content type is JSON.
pub(crate) fn require_json_content_type(
    world: &mut AuthWorld,
    exchange: &Exchange,
    rule: &str,
) -> Result<(), StepFailure> {
    if is_json_content_type(exchange.content_type()) {
        Ok(())
    } else {
        Err(world.fail(
            rule,
            "content-type: application/json",
            format!(
                "content-type: {}",
                exchange.content_type().unwrap_or("(absent)")
            ),
        ))
    }
}
