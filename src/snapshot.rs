//! Snapshots of protocol exchanges: normalise an [`Exchange`] into stable text, write it as an
//! insta `.snap` file, and diff two snapshot folders.
//!
//! Normalisation keeps what the protocol says and replaces what a run makes up: tokens, ids,
//! codes, signatures, cookie values, dates, expiry instants and ports become placeholders that
//! keep their shape (`[token:32]`, `[iso-datetime]`, `[+604800s]`), so two runs against the same
//! server are identical and two releases differ only where the protocol did. Secrets never
//! survive it: every value that could be one is a placeholder.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use regex::Regex;
use serde_json::{Map, Value};

use crate::http::Exchange;
use crate::protocol::cookie::SetCookie;
use crate::test_user::MadeUp;

/// Response headers that change from run to run without saying anything about the protocol.
const VOLATILE_HEADERS: &[&str] = &[
    "date",
    "keep-alive",
    "connection",
    "transfer-encoding",
    "content-length",
    "etag",
    "x-forwarded-for",
    "user-agent",
];

/// JSON fields whose value is an instant in milliseconds or seconds since the epoch.
const EPOCH_FIELDS: &[&str] = &[
    "expiresAt",
    "updatedAt",
    "iat",
    "exp",
    "nbf",
    "auth_time",
    "expires_at",
    "client_id_issued_at",
    "ba_iat",
];

/// Values replaced by a fixed placeholder. They go before the epoch and token passes, so that an
/// address or a date is named as such rather than cut into made-up-looking tokens.
const FIXED_PLACEHOLDERS: &[(&str, &str)] = &[
    (r"https?://(127\.0\.0\.1|localhost|\[::1\]):\d+", "[origin]"),
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[iso-datetime]",
    ),
    (
        r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
        "[http-date]",
    ),
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", "[email]"),
    (r"\b198\.1[89]\.\d{1,3}\.\d{1,3}\b", "[client-ip]"),
];

/// The compiled patterns normalisation uses, built once.
struct Patterns {
    fixed: Vec<(Regex, &'static str)>,
    /// Seconds or milliseconds since the epoch, 2017 to 2033.
    epoch_number: Regex,
    /// A run of token characters long enough to be made up (ids, tokens, codes, signatures).
    opaque: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |pattern: &str| Regex::new(pattern).expect("a valid pattern");
        Patterns {
            fixed: FIXED_PLACEHOLDERS
                .iter()
                .map(|(pattern, placeholder)| (compile(pattern), *placeholder))
                .collect(),
            epoch_number: compile(r"\b1[5-9]\d{8}(\d{3})?\b"),
            opaque: compile(r"[A-Za-z0-9_\-+/%.~]{16,}={0,2}"),
        }
    })
}

/// Replaces each value the run made up (see `test_user::MadeUp`) with a placeholder: they are
/// not all long or mixed enough to look random.
fn replace_made_up(text: &str, made_up: &[String]) -> String {
    let mut out = text.to_string();
    for value in made_up {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), &format!("[random:{}]", value.len()));
        }
    }
    out
}

