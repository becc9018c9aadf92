//! Passive rules: what must hold for every response of every scenario, not only for the one a
//! scenario looks at. Each check is a pure function of one exchange (its request and response
//! as text) and of what the scenario knows (the passwords it sent, other users' session tokens);
//! the conform World runs them on every exchange it records (conform/steps/passive.rs).
//!
//! The set, and where each rule comes from:
//! - `better-auth-passive-a`: a response never carries a password the client sent (Better Auth
//!   keeps passwords only as scrypt hashes in the account table; no endpoint returns them).
//! - `better-auth-passive-b`: a response never carries a password-hash string (scrypt
//!   `salt:key` hex, `$argon2…$`, `$2b$…` bcrypt): Better Auth strips the account's password
//!   field from every answer; a hash in a response is an offline-cracking gift.
//! - `better-auth-passive-c`: a response to one user never carries another user's session
//!   token (isolation between users).
//! - `rfc6750-5.3-a` / OAuth 2.1 §4.3.2, RFC 6750 §5.3: no access or refresh token
//!   in a URL the server hands out (Location header, or the `url` a JSON answer tells the
//!   client to go to): URLs end up in logs, history and Referer headers.
//! - `better-auth-passive-d`: an error answer (4xx/5xx) of the auth API is JSON naming the error
//!   (`code`, OAuth's `error`, or `message`, which is all Better Auth's rate limiter sends). An
//!   empty 404 is the router saying the route does not exist, and an empty 401 with a
//!   WWW-Authenticate challenge describes itself (RFC 6750 §3); neither is checked, nor is a
//!   CORS preflight (OPTIONS: the framework answers it, and no client reads its body).
//! - `rfc6265bis-4.1.2.7-a` (SHOULD): a `SameSite=None` cookie also carries `Secure`; browsers
//!   drop it otherwise, and a cross-site cookie without Secure travels in clear text.
//! - `rfc6265bis-4.1.1-a` (SHOULD NOT): one response does not set the same cookie name twice;
//!   which of the two a browser keeps is up to its order of processing (a deletion followed by
//!   the new value, say, may leave the user signed out).

use serde_json::Value;

use crate::protocol::cookie::SetCookie;

/// One passive rule broken by one response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassiveViolation {
    /// The rule id in rules/*.toml.
    pub rule_id: &'static str,
    /// The rule in one line.
    pub rule: &'static str,
    /// What was found (never the secret itself).
    pub found: String,
}

pub const NO_PASSWORD: &str = "better-auth-passive-a";
pub const NO_PASSWORD_HASH: &str = "better-auth-passive-b";
pub const NO_FOREIGN_TOKEN: &str = "better-auth-passive-c";
pub const NO_TOKEN_IN_URL: &str = "rfc6750-5.3-a";
pub const ERROR_IS_JSON: &str = "better-auth-passive-d";
pub const SAME_SITE_NONE_SECURE: &str = "rfc6265bis-4.1.2.7-a";
pub const ONE_SET_COOKIE_PER_NAME: &str = "rfc6265bis-4.1.1-a";

/// A response as the passive checks see it.
#[derive(Clone, Copy, Debug)]
pub struct ResponseView<'a> {
    pub method: &'a str,
    /// The request's path (no scheme, host or query).
    pub path: &'a str,
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a str,
}

impl ResponseView<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header value and the body: where credential material could be.
    fn texts(&self) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .map(|(_, v)| v.as_str())
            .chain(std::iter::once(self.body))
    }
}

/// What a scenario knows that a response must not carry.
#[derive(Clone, Debug, Default)]
pub struct Forbidden {
    /// Passwords the scenario's clients sent.
    pub passwords: Vec<String>,
    /// Session tokens of users other than the one this client acts for.
    pub foreign_tokens: Vec<String>,
}

