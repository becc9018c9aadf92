//! Set-Cookie parsing and the cookie rules Better Auth documents.
//!
//! Pure functions over header text: no I/O, so every rule is unit-tested here and the cucumber
//! steps only glue them to recorded exchanges.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::Sha256;

/// One parsed `Set-Cookie` header line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie {
    /// The line as received, for quoting in failure reports (redacted before display).
    pub raw: String,
    pub name: String,
    /// The value exactly as sent (still percent-encoded).
    pub value: String,
    /// `Max-Age` in seconds; `None` when absent. An unparseable Max-Age is `None` too, and
    /// `max_age_raw` keeps what was sent so the report can say so.
    pub max_age: Option<i64>,
    pub max_age_raw: Option<String>,
    pub expires: Option<String>,
    pub path: Option<String>,
    pub domain: Option<String>,
    pub http_only: bool,
    pub secure: bool,
    /// `SameSite` as sent (case kept); compare with [`SetCookie::same_site_is`].
    pub same_site: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetCookieError {
    #[error("Set-Cookie line has no `name=value` pair")]
    MissingPair,
    #[error("Set-Cookie line has an empty cookie name")]
    EmptyName,
}

impl SetCookie {
    /// Parses one Set-Cookie line (RFC 6265 §5.2: attributes are case-insensitive, unknown
    /// attributes are ignored, the last occurrence of an attribute wins).
    ///
    /// The name/value split goes through the `cookie` crate; attributes are read here as well,
    /// because the crate silently drops what it cannot parse (a `Max-Age=abc` would look absent),
    /// and a conformance report must show what the server actually sent.
    pub fn parse(line: &str) -> Result<Self, SetCookieError> {
        // On a comma-folded line, read only the first cookie: the attributes after the fold
        // belong to the next cookie (folding itself is reported by `folded_cookie_names`).
        let own = match first_fold(line) {
            Some(at) => &line[..at],
            None => line,
        };
        let mut parts = own.split(';');
        let pair = parts.next().unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else {
            return Err(SetCookieError::MissingPair);
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(SetCookieError::EmptyName);
        }
        // Cross-check the pair with the `cookie` crate, the same parser a Rust client would use.
        let parsed = cookie::Cookie::parse(pair.trim().to_string()).ok();
        let value = parsed
            .as_ref()
            .map(|c| c.value_raw().unwrap_or(c.value()).to_string())
            .unwrap_or_else(|| value.trim().to_string());

        let mut cookie = SetCookie {
            raw: line.to_string(),
            name: name.to_string(),
            value,
            max_age: None,
            max_age_raw: None,
            expires: None,
            path: None,
            domain: None,
            http_only: false,
            secure: false,
            same_site: None,
        };
        for attribute in parts {
            let (key, val) = match attribute.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (attribute.trim(), None),
            };
            match key.to_ascii_lowercase().as_str() {
                "max-age" => {
                    let raw = val.unwrap_or_default().to_string();
                    cookie.max_age = parse_max_age(&raw);
                    cookie.max_age_raw = Some(raw);
                }
                "expires" => cookie.expires = val.map(str::to_string),
                "path" => cookie.path = val.map(str::to_string),
                "domain" => cookie.domain = val.map(str::to_string),
                "httponly" => cookie.http_only = true,
                "secure" => cookie.secure = true,
                "samesite" => cookie.same_site = val.map(str::to_string),
                _ => {}
            }
        }
        Ok(cookie)
    }

    /// SameSite values compare case-insensitively (`Lax` from Better Auth, `lax` from Next.js).
    pub fn same_site_is(&self, expected: &str) -> bool {
        self.same_site
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(expected))
    }

    /// A deletion: empty value and `Max-Age=0` (or negative), the form Better Auth sends.
    pub fn is_deletion(&self) -> bool {
        self.value.is_empty() && self.max_age.is_some_and(|m| m <= 0)
    }

    /// The value with percent-encoding undone (Better Auth `encodeURIComponent`s signed values).
    pub fn decoded_value(&self) -> String {
        percent_decode_str(&self.value)
            .decode_utf8_lossy()
            .into_owned()
    }
}