/// `a=1&b=2` with each value decoded and normalised, in the order sent.
fn normalise_query(query: &str, made_up: &[String]) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| format!("{k}={}", normalise_scalar(&v, made_up)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether a run of characters looks random rather than a word or a path: base64-ish (upper and
/// lower case with digits, or long) or hex-ish (at least four digits among lowercase letters).
fn looks_random(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let upper = s.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = s.bytes().filter(u8::is_ascii_lowercase).count();
    // Better Auth's ids and tokens are 32 mixed-case letters, often without a digit.
    (upper > 0 && lower > 0 && (digits > 0 || s.len() >= 20))
        || (digits >= 4 && upper == 0 && lower > 0)
}

/// Normalises free text: query strings and URLs part by part, then [`normalise_scalar`].
pub fn normalise_text(text: &str, made_up: &[String]) -> String {
    let looks_like_query = !text.contains(char::is_whitespace)
        && text.contains('=')
        && (text.contains('&') || text.starts_with("response_type="));
    if let Some((head, query)) = text.split_once('?')
        && query.contains('=')
    {
        return format!(
            "{}?{}",
            normalise_scalar(head, made_up),
            normalise_query(query, made_up)
        );
    }
    if looks_like_query {
        return normalise_query(text, made_up);
    }
    normalise_scalar(text, made_up)
}

/// Normalises one value: origins, dates, instants, emails, client addresses and made-up values.
fn normalise_scalar(text: &str, made_up: &[String]) -> String {
    let patterns = patterns();
    let mut text = replace_made_up(text, made_up);
    for (pattern, placeholder) in &patterns.fixed {
        text = pattern.replace_all(&text, *placeholder).into_owned();
    }
    let text = patterns
        .epoch_number
        .replace_all(&text, |caps: &regex::Captures| {
            if caps[0].len() == 13 {
                "[epoch-ms]"
            } else {
                "[epoch-s]"
            }
            .to_string()
        });
    let text = patterns
        .opaque
        .replace_all(&text, |caps: &regex::Captures| {
            let m = &caps[0];
            if looks_random(m) {
                format!("[token:{}]", m.len())
            } else {
                m.to_string()
            }
        });
    text.into_owned()
}

/// A compact JWS decoded into header and claims, or None.
fn decode_jwt(text: &str, made_up: &[String]) -> Option<Value> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 || !parts[0].starts_with("eyJ") {
        return None;
    }
    let decode = |s: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).ok()?).ok()
    };
    let header = decode(parts[0])?;
    let mut claims = decode(parts[1])?;
    relative_times(&mut claims);
    let mut header = header;
    normalise_json(&mut header, made_up);
    normalise_json(&mut claims, made_up);
    let mut jwt = Map::new();
    jwt.insert("jwt.header".into(), header);
    jwt.insert("jwt.claims".into(), claims);
    jwt.insert(
        "jwt.signature".into(),
        Value::String(format!("[signature:{}]", parts[2].len())),
    );
    Some(Value::Object(jwt))
}

/// JWT claims: `exp`/`nbf` relative to `iat` (the lifetime is protocol), `iat` itself a placeholder.
fn relative_times(claims: &mut Value) {
    let Some(map) = claims.as_object_mut() else {
        return;
    };
    let iat = map.get("iat").and_then(Value::as_i64);
    for key in ["exp", "nbf"] {
        if let (Some(iat), Some(v)) = (iat, map.get(key).and_then(Value::as_i64)) {
            map.insert(key.into(), Value::String(format!("[iat{:+}s]", v - iat)));
        }
    }
    if iat.is_some() {
        map.insert("iat".into(), Value::String("[epoch-s]".into()));
    }
}

/// Normalises a JSON value in place: JWT strings decoded, instants and made-up values replaced.
/// Keys come out sorted because serde_json's Map is a BTreeMap here.
pub fn normalise_json(value: &mut Value, made_up: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if EPOCH_FIELDS.contains(&key.as_str())
                    && let Some(n) = v.as_i64()
                {
                    *v = Value::String(
                        if n > 100_000_000_000 {
                            "[epoch-ms]"
                        } else {
                            "[epoch-s]"
                        }
                        .into(),
                    );
                    continue;
                }
                normalise_json(v, made_up);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| normalise_json(item, made_up)),
        Value::String(s) => {
            if let Some(jwt) = decode_jwt(s, made_up) {
                *value = jwt;
            } else {
                *s = normalise_text(s, made_up);
            }
        }
        _ => {}
    }
}

