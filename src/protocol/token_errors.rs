//! The token endpoint's request handling, error answers and client authentication as pure
//! checks (RFC 6749 §2.3.1, §3.2, §5.1-§5.2, §6; RFC 6750 §3; RFC 7009 §2.2.1; RFC 7662 §2.1).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::challenge::parse_challenges;
use super::oauth::{
    confidential_client_registration, describe_token_answer, parse_oauth_error,
    parse_token_response,
};

/// True for a JSON media type (`application/json`, or a `+json` suffix), parameters ignored.
pub fn is_json_media_type(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// How a Content-Type header reads in a failure report.
pub fn describe_content_type(content_type: Option<&str>) -> String {
    match content_type {
        Some(v) => format!("Content-Type: {v}"),
        None => "no Content-Type header".into(),
    }
}

/// A token error answer (RFC 6749 §5.2): HTTP 400 with a JSON object whose `error` is
/// `expected`, and no tokens.
pub fn check_token_error(status: u16, body: &Value, expected: &str) -> Result<(), String> {
    match parse_oauth_error(body) {
        Ok(e) if status == 400 && e.error == expected && body.get("access_token").is_none() => {
            Ok(())
        }
        _ => Err(describe_token_answer(status, body)),
    }
}

/// A request the endpoint must refuse was refused: a 4xx status (never 200, never a server
/// error) and no tokens. The error code is judged elsewhere.
pub fn check_refused_status(status: u16, body: &Value) -> Result<(), String> {
    if body.get("access_token").is_some() || !(400..500).contains(&status) {
        return Err(describe_token_answer(status, body));
    }
    Ok(())
}

/// The registration metadata of a confidential client that authenticates with HTTP Basic
/// (`client_secret_basic`, RFC 7591 §2), for the rule that a server supports Basic for clients
/// it issued a password (RFC 6749 §2.3.1).
pub fn basic_client_registration(client_name: &str, redirect_uri: &str) -> Value {
    let mut metadata = confidential_client_registration(client_name, redirect_uri);
    metadata["token_endpoint_auth_method"] = Value::String("client_secret_basic".into());
    metadata
}

/// An error answer in the RFC 6749 §5.2 format (RFC 7009 §2.2.1): a JSON media type and a
/// JSON object with a string `error`.
pub fn check_error_format(content_type: Option<&str>, body: &Value) -> Result<(), String> {
    if !is_json_media_type(content_type) {
        return Err(describe_content_type(content_type));
    }
    parse_oauth_error(body).map(|_| ())
}

/// A successful token answer (RFC 6749 §5.1): HTTP 200 with a token response.
pub fn check_tokens_issued(status: u16, body: &Value) -> Result<(), String> {
    match parse_token_response(body) {
        Ok(_) if status == 200 => Ok(()),
        Err(e) if status == 200 => Err(format!("HTTP 200, but {e}")),
        _ => Err(describe_token_answer(status, body)),
    }
}

/// The `Authorization` value of HTTP Basic client authentication (RFC 6749 §2.3.1): the
/// client_id and secret are form-urlencoded first, then joined by `:` and base64-encoded.
pub fn basic_authorization(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client_id), encode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// The answer to an HTTP Basic client authentication that failed (RFC 6749 §5.2
/// invalid_client): 401 with error invalid_client, a `WWW-Authenticate` challenge for the
/// Basic scheme, and no tokens.
pub fn check_failed_basic_answer(
    status: u16,
    body: &Value,
    www_authenticate: &[&str],
) -> Result<(), String> {
    let invalid_client = parse_oauth_error(body).is_ok_and(|e| e.error == "invalid_client");
    if status != 401 || !invalid_client || body.get("access_token").is_some() {
        return Err(describe_token_answer(status, body));
    }
    let challenges = parse_challenges(www_authenticate.iter().copied());
    if challenges
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("basic"))
    {
        return Ok(());
    }
    Err(match www_authenticate {
        [] => "HTTP 401 without WWW-Authenticate".into(),
        values => format!("HTTP 401 with WWW-Authenticate: {}", values.join(", ")),
    })
}

