//! Property tests for the pure parsers the harness runs on what a server sends: Set-Cookie
//! parsing, signed cookie values, the cookie cache, redaction, JWT decoding and verification,
//! the session answer shapes. Two kinds of property: nothing panics on arbitrary input (a
//! server under test is hostile by assumption), and the round trips that exist hold (sign then
//! split then verify, percent-encode then decode, parse what was built).
//!
//! Each property runs `PROPTEST_CASES` cases (default 256 here; `PROPTEST_CASES=100000` for a
//! long pass). Failures are shrunk and the seed saved under proptest-regressions/.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use ba_harness::protocol::cookie::{
    SetCookie, SignedValue, encode_cookie_value, folded_cookie_names, invalid_value_chars,
    sign_value, signature_matches, split_signed_value, tamper_signature,
};
use ba_harness::protocol::cookie_cache::{encoding_of, forge_cached_email};
use ba_harness::protocol::jwt::{self, JwksCache, parse_jwks};
use ba_harness::protocol::session::{
    is_json_content_type, parse_auth_answer, parse_error_body, parse_session_answer,
};
use ba_harness::redact::{
    REDACTED, SecretRegistry, Secrets, mask_jwts, redact_header, redact_set_cookie,
};

// ------------------------------------------------------------------------------------------
// Strategies
// ------------------------------------------------------------------------------------------

/// Header-ish text: mostly the characters that matter to the parsers, some anything.
fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::string::string_regex(r#"[a-zA-Z0-9_.\-=;, %"'/:\t]{0,80}"#).unwrap(),
        1 => any::<String>(),
        1 => proptest::string::string_regex("[=;,.\u{FFFD}é ]{0,20}").unwrap(),
    ]
}

/// RFC 6265 token characters, for cookie names.
fn cookie_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[a-zA-Z0-9!#$&'*+\-.^_`|~]{1,24}").unwrap()
}

/// Cookie-octets (what a well-formed value is made of).
fn cookie_value() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[a-zA-Z0-9!#$%&'()*+\-./:<=>?@\[\]^_`{|}~]{0,60}").unwrap()
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        // Exact binary fractions: serde_json's float parsing is not guaranteed to round-trip
        // every f64 to the last bit, and the decode property compares values.
        (-1_000_000i32..1_000_000).prop_map(|n| json!(f64::from(n) / 4.0)),
        ".{0,20}".prop_map(Value::String),
        proptest::string::string_regex(
            "eyJ[a-zA-Z0-9_-]{0,20}\\.[a-zA-Z0-9_-]{0,20}\\.[a-zA-Z0-9_-]{0,20}"
        )
        .unwrap()
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(json_key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Object keys: the ones the parsers look at, and others.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "token", "user", "id", "email", "name", "session", "userId", "expiresAt", "code",
            "message", "password", "keys", "kty", "crv", "alg", "kid", "x", "y", "n", "e", "d",
            "use", "signature", "access_token", "refresh_token", "id_token", "crit", "typ",
        ])
        .prop_map(str::to_string),
        1 => "[a-zA-Z_]{1,8}",
    ]
}

/// A JSON object (the shape of a JWT header or payload).
fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(json_key(), json_value(), 0..8)
        .prop_map(|m| m.into_iter().collect())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Plausible and implausible JWKs: right and wrong kty/crv/alg, key members of random bytes.