/// A Set-Cookie line as name + attributes, the value replaced by its shape.
fn normalise_set_cookie(line: &str, made_up: &[String]) -> Value {
    let Ok(cookie) = SetCookie::parse(line) else {
        return Value::String(format!("[unparseable set-cookie:{}]", line.len()));
    };
    let decoded = cookie.decoded_value();
    let value = if cookie.value.is_empty() {
        String::new()
    } else if crate::protocol::cookie_cache::encoding_of(&cookie.value)
        == crate::protocol::cookie_cache::CacheEncoding::Compact
    {
        // The cookie cache: its content is protocol (which fields the session carries).
        let mut content = URL_SAFE_NO_PAD
            .decode(cookie.value.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or(Value::Null);
        normalise_json(&mut content, made_up);
        if let Some(sig) = content.get_mut("signature") {
            *sig = Value::String("[signature]".into());
        }
        return cookie_value_json(&cookie, content, made_up);
    } else if let Ok(signed) = crate::protocol::cookie::split_signed_value(&decoded) {
        if signed.value.len() >= 16 {
            format!("[signed:{}.{}]", signed.value.len(), signed.signature.len())
        } else {
            format!("{}.[signature:{}]", signed.value, signed.signature.len())
        }
    } else {
        format!("[value:{}]", cookie.value.len())
    };
    cookie_value_json(&cookie, Value::String(value), made_up)
}

fn cookie_value_json(cookie: &SetCookie, value: Value, made_up: &[String]) -> Value {
    let mut attributes = Map::new();
    if let Some(m) = &cookie.max_age_raw {
        attributes.insert("Max-Age".into(), Value::String(m.clone()));
    }
    if cookie.expires.is_some() {
        attributes.insert("Expires".into(), Value::String("[http-date]".into()));
    }
    if let Some(p) = &cookie.path {
        attributes.insert("Path".into(), Value::String(p.clone()));
    }
    if let Some(d) = &cookie.domain {
        attributes.insert("Domain".into(), Value::String(normalise_text(d, made_up)));
    }
    if cookie.http_only {
        attributes.insert("HttpOnly".into(), Value::Bool(true));
    }
    if cookie.secure {
        attributes.insert("Secure".into(), Value::Bool(true));
    }
    if let Some(s) = &cookie.same_site {
        attributes.insert("SameSite".into(), Value::String(s.clone()));
    }
    let mut out = Map::new();
    out.insert("name".into(), Value::String(cookie.name.clone()));
    out.insert("value".into(), value);
    out.insert("attributes".into(), Value::Object(attributes));
    Value::Object(out)
}

fn normalise_body(body: &str, made_up: &[String]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    match serde_json::from_str::<Value>(body) {
        Ok(mut v) => {
            normalise_json(&mut v, made_up);
            v
        }
        Err(_) => Value::String(normalise_text(
            &body.chars().take(2000).collect::<String>(),
            made_up,
        )),
    }
}

/// Form bodies (token endpoint) as sorted key → normalised value.
fn normalise_form(body: &str, made_up: &[String]) -> Value {
    let mut map = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        map.insert(k.into_owned(), Value::String(normalise_text(&v, made_up)));
    }
    serde_json::to_value(map).unwrap_or(Value::Null)
}

fn normalise_url(url: &str, made_up: &[String]) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return normalise_text(url, made_up);
    };
    let mut out = parsed.path().to_string();
    let pairs: BTreeMap<String, String> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), normalise_text(&v, made_up)))
        .collect();
    if !pairs.is_empty() {
        out.push('?');
        out.push_str(
            &pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
        );
    }
    out
}

/// The normalised form of one exchange, as a JSON value (rendered as YAML-ish JSON).
pub fn normalise_exchange(exchange: &Exchange, made_up: &[String]) -> Value {
    let mut request = Map::new();
    request.insert("method".into(), Value::String(exchange.method.clone()));
    request.insert(
        "url".into(),
        Value::String(normalise_url(&exchange.url, made_up)),
    );
    let mut request_headers = Map::new();
    for (n, v) in &exchange.request_headers {
        let n = n.to_ascii_lowercase();
        if VOLATILE_HEADERS.contains(&n.as_str()) {
            continue;
        }
        let v = match n.as_str() {
            "cookie" => v
                .split(';')
                .map(|pair| {
                    pair.trim()
                        .split('=')
                        .next()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("; "),
            "authorization" => {
                v.split(' ').next().unwrap_or_default().to_string() + " [credential]"
            }
            _ => normalise_text(v, made_up),
        };
        request_headers.insert(n, Value::String(v));
    }
    request.insert("headers".into(), Value::Object(request_headers));
    if let Some(body) = &exchange.request_body {
        let form = exchange
            .request_headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.contains("form-urlencoded"));
        let mut body = if form {
            normalise_form(body, made_up)
        } else {
            normalise_body(body, made_up)
        };
        mask_secret_fields(&mut body);
        request.insert("body".into(), body);
    }

    let mut response = Map::new();
    response.insert("status".into(), Value::from(exchange.status));
    let mut headers = Map::new();
    let mut set_cookies = Vec::new();
    for (n, v) in &exchange.headers {
        let n = n.to_ascii_lowercase();
        if VOLATILE_HEADERS.contains(&n.as_str()) {
            continue;
        }
        if n == "set-cookie" {
            set_cookies.push(normalise_set_cookie(v, made_up));
            continue;
        }
        let value = match decode_jwt(v, made_up) {
            Some(jwt) => jwt,
            None => Value::String(if n == "location" {
                normalise_url_keep_origin(v, made_up)
            } else {
                normalise_text(v, made_up)
            }),
        };
        // Repeated non-cookie headers are joined, as HTTP allows.
        match headers.get_mut(&n) {
            Some(Value::String(existing)) => {
                if let Value::String(more) = value {
                    existing.push_str(", ");
                    existing.push_str(&more);
                }
            }
            _ => {
                headers.insert(n, value);
            }
        }
    }
    response.insert("headers".into(), Value::Object(headers));
    if !set_cookies.is_empty() {
        response.insert("set-cookie".into(), Value::Array(set_cookies));
    }
    let mut body = normalise_body(&exchange.body, made_up);
    mask_secret_fields(&mut body);
    response.insert("body".into(), body);

    let mut out = Map::new();
    out.insert("request".into(), Value::Object(request));
    out.insert("response".into(), Value::Object(response));
    Value::Object(out)
}

/// A Location keeps whether it is relative or absolute (protocol), with the origin normalised.
fn normalise_url_keep_origin(url: &str, made_up: &[String]) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => format!(
            "{}{}",
            normalise_text(&parsed.origin().ascii_serialization(), made_up),
            normalise_url(url, made_up)
        ),
        Err(_) => normalise_text(url, made_up),
    }
}

