//! Keeping secrets out of everything the harness prints or writes.
//!
//! Two layers, because either alone leaks: structural redaction knows where secrets live on the
//! wire (cookie values, Authorization, `set-auth-token`, JSON fields such as `token`), and the
//! registry knows the exact secrets issued during this run (a password we generated, a session
//! token) wherever they turn up, e.g. echoed inside an error message.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub const REDACTED: &str = "[redacted]";

/// The redaction of one run: the exact secrets it saw or made, and whether to show them anyway
/// (`--show-secrets`). The command that starts the run makes it and hands a clone (one shared
/// registry) to everything of the run that prints or writes: the target's endpoint (so every
/// client, exchange excerpt and the harvester reach it), the World, the reports, load's
/// virtual users, cleanup and the final error line.
#[derive(Clone, Default)]
pub struct Secrets(Arc<SecretsOfRun>);

#[derive(Default)]
struct SecretsOfRun {
    registry: SecretRegistry,
    /// `--show-secrets`: every method returns its input unchanged.
    show: bool,
}

// Hand-written: a Debug print must never list the secrets themselves.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets(show: {})", self.0.show)
    }
}

impl Secrets {
    /// A run's redaction; `show` is `--show-secrets` (redaction off).
    pub fn new(show: bool) -> Self {
        Secrets(Arc::new(SecretsOfRun {
            registry: SecretRegistry::default(),
            show,
        }))
    }

    /// Whether redaction is off (`--show-secrets`).
    pub fn showing(&self) -> bool {
        self.0.show
    }

    /// Registers a secret of this run (see [`SecretRegistry::register`]).
    pub fn register(&self, secret: &str) {
        self.0.registry.register(secret);
    }

    /// Registers a secret as sent in a form body too (`~` becomes `%7E` there, which the
    /// registry's cookie encoding leaves alone).
    pub fn register_with_form_encoding(&self, secret: &str) {
        self.register(secret);
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        self.register(&encoded);
    }

    /// The last line of defence for free text (failure messages, logs): registered secrets and
    /// JWTs.
    pub fn scrub_text(&self, text: &str) -> String {
        if self.0.show {
            return text.to_string();
        }
        self.0.registry.scrub(&mask_jwts(text))
    }

    /// [`redact_header`], unless secrets are shown.
    pub fn redact_header(&self, name: &str, value: &str) -> String {
        if self.0.show {
            return value.to_string();
        }
        redact_header(name, value)
    }

    /// [`redact_set_cookie`], unless secrets are shown.
    pub fn redact_set_cookie(&self, line: &str) -> String {
        if self.0.show {
            return line.to_string();
        }
        redact_set_cookie(line)
    }

    /// Redacts a body for display: JSON credential fields and JWT-shaped strings
    /// ([`redact_body_fields`]), then registered secrets.
    pub fn redact_body(&self, body: &str) -> String {
        if self.0.show {
            return body.to_string();
        }
        self.0.registry.scrub(&redact_body_fields(body))
    }
}

/// Headers whose whole value is a credential.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "set-auth-token",
    "set-auth-jwt",
    "proxy-authorization",
];

/// JSON or form fields whose string value is a credential (redacted here, harvested for the
/// registry by crate::harvest).
pub(crate) const SECRET_FIELDS: &[&str] = &[
    "password",
    "newPassword",
    "currentPassword",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "client_secret",
    "accessToken",
    "refreshToken",
    "idToken",
    "session_token",
    "registration_access_token",
];

/// Exact secret strings seen or made during a run (held by the run's [`Secrets`], so that every
/// output path of the run shares them). Values shorter than 8 characters are never registered: they would clobber
/// ordinary text and no secret we handle is that short.
#[derive(Default)]
pub struct SecretRegistry {
    secrets: Mutex<BTreeSet<String>>,
}

impl SecretRegistry {
    /// Registers a secret together with its percent-encoded form (cookies carry that one).
    pub fn register(&self, secret: &str) {
        if secret.len() < 8 {
            return;
        }
        let mut set = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(secret.to_string());
        let encoded = crate::protocol::cookie::encode_cookie_value(secret);
        if encoded != secret {
            set.insert(encoded);
        }
    }