/// Runs every passive check on one response; the first violation, if any. `auth_base_path` is
/// the auth API's base path (`/api/auth`): the error-shape rule applies under it only.
pub fn check(
    response: &ResponseView<'_>,
    forbidden: &Forbidden,
    auth_base_path: &str,
) -> Option<PassiveViolation> {
    password_echo(response, &forbidden.passwords)
        .or_else(|| password_hash(response))
        .or_else(|| foreign_token(response, &forbidden.foreign_tokens))
        .or_else(|| error_not_json(response, auth_base_path))
        // The SHOULD (NOT) rules after the MUSTs: a warning must not hide a failure.
        .or_else(|| token_in_url(response))
        .or_else(|| same_site_none_without_secure(response))
        .or_else(|| cookie_set_twice(response))
}

/// The response's Set-Cookie lines, parsed (a line that does not parse is judged elsewhere).
fn set_cookies(response: &ResponseView<'_>) -> Vec<SetCookie> {
    response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| SetCookie::parse(v).ok())
        .collect()
}

pub fn same_site_none_without_secure(response: &ResponseView<'_>) -> Option<PassiveViolation> {
    let cookie = set_cookies(response)
        .into_iter()
        .find(|c| c.same_site_is("none") && !c.secure)?;
    Some(PassiveViolation {
        rule_id: SAME_SITE_NONE_SECURE,
        rule: "a SameSite=None cookie also carries Secure",
        found: format!("cookie `{}` is SameSite=None without Secure", cookie.name),
    })
}

/// Two or more lines for one name are judged only when the browser's outcome depends on their
/// order: a value and a deletion, or two different values (RFC 6265 §4.1.1 gives the reason
/// for the rule: the user agent's handling of such duplicates is undefined). Lines that are all
/// deletions, or all the same line, end in the same state whatever the order; Better Auth sends
/// `session_data` twice that way on every sign-out (its deleteSessionCookie expires the cookie
/// and then cleans its chunks, the unchunked name among them), which this check leaves alone.
pub fn cookie_set_twice(response: &ResponseView<'_>) -> Option<PassiveViolation> {
    let cookies = set_cookies(response);
    let conflicting = cookies.iter().find(|c| {
        let same_name: Vec<&SetCookie> = cookies.iter().filter(|o| o.name == c.name).collect();
        same_name.len() > 1
            && !same_name.iter().all(|o| o.is_deletion())
            && !same_name.iter().all(|o| o.raw.trim() == c.raw.trim())
    })?;
    Some(PassiveViolation {
        rule_id: ONE_SET_COOKIE_PER_NAME,
        rule: "one response does not set the same cookie name twice",
        found: format!(
            "cookie `{}` is set more than once in the response, to different outcomes",
            conflicting.name
        ),
    })
}

/// Percent-encoded form too: a Set-Cookie or Location would carry it that way.
fn appears<'a>(mut texts: impl Iterator<Item = &'a str>, secret: &str) -> bool {
    if secret.len() < 8 {
        return false;
    }
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    texts.any(|t| t.contains(secret) || t.contains(&encoded))
}

pub fn password_echo(
    response: &ResponseView<'_>,
    passwords: &[String],
) -> Option<PassiveViolation> {
    let hit = passwords
        .iter()
        .position(|p| appears(response.texts(), p))?;
    Some(PassiveViolation {
        rule_id: NO_PASSWORD,
        rule: "no response carries a password the client sent",
        found: format!(
            "password #{} the scenario sent appears in the response",
            hit + 1
        ),
    })
}

/// The first password-hash-shaped string in `text`, described by its kind.
pub fn find_password_hash(text: &str) -> Option<&'static str> {
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<Vec<(&'static str, regex::Regex)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            // Better Auth's scrypt: 16-byte salt and 64-byte key, hex, joined by a colon.
            ("a scrypt salt:key hash", r"\b[0-9a-f]{32}:[0-9a-f]{128}\b"),
            ("an argon2 hash", r"\$argon2(id|i|d)\$"),
            ("a bcrypt hash", r"\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}"),
            ("a scrypt MCF hash", r"\$scrypt\$"),
            ("a PBKDF2 hash", r"\$pbkdf2(-sha\d+)?\$"),
        ]
        .into_iter()
        .map(|(what, p)| (what, regex::Regex::new(p).expect("valid pattern")))
        .collect()
    });
    patterns
        .iter()
        .find(|(_, re)| re.is_match(text))
        .map(|(what, _)| *what)
}