/// The characters of a cookie value that RFC 6265 §4.1.1 does not allow (cookie-octets are
/// visible ASCII less `"` `,` `;` `\\`; the whole value may sit in one pair of double quotes),
/// each once, in order of appearance. Better Auth's values (encodeURIComponent, base64url) never
/// have any. A byte that was not UTF-8 shows here as U+FFFD, since headers are read lossily.
pub fn invalid_value_chars(value: &str) -> Vec<char> {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let mut bad: Vec<char> = Vec::new();
    for c in inner.chars() {
        let octet = matches!(c, '\x21' | '\x23'..='\x2B' | '\x2D'..='\x3A' | '\x3C'..='\x5B' | '\x5D'..='\x7E');
        if !octet && !bad.contains(&c) {
            bad.push(c);
        }
    }
    bad
}

/// Names characters for a report without quoting the value they sit in.
pub fn describe_chars(chars: &[char]) -> String {
    chars
        .iter()
        .map(|c| match c {
            '\u{FFFD}' => "U+FFFD (bytes that are not UTF-8)".to_string(),
            c if c.is_ascii_graphic() => format!("`{c}`"),
            c => format!("U+{:04X}", *c as u32),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// RFC 6265 §5.2.2: Max-Age is an optional `-` followed by digits; anything else is ignored.
fn parse_max_age(raw: &str) -> Option<i64> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    Some(if raw.starts_with('-') { -n } else { n })
}

/// Finds a second cookie folded into one Set-Cookie line (`a=1; Path=/, b=2; Path=/`).
///
/// Set-Cookie must not be comma-joined (RFC 6265 §3, RFC 9110 §5.3): clients cannot split it
/// reliably, so the second cookie is lost. A comma inside `Expires=Wed, 21 Oct ...` is not a
/// fold: after it comes a date, not a `token=` pair. Returns the folded-in cookie names.
pub fn folded_cookie_names(line: &str) -> Vec<String> {
    fold_points(line)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Byte offset of the first comma that starts a folded-in cookie.
fn first_fold(line: &str) -> Option<usize> {
    fold_points(line).next().map(|(at, _)| at)
}

/// Commas followed by `token=`: each starts another cookie. After the comma in
/// `Expires=Wed, 21 Oct 2026` comes a date (`21 Oct`), never `token=`, so it is not a fold.
fn fold_points(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.match_indices(',').filter_map(move |(index, _)| {
        let rest = line[index + 1..].trim_start();
        let token_len = rest.bytes().take_while(|b| is_token_byte(*b)).count();
        (token_len > 0 && rest.as_bytes().get(token_len) == Some(&b'='))
            .then(|| (index, &rest[..token_len]))
    })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The expected name of a Better Auth cookie: `[__Secure-]<prefix>.<name>`.
pub fn cookie_name(prefix: &str, name: &str, secure: bool) -> String {
    let base = format!("{prefix}.{name}");
    if secure {
        format!("__Secure-{base}")
    } else {
        base
    }
}

/// A signed cookie value split into its parts: `<value>.<signature>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedValue {
    pub value: String,
    pub signature: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignedValueError {
    #[error("the value has no `.` separating the token from a signature")]
    NoSeparator,
    #[error("the token part before the signature is empty")]
    EmptyValue,
    /// Seen on a header (set-auth-token) that carries the cookie's value still percent-encoded.
    #[error(
        "the value is percent-encoded (`%` in the signature, e.g. `%3D` for `=`); Better Auth \
         sends it decoded, the signature as 44 characters of padded base64"
    )]
    PercentEncoded,
    #[error(
        "the signature part is {length} characters long; an HMAC-SHA256 in padded base64 is 44 \
         characters ending in `=`"
    )]
    BadSignatureLength { length: usize },
    #[error("the signature part is not standard base64 of 32 bytes")]
    BadSignatureEncoding,
}

/// Splits a (percent-decoded) signed cookie value, checking the signature's shape: Better Auth
/// signs with HMAC-SHA256 and sends the MAC as padded standard base64 (44 characters).
pub fn split_signed_value(decoded: &str) -> Result<SignedValue, SignedValueError> {
    let (value, signature) = decoded
        .rsplit_once('.')
        .ok_or(SignedValueError::NoSeparator)?;
    if value.is_empty() {
        return Err(SignedValueError::EmptyValue);
    }
    if signature.contains('%') {
        return Err(SignedValueError::PercentEncoded);
    }
    if signature.len() != 44 || !signature.ends_with('=') {
        return Err(SignedValueError::BadSignatureLength {
            length: signature.len(),
        });
    }
    match STANDARD.decode(signature) {
        Ok(bytes) if bytes.len() == 32 => {}
        _ => return Err(SignedValueError::BadSignatureEncoding),
    }
    Ok(SignedValue {
        value: value.to_string(),
        signature: signature.to_string(),
    })
}