    /// Replaces every registered secret in `text`, longest first so that a secret containing
    /// another is replaced whole.
    pub fn scrub(&self, text: &str) -> String {
        let set = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        let mut secrets: Vec<&String> = set.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_string();
        for secret in secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

/// Redacts one header for display. Cookie values go, their names and attributes stay: the
/// attributes are what a conformance report is about.
pub fn redact_header(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if SECRET_HEADERS.contains(&lower.as_str()) {
        return match value.split_once(' ') {
            // Keep the scheme (`Bearer`), drop the credential.
            Some((scheme, _)) if lower.ends_with("authorization") => format!("{scheme} {REDACTED}"),
            _ => REDACTED.to_string(),
        };
    }
    match lower.as_str() {
        "set-cookie" => redact_set_cookie(value),
        "cookie" => value
            .split(';')
            .map(|pair| match pair.split_once('=') {
                Some((n, v)) if !v.trim().is_empty() => format!("{}={REDACTED}", n.trim()),
                _ => pair.trim().to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        "location" => redact_url_query(value),
        _ => value.to_string(),
    }
}

/// `name=value; attrs` → `name=[redacted]; attrs` (an empty value, i.e. a deletion, is kept).
pub fn redact_set_cookie(line: &str) -> String {
    let (pair, attributes) = match line.split_once(';') {
        Some((p, a)) => (p, Some(a)),
        None => (line, None),
    };
    let pair = match pair.split_once('=') {
        Some((n, v)) if !v.trim().is_empty() => format!("{n}={REDACTED}"),
        _ => pair.to_string(),
    };
    match attributes {
        Some(a) => format!("{pair};{a}"),
        None => pair,
    }
}

/// Query parameters that carry credentials (`code`, tokens) in redirect URLs.
fn redact_url_query(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let query = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_FIELDS.contains(&k) => format!("{k}={REDACTED}"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{head}?{query}")
}

/// The structural part of body redaction: JSON credential fields and JWT-shaped strings.
/// Non-JSON bodies get JWT masking only.
pub fn redact_body_fields(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            redact_json(&mut value);
            serde_json::to_string(&value).unwrap_or_default()
        }
        Err(_) => mask_jwts(body),
    }
}

fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && v.is_string() && !is_error_code(key, v)
                {
                    *v = Value::String(REDACTED.to_string());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(s) => {
            let masked = mask_jwts(s);
            if masked != *s {
                *s = masked;
            }
        }
        _ => {}
    }
}

/// `code` is an OAuth authorization code in token requests but an error code such as
/// `INVALID_EMAIL_OR_PASSWORD` in Better Auth's error bodies: the latter is what a failure report
/// is about, and is never a secret.
pub(crate) fn is_error_code(key: &str, value: &Value) -> bool {
    key == "code"
        && value.as_str().is_some_and(|c| {
            !c.is_empty() && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
}

/// Masks anything shaped like a compact JWS/JWE (`eyJ…` base64url segments joined by dots).
pub fn mask_jwts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let len = candidate
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .count();
        let token = &candidate[..len];
        if token.matches('.').count() >= 2 {
            out.push_str("[redacted-jwt]");
        } else {
            out.push_str(token);
        }
        rest = &candidate[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_go_attributes_stay() {
        assert_eq!(
            redact_set_cookie(
                "better-auth.session_token=abc.def%3D; Max-Age=604800; Path=/; HttpOnly"
            ),
            "better-auth.session_token=[redacted]; Max-Age=604800; Path=/; HttpOnly"
        );
        assert_eq!(
            redact_set_cookie("better-auth.session_token=; Max-Age=0; Path=/"),
            "better-auth.session_token=; Max-Age=0; Path=/"
        );
        assert_eq!(
            redact_header("Cookie", "a=secretvalue; b=other"),
            "a=[redacted]; b=[redacted]"
        );
    }

    #[test]
    fn credential_headers_keep_only_the_scheme() {
        assert_eq!(
            redact_header("authorization", "Bearer abc.def"),
            "Bearer [redacted]"
        );
        assert_eq!(redact_header("set-auth-token", "abc.def"), "[redacted]");
        assert_eq!(
            redact_header("content-type", "application/json"),
            "application/json"
        );
    }

    #[test]
    fn json_credential_fields_and_jwts_are_masked() {
        let body = r#"{"token":"A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi","user":{"email":"a@b.test","note":"eyJhbGciOi.eyJzdWIiOiIxIn0.c2ln"}}"#;
        let out = Secrets::default().redact_body(body);
        assert!(!out.contains("A85VDla4"), "{out}");
        assert!(!out.contains("eyJzdWIi"), "{out}");
        assert!(out.contains("a@b.test"));
    }

    #[test]
    fn registered_secrets_are_scrubbed_in_any_text_and_encoding() {
        let registry = SecretRegistry::default();
        registry.register("p@ss+word/1234");
        registry.register("short");
        let text = "echo p@ss+word/1234 and p%40ss%2Bword%2F1234 but short stays";
        assert_eq!(
            registry.scrub(text),
            "echo [redacted] and [redacted] but short stays"
        );
    }

    #[test]
    fn error_codes_stay_authorization_codes_go() {
        let secrets = Secrets::default();
        let out = secrets.redact_body(
            r#"{"code":"INVALID_EMAIL_OR_PASSWORD","message":"Invalid email or password"}"#,
        );
        assert!(out.contains("INVALID_EMAIL_OR_PASSWORD"), "{out}");
        let out = secrets.redact_body(r#"{"code":"q3Xy9ZabcDEF0123456789abcdefghij"}"#);
        assert!(!out.contains("q3Xy9Z"), "{out}");
    }

    #[test]
    fn redirect_codes_are_masked() {
        assert_eq!(
            redact_header(
                "location",
                "http://127.0.0.1:4000/callback?code=abc&state=xyz"
            ),
            "http://127.0.0.1:4000/callback?code=[redacted]&state=xyz"
        );
    }

    #[test]
    fn a_run_showing_secrets_leaves_everything_as_it_is() {
        let shown = Secrets::new(true);
        shown.register("p@ss+word/1234");
        let text = "p@ss+word/1234 eyJa.eyJb.c2ln";
        assert_eq!(shown.scrub_text(text), text);
        assert_eq!(
            shown.redact_set_cookie("a=secretvalue; Path=/"),
            "a=secretvalue; Path=/"
        );
        assert_eq!(
            shown.redact_header("authorization", "Bearer abc"),
            "Bearer abc"
        );
        let body = r#"{"token":"abcdefghij"}"#;
        assert_eq!(shown.redact_body(body), body);
    }

    #[test]
    fn each_run_has_its_own_registry() {
        let run = Secrets::new(false);
        run.register("p@ss+word/1234");
        assert_eq!(run.scrub_text("x p@ss+word/1234"), "x [redacted]");
        assert_eq!(run.clone().scrub_text("x p@ss+word/1234"), "x [redacted]");
        assert_eq!(
            Secrets::default().scrub_text("x p@ss+word/1234"),
            "x p@ss+word/1234"
        );
    }
}