/// A scope the discovery document offers (`scopes_supported`) beyond the `granted` one, to ask
/// for in a refresh; `offline_access` is left out (it names the refresh token itself).
pub fn scope_beyond(scopes_supported: Option<&Value>, granted: &str) -> Option<String> {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    scopes_supported?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|s| !s.is_empty() && *s != "offline_access" && !granted.contains(s))
        .map(str::to_string)
}

/// A refresh that asked for `extra` on top of the grant did not obtain it (RFC 6749 §6): a 4xx
/// refusal, or a 200 whose `scope` (which must then be given, since it differs from the
/// request, §5.1) leaves `extra` out.
pub fn check_scope_not_widened(status: u16, body: &Value, extra: &str) -> Result<(), String> {
    if status != 200 {
        return check_refused_status(status, body);
    }
    match body.get("scope").and_then(Value::as_str) {
        Some(scope) if !scope.split_whitespace().any(|s| s == extra) => Ok(()),
        Some(scope) => Err(format!("HTTP 200 with scope {scope:?}")),
        None => Err("HTTP 200 without a scope member, i.e. the scope requested".into()),
    }
}

/// A refresh that asked for exactly the `granted` scope obtained it (RFC 6749 §6): 200 with a
/// token response whose `scope`, when given, is that set.
pub fn check_scope_kept(status: u16, body: &Value, granted: &str) -> Result<(), String> {
    check_tokens_issued(status, body)?;
    let Some(scope) = body.get("scope").and_then(Value::as_str) else {
        return Ok(());
    };
    let mut got: Vec<&str> = scope.split_whitespace().collect();
    let mut want: Vec<&str> = granted.split_whitespace().collect();
    got.sort_unstable();
    want.sort_unstable();
    got.dedup();
    want.dedup();
    if got == want {
        Ok(())
    } else {
        Err(format!("HTTP 200 with scope {scope:?}"))
    }
}

/// Whether the discovery document lists `grant` in `grant_types_supported` (RFC 8414 §2: when
/// absent, the default is authorization_code and implicit).
pub fn grant_type_listed(discovery: &Value, grant: &str) -> bool {
    match discovery
        .get("grant_types_supported")
        .and_then(Value::as_array)
    {
        Some(list) => list.iter().any(|g| g.as_str() == Some(grant)),
        None => matches!(grant, "authorization_code" | "implicit"),
    }
}