/// Passwords and secrets in bodies, whatever their shape.
fn mask_secret_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if [
                    "password",
                    "newPassword",
                    "currentPassword",
                    "client_secret",
                    "code_verifier",
                ]
                .contains(&k.as_str())
                {
                    *v = Value::String("[secret]".into());
                } else {
                    mask_secret_fields(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secret_fields),
        _ => {}
    }
}

/// The file name for an exchange: `<scenario>/<nn>-<method>-<path>.snap`, all slugs.
pub fn snapshot_name(scenario: &str, index: usize, exchange: &Exchange) -> String {
    let path = url::Url::parse(&exchange.url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    format!(
        "{}/{:02}-{}-{}.snap",
        slug(scenario),
        index,
        exchange.method.to_ascii_lowercase(),
        slug(&path)
    )
}

pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(80).collect()
}

/// An insta `.snap` file: a YAML header between `---` lines, then the body.
pub fn snap_file(description: &str, value: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "---");
    let _ = writeln!(out, "source: ba-harness snapshot");
    let _ = writeln!(
        out,
        "expression: {}",
        serde_json::to_string(description).unwrap_or_default()
    );
    let _ = writeln!(out, "---");
    out.push_str(&serde_json::to_string_pretty(value).unwrap_or_default());
    out.push('\n');
    out
}

/// The body of a .snap file (after its header).
fn snap_body(text: &str) -> &str {
    let mut parts = text.splitn(3, "---\n");
    let _ = parts.next();
    let _ = parts.next();
    parts.next().unwrap_or(text)
}

