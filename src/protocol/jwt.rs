//! JWTs and JWKS (Better Auth's jwt plugin, and the OAuth provider's ID tokens): compact JWS
//! decoding, JWKS parsing and a cache keyed by kid, signature verification, claim checks.
//!
//! Verification goes through jsonwebtoken (EdDSA, RS256/384/512, PS256/384/512, ES256/384) with
//! the key from `DecodingKey::from_jwk`; ES512, which jsonwebtoken cannot parse, goes through
//! aws-lc-rs directly behind the same [`verify`]. The algorithm comes from the JWT header and
//! must agree with the key (its `alg`, `kty` and `crv`); `none`, the HMAC family and any other
//! algorithm are verification errors that name it, never a silent pass.

use super::session::kind;
use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

/// Better Auth's default JWT lifetime (`jwt.expirationTime` "15m"). The harness expects it: a
/// deployment that configures another lifetime fails the lifetime scenario, which is a SHOULD
/// rule for that reason. There is no flag for it (yet).
pub const DEFAULT_LIFETIME_SECS: i64 = 15 * 60;

/// How far `iat` may be ahead of the harness's clock (clock skew between harness and server).
pub const CLOCK_SKEW_SECS: i64 = 60;

/// JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4;
/// RFC 8037 §2): a JWKS that publishes one lets anyone sign.
pub const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a JWT does not verify. Every variant names what it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a compact JWT: {0}")]
    Malformed(String),
    #[error("alg \"none\": an unsigned JWT is never accepted")]
    AlgNone,
    #[error(
        "alg {0} is an HMAC (shared-secret) algorithm: a JWKS of public keys cannot verify it, and a published secret would let anyone sign"
    )]
    SymmetricAlg(String),
    #[error(
        "alg {0:?} is not an algorithm the harness verifies (EdDSA, Ed25519, ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512)"
    )]
    UnsupportedAlg(String),
    #[error("the header has a `crit` member ({0}); no critical extension is supported")]
    CriticalHeader(String),
    #[error("the JWKS has no keys")]
    EmptyJwks,
    #[error("the header has no kid and the JWKS has {0} keys that could verify it")]
    AmbiguousKey(usize),
    #[error("the header has no kid and no JWKS key suits its alg")]
    NoSuitableKey,
    #[error("kid {kid:?} is not in the JWKS (its kids: {known})")]
    UnknownKid { kid: String, known: String },
    #[error("the header says alg {header} but JWKS key {kid} declares alg {key}")]
    AlgMismatch {
        header: String,
        key: String,
        kid: String,
    },
    #[error("JWKS key {kid} cannot verify {alg}: {reason}")]
    KeyUnsuitable {
        alg: String,
        kid: String,
        reason: String,
    },
    #[error("the {alg} signature does not verify with JWKS key {kid}{detail}")]
    BadSignature {
        alg: String,
        kid: String,
        detail: String,
    },
}

/// The JWS signature algorithms the harness verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    EdDSA,
    /// RFC 9864's fully specified name for EdDSA over Ed25519.
    Ed25519,
    ES256,
    ES384,
    ES512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
}

impl Alg {
    /// The header's `alg`: a supported algorithm, or an error naming it.
    pub fn parse(name: &str) -> Result<Alg, JwtError> {
        Ok(match name {
            "EdDSA" => Alg::EdDSA,
            "Ed25519" => Alg::Ed25519,
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "ES512" => Alg::ES512,
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "PS384" => Alg::PS384,
            "PS512" => Alg::PS512,
            _ if name.eq_ignore_ascii_case("none") => return Err(JwtError::AlgNone),
            "HS256" | "HS384" | "HS512" => return Err(JwtError::SymmetricAlg(name.into())),
            other => return Err(JwtError::UnsupportedAlg(other.into())),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::EdDSA => "EdDSA",
            Alg::Ed25519 => "Ed25519",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
        }
    }

    /// The `kty` and `crv` a key must have to verify this algorithm.
    pub fn key_type(self) -> (&'static str, Option<&'static str>) {
        match self {
            Alg::EdDSA | Alg::Ed25519 => ("OKP", Some("Ed25519")),
            Alg::ES256 => ("EC", Some("P-256")),
            Alg::ES384 => ("EC", Some("P-384")),
            Alg::ES512 => ("EC", Some("P-521")),
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                ("RSA", None)
            }
        }
    }

    /// jsonwebtoken's name for it; None for ES512, which it does not support.
    fn jsonwebtoken(self) -> Option<jsonwebtoken::Algorithm> {
        use jsonwebtoken::Algorithm as A;
        Some(match self {
            Alg::EdDSA | Alg::Ed25519 => A::EdDSA,
            Alg::ES256 => A::ES256,
            Alg::ES384 => A::ES384,
            Alg::ES512 => return None,
            Alg::RS256 => A::RS256,
            Alg::RS384 => A::RS384,
            Alg::RS512 => A::RS512,
            Alg::PS256 => A::PS256,
            Alg::PS384 => A::PS384,
            Alg::PS512 => A::PS512,
        })
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Byte length of one coordinate (and of `x` for OKP) on a curve.
fn coordinate_len(crv: &str) -> Option<usize> {
    match crv {
        "Ed25519" | "P-256" => Some(32),
        "P-384" => Some(48),
        "P-521" => Some(66),
        _ => None,
    }
}

fn b64(text: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| format!("not unpadded base64url ({e})"))
}

fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One key of a JWKS, as published. Only the members the harness reads are pulled out; the
/// whole object stays in `raw`. Debug does not print key material.
#[derive(Clone, PartialEq)]
pub struct Jwk {
    pub kty: Option<String>,
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub crv: Option<String>,
    pub key_use: Option<String>,
    pub raw: Map<String, Value>,
    /// jsonwebtoken's decoding key, prepared once when the JWKS is read: building it (base64
    /// and, for RSA, the key's parse) on every verification made the load path's RSA
    /// verification slower than it need be.
    pub prepared: PreparedKey,
}

/// A decoding key prepared from a JWK, or none when jsonwebtoken cannot use the JWK (then
/// verification builds it again and reports why). Never part of a key's identity.
#[derive(Clone, Default)]
pub struct PreparedKey(Option<std::sync::Arc<jsonwebtoken::DecodingKey>>);

impl PartialEq for PreparedKey {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl PreparedKey {
    fn from_raw(raw: &Map<String, Value>) -> Self {
        let prepared = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(Value::Object(raw.clone()))
            .ok()
            .and_then(|jwk| jsonwebtoken::DecodingKey::from_jwk(&jwk).ok())
            .map(std::sync::Arc::new);
        PreparedKey(prepared)
    }

    pub fn is_prepared(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Jwk {
    pub fn from_value(value: &Value) -> Result<Jwk, String> {
        let Value::Object(raw) = value else {
            return Err(format!("a key is {}, not an object", kind(value)));
        };
        let text = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_string);
        Ok(Jwk {
            kty: text("kty"),
            kid: text("kid"),
            alg: text("alg"),
            crv: text("crv"),
            key_use: text("use"),
            raw: raw.clone(),
            prepared: PreparedKey::from_raw(raw),
        })
    }

    /// A string member.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(Value::as_str)
    }

