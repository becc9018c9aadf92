//! The get-session hot path: each virtual user loops `GET <base>/get-session` with its own
//! session cookie, and every answer is checked: 200, JSON, a live session, and that user's id
//! (a 200 carrying someone else's session is worse than a 503, and counts as a failure).

use goose::prelude::*;
use serde_json::Value;

use crate::protocol::session::parse_session_answer;
use crate::redact::mask_jwts;

use super::live::Outcome;
use super::user::{RunContext, VirtualUser, measured_get, no_session};

/// Largest get-session body read; a bigger one fails the check rather than being buffered.
const MAX_BODY: usize = 256 * 1024;

/// Checks one get-session answer for `user_id`. `Err` is the failure reason for goose's error
/// table: stable text (no per-request values), so equal failures aggregate into one row.
pub fn check_answer(status: u16, body: &[u8], user_id: &str) -> Result<(), String> {
    if status != 200 {
        return Err(format!("get-session answered {status}, not 200"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "get-session answered 200 with a body that is not JSON".to_string())?;
    match parse_session_answer(&value) {
        Ok(None) => Err("get-session answered null: no session for this user's cookie".into()),
        Ok(Some(answer)) => {
            if answer.user.id != user_id {
                Err("get-session answered another user's session (user.id is not this virtual user's)".into())
            } else if answer.session_user_id != user_id {
                Err("get-session answered a session whose session.userId is not this virtual user's".into())
            } else {
                Ok(())
            }
        }
        // JWTs masked here; the registered secrets go where goose's error table is written
        // (report.rs scrubs it with the run's redaction).
        Err(e) => Err(mask_jwts(&format!(
            "get-session answer is not a session: {e}"
        ))),
    }
}

/// The measured transaction.
pub async fn get_session(user: &mut GooseUser, ctx: &RunContext) -> TransactionResult {
    let Some(state) = user.get_session_data::<VirtualUser>() else {
        return no_session().await;
    };
    let cookie = state.cookie_header.clone();
    let user_id = state.user_id.clone();

    let Some((response, mut metric)) = measured_get(
        user,
        ctx,
        &ctx.get_session_url,
        &ctx.get_session_path,
        cookie,
    )
    .await?
    else {
        return Ok(());
    };
    let micros = metric.response_time_micros();
    let status = response.status().as_u16();
    let refreshed: Vec<String> = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let body = read_body(response).await;
    let verdict = match body {
        Ok(body) => check_answer(status, &body, &user_id),
        Err(reason) => Err(reason),
    };
    if !refreshed.is_empty()
        && let Some(state) = user.get_session_data_mut::<VirtualUser>()
    {
        state.absorb_set_cookies(&ctx.endpoint.secrets, refreshed.iter().map(String::as_str));
    }
    ctx.live
        .record(micros, Outcome::of(status, verdict.is_ok()));
    match verdict {
        Ok(()) => Ok(()),
        // A non-2xx status is already a failure in goose's table, with its status as reason.
        Err(_) if !metric.success => Ok(()),
        Err(reason) => user.set_failure(&reason, &mut metric, None, None),
    }
}

/// Reads a body up to [`MAX_BODY`].
pub async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(format!("the answer's body is over {} KiB", MAX_BODY / 1024));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(_) => return Err("the answer's body could not be read to its end".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(user: &str, session_user: &str) -> Vec<u8> {
        format!(
            r#"{{"session":{{"userId":"{session_user}","expiresAt":"2030-01-01T00:00:00.000Z","token":"t"}},"user":{{"id":"{user}","email":"a@b.test","name":"A"}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn the_users_own_session_passes() {
        assert_eq!(check_answer(200, &session("u1", "u1"), "u1"), Ok(()));
    }

    #[test]
    fn another_users_session_fails_with_a_stable_reason() {
        let e = check_answer(200, &session("u2", "u2"), "u1").unwrap_err();
        assert!(e.contains("another user's session"), "{e}");
        assert!(!e.contains("u2"), "per-request values stay out: {e}");
        let e = check_answer(200, &session("u1", "u2"), "u1").unwrap_err();
        assert!(e.contains("session.userId"), "{e}");
    }

    #[test]
    fn null_bad_json_and_wrong_status_fail() {
        assert!(
            check_answer(200, b"null", "u1")
                .unwrap_err()
                .contains("null")
        );
        assert!(
            check_answer(200, b"<html>", "u1")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            check_answer(200, b"{}", "u1")
                .unwrap_err()
                .contains("not a session")
        );
        assert!(check_answer(204, b"", "u1").unwrap_err().contains("204"));
    }
}
