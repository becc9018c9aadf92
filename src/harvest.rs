//! The secret harvester: an exchange observer that registers every credential passing through
//! a run's clients for redaction, before any step can report on the exchange. Steps no longer
//! have to remember to register what they send or receive; what a step makes up itself (a
//! password before it is sent) it still registers where it makes it.
//!
//! What counts as a credential is protocol knowledge, kept here as a pure function
//! ([`credentials_in`]) and unit-tested.

use serde_json::Value;

use crate::http::{Body, Endpoint, Exchange, ExchangeObserver, Request};
use crate::protocol::cookie::SetCookie;
use crate::redact::{SECRET_FIELDS, Secrets, is_error_code};

/// Answer headers that carry a credential (the bearer and JWT plugins).
const SECRET_HEADERS: &[&str] = &["set-auth-token", "set-auth-jwt"];

/// Every credential in one request and its answer: field values of the request body, the
/// bearer token sent, field values of a JSON answer, authorization codes in a redirect, cookie
/// values set (raw and decoded) and the plugins' token headers. Values shorter than 8
/// characters are left out: they are not secrets worth the false redactions.
pub fn credentials_in(request: &Request, exchange: &Exchange) -> Vec<String> {
    let mut found = Vec::new();
    match &request.body {
        Some(Body::Json(body)) => fields_of(body, &mut found),
        Some(Body::Form(pairs)) => {
            for (name, value) in pairs {
                if SECRET_FIELDS.contains(&name.as_str()) {
                    found.push(value.clone());
                    let encoded: String =
                        url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                    found.push(encoded);
                }
            }
        }
        _ => {}
    }
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("authorization")
            && let Some(token) = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        {
            found.push(token.trim().to_string());
        }
    }
    if let Ok(body) = exchange.json() {
        fields_of(&body, &mut found);
    }
    if let Some(location) = exchange.header("location") {
        codes_in(location, &mut found);
    }
    codes_in(&exchange.body, &mut found);
    for cookie in exchange.set_cookies() {
        push_cookie(&cookie, &mut found);
    }
    for header in SECRET_HEADERS {
        if let Some(value) = exchange.header(header) {
            found.push(value.to_string());
        }
    }
    found.retain(|v| v.len() >= 8);
    found.sort();
    found.dedup();
    found
}

fn push_cookie(cookie: &SetCookie, found: &mut Vec<String>) {
    if !cookie.value.is_empty() {
        found.push(cookie.value.clone());
        found.push(cookie.decoded_value());
    }
}