    /// `kid X (kty OKP, crv Ed25519, alg EdDSA)`, for messages.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("kty {}", self.kty.as_deref().unwrap_or("?"))];
        if let Some(crv) = &self.crv {
            parts.push(format!("crv {crv}"));
        }
        parts.push(format!("alg {}", self.alg.as_deref().unwrap_or("?")));
        format!(
            "kid {} ({})",
            self.kid.as_deref().unwrap_or("(none)"),
            parts.join(", ")
        )
    }

    fn kid_label(&self) -> String {
        self.kid.clone().unwrap_or_else(|| "(without kid)".into())
    }

    /// The private or symmetric members this key publishes.
    pub fn private_members(&self) -> Vec<&'static str> {
        PRIVATE_MEMBERS
            .iter()
            .copied()
            .filter(|m| self.raw.contains_key(*m))
            .collect()
    }

    /// What is wrong with this key as a published signing key: members missing, key material
    /// missing or malformed for its kty, or an `alg` that does not suit the key type.
    /// (Private members are a separate rule: [`Jwk::private_members`].)
    pub fn shape_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for name in ["kty", "kid", "alg"] {
            match self.raw.get(name) {
                Some(Value::String(s)) if !s.is_empty() => {}
                Some(Value::String(_)) => problems.push(format!("`{name}` is empty")),
                Some(other) => problems.push(format!("`{name}` is {}", kind(other))),
                None => problems.push(format!("no `{name}`")),
            }
        }
        if let Some(kty) = &self.kty {
            problems.extend(self.material_problems(kty));
        }
        if let (Some(alg), Some(kty)) = (&self.alg, &self.kty)
            && let Ok(alg) = Alg::parse(alg)
        {
            let (want_kty, want_crv) = alg.key_type();
            if kty != want_kty {
                problems.push(format!(
                    "alg {alg} needs kty {want_kty}, the key is kty {kty}"
                ));
            } else if let Some(want) = want_crv
                && self.crv.as_deref() != Some(want)
            {
                problems.push(format!(
                    "alg {alg} needs crv {want}, the key has crv {}",
                    self.crv.as_deref().unwrap_or("(none)")
                ));
            }
        }
        problems
    }

    fn material_problems(&self, kty: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let mut need = |name: &str, len: Option<usize>| match self.member(name) {
            None => problems.push(format!("kty {kty} needs `{name}`, which is missing")),
            Some(text) => match b64(text) {
                Err(e) => problems.push(format!("`{name}` is {e}")),
                Ok(bytes) => {
                    if let Some(len) = len
                        && bytes.len() != len
                    {
                        problems.push(format!(
                            "`{name}` is {} bytes, {} needs {len}",
                            bytes.len(),
                            self.crv.as_deref().unwrap_or(kty)
                        ));
                    }
                }
            },
        };
        match kty {
            "OKP" | "EC" => {
                let len = self.crv.as_deref().and_then(coordinate_len);
                need("x", len);
                if kty == "EC" {
                    need("y", len);
                }
                match self.crv.as_deref() {
                    None => problems.push(format!("kty {kty} needs `crv`, which is missing")),
                    Some(crv) if len.is_none() => {
                        problems.push(format!("crv {crv} is not a curve the harness knows"))
                    }
                    Some(_) => {}
                }
            }
            "RSA" => {
                need("n", None);
                need("e", None);
                if let Some(bits) = self.member("n").and_then(|n| b64(n).ok()).map(modulus_bits)
                    && bits < 2048
                {
                    problems.push(format!(
                        "the RSA modulus has {bits} bits, under the 2048 RFC 7518 §3.3 requires"
                    ));
                }
            }
            "oct" => need("k", None),
            other => problems.push(format!("kty {other:?} is not a key type for JWS")),
        }
        problems
    }
}

/// Bits in a big-endian unsigned integer.
fn modulus_bits(bytes: Vec<u8>) -> usize {
    let trimmed: Vec<u8> = bytes.into_iter().skip_while(|b| *b == 0).collect();
    match trimmed.first() {
        Some(first) => trimmed.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// A JWK Set (`{"keys": [...]}`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// kids that more than one key uses (RFC 7517 §4.5: they SHOULD be distinct).
    pub fn duplicate_kids(&self) -> Vec<String> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for kid in self.keys.iter().filter_map(|k| k.kid.as_deref()) {
            *seen.entry(kid).or_default() += 1;
        }
        seen.into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(k, _)| k.to_string())
            .collect()
    }
}