/// The signature Better Auth (better-call `signCookieValue`) computes: base64(HMAC-SHA256(secret, value)).
pub fn sign_value(secret: &str, value: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(value.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signed` carries the signature `secret` gives its value (constant-time compare).
pub fn signature_matches(secret: &str, signed: &SignedValue) -> bool {
    let Ok(expected) = STANDARD.decode(&signed.signature) else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(signed.value.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// The same value with a signature that keeps its shape (44 base64 characters, `=` padded) but
/// no longer matches: a server that only checks the format, not the MAC, still accepts it.
pub fn tamper_signature(signed: &SignedValue) -> String {
    let mut bytes = STANDARD
        .decode(&signed.signature)
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| vec![0; 32]);
    bytes[0] ^= 0x01;
    format!("{}.{}", signed.value, STANDARD.encode(bytes))
}

/// Percent-encodes a cookie value the way Better Auth does (`encodeURIComponent`), for sending
/// a value we built ourselves.
pub fn encode_cookie_value(value: &str) -> String {
    // encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) alone.
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    percent_encoding::utf8_percent_encode(value, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_encoded_signed_value_is_named_as_such() {
        // The Python port's set-auth-token: the Set-Cookie value, not decoded.
        let encoded =
            "Bvz8nzQzcc16OW3e8ibvV46AYndBnaun.SCREMJXqJ7efMPgEmuftXVFPQd%2FP1NIOX3zjw6nJ6a4%3D";
        let error = split_signed_value(encoded).unwrap_err();
        assert_eq!(error, SignedValueError::PercentEncoded);
        assert!(error.to_string().contains("percent-encoded"));
        // Decoded, the same value is well formed.
        let decoded = percent_encoding::percent_decode_str(encoded)
            .decode_utf8()
            .unwrap();
        assert!(split_signed_value(&decoded).is_ok());
    }

    const REFERENCE_LINE: &str = "better-auth.session_token=A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi.vhN7xHOVWloBOFod5FuR90ZqhOm6AwdUxDAcDaSr6tg%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax";

    #[test]
    fn parses_a_reference_session_cookie() {
        let c = SetCookie::parse(REFERENCE_LINE).unwrap();
        assert_eq!(c.name, "better-auth.session_token");
        assert!(c.value.ends_with("%3D"));
        assert_eq!(c.max_age, Some(604800));
        assert_eq!(c.path.as_deref(), Some("/"));
        assert!(c.http_only);
        assert!(!c.secure);
        assert!(c.same_site_is("lax"));
        assert!(!c.is_deletion());
    }

    #[test]
    fn attributes_are_case_insensitive_and_next_js_form_parses() {
        let c = SetCookie::parse(
            "better-auth.session_token=abc; path=/; expires=Mon, 30 Nov 2026 11:13:17 GMT; max-age=604800; httponly; samesite=lax",
        )
        .unwrap();
        assert_eq!(c.max_age, Some(604800));
        assert_eq!(c.expires.as_deref(), Some("Mon, 30 Nov 2026 11:13:17 GMT"));
        assert!(c.http_only && c.same_site_is("Lax"));
    }

    #[test]
    fn a_deletion_has_empty_value_and_zero_max_age() {
        let c = SetCookie::parse(
            "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        )
        .unwrap();
        assert!(c.is_deletion());
        let not = SetCookie::parse("better-auth.session_token=x; Max-Age=0; Path=/").unwrap();
        assert!(!not.is_deletion());
    }

    #[test]
    fn an_unparseable_max_age_is_absent_but_kept_raw() {
        let c = SetCookie::parse("a=b; Max-Age=soon").unwrap();
        assert_eq!(c.max_age, None);
        assert_eq!(c.max_age_raw.as_deref(), Some("soon"));
        assert_eq!(
            SetCookie::parse("a=b; Max-Age=-1").unwrap().max_age,
            Some(-1)
        );
    }

    #[test]
    fn rejects_lines_without_a_pair() {
        assert_eq!(
            SetCookie::parse("HttpOnly"),
            Err(SetCookieError::MissingPair)
        );
        assert_eq!(
            SetCookie::parse("=v; Path=/"),
            Err(SetCookieError::EmptyName)
        );
    }

    #[test]
    fn detects_folded_set_cookie_lines_but_not_expires_dates() {
        assert!(folded_cookie_names(REFERENCE_LINE).is_empty());
        assert!(
            folded_cookie_names("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/").is_empty()
        );
        assert_eq!(
            folded_cookie_names("a=1; Path=/, better-auth.session_data=xyz; Max-Age=300"),
            vec!["better-auth.session_data".to_string()]
        );
        assert_eq!(
            folded_cookie_names("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT,b=2"),
            vec!["b".to_string()]
        );
    }

    #[test]
    fn a_folded_line_parses_as_its_first_cookie_only() {
        let c = SetCookie::parse(
            "better-auth.session_token=abc; Max-Age=604800; Path=/, better-auth.session_data=xyz; Max-Age=300; Path=/api",
        )
        .unwrap();
        assert_eq!(c.name, "better-auth.session_token");
        assert_eq!(c.max_age, Some(604800));
        assert_eq!(c.path.as_deref(), Some("/"));
    }

    #[test]
    fn names_follow_prefix_and_secure_rule() {
        assert_eq!(
            cookie_name("better-auth", "session_token", false),
            "better-auth.session_token"
        );
        assert_eq!(
            cookie_name("my-app", "session_token", true),
            "__Secure-my-app.session_token"
        );
    }

    #[test]
    fn splits_and_verifies_a_signed_value() {
        let secret = "ba-harness-reference-secret-not-for-production-use-0001";
        let token = "A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi";
        let signed_text = format!("{token}.{}", sign_value(secret, token));
        let signed = split_signed_value(&signed_text).unwrap();
        assert_eq!(signed.value, token);
        assert!(signature_matches(secret, &signed));
        assert!(!signature_matches("another-secret", &signed));

        let tampered = tamper_signature(&signed);
        let tampered = split_signed_value(&tampered).expect("tampering keeps the shape");
        assert_eq!(tampered.value, token);
        assert_ne!(tampered.signature, signed.signature);
        assert!(!signature_matches(secret, &tampered));
    }

    #[test]
    fn decodes_the_reference_value_and_checks_signature_shape() {
        let c = SetCookie::parse(REFERENCE_LINE).unwrap();
        let signed = split_signed_value(&c.decoded_value()).unwrap();
        assert_eq!(signed.value, "A85VDla4uHMK1BVDSJ1aSsv4800Ed1Zi");
        assert_eq!(
            split_signed_value("tokenonly"),
            Err(SignedValueError::NoSeparator)
        );
        assert_eq!(
            split_signed_value("token.short="),
            Err(SignedValueError::BadSignatureLength { length: 6 })
        );
        assert_eq!(
            split_signed_value(&format!("token.{}=", "!".repeat(43))),
            Err(SignedValueError::BadSignatureEncoding)
        );
        assert_eq!(
            split_signed_value(&format!(".{}", sign_value("k", ""))),
            Err(SignedValueError::EmptyValue)
        );
    }

    #[test]
    fn cookie_octets_are_checked() {
        let c = SetCookie::parse(REFERENCE_LINE).unwrap();
        assert!(invalid_value_chars(&c.value).is_empty());
        assert!(invalid_value_chars("\"quoted\"").is_empty());
        let bad = invalid_value_chars("tok-\u{FFFD}\u{FFFD} x,y\u{FFFD}");
        assert_eq!(bad, vec!['\u{FFFD}', ' ', ',']);
        assert_eq!(
            describe_chars(&bad),
            "U+FFFD (bytes that are not UTF-8), U+0020, `,`"
        );
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode_cookie_value("a+b/c=.~"), "a%2Bb%2Fc%3D.~");
        let c = SetCookie::parse(REFERENCE_LINE).unwrap();
        assert_eq!(encode_cookie_value(&c.decoded_value()), c.value);
    }
}