fn jwk() -> impl Strategy<Value = Value> {
    let kty = prop::sample::select(vec!["RSA", "EC", "OKP", "oct", "", "rsa"]);
    let crv = prop::option::of(prop::sample::select(vec![
        "P-256",
        "P-384",
        "P-521",
        "Ed25519",
        "Ed448",
        "X25519",
        "secp256k1",
    ]));
    let alg = prop::option::of(prop::sample::select(vec![
        "EdDSA", "Ed25519", "ES256", "ES384", "ES512", "RS256", "PS512", "HS256", "none",
    ]));
    let member = prop::option::of(prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| b64(&b)));
    let kid = prop::option::of(prop::sample::select(vec!["k1", "k2", ""]));
    (
        kty,
        crv,
        alg,
        member.clone(),
        member.clone(),
        member.clone(),
        member,
        kid,
    )
        .prop_map(|(kty, crv, alg, x, y, n, e, kid)| {
            let mut key = json!({"kty": kty});
            for (name, value) in [("crv", crv), ("alg", alg), ("kid", kid)] {
                if let Some(v) = value {
                    key[name] = json!(v);
                }
            }
            for (name, value) in [("x", x), ("y", y), ("n", n), ("e", e)] {
                if let Some(v) = value {
                    key[name] = json!(v);
                }
            }
            key
        })
}

/// Compact-JWS-shaped tokens whose header names an algorithm and maybe a kid.
fn jws_like() -> impl Strategy<Value = String> {
    let alg = prop::sample::select(vec![
        "EdDSA", "Ed25519", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384",
        "PS512", "HS256", "none", "NONE", "XYZ",
    ]);
    let kid = prop::option::of(prop::sample::select(vec!["k1", "k2", "other"]));
    (
        alg,
        kid,
        json_object(),
        prop::collection::vec(any::<u8>(), 0..600),
        any::<bool>(),
    )
        .prop_map(|(alg, kid, claims, signature, crit)| {
            let mut header = json!({"alg": alg, "typ": "JWT"});
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            if crit {
                header["crit"] = json!(["exp"]);
            }
            format!(
                "{}.{}.{}",
                b64(header.to_string().as_bytes()),
                b64(Value::Object(claims).to_string().as_bytes()),
                b64(&signature)
            )
        })
}

// ------------------------------------------------------------------------------------------
// Set-Cookie parsing
// ------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn set_cookie_parse_never_panics(line in header_text()) {
        if let Ok(cookie) = SetCookie::parse(&line) {
            prop_assert!(!cookie.name.is_empty());
            prop_assert_eq!(cookie.name.trim(), cookie.name.as_str());
            prop_assert_eq!(&cookie.raw, &line);
            let _ = cookie.decoded_value();
            let _ = cookie.is_deletion();
        }
        let _ = folded_cookie_names(&line);
        let _ = invalid_value_chars(&line);
    }

    #[test]
    fn set_cookie_parses_what_was_built(
        name in cookie_name(),
        value in cookie_value(),
        max_age in prop::option::of(-10_000_000i64..1_000_000_000),
        path in prop::option::of("/[a-z/]{0,12}"),
        http_only in any::<bool>(),
        secure in any::<bool>(),
        same_site in prop::option::of(prop::sample::select(vec!["Lax", "strict", "None"])),
    ) {
        let mut line = format!("{name}={value}");
        if let Some(m) = max_age {
            line.push_str(&format!("; Max-Age={m}"));
        }
        if let Some(p) = &path {
            line.push_str(&format!("; Path={p}"));
        }
        if http_only {
            line.push_str("; HttpOnly");
        }
        if secure {
            line.push_str("; Secure");
        }
        if let Some(s) = same_site {
            line.push_str(&format!("; SameSite={s}"));
        }
        let cookie = SetCookie::parse(&line).expect("a built line parses");
        prop_assert_eq!(&cookie.name, &name);
        prop_assert_eq!(&cookie.value, &value);
        prop_assert_eq!(cookie.max_age, max_age);
        prop_assert_eq!(cookie.path.as_deref(), path.as_deref());
        prop_assert_eq!(cookie.http_only, http_only);
        prop_assert_eq!(cookie.secure, secure);
        if let Some(s) = same_site {
            prop_assert!(cookie.same_site_is(s));
        }
        // No comma in a built line: nothing is folded.
        if !value.contains(',') {
            prop_assert!(folded_cookie_names(&line).is_empty());
        }
        prop_assert!(invalid_value_chars(&value).iter().all(|c| matches!(c, '"' | ',' | ';' | '\\')));
    }

    #[test]
    fn a_folded_cookie_is_found_and_not_read_as_the_first_ones_attributes(
        first in cookie_name(),
        second in cookie_name(),
        v1 in "[a-zA-Z0-9]{1,20}",
        v2 in "[a-zA-Z0-9]{1,20}",
    ) {
        let line = format!("{first}={v1}; Path=/, {second}={v2}; Max-Age=5; Path=/x");
        prop_assert_eq!(folded_cookie_names(&line), vec![second]);
        let cookie = SetCookie::parse(&line).unwrap();
        prop_assert_eq!(cookie.name, first);
        prop_assert_eq!(cookie.max_age, None);
        prop_assert_eq!(cookie.path.as_deref(), Some("/"));
    }
}