/// Secret fields at the top level of a JSON object and one level down (`{"session": {"token"}}`,
/// `{"data": {...}}`).
fn fields_of(value: &Value, found: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        return;
    };
    // An error code (`{"code": "INVALID_ORIGIN"}`) is what a failure report is about: registered,
    // it would be scrubbed from every line the run prints.
    let secret = |name: &str, field: &Value| {
        SECRET_FIELDS.contains(&name) && field.is_string() && !is_error_code(name, field)
    };
    for (name, field) in object {
        match field {
            Value::String(s) if secret(name, field) => found.push(s.clone()),
            Value::Object(inner) => {
                for (inner_name, inner_field) in inner {
                    if let Value::String(s) = inner_field
                        && secret(inner_name, inner_field)
                    {
                        found.push(s.clone());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Authorization codes in a redirect or a page: `code=` after `?` or `&`, raw and decoded.
fn codes_in(text: &str, found: &mut Vec<String>) {
    let mut rest = text;
    while let Some(at) = rest.find("code=") {
        let boundary_before = at == 0 || matches!(rest.as_bytes()[at - 1], b'?' | b'&');
        let after = &rest[at + "code=".len()..];
        if boundary_before {
            let end = after
                .find(|c: char| matches!(c, '&' | '"' | '#' | '\'' | '<') || c.is_whitespace())
                .unwrap_or(after.len());
            let value = &after[..end];
            found.push(value.to_string());
            found.push(
                percent_encoding::percent_decode_str(value)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
        rest = after;
    }
}

/// Registers the values of `code=` query parameters found in `text` (Location headers, JSON
/// `url`s), raw and decoded: for steps that see a code before its exchange is observed.
pub(crate) fn register_codes_in(secrets: &Secrets, text: &str) {
    let mut found = Vec::new();
    codes_in(text, &mut found);
    for value in found {
        secrets.register(&value);
    }
}

/// Registers what a sign-up or sign-in answer carries: the session token of its JSON body,
/// its cookies (raw and decoded) and the bearer plugin's `set-auth-token` header. For clients
/// no harvester observes: load's virtual users, and step clients of other servers (the issuer,
/// the Next.js app) whose endpoints carry no observers. They go to the run's redaction the
/// exchange carries (its endpoint's).
pub(crate) fn register_answer_secrets(exchange: &Exchange) {
    let secrets = &exchange.secrets;
    if let Ok(body) = exchange.json()
        && let Some(token) = body.get("token").and_then(serde_json::Value::as_str)
    {
        secrets.register(token);
    }
    for cookie in exchange.set_cookies() {
        secrets.register(&cookie.value);
        secrets.register(&cookie.decoded_value());
    }
    if let Some(token) = exchange.header("set-auth-token") {
        secrets.register(token);
    }
}

/// Registers every credential of every exchange of the run (see [`credentials_in`]) with the
/// run's redaction, which the observed endpoint carries.
#[derive(Debug, Default)]
pub struct SecretHarvester;

impl ExchangeObserver for SecretHarvester {
    fn observe(&self, endpoint: &Endpoint, request: &Request, exchange: &Exchange) {
        for secret in credentials_in(request, exchange) {
            endpoint.secrets.register(&secret);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn exchange(status: u16, headers: &[(&str, &str)], body: &str) -> Exchange {
        Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:3000/api/auth/x".into(),
            request_headers: Vec::new(),
            request_body: None,
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
            body_truncated: false,
            elapsed: Duration::from_millis(1),
            secrets: Default::default(),
        }
    }

    #[test]
    fn sign_in_passwords_tokens_and_cookies_are_harvested() {
        let request = Request::post_json(
            "/sign-in/email",
            json!({"email": "a@b.test", "password": "Pw-secret-123456"}),
        );
        let answer = exchange(
            200,
            &[
                (
                    "set-cookie",
                    "better-auth.session_token=tok123456789.sig%2Bx; Path=/; HttpOnly",
                ),
                ("set-auth-token", "bearer-token-abcdef"),
            ],
            r#"{"token":"tok123456789","user":{"id":"u1","email":"a@b.test"}}"#,
        );
        let found = credentials_in(&request, &answer);
        for expected in [
            "Pw-secret-123456",
            "tok123456789",
            "tok123456789.sig%2Bx",
            "tok123456789.sig+x",
            "bearer-token-abcdef",
        ] {
            assert!(
                found.contains(&expected.to_string()),
                "{expected}: {found:?}"
            );
        }
        assert!(!found.iter().any(|f| f.contains("a@b.test")), "{found:?}");
    }

    #[test]
    fn error_codes_in_answers_are_not_harvested_but_a_code_that_is_a_credential_is() {
        let request = Request::post_json("/sign-in/email", json!({"email": "a@b.test"}));
        for body in [
            r#"{"code":"VALIDATION_ERROR","message":"[body.password] Invalid input"}"#,
            r#"{"error":{"code":"INVALID_ORIGIN","message":"Invalid origin"}}"#,
        ] {
            let found = credentials_in(&request, &exchange(400, &[], body));
            assert!(found.is_empty(), "{body}: {found:?}");
        }
        let consent = exchange(200, &[], r#"{"code":"Xk3pQ9aBcDeF12gh"}"#);
        assert!(
            credentials_in(&request, &consent).contains(&"Xk3pQ9aBcDeF12gh".to_string()),
            "a random code is still a credential"
        );
    }

    #[test]
    fn oauth_codes_and_token_answers_are_harvested() {
        let request = Request::get("/oauth2/authorize?client_id=c");
        let redirect = exchange(
            302,
            &[(
                "location",
                "http://127.0.0.1:4000/callback?code=Code%2DAbcdefgh&state=s1",
            )],
            "",
        );
        let found = credentials_in(&request, &redirect);
        assert!(found.contains(&"Code%2DAbcdefgh".to_string()));
        assert!(found.contains(&"Code-Abcdefgh".to_string()));
        let mut token_request = Request::post("/oauth2/token");
        token_request.body = Some(Body::Form(vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), "refresh~token~123".into()),
        ]));
        let tokens = exchange(
            200,
            &[],
            r#"{"access_token":"access-0123456789","id_token":"eyJ.eyJ.sig-0123","expires_in":3600}"#,
        );
        let found = credentials_in(&token_request, &tokens);
        for expected in [
            "refresh~token~123",
            "refresh%7Etoken%7E123",
            "access-0123456789",
            "eyJ.eyJ.sig-0123",
        ] {
            assert!(
                found.contains(&expected.to_string()),
                "{expected}: {found:?}"
            );
        }
        assert!(!found.contains(&"3600".to_string()));
    }

    #[test]
    fn a_bearer_token_sent_is_harvested_and_short_values_are_not() {
        let request = Request::get("/get-session").header("Authorization", "Bearer sent-token-123");
        let found = credentials_in(&request, &exchange(200, &[], r#"{"token":"short"}"#));
        assert_eq!(found, vec!["sent-token-123".to_string()]);
    }
}