/// Parses a JWKS document. Only the outer shape is enforced here; each key's own problems are
/// for [`Jwk::shape_problems`].
pub fn parse_jwks(value: &Value) -> Result<Jwks, String> {
    let Some(keys) = value.get("keys") else {
        return Err(format!("{} without a `keys` member", kind(value)));
    };
    let Value::Array(items) = keys else {
        return Err(format!("`keys` is {}, not an array", kind(keys)));
    };
    let keys = items
        .iter()
        .enumerate()
        .map(|(i, k)| Jwk::from_value(k).map_err(|e| format!("keys[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Jwks { keys })
}

/// The keys a verifier knows, by kid. Refilled from a fresh JWKS when a JWT names a kid it
/// does not hold (the way a verifier follows key rotation).
#[derive(Clone, Debug, Default)]
pub struct JwksCache {
    by_kid: BTreeMap<String, Vec<Jwk>>,
    without_kid: Vec<Jwk>,
}

impl JwksCache {
    pub fn new(jwks: &Jwks) -> Self {
        let mut cache = JwksCache::default();
        cache.replace(jwks);
        cache
    }

    /// Replaces everything with the keys of a freshly fetched JWKS.
    pub fn replace(&mut self, jwks: &Jwks) {
        self.by_kid.clear();
        self.without_kid.clear();
        for key in &jwks.keys {
            match &key.kid {
                Some(kid) => self
                    .by_kid
                    .entry(kid.clone())
                    .or_default()
                    .push(key.clone()),
                None => self.without_kid.push(key.clone()),
            }
        }
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    pub fn kids(&self) -> Vec<&str> {
        self.by_kid.keys().map(String::as_str).collect()
    }

    pub fn len(&self) -> usize {
        self.by_kid.values().map(Vec::len).sum::<usize>() + self.without_kid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys with this kid.
    pub fn get(&self, kid: &str) -> &[Jwk] {
        self.by_kid.get(kid).map(Vec::as_slice).unwrap_or_default()
    }

    fn all(&self) -> impl Iterator<Item = &Jwk> {
        self.by_kid
            .values()
            .flatten()
            .chain(self.without_kid.iter())
    }

    /// The keys that may verify a JWT with this header: those with its kid; without a kid,
    /// the one key whose type suits the algorithm.
    fn candidates(&self, kid: Option<&str>, alg: Alg) -> Result<Vec<&Jwk>, JwtError> {
        if self.is_empty() {
            return Err(JwtError::EmptyJwks);
        }
        match kid {
            Some(kid) => {
                let keys = self.get(kid);
                if keys.is_empty() {
                    Err(JwtError::UnknownKid {
                        kid: kid.to_string(),
                        known: self.kids().join(", "),
                    })
                } else {
                    Ok(keys.iter().collect())
                }
            }
            None => {
                let (kty, crv) = alg.key_type();
                let suitable: Vec<&Jwk> = self
                    .all()
                    .filter(|k| {
                        k.kty.as_deref() == Some(kty)
                            && (crv.is_none() || k.crv.as_deref() == crv)
                            && k.alg.as_deref().is_none_or(|a| a == alg.name())
                    })
                    .collect();
                match suitable.len() {
                    0 => Err(JwtError::NoSuitableKey),
                    1 => Ok(suitable),
                    n => Err(JwtError::AmbiguousKey(n)),
                }
            }
        }
    }
}

/// A compact JWS split and decoded, not yet verified. Debug shows the header and claims only
/// (with the signature the token could be rebuilt, and it is a credential).
#[derive(Clone)]
pub struct DecodedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `<header>.<payload>` as sent: what the signature covers.
    signing_input: String,
    signature_b64: String,
    signature: Vec<u8>,
}

impl fmt::Debug for DecodedJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedJwt")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl DecodedJwt {
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

fn decode_json_segment(segment: &str, what: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = b64(segment).map_err(|e| JwtError::Malformed(format!("the {what} is {e}")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(JwtError::Malformed(format!(
            "the {what} is {}, not a JSON object",
            kind(&other)
        ))),
        Err(e) => Err(JwtError::Malformed(format!("the {what} is not JSON ({e})"))),
    }
}

/// Splits and decodes a compact JWS (`header.payload.signature`, each base64url without
/// padding, header and payload JSON objects). Checks nothing cryptographic.
pub fn decode(token: &str) -> Result<DecodedJwt, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::Malformed(format!(
            "{} dot-separated parts, a JWS has 3{}",
            parts.len(),
            if parts.len() == 5 {
                " (5 is a JWE)"
            } else {
                ""
            }
        )));
    }
    let header = decode_json_segment(parts[0], "header")?;
    let claims = decode_json_segment(parts[1], "payload")?;
    let signature =
        b64(parts[2]).map_err(|e| JwtError::Malformed(format!("the signature is {e}")))?;
    Ok(DecodedJwt {
        header,
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature_b64: parts[2].to_string(),
        signature,
    })
}

/// A JWT whose signature verified.
#[derive(Clone, Debug)]
pub struct Verified {
    pub jwt: DecodedJwt,
    pub alg: Alg,
    /// The kid of the key that verified it.
    pub kid: Option<String>,
}

/// Verifies a compact JWS against the keys in `keys`: the header's alg must be supported and
/// must be the alg the key declares (and suit its kty/crv), and the signature must verify.
pub fn verify(token: &str, keys: &JwksCache) -> Result<Verified, JwtError> {
    let jwt = decode(token)?;
    verify_decoded(jwt, keys)
}

pub fn verify_decoded(jwt: DecodedJwt, keys: &JwksCache) -> Result<Verified, JwtError> {
    let alg = match jwt.header.get("alg") {
        Some(Value::String(name)) => Alg::parse(name)?,
        Some(other) => {
            return Err(JwtError::Malformed(format!(
                "the header's alg is {}",
                kind(other)
            )));
        }
        None => return Err(JwtError::Malformed("the header has no alg".into())),
    };
    if let Some(crit) = jwt.header.get("crit") {
        return Err(JwtError::CriticalHeader(crit.to_string()));
    }
    let kid = match jwt.header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(other) => {
            return Err(JwtError::Malformed(format!(
                "the header's kid is {}",
                kind(other)
            )));
        }
    };
    let mut first_error = None;
    for key in keys.candidates(kid, alg)? {
        match verify_with_key(&jwt, alg, key) {
            Ok(()) => {
                let kid = key.kid.clone();
                return Ok(Verified { jwt, alg, kid });
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(JwtError::NoSuitableKey))
}

/// Checks that `key` may verify `alg`: the same declared alg, the right kty and crv, and no
/// `use` other than "sig". Its key material is checked at verification.
pub fn check_key_for(alg: Alg, key: &Jwk) -> Result<(), JwtError> {
    let unsuitable = |reason: String| JwtError::KeyUnsuitable {
        alg: alg.name().into(),
        kid: key.kid_label(),
        reason,
    };
    if let Some(declared) = &key.alg
        && declared != alg.name()
    {
        return Err(JwtError::AlgMismatch {
            header: alg.name().into(),
            key: declared.clone(),
            kid: key.kid_label(),
        });
    }
    if let Some(key_use) = &key.key_use
        && key_use != "sig"
    {
        return Err(unsuitable(format!("its `use` is {key_use:?}, not \"sig\"")));
    }
    let (kty, crv) = alg.key_type();
    if key.kty.as_deref() != Some(kty) {
        return Err(unsuitable(format!(
            "it is kty {}, {alg} needs kty {kty}",
            key.kty.as_deref().unwrap_or("(none)")
        )));
    }
    if let Some(crv) = crv
        && key.crv.as_deref() != Some(crv)
    {
        return Err(unsuitable(format!(
            "it is crv {}, {alg} needs crv {crv}",
            key.crv.as_deref().unwrap_or("(none)")
        )));
    }
    Ok(())
}

/// Verifies the signature of `jwt` under `alg` with one key: [`check_key_for`], the key
/// material complete and well sized, then the signature.
pub fn verify_with_key(jwt: &DecodedJwt, alg: Alg, key: &Jwk) -> Result<(), JwtError> {
    check_key_for(alg, key)?;
    if let Some(problem) = key.material_problems(alg.key_type().0).into_iter().next() {
        return Err(JwtError::KeyUnsuitable {
            alg: alg.name().into(),
            kid: key.kid_label(),
            reason: problem,
        });
    }
    let bad = |detail: String| JwtError::BadSignature {
        alg: alg.name().into(),
        kid: key.kid_label(),
        detail,
    };
    // ECDSA in JWS is the fixed-size r||s form (RFC 7518 §3.4), not DER: say so when the
    // length is off, it is the usual cause.
    if let (_, Some(crv)) = alg.key_type()
        && alg.key_type().0 == "EC"
        && let Some(len) = coordinate_len(crv)
        && jwt.signature.len() != 2 * len
    {
        return Err(bad(format!(
            ": it is {} bytes, {alg} signatures are {} (r||s, RFC 7518 §3.4; DER-encoded?)",
            jwt.signature.len(),
            2 * len
        )));
    }
    let ok = match alg.jsonwebtoken() {
        Some(jwt_alg) => {
            let decoding = match &key.prepared.0 {
                Some(prepared) => std::sync::Arc::clone(prepared),
                None => std::sync::Arc::new(decoding_key(alg, key)?),
            };
            jsonwebtoken::crypto::verify(
                &jwt.signature_b64,
                jwt.signing_input.as_bytes(),
                &decoding,
                jwt_alg,
            )
            .map_err(|e| bad(format!(": {e}")))?
        }
        None => verify_es512(jwt, key)?,
    };
    if ok { Ok(()) } else { Err(bad(String::new())) }
}

/// Builds jsonwebtoken's decoding key for `key`, naming why it cannot.
fn decoding_key(alg: Alg, key: &Jwk) -> Result<jsonwebtoken::DecodingKey, JwtError> {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(Value::Object(key.raw.clone()))
        .map_err(|e| JwtError::KeyUnsuitable {
            alg: alg.name().into(),
            kid: key.kid_label(),
            reason: format!("jsonwebtoken cannot read it ({e})"),
        })?;
    jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| JwtError::KeyUnsuitable {
        alg: alg.name().into(),
        kid: key.kid_label(),
        reason: format!("jsonwebtoken cannot use it ({e})"),
    })
}

/// ES512 (ECDSA P-521 with SHA-512) through aws-lc-rs: the key is the uncompressed point
/// 0x04||x||y, the signature the 132-byte r||s.
fn verify_es512(jwt: &DecodedJwt, key: &Jwk) -> Result<bool, JwtError> {
    let point = ec_point(key).map_err(|reason| JwtError::KeyUnsuitable {
        alg: "ES512".into(),
        kid: key.kid_label(),
        reason,
    })?;
    let public = UnparsedPublicKey::new(&lc::ECDSA_P521_SHA512_FIXED, point);
    Ok(public
        .verify(jwt.signing_input.as_bytes(), &jwt.signature)
        .is_ok())
}

/// The uncompressed point 0x04||x||y of an EC JWK.
fn ec_point(key: &Jwk) -> Result<Vec<u8>, String> {
    let coordinate = |name: &str| -> Result<Vec<u8>, String> {
        let text = key.member(name).ok_or(format!("no `{name}`"))?;
        b64(text).map_err(|e| format!("`{name}` is {e}"))
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    Ok(point)
}

// --- claims -------------------------------------------------------------------------------

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match claims.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("`{name}` is {}: {other}", kind(other))),
        None => Err(format!("no `{name}` claim")),
    }
}