// ------------------------------------------------------------------------------------------
// Signed values and encodeURIComponent
// ------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn split_signed_value_never_panics(text in header_text()) {
        if let Ok(signed) = split_signed_value(&text) {
            prop_assert!(!signed.value.is_empty());
            prop_assert_eq!(signed.signature.len(), 44);
        }
    }

    #[test]
    fn sign_split_verify_round_trip(secret in ".{0,64}", other in ".{0,64}", value in ".{1,80}") {
        let signature = sign_value(&secret, &value);
        let text = format!("{value}.{signature}");
        let signed = split_signed_value(&text).expect("a signed value splits");
        prop_assert_eq!(&signed.value, &value);
        prop_assert_eq!(&signed.signature, &signature);
        prop_assert!(signature_matches(&secret, &signed));
        if other != secret {
            prop_assert!(!signature_matches(&other, &signed));
        }
        // Tampering keeps the shape and breaks the MAC.
        let tampered = split_signed_value(&tamper_signature(&signed)).expect("same shape");
        prop_assert_eq!(&tampered.value, &value);
        prop_assert!(!signature_matches(&secret, &tampered));
        // Through a cookie: encode, decode, split, verify.
        let encoded = encode_cookie_value(&text);
        prop_assert!(invalid_value_chars(&encoded).is_empty());
        let line = format!("better-auth.session_token={encoded}; Path=/");
        let cookie = SetCookie::parse(&line).unwrap();
        let again = split_signed_value(&cookie.decoded_value()).unwrap();
        prop_assert!(signature_matches(&secret, &again));
    }

    #[test]
    fn tamper_and_verify_never_panic_on_any_signed_value(value in ".{0,20}", signature in ".{0,60}", secret in ".{0,20}") {
        let signed = SignedValue { value, signature };
        let _ = signature_matches(&secret, &signed);
        let _ = tamper_signature(&signed);
    }

    #[test]
    fn encode_cookie_value_decodes_back_and_is_cookie_octets(text in any::<String>()) {
        let encoded = encode_cookie_value(&text);
        prop_assert!(invalid_value_chars(&encoded).is_empty(), "{encoded}");
        prop_assert_eq!(percent_decode_str(&encoded).decode_utf8().unwrap(), text.as_str());
        // Encoding is stable on its own alphabet: encodeURIComponent output only grows by `%`.
        let plain: String = text.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(*c)).collect();
        prop_assert_eq!(encode_cookie_value(&plain), plain);
    }
}

// ------------------------------------------------------------------------------------------
// The cookie cache
// ------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn cookie_cache_helpers_never_panic(value in header_text(), dots in "[a-zA-Z0-9_é.\u{FFFD}-]{0,40}") {
        for v in [&value, &dots] {
            let _ = encoding_of(v);
            let _ = forge_cached_email(v, "forged@ba-harness.test");
        }
    }

    #[test]
    fn a_forged_compact_cache_changes_the_email_and_nothing_else(email in "[a-z]{1,10}@[a-z]{1,8}\\.test", other in json_value()) {
        let cache = json!({"session": {"user": {"email": email, "extra": other}}, "signature": "sig"});
        let value = b64(cache.to_string().as_bytes());
        let forged = forge_cached_email(&value, "forged@ba-harness.test").expect("a compact cache is forged");
        let decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(forged).unwrap()).unwrap();
        prop_assert_eq!(&decoded["session"]["user"]["email"], "forged@ba-harness.test");
        prop_assert_eq!(&decoded["signature"], "sig");
    }
}