pub fn password_hash(response: &ResponseView<'_>) -> Option<PassiveViolation> {
    let what = response.texts().find_map(find_password_hash)?;
    Some(PassiveViolation {
        rule_id: NO_PASSWORD_HASH,
        rule: "no response carries a password hash",
        found: format!("{what} in the response"),
    })
}

pub fn foreign_token(response: &ResponseView<'_>, tokens: &[String]) -> Option<PassiveViolation> {
    tokens
        .iter()
        .any(|t| appears(response.texts(), t))
        .then(|| PassiveViolation {
            rule_id: NO_FOREIGN_TOKEN,
            rule: "no response to one user carries another user's session token",
            found: "another user's session token appears in the response".into(),
        })
}

/// Query or fragment parameters that carry a token.
const TOKEN_PARAMETERS: &[&str] = &["access_token", "refresh_token"];

/// The token parameter a URL carries in its query or fragment, if any.
pub fn token_parameter_in_url(url: &str) -> Option<&'static str> {
    let after_path = url.split_once(['?', '#']).map(|(_, rest)| rest)?;
    after_path
        .split(['&', '#', '?'])
        .filter_map(|pair| pair.split('=').next())
        .find_map(|name| {
            TOKEN_PARAMETERS
                .iter()
                .copied()
                .find(|t| name.eq_ignore_ascii_case(t))
        })
}

pub fn token_in_url(response: &ResponseView<'_>) -> Option<PassiveViolation> {
    let body_url = serde_json::from_str::<Value>(response.body)
        .ok()
        .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_string));
    let (place, name) = response
        .header("location")
        .and_then(|l| token_parameter_in_url(l).map(|n| ("the Location header", n)))
        .or_else(|| {
            body_url
                .as_deref()
                .and_then(token_parameter_in_url)
                .map(|n| ("the `url` of the JSON answer", n))
        })?;
    Some(PassiveViolation {
        rule_id: NO_TOKEN_IN_URL,
        rule: "no access or refresh token travels in a URL",
        found: format!("{place} carries a `{name}` parameter"),
    })
}

/// Whether a JSON body names its error.
pub fn names_error(body: &Value) -> bool {
    ["code", "error", "message"].iter().any(|k| {
        body.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    })
}

