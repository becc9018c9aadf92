//! PKCE (RFC 7636): code verifiers and S256 challenges.
//!
//! A verifier is 43 to 128 characters from the unreserved set `[A-Z] [a-z] [0-9] - . _ ~`
//! (§4.1); the S256 challenge is `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))` without
//! padding (§4.2). `plain` is not offered here: OAuth 2.1 forbids it for clients that can do
//! S256, and the harness checks that servers refuse it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest, Sha256};

/// Shortest verifier RFC 7636 §4.1 allows.
pub const VERIFIER_MIN_LEN: usize = 43;
/// Longest verifier RFC 7636 §4.1 allows.
pub const VERIFIER_MAX_LEN: usize = 128;
/// The length the harness uses: 64 characters, ~380 bits of entropy.
pub const DEFAULT_VERIFIER_LEN: usize = 64;

/// RFC 3986 unreserved characters, the verifier's alphabet.
const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error(
        "a code_verifier must be {VERIFIER_MIN_LEN} to {VERIFIER_MAX_LEN} characters long, not {0}"
    )]
    Length(usize),
    #[error("a code_verifier may only use A-Z a-z 0-9 - . _ ~ (found {0:?})")]
    Character(char),
}

/// A fresh random verifier of `len` characters (43..=128).
pub fn generate_verifier_of_len(len: usize) -> Result<String, PkceError> {
    if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&len) {
        return Err(PkceError::Length(len));
    }
    let mut rng = rand::rng();
    Ok((0..len)
        .map(|_| UNRESERVED[rng.random_range(0..UNRESERVED.len())] as char)
        .collect())
}

/// A fresh random verifier of [`DEFAULT_VERIFIER_LEN`] characters.
pub fn generate_verifier() -> String {
    generate_verifier_of_len(DEFAULT_VERIFIER_LEN).expect("the default length is in range")
}

/// Checks a verifier against RFC 7636 §4.1.
pub fn validate_verifier(verifier: &str) -> Result<(), PkceError> {
    if let Some(c) = verifier
        .chars()
        .find(|c| !c.is_ascii() || !UNRESERVED.contains(&(*c as u8)))
    {
        return Err(PkceError::Character(c));
    }
    let len = verifier.len();
    if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&len) {
        return Err(PkceError::Length(len));
    }
    Ok(())
}

/// The S256 code challenge of `verifier`: base64url without padding of its SHA-256.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A verifier and its S256 challenge, made together for one authorization request.
#[derive(Clone, PartialEq, Eq)]
pub struct PkcePair {
    pub verifier: String,
    pub challenge: String,
}

impl PkcePair {
    /// A fresh pair. The verifier is a secret: callers register it with the redaction registry
    /// before it can reach any output.
    pub fn generate() -> Self {
        Self::from_verifier(generate_verifier())
    }

    pub fn from_verifier(verifier: String) -> Self {
        let challenge = s256_challenge(&verifier);
        PkcePair {
            verifier,
            challenge,
        }
    }

    /// Always `S256` (RFC 7636 §4.3).
    pub fn method(&self) -> &'static str {
        "S256"
    }
}

// The verifier is a secret: never in a Debug print.
impl std::fmt::Debug for PkcePair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkcePair")
            .field("verifier", &"[redacted]")
            .field("challenge", &self.challenge)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_valid_and_distinct() {
        let a = generate_verifier();
        let b = generate_verifier();
        assert_eq!(a.len(), DEFAULT_VERIFIER_LEN);
        assert_ne!(a, b);
        validate_verifier(&a).unwrap();
        for len in [VERIFIER_MIN_LEN, VERIFIER_MAX_LEN] {
            let v = generate_verifier_of_len(len).unwrap();
            assert_eq!(v.len(), len);
            validate_verifier(&v).unwrap();
        }
    }

    #[test]
    fn lengths_outside_43_to_128_are_refused() {
        assert_eq!(generate_verifier_of_len(42), Err(PkceError::Length(42)));
        assert_eq!(generate_verifier_of_len(129), Err(PkceError::Length(129)));
        assert_eq!(
            validate_verifier(&"a".repeat(42)),
            Err(PkceError::Length(42))
        );
        assert!(validate_verifier(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn reserved_characters_are_refused() {
        let mut v = "a".repeat(50);
        v.push('+');
        assert_eq!(validate_verifier(&v), Err(PkceError::Character('+')));
        let mut v = "a".repeat(50);
        v.push('é');
        assert_eq!(validate_verifier(&v), Err(PkceError::Character('é')));
        assert!(validate_verifier(&format!("{}-._~", "Az09".repeat(11))).is_ok());
    }

    #[test]
    fn challenges_are_43_char_base64url_without_padding() {
        let pair = PkcePair::generate();
        assert_eq!(pair.challenge.len(), 43);
        assert!(
            pair.challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(pair.method(), "S256");
        assert!(!format!("{pair:?}").contains(&pair.verifier));
    }
}