// ------------------------------------------------------------------------------------------
// Redaction
// ------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn redaction_never_panics(name in header_text(), value in header_text(), body in any::<String>()) {
        let _ = redact_header(&name, &value);
        let _ = redact_set_cookie(&value);
        let secrets = Secrets::default();
        let _ = secrets.redact_body(&body);
        let _ = secrets.redact_body(&value);
        let _ = mask_jwts(&body);
        let _ = secrets.scrub_text(&body);
    }

    #[test]
    fn a_cookie_value_never_survives_header_redaction(
        name in cookie_name(),
        secret in "[a-zA-Z0-9]{8,40}",
        attributes in "(; (Path=/|HttpOnly|Max-Age=[0-9]{1,6}|SameSite=Lax)){0,4}",
    ) {
        prop_assume!(!name.contains(&secret) && !attributes.contains(&secret));
        let line = format!("{name}={secret}{attributes}");
        let redacted = redact_header("Set-Cookie", &line);
        prop_assert!(!redacted.contains(&secret), "{}", redacted);
        prop_assert!(redacted.ends_with(&attributes), "attributes stay: {}", redacted);
        let cookie = redact_header("cookie", &format!("a=1; {name}={secret}; b=2"));
        prop_assert!(!cookie.contains(&secret), "{}", cookie);
        let bearer = redact_header("Authorization", &format!("Bearer {secret}"));
        prop_assert_eq!(bearer, format!("Bearer {REDACTED}"));
        let location = redact_header("location", &format!("http://127.0.0.1:4000/cb?state=s&code={secret}"));
        prop_assert!(!location.contains(&secret), "{}", location);
    }

    #[test]
    fn credential_fields_never_survive_body_redaction(
        secret in "[a-zA-Z0-9+/=_-]{8,40}",
        field in prop::sample::select(vec![
            "password", "newPassword", "token", "access_token", "refresh_token", "id_token",
            "code", "code_verifier", "client_secret", "accessToken", "refreshToken", "session_token",
        ]),
        other in json_value(),
        depth in 0usize..4,
    ) {
        let mut body = json!({ field: secret, "other": other });
        for _ in 0..depth {
            body = json!({"wrapped": [body]});
        }
        let text = body.to_string();
        prop_assume!(!body["other"].to_string().contains(&secret));
        let redacted = Secrets::default().redact_body(&text);
        prop_assert!(!redacted.contains(&secret), "{}", redacted);
    }

    #[test]
    fn jwts_are_masked_in_any_text(
        prefix in "[^e]{0,30}",
        suffix in "[ ,;\"'<>]{1}.{0,30}",
        a in "[a-zA-Z0-9_-]{1,30}", b in "[a-zA-Z0-9_-]{1,60}", c in "[a-zA-Z0-9_-]{1,60}",
    ) {
        let jwt = format!("eyJ{a}.{b}.{c}");
        let text = format!("{prefix}{jwt}{suffix}");
        let masked = mask_jwts(&text);
        prop_assert!(!masked.contains(&jwt), "{}", masked);
        let secrets = Secrets::default();
        prop_assert!(!secrets.redact_body(&text).contains(&jwt));
        prop_assert!(!secrets.scrub_text(&text).contains(&jwt));
    }

    #[test]
    fn registered_secrets_are_scrubbed_raw_and_percent_encoded(
        secret in "[a-zA-Z0-9+/=@!]{8,40}",
        before in ".{0,40}",
        after in ".{0,40}",
        short in "[a-z]{1,7}",
    ) {
        let registry = SecretRegistry::default();
        registry.register(&secret);
        registry.register(&short);
        let encoded = encode_cookie_value(&secret);
        let out = registry.scrub(&format!("{before}{secret}{after} {encoded}"));
        prop_assert!(!out.contains(&secret), "{}", out);
        prop_assert!(!out.contains(&encoded), "{}", out);
        // Short values are never registered: ordinary text stays.
        let plain = format!("x{short}x");
        prop_assert_eq!(registry.scrub(&plain), plain);
    }
}