pub fn error_not_json(
    response: &ResponseView<'_>,
    auth_base_path: &str,
) -> Option<PassiveViolation> {
    let under_api = auth_base_path.is_empty()
        || response.path == auth_base_path
        || response.path.starts_with(&format!("{auth_base_path}/"));
    // A 429 is the rate limiter's, often a proxy's in front of the app, and its body is judged
    // by the rate-limit scenarios, as the SHOULD it is there (features/rate-limit.feature).
    // A CORS preflight (OPTIONS) is answered by the app's CORS set-up, not by Better Auth (its
    // docs leave CORS to the framework: Hono's cors(), Express's cors, ...), and no client reads
    // a preflight's body; the origin scenarios judge what the preflight grants.
    if response.status < 400
        || response.status == 429
        || !under_api
        || response.method.eq_ignore_ascii_case("HEAD")
        || response.method.eq_ignore_ascii_case("OPTIONS")
    {
        return None;
    }
    // An unknown route: Better Auth's router answers an empty 404 (or 405). A bearer challenge
    // (RFC 6750 §3: 401 with WWW-Authenticate) describes itself and may come without a body.
    let empty = response.body.trim().is_empty();
    if empty
        && (matches!(response.status, 404 | 405)
            || (response.status == 401 && response.header("www-authenticate").is_some()))
    {
        return None;
    }
    let json_type = response
        .header("content-type")
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|c| c == "application/json" || c.ends_with("+json"));
    let named = serde_json::from_str::<Value>(response.body)
        .ok()
        .is_some_and(|v| names_error(&v));
    if json_type && named {
        return None;
    }
    Some(PassiveViolation {
        rule_id: ERROR_IS_JSON,
        rule: "an error answer of the auth API is JSON naming the error (code, error or message)",
        found: format!(
            "HTTP {} with content-type {} and {}",
            response.status,
            response.header("content-type").unwrap_or("(absent)"),
            if named {
                "a JSON body naming the error"
            } else if response.body.trim().is_empty() {
                "an empty body"
            } else {
                "a body that is not a JSON object with code, error or message"
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(status: u16, headers: &'a [(String, String)], body: &'a str) -> ResponseView<'a> {
        ResponseView {
            method: "POST",
            path: "/api/auth/sign-in/email",
            status,
            headers,
            body,
        }
    }

    fn json_headers() -> Vec<(String, String)> {
        vec![("content-type".into(), "application/json".into())]
    }

    #[test]
    fn a_password_in_the_body_or_a_header_is_found() {
        let h = json_headers();
        let pw = vec!["Pw-abcdefghij-klmn".to_string()];
        let body = r#"{"user":{"password":"Pw-abcdefghij-klmn"}}"#;
        assert_eq!(
            password_echo(&view(200, &h, body), &pw).unwrap().rule_id,
            NO_PASSWORD
        );
        let with_header = vec![("x-debug".to_string(), "Pw-abcdefghij-klmn".to_string())];
        assert!(password_echo(&view(200, &with_header, "{}"), &pw).is_some());
        assert!(password_echo(&view(200, &h, r#"{"user":{}}"#), &pw).is_none());
    }

    #[test]
    fn hash_shapes_are_recognised_and_ordinary_ids_are_not() {
        let scrypt = format!("{}:{}", "ab".repeat(16), "cd".repeat(64));
        assert_eq!(find_password_hash(&scrypt), Some("a scrypt salt:key hash"));
        assert!(find_password_hash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA").is_some());
        assert!(
            find_password_hash("$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
                .is_some()
        );
        // Session ids, tokens, JWTs and signatures are not hashes.
        assert!(find_password_hash(r#"{"id":"lvgYRuSgBhw1U7Q6S3rcnEONrH0JV1oH"}"#).is_none());
        assert!(find_password_hash(&"ab".repeat(64)).is_none());
        assert!(find_password_hash("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln").is_none());
    }

    #[test]
    fn a_foreign_session_token_is_found_even_percent_encoded() {
        let h = vec![(
            "set-cookie".to_string(),
            "x=tok%2Fen12345; Path=/".to_string(),
        )];
        let tokens = vec!["tok/en12345".to_string()];
        assert!(foreign_token(&view(200, &h, "{}"), &tokens).is_some());
        assert!(foreign_token(&view(200, &json_headers(), "{}"), &tokens).is_none());
    }

    #[test]
    fn token_parameters_in_urls() {
        assert_eq!(
            token_parameter_in_url("https://c.test/cb?code=1&access_token=x"),
            Some("access_token")
        );
        assert_eq!(
            token_parameter_in_url("https://c.test/cb#refresh_token=x"),
            Some("refresh_token")
        );
        assert_eq!(
            token_parameter_in_url("https://c.test/cb?code=1&state=2"),
            None
        );
        assert_eq!(token_parameter_in_url("https://c.test/access_token"), None);
        let h = vec![(
            "location".to_string(),
            "http://127.0.0.1:4000/callback?access_token=abc".to_string(),
        )];
        assert_eq!(
            token_in_url(&view(302, &h, "")).unwrap().rule_id,
            NO_TOKEN_IN_URL
        );
        let body = r#"{"url":"http://a.test/x#access_token=y","redirect":true}"#;
        assert!(token_in_url(&view(200, &json_headers(), body)).is_some());
    }

    #[test]
    fn error_answers_must_be_json_naming_the_error() {
        let h = json_headers();
        let ok = r#"{"code":"INVALID_ORIGIN","message":"Invalid origin"}"#;
        assert!(error_not_json(&view(403, &h, ok), "/api/auth").is_none());
        let oauth = r#"{"error":"invalid_grant"}"#;
        assert!(error_not_json(&view(400, &h, oauth), "/api/auth").is_none());
        let rate = r#"{"message":"Too many requests. Please try again later."}"#;
        assert!(error_not_json(&view(429, &h, rate), "/api/auth").is_none());
        let text = vec![("content-type".to_string(), "text/plain".to_string())];
        let v = error_not_json(&view(401, &text, "Unauthorized"), "/api/auth").unwrap();
        assert_eq!(v.rule_id, ERROR_IS_JSON);
        assert!(error_not_json(&view(500, &h, "{}"), "/api/auth").is_some());
        // An unknown route, a success, and a path outside the auth API are not checked.
        assert!(error_not_json(&view(404, &[], ""), "/api/auth").is_none());
        let challenge = vec![("www-authenticate".to_string(), "Bearer".to_string())];
        assert!(error_not_json(&view(401, &challenge, ""), "/api/auth").is_none());
        assert!(error_not_json(&view(200, &text, "ok"), "/api/auth").is_none());
        let mut outside = view(500, &text, "boom");
        outside.path = "/login";
        assert!(error_not_json(&outside, "/api/auth").is_none());
        // A CORS preflight is the framework's (FastAPI's 405, Hono's text 404), not Better Auth's.
        let mut preflight = view(405, &h, r#"{"detail":"Method Not Allowed"}"#);
        preflight.method = "OPTIONS";
        assert!(error_not_json(&preflight, "/api/auth").is_none());
        preflight.method = "POST";
        assert!(error_not_json(&preflight, "/api/auth").is_some());
    }

    #[test]
    fn check_reports_the_first_rule_broken() {
        let h = json_headers();
        let forbidden = Forbidden {
            passwords: vec!["Pw-abcdefghij-klmn".into()],
            foreign_tokens: vec![],
        };
        let clean = r#"{"token":"t","user":{"id":"u"}}"#;
        assert!(check(&view(200, &h, clean), &forbidden, "/api/auth").is_none());
        let leak = r#"{"password":"Pw-abcdefghij-klmn"}"#;
        assert_eq!(
            check(&view(200, &h, leak), &forbidden, "/api/auth").map(|v| v.rule_id),
            Some(NO_PASSWORD)
        );
    }

    fn cookies(lines: &[&str]) -> Vec<(String, String)> {
        lines
            .iter()
            .map(|l| ("set-cookie".to_string(), l.to_string()))
            .collect()
    }

    #[test]
    fn a_same_site_none_cookie_needs_secure() {
        let bad = cookies(&["a=1; Path=/; SameSite=None; HttpOnly"]);
        assert_eq!(
            same_site_none_without_secure(&view(200, &bad, "")).map(|v| v.rule_id),
            Some(SAME_SITE_NONE_SECURE)
        );
        let good = cookies(&["a=1; Path=/; samesite=none; Secure", "b=2; SameSite=Lax"]);
        assert!(same_site_none_without_secure(&view(200, &good, "")).is_none());
    }

    #[test]
    fn a_cookie_name_set_twice_in_one_response_is_found() {
        let twice = cookies(&["a=; Max-Age=0", "b=1", "a=2; Path=/"]);
        let v = cookie_set_twice(&view(200, &twice, "")).unwrap();
        assert_eq!(v.rule_id, ONE_SET_COOKIE_PER_NAME);
        assert!(v.found.contains("`a`"));
        let once = cookies(&["a=1", "b=1", "c=; Max-Age=0"]);
        assert!(cookie_set_twice(&view(200, &once, "")).is_none());
        // Two deletions, or the same line twice, end the same whatever the order.
        let deletions = cookies(&["a=; Max-Age=0; Path=/", "a=; Max-Age=0; Path=/; HttpOnly"]);
        assert!(cookie_set_twice(&view(200, &deletions, "")).is_none());
        let repeated = cookies(&["a=1; Path=/", "a=1; Path=/"]);
        assert!(cookie_set_twice(&view(200, &repeated, "")).is_none());
        let two_values = cookies(&["a=1; Path=/", "a=2; Path=/"]);
        assert!(cookie_set_twice(&view(200, &two_values, "")).is_some());
    }

    #[test]
    fn a_429_is_left_to_the_rate_limit_scenarios() {
        let h = vec![("content-type".to_string(), "text/plain".to_string())];
        assert!(error_not_json(&view(429, &h, "Too many requests"), "/api/auth").is_none());
        assert!(error_not_json(&view(500, &h, "Internal error"), "/api/auth").is_some());
    }
}