/// Every .snap file under `dir`, by path relative to it.
pub fn read_snapshots(dir: &Path) -> std::io::Result<BTreeMap<String, String>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if path.extension().is_some_and(|e| e == "snap") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                out.insert(rel, std::fs::read_to_string(&path)?);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// What differs between two snapshot sets.
#[derive(Debug, Default)]
pub struct SnapshotDiff {
    pub changed: Vec<(String, String)>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl SnapshotDiff {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

/// Compares two snapshot sets; lines matching any `ignore` pattern are left out of the
/// comparison (accepted differences).
pub fn diff_snapshots(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    ignore: &[Regex],
    color: bool,
) -> SnapshotDiff {
    let keep = |text: &str| -> String {
        snap_body(text)
            .lines()
            .filter(|l| !ignore.iter().any(|r| r.is_match(l)))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let mut diff = SnapshotDiff::default();
    for (name, old) in a {
        match b.get(name) {
            None => diff.removed.push(name.clone()),
            Some(new) => {
                let (old, new) = (keep(old), keep(new));
                if old != new {
                    diff.changed
                        .push((name.clone(), unified(&old, &new, name, color)));
                }
            }
        }
    }
    diff.added = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    diff
}

fn unified(old: &str, new: &str, name: &str, color: bool) -> String {
    let text = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    for hunk in text
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .iter_hunks()
    {
        for line in hunk.to_string().lines() {
            let painted = match (color, line.chars().next()) {
                (true, Some('+')) => format!("\x1b[32m{line}\x1b[0m"),
                (true, Some('-')) => format!("\x1b[31m{line}\x1b[0m"),
                (true, Some('@')) => format!("\x1b[36m{line}\x1b[0m"),
                _ => line.to_string(),
            };
            let _ = writeln!(out, "{painted}");
        }
    }
    out
}

/// Where snapshots of a run go, one file per exchange.
pub fn write_snapshots(
    dir: &Path,
    files: &BTreeMap<String, String>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn exchange(set_cookie: &str, body: &str) -> Exchange {
        Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:41234/api/auth/sign-in/email".into(),
            request_headers: vec![
                ("origin".into(), "http://127.0.0.1:41234".into()),
                ("cookie".into(), "better-auth.session_token=abc.def".into()),
                ("content-type".into(), "application/json".into()),
            ],
            request_body: Some(
                r#"{"email":"Conform-x@ba-harness.test","password":"Pw-secret-value-123"}"#.into(),
            ),
            status: 200,
            headers: vec![
                ("date".into(), "Mon, 23 Nov 2026 11:13:17 GMT".into()),
                ("content-type".into(), "application/json".into()),
                ("set-cookie".into(), set_cookie.into()),
            ],
            body: body.into(),
            body_truncated: false,
            elapsed: Duration::from_millis(3),
            secrets: Default::default(),
        }
    }

    const COOKIE: &str = "better-auth.session_token=A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi.vhN7xHOVWloBOFod5FuR90ZqhOm6AwdUxDAcDaSr6tg%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax";
    const BODY: &str = r#"{"redirect":false,"token":"A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi","user":{"id":"WShNBvvRMgT0fQIpiMhMvuq12IM4MkHo","email":"a@b.test","createdAt":"2026-11-23T11:13:17.384Z","emailVerified":false}}"#;

    #[test]
    fn two_runs_normalise_identically_and_keep_no_secret() {
        let a = normalise_exchange(&exchange(COOKIE, BODY), &[]);
        let other_cookie = COOKIE.replace(
            "A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi",
            "Zq0rvEjYaY6kS2hnh8TBxSaCsnEd2qS2",
        );
        let other_body = BODY
            .replace(
                "A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi",
                "Zq0rvEjYaY6kS2hnh8TBxSaCsnEd2qS2",
            )
            .replace(
                "WShNBvvRMgT0fQIpiMhMvuq12IM4MkHo",
                "01fU9LHvJ1HVqMy0KEz8NRBD4hDhjkKR",
            )
            .replace("11:13:17.384Z", "12:00:01.001Z");
        let b = normalise_exchange(&exchange(&other_cookie, &other_body), &[]);
        assert_eq!(a, b);
        let text = snap_file("POST /api/auth/sign-in/email", &a);
        for secret in ["A85VDla4", "Pw-secret", "vhN7xHOV", "41234", "abc.def"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("\"Max-Age\": \"604800\""), "{text}");
        assert!(text.contains("[signed:32.44]"), "{text}");
        assert!(text.contains("[iso-datetime]"), "{text}");
    }

    #[test]
    fn a_changed_attribute_shows_in_the_diff() {
        let a = normalise_exchange(&exchange(COOKIE, BODY), &[]);
        let b = normalise_exchange(
            &exchange(&COOKIE.replace("SameSite=Lax", "SameSite=Strict"), BODY),
            &[],
        );
        let old = BTreeMap::from([("x.snap".to_string(), snap_file("x", &a))]);
        let new = BTreeMap::from([("x.snap".to_string(), snap_file("x", &b))]);
        let diff = diff_snapshots(&old, &new, &[], false);
        assert_eq!(diff.changed.len(), 1);
        let text = &diff.changed[0].1;
        assert!(text.contains("-          \"SameSite\": \"Lax\""), "{text}");
        assert!(
            text.contains("+          \"SameSite\": \"Strict\""),
            "{text}"
        );
        let ignored = diff_snapshots(&old, &new, &[Regex::new("SameSite").unwrap()], false);
        assert!(ignored.is_empty());
    }

    #[test]
    fn jwts_are_decoded_with_relative_times() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"kQ3xZ9aB1cD2eF3gH4iJ5kL6"}"#);
        let claims = URL_SAFE_NO_PAD.encode(r#"{"iat":1795432397,"exp":1795433297,"sub":"WShNBvvRMgT0fQIpiMhMvuq12IM4MkHo","iss":"http://127.0.0.1:41234"}"#);
        let mut v = Value::String(format!("{header}.{claims}.c2lnbmF0dXJlc2lnbmF0dXJl"));
        normalise_json(&mut v, &[]);
        assert_eq!(v["jwt.claims"]["exp"], "[iat+900s]");
        assert_eq!(v["jwt.claims"]["iss"], "[origin]");
        assert_eq!(v["jwt.header"]["alg"], "EdDSA");
        assert_eq!(v["jwt.claims"]["sub"], "[token:32]");
    }

    #[test]
    fn values_the_run_made_up_become_placeholders() {
        let recorder = Recorder::default();
        let state = recorder.made_up().random_string(16);
        let mut made = exchange(COOKIE, BODY);
        made.url = format!("http://127.0.0.1:41234/api/auth/x?state={state}");
        recorder.record(&made);
        let files = recorder.files();
        let text = files.values().next().expect("one snapshot");
        assert!(text.contains("state=[random:16]"), "{text}");
        assert!(!text.contains(&state), "{text}");
    }

    #[test]
    fn names_are_slugs() {
        let e = exchange(COOKIE, BODY);
        assert_eq!(
            snapshot_name("Sign-in with the right password", 3, &e),
            "sign-in-with-the-right-password/03-post-api-auth-sign-in-email.snap"
        );
    }
}

/// Records the exchanges of a `snapshot` run, by scenario: an exchange observer the run owns.
/// The scenario label comes from the runner's before-scenario hook (snapshot runs one scenario
/// at a time, so the label is never ambiguous); exchanges before the first scenario are
/// labelled `discovery`.
#[derive(Debug)]
pub struct Recorder {
    recording: std::sync::Mutex<Recording>,
    /// What the run makes up (the run's target carries the same), replaced by placeholders.
    made_up: Arc<MadeUp>,
}

#[derive(Debug)]
struct Recording {
    scenario: String,
    exchanges: Vec<(String, Exchange)>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            recording: std::sync::Mutex::new(Recording {
                scenario: "discovery".into(),
                exchanges: Vec::new(),
            }),
            made_up: Arc::default(),
        }
    }
}