// ------------------------------------------------------------------------------------------
// JWT decoding and verification
// ------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn jwt_decode_and_verify_never_panic(token in header_text(), jwks in json_value()) {
        let _ = jwt::decode(&token);
        let cache = parse_jwks(&jwks).map(|j| JwksCache::new(&j)).unwrap_or_default();
        let _ = jwt::verify(&token, &cache);
    }

    #[test]
    fn verification_of_hostile_tokens_against_hostile_keys_never_panics(
        token in jws_like(),
        keys in prop::collection::vec(jwk(), 0..4),
    ) {
        let jwks = parse_jwks(&json!({"keys": keys})).expect("an array of objects is a JWKS");
        for key in &jwks.keys {
            let _ = key.shape_problems();
            let _ = key.private_members();
            let _ = format!("{key:?}");
        }
        let _ = jwks.duplicate_kids();
        let cache = JwksCache::new(&jwks);
        let result = jwt::verify(&token, &cache);
        // Random bytes never make a valid signature.
        prop_assert!(result.is_err());
    }

    #[test]
    fn decode_gives_back_the_header_and_claims(header in json_object(), claims in json_object(), signature in prop::collection::vec(any::<u8>(), 0..100)) {
        let token = format!(
            "{}.{}.{}",
            b64(Value::Object(header.clone()).to_string().as_bytes()),
            b64(Value::Object(claims.clone()).to_string().as_bytes()),
            b64(&signature)
        );
        let decoded = jwt::decode(&token).expect("a well-formed compact JWS decodes");
        prop_assert_eq!(&decoded.header, &header);
        prop_assert_eq!(&decoded.claims, &claims);
    }

    #[test]
    fn an_ed25519_signature_verifies_and_any_altered_payload_does_not(
        claims in json_object(),
        flip in any::<prop::sample::Index>(),
    ) {
        let pair = ed25519_pair();
        let jwks = parse_jwks(&json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1",
            "x": b64(pair.public_key().as_ref()),
        }]}))
        .unwrap();
        let cache = JwksCache::new(&jwks);
        let header = b64(json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}).to_string().as_bytes());
        let payload = b64(Value::Object(claims.clone()).to_string().as_bytes());
        let input = format!("{header}.{payload}");
        let token = format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()));
        let verified = jwt::verify(&token, &cache).expect("a genuine signature verifies");
        prop_assert_eq!(&verified.jwt.claims, &claims);
        prop_assert_eq!(verified.kid.as_deref(), Some("k1"));

        // Change one character of the payload segment to another base64url character.
        let mut bytes = payload.into_bytes();
        let at = flip.index(bytes.len());
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let altered = format!("{header}.{}.{}", String::from_utf8(bytes).unwrap(), token.rsplit('.').next().unwrap());
        prop_assert!(jwt::verify(&altered, &cache).is_err());
    }
}

fn ed25519_pair() -> &'static Ed25519KeyPair {
    static PAIR: std::sync::OnceLock<Ed25519KeyPair> = std::sync::OnceLock::new();
    PAIR.get_or_init(|| Ed25519KeyPair::generate().expect("a key pair"))
}