/// Each challenge names `error`, `error_description` and `error_uri` at most once (RFC 6750
/// §3).
pub fn check_challenge_attributes_once(www_authenticate: &[&str]) -> Result<(), String> {
    for challenge in parse_challenges(www_authenticate.iter().copied()) {
        for name in ["error", "error_description", "error_uri"] {
            let count = challenge
                .params
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .count();
            if count > 1 {
                return Err(format!(
                    "the {} challenge names {name} {count} times",
                    challenge.scheme
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type(Some("application/json")));
        assert!(is_json_media_type(Some("Application/JSON; charset=utf-8")));
        assert!(is_json_media_type(Some("application/problem+json")));
        assert!(!is_json_media_type(Some("text/plain")));
        assert!(!is_json_media_type(Some("text/json+html")));
        assert!(!is_json_media_type(None));
        assert_eq!(describe_content_type(None), "no Content-Type header");
    }

    #[test]
    fn basic_clients_and_error_formats() {
        let metadata = basic_client_registration("c", "http://127.0.0.1:4000/cb");
        assert_eq!(
            metadata["token_endpoint_auth_method"],
            "client_secret_basic"
        );
        assert_eq!(metadata["redirect_uris"][0], "http://127.0.0.1:4000/cb");
        let e = json!({"error": "invalid_client"});
        check_error_format(Some("application/json"), &e).unwrap();
        assert!(check_error_format(Some("text/html"), &e).is_err());
        assert!(check_error_format(Some("application/json"), &json!({"ok": 1})).is_err());
    }

    #[test]
    fn token_errors_need_the_status_and_the_code() {
        let e = json!({"error": "unsupported_grant_type"});
        check_token_error(400, &e, "unsupported_grant_type").unwrap();
        assert!(check_token_error(401, &e, "unsupported_grant_type").is_err());
        assert!(check_token_error(400, &e, "invalid_request").is_err());
        assert!(check_token_error(400, &json!({"access_token": "a"}), "x").is_err());
    }

    #[test]
    fn refusals_and_issues() {
        check_refused_status(401, &json!({"error": "invalid_client"})).unwrap();
        check_refused_status(400, &json!("not an object")).unwrap();
        assert!(check_refused_status(200, &json!({})).is_err());
        assert!(check_refused_status(500, &json!({"error": "server_error"})).is_err());
        assert!(check_refused_status(400, &json!({"access_token": "a"})).is_err());
        let tokens = json!({"access_token": "a", "token_type": "Bearer"});
        check_tokens_issued(200, &tokens).unwrap();
        assert!(check_tokens_issued(400, &json!({"error": "invalid_scope"})).is_err());
        assert!(check_tokens_issued(200, &json!({"token_type": "Bearer"})).is_err());
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(
            basic_authorization("id", "s:cr t"),
            format!("Basic {}", STANDARD.encode("id:s%3Acr+t"))
        );
    }

    #[test]
    fn failed_basic_answers() {
        let e = json!({"error": "invalid_client"});
        check_failed_basic_answer(401, &e, &["Basic"]).unwrap();
        check_failed_basic_answer(401, &e, &["Bearer, Basic realm=\"x\""]).unwrap();
        assert!(check_failed_basic_answer(400, &e, &["Basic"]).is_err());
        let other = json!({"error": "invalid_request"});
        assert!(check_failed_basic_answer(401, &other, &["Basic"]).is_err());
        let missing = check_failed_basic_answer(401, &e, &[]).unwrap_err();
        assert!(missing.contains("without WWW-Authenticate"), "{missing}");
        assert!(check_failed_basic_answer(401, &e, &["Bearer"]).is_err());
    }

    #[test]
    fn scopes_beyond_the_grant() {
        let supported = json!(["openid", "offline_access", "profile", "email"]);
        assert_eq!(
            scope_beyond(Some(&supported), "openid offline_access").as_deref(),
            Some("profile")
        );
        assert_eq!(scope_beyond(Some(&supported), "openid profile email"), None);
        assert_eq!(scope_beyond(None, "openid"), None);
    }

    #[test]
    fn widened_and_kept_scopes() {
        check_scope_not_widened(400, &json!({"error": "invalid_scope"}), "email").unwrap();
        let narrowed = json!({"access_token": "a", "token_type": "Bearer", "scope": "openid"});
        check_scope_not_widened(200, &narrowed, "email").unwrap();
        let widened = json!({"access_token": "a", "token_type": "Bearer", "scope": "openid email"});
        assert!(check_scope_not_widened(200, &widened, "email").is_err());
        let silent = json!({"access_token": "a", "token_type": "Bearer"});
        assert!(check_scope_not_widened(200, &silent, "email").is_err());
        check_scope_kept(200, &silent, "openid").unwrap();
        let same = json!({"access_token": "a", "token_type": "Bearer", "scope": "b a a"});
        check_scope_kept(200, &same, "a b").unwrap();
        assert!(check_scope_kept(200, &narrowed, "openid offline_access").is_err());
        assert!(check_scope_kept(400, &json!({"error": "invalid_scope"}), "openid").is_err());
    }

    #[test]
    fn listed_grant_types() {
        let doc = json!({"grant_types_supported": ["authorization_code", "client_credentials"]});
        assert!(grant_type_listed(&doc, "client_credentials"));
        assert!(!grant_type_listed(&doc, "refresh_token"));
        assert!(grant_type_listed(&json!({}), "authorization_code"));
        assert!(!grant_type_listed(&json!({}), "client_credentials"));
    }

    #[test]
    fn challenge_attributes_once() {
        check_challenge_attributes_once(&[
            "Bearer error=\"invalid_token\", error_description=\"a, b\"",
        ])
        .unwrap();
        let twice = check_challenge_attributes_once(&[
            "Bearer error=\"invalid_token\", error=\"invalid_request\"",
        ])
        .unwrap_err();
        assert!(twice.contains("error 2 times"), "{twice}");
        // Two challenges may each name their own error.
        check_challenge_attributes_once(&["Bearer error=\"a\", DPoP error=\"b\""]).unwrap();
    }
}