impl Recorder {
    fn recording(&self) -> std::sync::MutexGuard<'_, Recording> {
        self.recording.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the recorded run notes the values it makes up (its target's `made_up`).
    pub fn made_up(&self) -> Arc<MadeUp> {
        self.made_up.clone()
    }

    /// Labels the exchanges that follow.
    pub fn set_scenario(&self, scenario: &str) {
        self.recording().scenario = scenario.to_string();
    }

    /// Records one exchange under the current label.
    pub fn record(&self, exchange: &Exchange) {
        let mut recording = self.recording();
        let label = recording.scenario.clone();
        recording.exchanges.push((label, exchange.clone()));
    }

    /// The .snap files of everything recorded so far: name → content.
    pub fn files(&self) -> BTreeMap<String, String> {
        let exchanges = std::mem::take(&mut self.recording().exchanges);
        let made_up = &self.made_up.values();
        let mut counters: BTreeMap<String, usize> = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (scenario, exchange) in exchanges {
            let index = counters.entry(scenario.clone()).or_insert(0);
            *index += 1;
            let name = snapshot_name(&scenario, *index, &exchange);
            let path = url::Url::parse(&exchange.url)
                .map(|u| u.path().to_string())
                .unwrap_or_default();
            let description = format!("{scenario}: {} {path}", exchange.method);
            files.insert(
                name,
                snap_file(&description, &normalise_exchange(&exchange, made_up)),
            );
        }
        files
    }
}

impl crate::http::ExchangeObserver for Recorder {
    fn observe(
        &self,
        _endpoint: &crate::http::Endpoint,
        _request: &crate::http::Request,
        exchange: &Exchange,
    ) {
        self.record(exchange);
    }
}