// ------------------------------------------------------------------------------------------
// Session answers
// ------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn session_shapes_never_panic(body in json_value(), content_type in prop::option::of(header_text())) {
        let _ = parse_auth_answer(&body);
        let _ = parse_session_answer(&body);
        let _ = parse_error_body(&body);
        let _ = is_json_content_type(content_type.as_deref());
    }
}

// ------------------------------------------------------------------------------------------
// Next.js server-action forms and the snapshot normaliser
// ------------------------------------------------------------------------------------------

/// Page-ish HTML: form, input and button tags with the attributes the extractor reads, entities,
/// text, and broken pieces of all of them.
fn html_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<form action=\"\" encType=\"multipart/form-data\" method=\"POST\">".to_string()),
        Just("</form>".to_string()),
        "<input type=\"(hidden|text|email|password)\" name=\"(\\$ACTION_ID_[0-9a-f]{0,8}|\\$ACTION_REF_[0-9]|\\$ACTION_[0-9]:[0-9]|\\$ACTION_KEY|email|password)\"( value=\"[^\"]{0,20}\")?/?>",
        "<(form|input|button|div)[ a-zA-Z=\"'$_:0-9/-]{0,40}>?",
        "&(amp|lt|gt|quot|#[0-9]{0,8}|#x[0-9a-fA-F]{0,8}|[a-z]{0,6});?",
        "<div role=\"alert\">[^<]{0,20}</div>",
        ".{0,12}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn server_action_form_extraction_never_panics(html in html_text()) {
        let page = url::Url::parse("http://127.0.0.1:3000/sign-in").unwrap();
        let forms = ba_harness::next::find_action_forms(&html);
        for form in &forms {
            let _ = form.action_id();
            let _ = form.input_names();
            let _ = form.describe();
            let _ = form.has_field("email");
            let _ = form.fill(&[("email", "a@b.test"), ("password", "x")]);
            let _ = ba_harness::next::action_url(&page, form);
        }
        let _ = ba_harness::next::select_form(&forms, &["email", "password"]);
        let _ = ba_harness::next::alert_text(&html);
        let _ = ba_harness::next::decode_entities(&html);
        let _ = ba_harness::next::parse_http_date(&html);
    }

    #[test]
    fn the_snapshot_normaliser_never_panics(
        text in header_text(),
        url in "http://127\\.0\\.0\\.1:[0-9]{1,5}/[a-z/]{0,12}(\\?[a-z_]{1,8}=[a-zA-Z0-9%]{0,40}(&[a-z_]{1,8}=[a-zA-Z0-9%.]{0,40}){0,3})?",
        body in json_value(),
        token in jws_like(),
        headers in prop::collection::vec((prop::sample::select(vec![
            "set-cookie", "location", "content-type", "date", "set-auth-token", "set-auth-jwt", "x-other",
        ]), header_text()), 0..6),
        status in 100u16..600,
    ) {
        let _ = ba_harness::snapshot::normalise_text(&text, &[]);
        let _ = ba_harness::snapshot::normalise_text(&url, &[]);
        let _ = ba_harness::snapshot::normalise_text(&token, &[]);
        let mut value = body.clone();
        ba_harness::snapshot::normalise_json(&mut value, &[]);
        let mut with_jwt = json!({"token": token, "body": body});
        ba_harness::snapshot::normalise_json(&mut with_jwt, &[]);
        let exchange = ba_harness::http::Exchange {
            method: "POST".into(),
            url: url.clone(),
            request_headers: headers.iter().map(|(n, v)| (n.to_string(), v.clone())).collect(),
            request_body: Some(with_jwt.to_string()),
            status,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.clone())).collect(),
            body: text.clone(),
            body_truncated: false,
            elapsed: std::time::Duration::from_millis(1),
            secrets: Default::default(),
        };
        let _ = ba_harness::snapshot::normalise_exchange(&exchange, &[]);
        let _ = ba_harness::snapshot::snapshot_name("a scenario", 0, &exchange);
        let _ = ba_harness::snapshot::slug(&text);
    }
}
