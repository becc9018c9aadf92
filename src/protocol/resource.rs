//! What a JWT-verifying backend (a resource server) must answer, as pure verdicts over status
//! and body: shared by the conform steps (@resource-server) and the load scenario
//! (jwt-verification), which judge the same answers.

use serde_json::Value;

/// The user a JWT was issued to, as the backend must name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedUser<'a> {
    pub id: &'a str,
    pub email: Option<&'a str>,
}

/// A 200 answer that names `user`: JSON with `sub` = the user id (and `email`, when the backend
/// sends one, = the user's email). `Err` says what came back instead, without any token.
pub fn check_accepted(status: u16, body: &[u8], user: &ExpectedUser<'_>) -> Result<(), String> {
    if status != 200 {
        return Err(format!(
            "HTTP {status}{}",
            describe_error_body(body)
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "HTTP 200 with a body that is not JSON".to_string())?;
    match value.get("sub") {
        Some(Value::String(sub)) if sub == user.id => {}
        Some(Value::String(_)) => {
            return Err("HTTP 200 naming another subject (`sub` is not this user's id)".into());
        }
        Some(other) => {
            return Err(format!(
                "HTTP 200 with `sub` {}",
                crate::protocol::session::kind(other)
            ));
        }
        None => return Err("HTTP 200 without a `sub`".into()),
    }
    if let (Some(expected), Some(Value::String(email))) = (user.email, value.get("email"))
        && !email.eq_ignore_ascii_case(expected)
    {
        return Err("HTTP 200 naming the user's id with another user's email".into());
    }
    Ok(())
}

/// A refusal: 401 (RFC 6750 §3.1 `invalid_token`) with a JSON body. `Err` says what came back.
pub fn check_refused(status: u16, body: &[u8]) -> Result<(), String> {
    if status == 401 {
        if serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object()) {
            return Ok(());
        }
        return Err("HTTP 401 without a JSON error body".into());
    }
    if status == 200 {
        let named = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("sub").and_then(Value::as_str).map(str::to_string))
            .is_some();
        return Err(format!(
            "HTTP 200: the backend accepted it{}",
            if named { " and answered a subject" } else { "" }
        ));
    }
    Err(format!("HTTP {status}, not 401"))
}

/// RFC 6750 §3: a 401 to a request that carried a bearer token it refused has
/// `WWW-Authenticate: Bearer` with `error="invalid_token"` (§3.1). `Err` says what came instead.
pub fn check_bearer_challenge(headers: &[&str]) -> Result<(), String> {
    let Some(challenge) = crate::protocol::challenge::bearer_challenge(headers.iter().copied())
    else {
        return Err(match headers.first() {
            None => "no WWW-Authenticate header".into(),
            Some(other) => format!("WWW-Authenticate: {other} (no Bearer challenge)"),
        });
    };
    let shown = headers.join(", ");
    match challenge.param("error") {
        Some("invalid_token") => Ok(()),
        Some(other) => Err(format!("WWW-Authenticate: {shown} (error=\"{other}\")")),
        None => Err(format!("WWW-Authenticate: {shown} (no error parameter)")),
    }
}

/// `error` and `error_description` of a JSON error body, for failure messages.
fn describe_error_body(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    match (
        field("error"),
        field("error_description").or(field("detail")),
    ) {
        (Some(e), Some(d)) => Some(format!("{e}: {d}")),
        (Some(e), None) => Some(e.to_string()),
        (None, Some(d)) => Some(d.to_string()),
        (None, None) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The bundled backend

/// Takes the JWT out of a Better Auth `/token` answer. `Err` is a stable failure reason.
pub fn token_from_answer(status: u16, body: &[u8]) -> Result<String, String> {
    if status != 200 {
        return Err(format!("/token answered {status}, not 200"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| "/token answered 200 with a body that is not JSON".to_string())?;
    match value.get("token") {
        Some(Value::String(token)) if !token.is_empty() => Ok(token.clone()),
        _ => Err("/token answered 200 without a `token` string".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: ExpectedUser<'static> = ExpectedUser {
        id: "u1",
        email: Some("a@b.test"),
    };
    #[test]
    fn an_acceptance_must_name_the_user() {
        assert_eq!(
            check_accepted(200, br#"{"sub":"u1","email":"A@b.test"}"#, &USER),
            Ok(())
        );
        assert_eq!(check_accepted(200, br#"{"sub":"u1"}"#, &USER), Ok(()));
        let e = check_accepted(200, br#"{"sub":"u2","email":"a@b.test"}"#, &USER).unwrap_err();
        assert!(e.contains("another subject"), "{e}");
        let e = check_accepted(200, br#"{"sub":"u1","email":"x@b.test"}"#, &USER).unwrap_err();
        assert!(e.contains("another user's email"), "{e}");
        assert!(
            check_accepted(200, b"{}", &USER)
                .unwrap_err()
                .contains("without")
        );
        assert!(
            check_accepted(200, b"<html>", &USER)
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            check_accepted(200, br#"{"sub":5}"#, &USER)
                .unwrap_err()
                .contains("number")
        );
        let e = check_accepted(
            401,
            br#"{"error":"invalid_token","error_description":"kid unknown"}"#,
            &USER,
        )
        .unwrap_err();
        assert_eq!(e, "HTTP 401 (invalid_token: kid unknown)");
        assert_eq!(check_accepted(500, b"", &USER).unwrap_err(), "HTTP 500");
    }

    #[test]
    fn a_refusal_is_a_401_with_a_json_error() {
        assert_eq!(check_refused(401, br#"{"error":"invalid_token"}"#), Ok(()));
        assert!(check_refused(401, b"nope").unwrap_err().contains("JSON"));
        let e = check_refused(200, br#"{"sub":"u1"}"#).unwrap_err();
        assert!(e.contains("accepted it and answered a subject"), "{e}");
        assert_eq!(check_refused(403, b"{}").unwrap_err(), "HTTP 403, not 401");
    }

    #[test]
    fn a_refused_token_gets_a_bearer_invalid_token_challenge() {
        assert_eq!(
            check_bearer_challenge(&[r#"Bearer error="invalid_token""#]),
            Ok(())
        );
        assert_eq!(
            check_bearer_challenge(&[
                "Basic realm=\"x\"",
                r#"bearer realm="api", error="invalid_token", error_description="x""#
            ]),
            Ok(())
        );
        assert_eq!(
            check_bearer_challenge(&[]).unwrap_err(),
            "no WWW-Authenticate header"
        );
        assert!(
            check_bearer_challenge(&["Basic"])
                .unwrap_err()
                .contains("no Bearer")
        );
        assert!(
            check_bearer_challenge(&["Bearer"])
                .unwrap_err()
                .contains("no error")
        );
        assert!(
            check_bearer_challenge(&[r#"Bearer error="invalid_request""#])
                .unwrap_err()
                .contains("invalid_request")
        );
    }
}
