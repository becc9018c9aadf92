//! Shapes of Better Auth's session endpoints: sign-up/sign-in answers, get-session, and the
//! `{code, message}` error body. Pure parsing, so the rules are unit-tested without a server.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The user object as Better Auth returns it (only the fields the rules read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
}

/// `POST /sign-up/email` → `{token, user}`; `POST /sign-in/email` → `{redirect, token, user}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthAnswer {
    pub token: Option<String>,
    pub user: User,
}

/// `GET /get-session` with a live session → `{session, user}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionAnswer {
    pub session_user_id: String,
    pub expires_at: OffsetDateTime,
    pub user: User,
}

/// Core endpoints' error body: `{"code": "...", "message": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

fn str_field<'a>(value: &'a Value, field: &str, context: &str) -> Result<&'a str, String> {
    match value.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "`{context}.{field}` is {} instead of a string",
            kind(other)
        )),
        None => Err(format!("`{context}` has no `{field}` field")),
    }
}

/// A JSON value's kind in words, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn parse_user(value: &Value, context: &str) -> Result<User, String> {
    if !value.is_object() {
        return Err(format!(
            "`{context}` is {} instead of an object",
            kind(value)
        ));
    }
    Ok(User {
        id: str_field(value, "id", context)?.to_string(),
        email: str_field(value, "email", context)?.to_string(),
        name: str_field(value, "name", context)?.to_string(),
    })
}

pub fn parse_auth_answer(body: &Value) -> Result<AuthAnswer, String> {
    let user = body
        .get("user")
        .ok_or_else(|| "the body has no `user` object".to_string())?;
    let token = match body.get("token") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => return Err(format!("`token` is {} instead of a string", kind(other))),
    };
    Ok(AuthAnswer {
        token,
        user: parse_user(user, "user")?,
    })
}

/// emailAndPassword.minPasswordLength and maxPasswordLength when a deployment leaves them unset.
pub const DEFAULT_MIN_PASSWORD_LENGTH: usize = 8;
pub const DEFAULT_MAX_PASSWORD_LENGTH: usize = 128;

/// Whether an HTTP 200 sign-up answer started a session. Better Auth's sign-up answers
/// `{"token": null, "user": …}` and sets no cookie when the deployment has
/// `emailAndPassword.autoSignIn: false` or `requireEmailVerification: true`: the user signs in
/// afterwards (or after verifying the address). Only an answer that says "no session" both ways
/// counts as one: a token without a cookie, or a cookie without a token, is a session answer
/// that is wrong somewhere, and the scenarios that check it must run and say where.
pub fn sign_up_started_session(body: &Value, sets_a_cookie: bool) -> bool {
    let has_token = !matches!(body.get("token"), None | Some(Value::Null));
    has_token || sets_a_cookie
}

/// `Ok(None)` for the documented "no session" answer, JSON `null`.
pub fn parse_session_answer(body: &Value) -> Result<Option<SessionAnswer>, String> {
    if body.is_null() {
        return Ok(None);
    }
    let session = body
        .get("session")
        .filter(|s| s.is_object())
        .ok_or_else(|| "the body is neither null nor has a `session` object".to_string())?;
    let user = body
        .get("user")
        .ok_or_else(|| "the body has a `session` but no `user`".to_string())?;
    let expires_at = str_field(session, "expiresAt", "session")?;
    let expires_at = OffsetDateTime::parse(expires_at, &Rfc3339)
        .map_err(|e| format!("`session.expiresAt` ({expires_at}) is not an RFC 3339 date: {e}"))?;
    Ok(Some(SessionAnswer {
        session_user_id: str_field(session, "userId", "session")?.to_string(),
        expires_at,
        user: parse_user(user, "user")?,
    }))
}

pub fn parse_error_body(body: &Value) -> Result<ErrorBody, String> {
    if !body.is_object() {
        return Err(format!(
            "the error body is {} instead of an object",
            kind(body)
        ));
    }
    let code = str_field(body, "code", "body")?;
    let message = str_field(body, "message", "body")?;
    if message.trim().is_empty() {
        return Err("`message` is empty".into());
    }
    Ok(ErrorBody {
        code: code.to_string(),
        message: message.to_string(),
    })
}

/// Whether a Content-Type names JSON (`application/json`, with or without parameters).
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
            || (essence.to_ascii_lowercase().starts_with("application/")
                && essence.to_ascii_lowercase().ends_with("+json"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_up_without_token_and_cookie_started_no_session() {
        let user = json!({"id": "u1", "email": "a@b.test", "name": "A"});
        let no_session = json!({"token": null, "user": user});
        assert!(!sign_up_started_session(&no_session, false));
        assert!(!sign_up_started_session(&json!({"user": user}), false));
        // Either half of a session makes it one the scenarios judge.
        assert!(sign_up_started_session(&no_session, true));
        let token = json!({"token": "t0k", "user": user});
        assert!(sign_up_started_session(&token, false));
        assert!(sign_up_started_session(&token, true));
    }
    use serde_json::json;

    #[test]
    fn parses_sign_in_and_sign_up_answers() {
        let answer = parse_auth_answer(&json!({
            "redirect": false, "token": "tok",
            "user": {"id": "u1", "email": "a@b.test", "name": "A", "emailVerified": false}
        }))
        .unwrap();
        assert_eq!(answer.token.as_deref(), Some("tok"));
        assert_eq!(answer.user.id, "u1");
        assert!(parse_auth_answer(&json!({"token": "t"})).is_err());
        assert!(parse_auth_answer(&json!({"token": 5, "user": {}})).is_err());
    }

    #[test]
    fn get_session_null_means_no_session() {
        assert_eq!(parse_session_answer(&Value::Null).unwrap(), None);
        let live = parse_session_answer(&json!({
            "session": {"userId": "u1", "expiresAt": "2026-11-30T11:13:17.386Z", "token": "t"},
            "user": {"id": "u1", "email": "a@b.test", "name": "A"}
        }))
        .unwrap()
        .unwrap();
        assert_eq!(live.session_user_id, "u1");
        assert_eq!(live.expires_at.unix_timestamp(), 1796037197);
        assert!(parse_session_answer(&json!({})).is_err());
        assert!(
            parse_session_answer(
                &json!({"session": {"userId": "u1", "expiresAt": "soon"}, "user": {}})
            )
            .is_err()
        );
    }

    #[test]
    fn error_bodies_need_code_and_message() {
        let e = parse_error_body(&json!({"code": "X", "message": "Y"})).unwrap();
        assert_eq!(e.code, "X");
        assert!(parse_error_body(&json!({"message": "Y"})).is_err());
        assert!(parse_error_body(&json!({"code": "X", "message": ""})).is_err());
        assert!(parse_error_body(&json!("text")).is_err());
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type(Some("application/json")));
        assert!(is_json_content_type(Some(
            "application/json; charset=utf-8"
        )));
        assert!(is_json_content_type(Some("application/problem+json")));
        assert!(!is_json_content_type(Some("text/plain")));
        assert!(!is_json_content_type(None));
    }
}