/// The string claim `name` equals `expected`. Err carries what the JWT has instead.
fn check_string_claim(
    claims: &Map<String, Value>,
    name: &str,
    expected: &str,
) -> Result<(), String> {
    let value = string_claim(claims, name)?;
    if value == expected {
        Ok(())
    } else {
        Err(format!("{name} {value:?}"))
    }
}

/// `iss` equals `expected`. Err carries what the JWT has instead.
pub fn check_issuer(claims: &Map<String, Value>, expected: &str) -> Result<(), String> {
    check_string_claim(claims, "iss", expected)
}

/// `aud` is `expected`, or an array holding it (RFC 7519 §4.1.3).
pub fn check_audience(claims: &Map<String, Value>, expected: &str) -> Result<(), String> {
    match claims.get("aud") {
        Some(Value::String(aud)) if aud == expected => Ok(()),
        Some(Value::String(aud)) => Err(format!("aud {aud:?}")),
        Some(Value::Array(items)) => {
            if items.iter().any(|a| a.as_str() == Some(expected)) {
                Ok(())
            } else {
                Err(format!("aud {}", Value::Array(items.clone())))
            }
        }
        Some(other) => Err(format!("`aud` is {}: {other}", kind(other))),
        None => Err("no `aud` claim".into()),
    }
}

/// The `iss` and `aud` a run expects of every JWT: the jwt plugin's `jwt.issuer` and
/// `jwt.audience` as declared (`--jwt-issuer`, `--jwt-audience`), else Better Auth's default, the
/// target's origin. Judged by [`judge_configurable_claim`], as conform judges them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedClaims {
    pub origin: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl ExpectedClaims {
    pub fn new(origin: &str, issuer: Option<&str>, audience: Option<&str>) -> Self {
        ExpectedClaims {
            origin: origin.to_string(),
            issuer: issuer.map(str::to_string),
            audience: audience.map(str::to_string),
        }
    }
}

/// How a claim the deployment can configure (`iss`, `aud`: the jwt plugin's `jwt.issuer` and
/// `jwt.audience`) compares with what the harness expects.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigurableClaim {
    /// It is what the deployment declared, or, with nothing declared, Better Auth's default.
    Matches,
    /// It differs from what the deployment declared, or it is missing or not a string (array).
    Wrong(String),
    /// Nothing was declared and it is a well-formed value other than the default: a deployment
    /// may configure that, so only a declared value can tell right from wrong.
    Undeclared(String),
}

/// Judges a configurable claim: `check` compares the claims with `expected`, which is
/// `declared` when the deployment declared a value, else `default`. A present, well-formed
/// claim that differs from an undeclared default is [`ConfigurableClaim::Undeclared`].
pub fn judge_configurable_claim(
    claims: &Map<String, Value>,
    name: &str,
    declared: Option<&str>,
    default: &str,
    check: fn(&Map<String, Value>, &str) -> Result<(), String>,
) -> ConfigurableClaim {
    match (check(claims, declared.unwrap_or(default)), declared) {
        (Ok(()), _) => ConfigurableClaim::Matches,
        (Err(actual), Some(_)) => ConfigurableClaim::Wrong(actual),
        (Err(actual), None) => match claims.get(name) {
            Some(Value::String(_)) => ConfigurableClaim::Undeclared(actual),
            Some(Value::Array(items))
                if !items.is_empty() && items.iter().all(Value::is_string) =>
            {
                ConfigurableClaim::Undeclared(actual)
            }
            _ => ConfigurableClaim::Wrong(actual),
        },
    }
}

/// `sub` equals `expected`.
pub fn check_subject(claims: &Map<String, Value>, expected: &str) -> Result<(), String> {
    check_string_claim(claims, "sub", expected)
}

