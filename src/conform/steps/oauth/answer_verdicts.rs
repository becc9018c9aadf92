//! The Then steps that judge the last answer of the token, revocation or introspection endpoint
//! on its status and JSON body alone, each naming only its rule: one step, and a table from the
//! feature files' phrases to the verdicts.

use super::token_errors::expect_token_error;
use super::*;
use crate::protocol::oauth::check_grant_refused;
use crate::protocol::session::is_json_content_type;
use crate::protocol::token_errors::{check_refused_status, check_tokens_issued};

/// How a phrase judges the last answer, and the rule it checks.
#[derive(Clone, Copy)]
enum Verdict {
    /// `expect_invalid_grant`: HTTP 400 with error invalid_grant.
    InvalidGrant(&'static str),
    /// `expect_token_error`: HTTP 400 with this error, and no token.
    TokenError(&'static str, &'static str),
    /// `expect_json_object`: HTTP 200 with a JSON object, as application/json.
    JsonObject(&'static str),
    /// `judge_last_answer`: what should have come, and the check that finds what did not.
    Judged {
        rule: &'static str,
        expected: &'static str,
        check: fn(u16, &Value) -> Result<(), String>,
    },
}

/// The phrase → its verdict.
const VERDICTS: &[(&str, Verdict)] = &[
    (
        "the token endpoint refuses the wrong code_verifier with invalid_grant",
        Verdict::InvalidGrant(RULE_WRONG_VERIFIER),
    ),
    (
        "the token endpoint refuses the reused code with invalid_grant",
        Verdict::InvalidGrant(RULE_CODE_REUSE),
    ),
    (
        "the token endpoint refuses the mismatched redirect_uri with invalid_grant",
        Verdict::InvalidGrant(RULE_TOKEN_REDIRECT_MISMATCH),
    ),
    (
        "the token endpoint refuses the rotated refresh token with invalid_grant",
        Verdict::InvalidGrant(RULE_ROTATED_REFUSED),
    ),
    (
        "the token endpoint refuses the newest refresh token of the replayed family",
        Verdict::InvalidGrant(RULE_FAMILY_REVOKED),
    ),
    (
        "the token endpoint refuses the never-issued code with invalid_grant",
        Verdict::InvalidGrant(super::token_errors::RULE_NEVER_ISSUED_CODE),
    ),
    (
        "the token endpoint refuses the unsupported grant_type with unsupported_grant_type",
        Verdict::TokenError(
            super::token_errors::RULE_UNSUPPORTED_GRANT,
            "unsupported_grant_type",
        ),
    ),
    (
        "the token endpoint refuses the request with invalid_request",
        Verdict::TokenError(super::token_errors::RULE_INVALID_REQUEST, "invalid_request"),
    ),
    (
        "the token endpoint refuses the wider scope with invalid_scope",
        Verdict::TokenError(super::token_errors::RULE_INVALID_SCOPE, "invalid_scope"),
    ),
    (
        "the token endpoint refuses the grant type with unauthorized_client",
        Verdict::TokenError(
            super::token_clients::RULE_UNAUTHORIZED_CLIENT,
            "unauthorized_client",
        ),
    ),
    (
        "the token endpoint refuses the code presented by the other client",
        Verdict::Judged {
            rule: RULE_CODE_BOUND_TO_CLIENT,
            expected: "HTTP 400 with error invalid_grant (or invalid_client)",
            check: check_foreign_code_refused,
        },
    ),
    (
        "the token endpoint refuses the refresh token presented by the other client",
        Verdict::Judged {
            rule: super::clients::RULE_REFRESH_BOUND_TO_CLIENT,
            expected: "HTTP 400 with error invalid_grant (or invalid_client)",
            check: check_foreign_code_refused,
        },
    ),
    (
        "the revocation endpoint answers 200",
        Verdict::Judged {
            rule: super::metadata::RULE_UNKNOWN_REVOCATION,
            expected: "HTTP 200",
            check: |status, body| match status {
                200 => Ok(()),
                _ => Err(describe_token_answer(status, body)),
            },
        },
    ),
    (
        "the token endpoint refuses the password grant",
        Verdict::Judged {
            rule: super::metadata::RULE_PASSWORD_GRANT,
            expected: "a 4xx JSON error (unsupported_grant_type), and no token",
            check: check_grant_refused,
        },
    ),
    (
        "the introspection endpoint refuses the client without credentials with 401 invalid_client",
        Verdict::Judged {
            rule: RULE_INTROSPECTION_AUTH,
            expected: "HTTP 401 with error invalid_client, and no token information",
            check: check_introspection_refused,
        },
    ),
    (
        "the token endpoint refuses the confidential client that did not authenticate",
        Verdict::Judged {
            rule: super::token_clients::RULE_CLIENT_MUST_AUTHENTICATE,
            expected: "a 4xx JSON error (invalid_client), and no tokens",
            check: check_grant_refused,
        },
    ),
    (
        "the token endpoint accepts the HTTP Basic client authentication",
        Verdict::Judged {
            rule: super::token_clients::RULE_BASIC_SUPPORTED,
            expected: "HTTP 200 with a token response",
            check: check_tokens_issued,
        },
    ),
    (
        "the revocation endpoint refuses the wrong client credentials",
        Verdict::Judged {
            rule: super::token_clients::RULE_REVOCATION_AUTHENTICATED,
            expected: "a 4xx error (invalid_client)",
            check: check_refused_status,
        },
    ),
    (
        "the token endpoint refuses the client_credentials grant to the public client",
        Verdict::Judged {
            rule: super::token_errors::RULE_PUBLIC_CLIENT_CREDENTIALS,
            expected: "a 4xx JSON error (unauthorized_client), and no token",
            check: check_grant_refused,
        },
    ),
    (
        "the token endpoint ignores the unknown parameter and issues tokens",
        Verdict::Judged {
            rule: super::token_errors::RULE_UNKNOWN_PARAMETER,
            expected: "HTTP 200 with a token response",
            check: check_tokens_issued,
        },
    ),
    (
        "the token endpoint treats the empty parameter as absent and issues tokens",
        Verdict::Judged {
            rule: super::token_errors::RULE_EMPTY_PARAMETER,
            expected: "HTTP 200 with a token response",
            check: check_tokens_issued,
        },
    ),
    (
        "the token endpoint does not accept the repeated parameter",
        Verdict::Judged {
            rule: super::token_errors::RULE_REPEATED_PARAMETER,
            expected: "a 4xx error (invalid_request), and no tokens",
            check: check_refused_status,
        },
    ),
    (
        "the token endpoint refuses the exchange without the redirect_uri",
        Verdict::Judged {
            rule: super::token::RULE_EXCHANGE_WITHOUT_REDIRECT_URI,
            expected: "HTTP 400 with error invalid_request (or invalid_grant), and no tokens",
            check: check_missing_parameter_refused,
        },
    ),
    (
        "the token endpoint refuses the exchange without the code_verifier",
        Verdict::Judged {
            rule: super::token::RULE_EXCHANGE_WITHOUT_VERIFIER,
            expected: "HTTP 400 with error invalid_request (or invalid_grant), and no tokens",
            check: check_missing_parameter_refused,
        },
    ),
    (
        "the discovery document is served as application/json",
        Verdict::JsonObject(super::metadata::RULE_JSON_DOCUMENT),
    ),
    (
        "userinfo answers in application/json",
        Verdict::JsonObject(super::userinfo_subjects::RULE_USERINFO_JSON),
    ),
];

#[then(
    regex = r"^(the token endpoint refuses the wrong code_verifier with invalid_grant|the token endpoint refuses the reused code with invalid_grant|the token endpoint refuses the mismatched redirect_uri with invalid_grant|the token endpoint refuses the rotated refresh token with invalid_grant|the token endpoint refuses the newest refresh token of the replayed family|the token endpoint refuses the never-issued code with invalid_grant|the token endpoint refuses the unsupported grant_type with unsupported_grant_type|the token endpoint refuses the request with invalid_request|the token endpoint refuses the wider scope with invalid_scope|the token endpoint refuses the grant type with unauthorized_client|the token endpoint refuses the code presented by the other client|the token endpoint refuses the refresh token presented by the other client|the revocation endpoint answers 200|the token endpoint refuses the password grant|the introspection endpoint refuses the client without credentials with 401 invalid_client|the token endpoint refuses the confidential client that did not authenticate|the token endpoint accepts the HTTP Basic client authentication|the revocation endpoint refuses the wrong client credentials|the token endpoint refuses the client_credentials grant to the public client|the token endpoint ignores the unknown parameter and issues tokens|the token endpoint treats the empty parameter as absent and issues tokens|the token endpoint does not accept the repeated parameter|the token endpoint refuses the exchange without the redirect_uri|the token endpoint refuses the exchange without the code_verifier|the discovery document is served as application/json|userinfo answers in application/json)$"
)]
async fn answer_judged(world: &mut AuthWorld, phrase: String) -> StepResult {
    crate::conform::steps::judge_phrase(world, VERDICTS, &phrase, |world, verdict| match verdict {
        Verdict::InvalidGrant(rule) => expect_invalid_grant(world, rule),
        Verdict::TokenError(rule, error) => expect_token_error(world, rule, error),
        Verdict::JsonObject(rule) => expect_json_object(world, rule),
        Verdict::Judged {
            rule,
            expected,
            check,
        } => judge_last_answer(world, rule, expected, check),
    })
}

/// Fails `rule` unless the last answer is HTTP 200 with a JSON object, as application/json.
fn expect_json_object(world: &mut AuthWorld, rule: &str) -> StepResult {
    let exchange = world.last_exchange()?;
    let object = exchange.json().is_ok_and(|b| b.is_object());
    if exchange.status == 200 && object && is_json_content_type(exchange.content_type()) {
        return Ok(());
    }
    Err(world.fail(
        rule,
        "HTTP 200, Content-Type: application/json, a JSON object",
        format!(
            "HTTP {}, Content-Type: {}{}",
            exchange.status,
            exchange.content_type().unwrap_or("(absent)"),
            if object { "" } else { ", not a JSON object" }
        ),
    ))
}