/// A NumericDate claim (seconds since the epoch; RFC 7519 allows fractions).
pub fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<f64, String> {
    match claims.get(name) {
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{name}` is not a usable number: {n}")),
        Some(other) => Err(format!(
            "`{name}` is {}, a NumericDate is a number: {other}",
            kind(other)
        )),
        None => Err(format!("no `{name}` claim")),
    }
}

/// `exp` is after `now` (unix seconds).
pub fn check_not_expired(claims: &Map<String, Value>, now: i64) -> Result<(), String> {
    let exp = numeric_date(claims, "exp")?;
    if exp > now as f64 {
        Ok(())
    } else {
        Err(format!("exp {exp} is {} s in the past", now as f64 - exp))
    }
}

/// `iat` is not after `now` + `skew`.
pub fn check_issued_at(claims: &Map<String, Value>, now: i64, skew: i64) -> Result<(), String> {
    let iat = numeric_date(claims, "iat")?;
    if iat <= (now + skew) as f64 {
        Ok(())
    } else {
        Err(format!(
            "iat {iat} is {} s in the future (allowed skew {skew} s)",
            iat - now as f64
        ))
    }
}

/// `exp - iat` equals `expected` seconds.
pub fn check_lifetime(claims: &Map<String, Value>, expected: i64) -> Result<(), String> {
    let iat = numeric_date(claims, "iat")?;
    let exp = numeric_date(claims, "exp")?;
    let lifetime = exp - iat;
    if (lifetime - expected as f64).abs() < 1e-3 {
        Ok(())
    } else {
        Err(format!("exp - iat = {lifetime} s (iat {iat}, exp {exp})"))
    }
}

/// `email` equals `expected` (emails compare case-insensitively).
pub fn check_email(claims: &Map<String, Value>, expected: &str) -> Result<(), String> {
    let email = string_claim(claims, "email")?;
    if email.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(format!("email {email:?}"))
    }
}

// --- tampering, for the harness's own negative checks ---------------------------------------

/// `claims` with `sub` changed (or set, if absent): the edit an attacker would make.
pub fn altered_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    let mut altered = claims.clone();
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .map(|s| format!("{s}-altered"))
        .unwrap_or_else(|| "someone-else".into());
    altered.insert("sub".into(), Value::String(sub));
    altered
}

fn encode_segment(map: &Map<String, Value>) -> String {
    b64_encode(
        serde_json::to_string(map)
            .unwrap_or_else(|_| "{}".into())
            .as_bytes(),
    )
}

/// A compact JWS that names a published key (`kid`, `alg`) over `claims`, with a signature of
/// `signature_len` random bytes: what anyone who read the JWKS can make, and no verifier may
/// accept.
pub fn with_forged_signature(
    alg: &str,
    kid: &str,
    claims: &Map<String, Value>,
    signature_len: usize,
) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg));
    header.insert("kid".into(), json!(kid));
    header.insert("typ".into(), json!("JWT"));
    let signature: Vec<u8> = (0..signature_len).map(|_| rand::random::<u8>()).collect();
    format!(
        "{}.{}.{}",
        encode_segment(&header),
        encode_segment(claims),
        b64_encode(&signature)
    )
}

/// An unsigned JWS (`alg: none`, no kid, empty signature) carrying `claims`.
pub fn unsecured(claims: &Map<String, Value>) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), json!("none"));
    format!("{}.{}.", encode_segment(&header), encode_segment(claims))
}

/// The JWT with `claims` as its payload, its header and signature kept as they were.
pub fn with_claims_kept_signature(jwt: &DecodedJwt, claims: &Map<String, Value>) -> String {
    let header = jwt.signing_input.split('.').next().unwrap_or_default();
    format!("{header}.{}.{}", encode_segment(claims), jwt.signature_b64)
}

/// An unsecured JWT (`alg: none`, empty signature) with the same kid and these claims.
pub fn unsecured_copy(jwt: &DecodedJwt, claims: &Map<String, Value>) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), json!("none"));
    if let Some(kid) = jwt.kid() {
        header.insert("kid".into(), json!(kid));
    }
    format!("{}.{}.", encode_segment(&header), encode_segment(claims))
}

/// Signs `claims` as `alg` with the private material `key` publishes (`d` and, for RSA, the
/// CRT members), with the key's kid in the header: what anyone who fetched the JWKS could do.
/// None when the key publishes no private material the harness can sign with.
pub fn sign_with_published_private_key(
    key: &Jwk,
    alg: Alg,
    claims: &Map<String, Value>,
) -> Option<Result<String, String>> {
    let d = key.member("d")?;
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.name()));
    if let Some(kid) = &key.kid {
        header.insert("kid".into(), json!(kid));
    }
    let signing_input = format!("{}.{}", encode_segment(&header), encode_segment(claims));
    let signature = sign_with(key, alg, d, signing_input.as_bytes());
    Some(signature.map(|s| format!("{signing_input}.{}", b64_encode(&s))))
}

fn sign_with(key: &Jwk, alg: Alg, d: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    let d = b64(d).map_err(|e| format!("`d` is {e}"))?;
    let member = |name: &str| -> Result<Vec<u8>, String> {
        b64(key.member(name).ok_or(format!("no `{name}`"))?).map_err(|e| format!("`{name}` is {e}"))
    };
    match alg {
        Alg::EdDSA | Alg::Ed25519 => {
            let pair = lc::Ed25519KeyPair::from_seed_and_public_key(&d, &member("x")?)
                .map_err(|e| format!("not an Ed25519 key pair ({e})"))?;
            Ok(pair.sign(message).as_ref().to_vec())
        }
        Alg::ES256 | Alg::ES384 | Alg::ES512 => {
            let signing = match alg {
                Alg::ES256 => &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
                Alg::ES384 => &lc::ECDSA_P384_SHA384_FIXED_SIGNING,
                _ => &lc::ECDSA_P521_SHA512_FIXED_SIGNING,
            };
            let pair =
                lc::EcdsaKeyPair::from_private_key_and_public_key(signing, &d, &ec_point(key)?)
                    .map_err(|e| format!("not an EC key pair ({e})"))?;
            pair.sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| format!("signing failed ({e})"))
        }
        _ => {
            let components = aws_lc_rs::rsa::KeyPairComponents {
                public_key: aws_lc_rs::rsa::PublicKeyComponents {
                    n: member("n")?,
                    e: member("e")?,
                },
                d,
                p: member("p")?,
                q: member("q")?,
                dP: member("dp")?,
                dQ: member("dq")?,
                qInv: member("qi")?,
            };
            let pair = lc::RsaKeyPair::from_components(&components)
                .map_err(|e| format!("not an RSA key pair ({e})"))?;
            let encoding: &'static dyn lc::RsaEncoding = match alg {
                Alg::RS256 => &lc::RSA_PKCS1_SHA256,
                Alg::RS384 => &lc::RSA_PKCS1_SHA384,
                Alg::RS512 => &lc::RSA_PKCS1_SHA512,
                Alg::PS256 => &lc::RSA_PSS_SHA256,
                Alg::PS384 => &lc::RSA_PSS_SHA384,
                _ => &lc::RSA_PSS_SHA512,
            };
            let mut signature = vec![0; pair.public_modulus_len()];
            pair.sign(encoding, &SystemRandom::new(), message, &mut signature)
                .map_err(|e| format!("signing failed ({e})"))?;
            Ok(signature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configurable_claim_is_judged_against_the_declared_value_else_the_default() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        let origin = "http://127.0.0.1:3000";
        let judge = |c: &Map<String, Value>, declared| {
            judge_configurable_claim(c, "iss", declared, origin, check_issuer)
        };
        let default = claims(json!({"iss": origin}));
        let custom = claims(json!({"iss": "https://auth.example.com"}));
        assert_eq!(judge(&default, None), ConfigurableClaim::Matches);
        // Another value with nothing declared: a jwt.issuer the harness cannot know.
        assert_eq!(
            judge(&custom, None),
            ConfigurableClaim::Undeclared("iss \"https://auth.example.com\"".into())
        );
        assert_eq!(
            judge(&custom, Some("https://auth.example.com")),
            ConfigurableClaim::Matches
        );
        // Declared: anything else is wrong, the default too.
        assert!(matches!(
            judge(&default, Some("https://auth.example.com")),
            ConfigurableClaim::Wrong(_)
        ));
        // Missing or malformed is wrong whatever was declared.
        assert!(matches!(
            judge(&claims(json!({})), None),
            ConfigurableClaim::Wrong(_)
        ));
        assert!(matches!(
            judge(&claims(json!({"iss": 5})), None),
            ConfigurableClaim::Wrong(_)
        ));
        let aud = |c: &Map<String, Value>| {
            judge_configurable_claim(c, "aud", None, origin, check_audience)
        };
        assert!(matches!(
            aud(&claims(json!({"aud": ["https://api.example.com"]}))),
            ConfigurableClaim::Undeclared(_)
        ));
        assert!(matches!(
            aud(&claims(json!({"aud": []}))),
            ConfigurableClaim::Wrong(_)
        ));
    }
    use aws_lc_rs::encoding::AsBigEndian;
    use aws_lc_rs::signature::KeyPair as _;

    const NOW: i64 = 1_795_433_417;

    /// A key pair made for one test, its public JWK, and a way to sign with it.
    enum TestKey {
        Ed25519(lc::Ed25519KeyPair),
        Ec(Alg, lc::EcdsaKeyPair),
        Rsa(Alg, lc::RsaKeyPair),
    }

    impl TestKey {
        fn new(alg: Alg) -> TestKey {
            match alg {
                Alg::EdDSA | Alg::Ed25519 => {
                    TestKey::Ed25519(lc::Ed25519KeyPair::generate().unwrap())
                }
                Alg::ES256 => TestKey::Ec(
                    alg,
                    lc::EcdsaKeyPair::generate(&lc::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
                ),
                Alg::ES384 => TestKey::Ec(
                    alg,
                    lc::EcdsaKeyPair::generate(&lc::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap(),
                ),
                Alg::ES512 => TestKey::Ec(
                    alg,
                    lc::EcdsaKeyPair::generate(&lc::ECDSA_P521_SHA512_FIXED_SIGNING).unwrap(),
                ),
                _ => TestKey::Rsa(
                    alg,
                    lc::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap(),
                ),
            }
        }

        /// The public JWK, as Better Auth publishes it.
        fn jwk(&self, alg: Alg, kid: &str) -> Value {
            match self {
                TestKey::Ed25519(pair) => json!({
                    "kty": "OKP", "crv": "Ed25519", "alg": alg.name(), "kid": kid,
                    "x": b64_encode(pair.public_key().as_ref()),
                }),
                TestKey::Ec(alg, pair) => {
                    let point = pair.public_key().as_ref();
                    let half = (point.len() - 1) / 2;
                    json!({
                        "kty": "EC", "crv": alg.key_type().1.unwrap(), "alg": alg.name(), "kid": kid,
                        "x": b64_encode(&point[1..1 + half]),
                        "y": b64_encode(&point[1 + half..]),
                    })
                }
                TestKey::Rsa(alg, pair) => {
                    let components =
                        aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                    json!({
                        "kty": "RSA", "alg": alg.name(), "kid": kid,
                        "n": b64_encode(&components.n), "e": b64_encode(&components.e),
                    })
                }
            }
        }

        /// The JWK with its private part (`d`), for the forging checks.
        fn private_jwk(&self, alg: Alg, kid: &str) -> Value {
            let mut jwk = self.jwk(alg, kid);
            let d = match self {
                TestKey::Ed25519(pair) => {
                    let seed: aws_lc_rs::encoding::Curve25519SeedBin =
                        pair.seed().unwrap().as_be_bytes().unwrap();
                    b64_encode(seed.as_ref())
                }
                TestKey::Ec(_, pair) => {
                    let d: aws_lc_rs::encoding::EcPrivateKeyBin =
                        pair.private_key().as_be_bytes().unwrap();
                    b64_encode(d.as_ref())
                }
                TestKey::Rsa(..) => panic!("RSA private JWKs are not exported in these tests"),
            };
            jwk["d"] = json!(d);
            jwk
        }

        /// Signs independently of the verifier under test: aws-lc-rs directly.
        fn sign_raw(&self, alg: Alg, message: &[u8]) -> Vec<u8> {
            let rng = SystemRandom::new();
            match self {
                TestKey::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
                TestKey::Ec(_, pair) => pair.sign(&rng, message).unwrap().as_ref().to_vec(),
                TestKey::Rsa(_, pair) => {
                    let encoding: &'static dyn lc::RsaEncoding = match alg {
                        Alg::RS256 => &lc::RSA_PKCS1_SHA256,
                        Alg::PS256 => &lc::RSA_PSS_SHA256,
                        Alg::RS512 => &lc::RSA_PKCS1_SHA512,
                        _ => panic!("no test encoding for {alg}"),
                    };
                    let mut signature = vec![0; pair.public_modulus_len()];
                    pair.sign(encoding, &rng, message, &mut signature).unwrap();
                    signature
                }
            }
        }

        fn sign(&self, header: &Value, claims: &Value) -> String {
            let alg = Alg::parse(header["alg"].as_str().unwrap()).unwrap();
            let input = format!(
                "{}.{}",
                b64_encode(header.to_string().as_bytes()),
                b64_encode(claims.to_string().as_bytes())
            );
            let signature = self.sign_raw(alg, input.as_bytes());
            format!("{input}.{}", b64_encode(&signature))
        }
    }

    fn claims() -> Value {
        json!({
            "iat": NOW, "exp": NOW + DEFAULT_LIFETIME_SECS,
            "id": "user-1", "email": "a@b.test", "name": "A",
            "sub": "user-1", "iss": "http://127.0.0.1:3000", "aud": "http://127.0.0.1:3000",
        })
    }

    fn cache_of(jwks: Value) -> JwksCache {
        JwksCache::new(&parse_jwks(&jwks).unwrap())
    }

    /// A fresh key for `alg`, a JWKS holding it under kid "k1", and a token it signed.
    fn signed(alg: Alg) -> (TestKey, JwksCache, String) {
        let key = TestKey::new(alg);
        let cache = cache_of(json!({"keys": [key.jwk(alg, "k1")]}));
        let token = key.sign(&json!({"alg": alg.name(), "kid": "k1"}), &claims());
        (key, cache, token)
    }

    fn flip_payload_byte(token: &str) -> String {
        let jwt = decode(token).unwrap();
        with_claims_kept_signature(&jwt, &altered_claims(&jwt.claims))
    }

    #[test]
    fn every_supported_algorithm_verifies_and_rejects_a_tampered_payload() {
        for alg in [
            Alg::EdDSA,
            Alg::Ed25519,
            Alg::ES256,
            Alg::ES384,
            Alg::ES512,
            Alg::RS256,
            Alg::PS256,
            Alg::RS512,
        ] {
            let (_, cache, token) = signed(alg);
            let verified = verify(&token, &cache).unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(verified.alg, alg);
            assert_eq!(verified.kid.as_deref(), Some("k1"));
            assert_eq!(verified.jwt.claim_str("sub"), Some("user-1"));

            let tampered = flip_payload_byte(&token);
            assert!(
                matches!(
                    verify(&tampered, &cache),
                    Err(JwtError::BadSignature { .. })
                ),
                "{alg}: a tampered payload verified"
            );
        }
    }

    #[test]
    fn keys_jsonwebtoken_verifies_are_prepared_once_when_the_jwks_is_read() {
        for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::PS256] {
            let (_, cache, token) = signed(alg);
            assert!(
                cache.get("k1").iter().all(|k| k.prepared.is_prepared()),
                "{alg}: the key was not prepared"
            );
            assert!(verify(&token, &cache).is_ok(), "{alg}");
        }
        // ES512 goes through aws-lc-rs: nothing to prepare, and it still verifies.
        let (_, cache, token) = signed(Alg::ES512);
        assert!(verify(&token, &cache).is_ok());
    }

    #[test]
    fn tokens_signed_by_jsonwebtoken_verify_too() {
        // Cross-check with jsonwebtoken's own encoder for the algorithms it signs.
        let ed = lc::Ed25519KeyPair::generate().unwrap();
        let ed_jwk = TestKey::Ed25519(
            lc::Ed25519KeyPair::from_pkcs8(ed.to_pkcs8().unwrap().as_ref()).unwrap(),
        )
        .jwk(Alg::EdDSA, "ed");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some("ed".into());
        let token = jsonwebtoken::encode(
            &header,
            &claims(),
            &jsonwebtoken::EncodingKey::from_ed_der(ed.to_pkcs8().unwrap().as_ref()),
        )
        .unwrap();
        verify(&token, &cache_of(json!({"keys": [ed_jwk]}))).unwrap();

        let ec = lc::EcdsaKeyPair::generate(&lc::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let pkcs8 = ec.to_pkcs8v1().unwrap();
        let ec_jwk = TestKey::Ec(Alg::ES256, ec).jwk(Alg::ES256, "ec");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("ec".into());
        let token = jsonwebtoken::encode(
            &header,
            &claims(),
            &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
        )
        .unwrap();
        verify(&token, &cache_of(json!({"keys": [ec_jwk]}))).unwrap();
    }

    #[test]
    fn a_kid_missing_from_the_jwks_is_named() {
        let key = TestKey::new(Alg::EdDSA);
        let cache = cache_of(json!({"keys": [key.jwk(Alg::EdDSA, "k1")]}));
        let token = key.sign(&json!({"alg": "EdDSA", "kid": "k2"}), &claims());
        match verify(&token, &cache) {
            Err(JwtError::UnknownKid { kid, known }) => {
                assert_eq!(kid, "k2");
                assert_eq!(known, "k1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_right_kid_on_another_key_fails() {
        // Same kid, different key material: the signature must not verify.
        let signer = TestKey::new(Alg::ES256);
        let published = TestKey::new(Alg::ES256);
        let cache = cache_of(json!({"keys": [published.jwk(Alg::ES256, "k1")]}));
        let token = signer.sign(&json!({"alg": "ES256", "kid": "k1"}), &claims());
        assert!(matches!(
            verify(&token, &cache),
            Err(JwtError::BadSignature { .. })
        ));
    }

    #[test]
    fn a_forged_signature_names_the_key_and_never_verifies() {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("ba-harness-forged"));
        let token = with_forged_signature("EdDSA", "key-1", &claims, 64);
        let decoded = decode(&token).unwrap();
        assert_eq!(decoded.alg(), Some("EdDSA"));
        assert_eq!(decoded.kid(), Some("key-1"));
        assert_eq!(decoded.claims, claims);
        let unsigned = unsecured(&claims);
        assert!(unsigned.ends_with('.'));
        assert_eq!(decode(&unsigned).unwrap().alg(), Some("none"));
    }

    #[test]
    fn alg_none_and_hmac_are_rejected_by_name() {
        let (_, cache, token) = signed(Alg::EdDSA);
        let jwt = decode(&token).unwrap();
        let unsigned = unsecured_copy(&jwt, &jwt.claims);
        assert_eq!(verify(&unsigned, &cache).unwrap_err(), JwtError::AlgNone);
        let header = b64_encode(br#"{"alg":"NONE","kid":"k1"}"#);
        let shouting = format!("{header}.{}.", jwt.signing_input.split('.').nth(1).unwrap());
        assert_eq!(verify(&shouting, &cache).unwrap_err(), JwtError::AlgNone);
        let hs = format!(
            "{}.{}.c2ln",
            b64_encode(br#"{"alg":"HS256","kid":"k1"}"#),
            b64_encode(b"{}")
        );
        assert_eq!(
            verify(&hs, &cache).unwrap_err(),
            JwtError::SymmetricAlg("HS256".into())
        );
        let odd = format!(
            "{}.{}.c2ln",
            b64_encode(br#"{"alg":"ES256K","kid":"k1"}"#),
            b64_encode(b"{}")
        );
        let error = verify(&odd, &cache).unwrap_err();
        assert_eq!(error, JwtError::UnsupportedAlg("ES256K".into()));
        assert!(error.to_string().contains("ES256K"));
    }

    #[test]
    fn a_header_alg_other_than_the_keys_alg_is_refused() {
        // An RSA key declared RS256, a token claiming PS256 (signed correctly with PSS).
        let key = TestKey::new(Alg::RS256);
        let cache = cache_of(json!({"keys": [key.jwk(Alg::RS256, "k1")]}));
        let token = key.sign(&json!({"alg": "PS256", "kid": "k1"}), &claims());
        assert!(matches!(
            verify(&token, &cache),
            Err(JwtError::AlgMismatch { ref header, ref key, .. }) if header == "PS256" && key == "RS256"
        ));
        // An OKP key cannot verify ES256 even when it declares it.
        let ed = TestKey::new(Alg::EdDSA);
        let cache = cache_of(json!({"keys": [ed.jwk(Alg::ES256, "k1")]}));
        let token = TestKey::new(Alg::ES256).sign(&json!({"alg": "ES256", "kid": "k1"}), &claims());
        assert!(matches!(
            verify(&token, &cache),
            Err(JwtError::KeyUnsuitable { .. })
        ));
    }

    #[test]
    fn a_der_ecdsa_signature_is_explained() {
        let (_, cache, token) = signed(Alg::ES256);
        let (input, _) = token.rsplit_once('.').unwrap();
        let der_sized = format!("{input}.{}", b64_encode(&[0x30; 71]));
        let error = verify(&der_sized, &cache).unwrap_err().to_string();
        assert!(
            error.contains("71 bytes") && error.contains("DER"),
            "{error}"
        );
    }

    #[test]
    fn without_a_kid_the_single_suitable_key_is_used() {
        let key = TestKey::new(Alg::EdDSA);
        let other = TestKey::new(Alg::ES256);
        let cache =
            cache_of(json!({"keys": [key.jwk(Alg::EdDSA, "k1"), other.jwk(Alg::ES256, "k2")]}));
        let token = key.sign(&json!({"alg": "EdDSA"}), &claims());
        assert_eq!(verify(&token, &cache).unwrap().kid.as_deref(), Some("k1"));
        let two = cache_of(
            json!({"keys": [key.jwk(Alg::EdDSA, "k1"), TestKey::new(Alg::EdDSA).jwk(Alg::EdDSA, "k3")]}),
        );
        assert_eq!(verify(&token, &two).unwrap_err(), JwtError::AmbiguousKey(2));
        assert_eq!(
            verify(&token, &JwksCache::default()).unwrap_err(),
            JwtError::EmptyJwks
        );
    }

    #[test]
    fn a_duplicate_kid_tries_each_key() {
        let key = TestKey::new(Alg::EdDSA);
        let jwks = parse_jwks(&json!({"keys": [
            TestKey::new(Alg::EdDSA).jwk(Alg::EdDSA, "k1"),
            key.jwk(Alg::EdDSA, "k1"),
        ]}))
        .unwrap();
        assert_eq!(jwks.duplicate_kids(), vec!["k1".to_string()]);
        let token = key.sign(&json!({"alg": "EdDSA", "kid": "k1"}), &claims());
        verify(&token, &JwksCache::new(&jwks)).unwrap();
    }

    #[test]
    fn malformed_tokens_say_why() {
        let cache = JwksCache::default();
        for (token, fragment) in [
            ("a.b", "2 dot-separated parts"),
            ("a.b.c.d.e", "5 is a JWE"),
            ("!!.e30.", "header is not unpadded base64url"),
            ("W10.e30.", "header is an array"),
            ("e30=.e30.", "header is not unpadded base64url"),
            ("e30.bm90IGpzb24.", "payload is not JSON"),
        ] {
            let error = verify(token, &cache).unwrap_err().to_string();
            assert!(error.contains(fragment), "{token}: {error}");
        }
        let no_alg = format!("{}.e30.", b64_encode(b"{}"));
        assert!(
            verify(&no_alg, &cache)
                .unwrap_err()
                .to_string()
                .contains("no alg")
        );
        let crit = format!("{}.e30.", b64_encode(br#"{"alg":"EdDSA","crit":["exp"]}"#));
        assert!(matches!(
            verify(&crit, &cache),
            Err(JwtError::CriticalHeader(_))
        ));
    }

    #[test]
    fn jwks_shape_problems_are_listed_per_key() {
        let good = TestKey::new(Alg::ES512).jwk(Alg::ES512, "k1");
        assert!(Jwk::from_value(&good).unwrap().shape_problems().is_empty());
        let rsa = TestKey::new(Alg::PS256).jwk(Alg::PS256, "k1");
        assert!(Jwk::from_value(&rsa).unwrap().shape_problems().is_empty());

        let mut no_x = TestKey::new(Alg::EdDSA).jwk(Alg::EdDSA, "k1");
        no_x.as_object_mut().unwrap().remove("x");
        let problems = Jwk::from_value(&no_x).unwrap().shape_problems();
        assert_eq!(problems, vec!["kty OKP needs `x`, which is missing"]);

        let bare = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"});
        let problems = Jwk::from_value(&bare).unwrap().shape_problems();
        assert!(problems.contains(&"no `kid`".to_string()), "{problems:?}");
        assert!(problems.contains(&"no `alg`".to_string()), "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("3 bytes, P-256 needs 32")),
            "{problems:?}"
        );

        let wrong_alg = TestKey::new(Alg::EdDSA).jwk(Alg::RS256, "k1");
        let problems = Jwk::from_value(&wrong_alg).unwrap().shape_problems();
        assert_eq!(
            problems,
            vec!["alg RS256 needs kty RSA, the key is kty OKP"]
        );

        let small = json!({"kty": "RSA", "kid": "k", "alg": "RS256", "n": b64_encode(&[0xff; 128]), "e": "AQAB"});
        let problems = Jwk::from_value(&small).unwrap().shape_problems();
        assert!(
            problems.iter().any(|p| p.contains("1024 bits")),
            "{problems:?}"
        );

        assert!(
            parse_jwks(&json!({"keys": {}}))
                .unwrap_err()
                .contains("not an array")
        );
        assert!(
            parse_jwks(&json!([]))
                .unwrap_err()
                .contains("without a `keys`")
        );
        assert!(
            parse_jwks(&json!({"keys": [1]}))
                .unwrap_err()
                .contains("keys[0]")
        );
    }

    #[test]
    fn private_material_is_found_and_lets_anyone_sign() {
        for alg in [Alg::EdDSA, Alg::ES256, Alg::ES512] {
            let key = TestKey::new(alg);
            let public = Jwk::from_value(&key.jwk(alg, "k1")).unwrap();
            assert!(public.private_members().is_empty());
            assert!(sign_with_published_private_key(&public, alg, &Map::new()).is_none());

            let leaked = Jwk::from_value(&key.private_jwk(alg, "k1")).unwrap();
            assert_eq!(leaked.private_members(), vec!["d"]);
            let forged_claims = altered_claims(claims().as_object().unwrap());
            let forged = sign_with_published_private_key(&leaked, alg, &forged_claims)
                .unwrap()
                .unwrap();
            let cache = JwksCache::new(&Jwks {
                keys: vec![leaked.clone()],
            });
            let verified = verify(&forged, &cache).unwrap();
            assert_eq!(verified.jwt.claim_str("sub"), Some("user-1-altered"));
        }
        let oct =
            Jwk::from_value(&json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "s"}))
                .unwrap();
        assert_eq!(oct.private_members(), vec!["k"]);
    }

    #[test]
    fn the_cache_is_keyed_by_kid_and_replaced_on_refetch() {
        let a = TestKey::new(Alg::EdDSA);
        let b = TestKey::new(Alg::EdDSA);
        let mut cache = cache_of(json!({"keys": [a.jwk(Alg::EdDSA, "a")]}));
        assert!(cache.contains("a") && !cache.contains("b"));
        let token = b.sign(&json!({"alg": "EdDSA", "kid": "b"}), &claims());
        assert!(matches!(
            verify(&token, &cache),
            Err(JwtError::UnknownKid { .. })
        ));
        cache.replace(
            &parse_jwks(&json!({"keys": [a.jwk(Alg::EdDSA, "a"), b.jwk(Alg::EdDSA, "b")]}))
                .unwrap(),
        );
        assert_eq!(cache.kids(), vec!["a", "b"]);
        assert_eq!(cache.len(), 2);
        verify(&token, &cache).unwrap();
    }

    #[test]
    fn claim_checks() {
        let c = claims();
        let c = c.as_object().unwrap();
        let origin = "http://127.0.0.1:3000";
        assert!(check_issuer(c, origin).is_ok());
        assert_eq!(
            check_issuer(c, "http://127.0.0.1:3000/api/auth").unwrap_err(),
            "iss \"http://127.0.0.1:3000\""
        );
        assert!(check_audience(c, origin).is_ok());
        let mut arr = c.clone();
        arr.insert("aud".into(), json!(["x", origin]));
        assert!(check_audience(&arr, origin).is_ok());
        arr.insert("aud".into(), json!(["x"]));
        assert_eq!(check_audience(&arr, origin).unwrap_err(), "aud [\"x\"]");
        arr.remove("aud");
        assert_eq!(check_audience(&arr, origin).unwrap_err(), "no `aud` claim");

        assert!(check_subject(c, "user-1").is_ok());
        assert!(check_subject(c, "user-2").is_err());
        assert!(check_email(c, "A@B.test").is_ok());
        assert!(check_email(c, "c@b.test").is_err());

        assert!(check_not_expired(c, NOW).is_ok());
        assert!(
            check_not_expired(c, NOW + DEFAULT_LIFETIME_SECS)
                .unwrap_err()
                .contains("0 s in the past")
        );
        assert!(check_issued_at(c, NOW, CLOCK_SKEW_SECS).is_ok());
        assert!(check_issued_at(c, NOW - 60, CLOCK_SKEW_SECS).is_ok());
        assert!(
            check_issued_at(c, NOW - 61, CLOCK_SKEW_SECS)
                .unwrap_err()
                .contains("61 s in the future")
        );
        assert!(check_lifetime(c, DEFAULT_LIFETIME_SECS).is_ok());
        assert!(
            check_lifetime(c, 3600)
                .unwrap_err()
                .starts_with("exp - iat = 900 s")
        );
        let mut text = c.clone();
        text.insert("exp".into(), json!("1795434317"));
        assert!(
            check_not_expired(&text, NOW)
                .unwrap_err()
                .contains("a NumericDate is a number")
        );
        let mut fractional = c.clone();
        fractional.insert("iat".into(), json!(NOW as f64 + 0.5));
        fractional.insert(
            "exp".into(),
            json!((NOW + DEFAULT_LIFETIME_SECS) as f64 + 0.5),
        );
        assert!(check_lifetime(&fractional, DEFAULT_LIFETIME_SECS).is_ok());
    }

    #[test]
    fn debug_output_carries_no_signature_or_key_material() {
        let (_, cache, token) = signed(Alg::EdDSA);
        let signature = token.rsplit_once('.').unwrap().1;
        let printed = format!("{:?} {:?}", decode(&token).unwrap(), cache);
        assert!(!printed.contains(signature), "{printed}");
        let key = TestKey::new(Alg::EdDSA).private_jwk(Alg::EdDSA, "k1");
        let printed = format!("{:?}", Jwk::from_value(&key).unwrap());
        assert!(!printed.contains(key["d"].as_str().unwrap()), "{printed}");
    }
}
