//! Microbenchmark (not a test): JWT verification inside the harness's own load path against the
//! raw signature verification of the same backend, per algorithm, on one core.
//!
//! - harness path: `ba_harness::load::jwt_verification::verify_for_user`, exactly what each
//!   jwt-verification request runs: JWKS lookup by kid (`protocol::jwt::JwksCache`), compact-JWS
//!   decoding, signature verification through `protocol::jwt::verify` (jsonwebtoken with
//!   aws-lc-rs; ES512 through aws-lc-rs directly), then iss, aud, exp and sub checks;
//! - raw: `jsonwebtoken::crypto::verify` on the signing input with a `DecodingKey` built once
//!   (ES512: aws-lc-rs `UnparsedPublicKey::verify`), nothing else.
//!
//! Where the difference goes is measured too: decoding the token (base64 + JSON of header and
//! claims), turning the JWK into a `DecodingKey` (the harness does it per verification), and
//! the claim checks.
//!
//!   cargo run --release --example jwt_verify_bench [-- SECONDS_PER_CASE]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, KeyPair as _, UnparsedPublicKey};
use ba_harness::load::jwt_verification::{ExpectedClaims, verify_for_user};
use ba_harness::protocol::jwt::{self, JwksCache};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const ORIGIN: &str = "http://127.0.0.1:3000";
const SUB: &str = "bench-user-0123456789";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

enum Key {
    Ed(lc::Ed25519KeyPair),
    Ec(lc::EcdsaKeyPair),
    Rsa(lc::RsaKeyPair),
}

struct Case {
    alg: &'static str,
    key: Key,
}

impl Case {
    fn new(alg: &'static str) -> Case {
        let key = match alg {
            "EdDSA" => Key::Ed(lc::Ed25519KeyPair::generate().unwrap()),
            "ES256" => {
                Key::Ec(lc::EcdsaKeyPair::generate(&lc::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
            }
            "ES384" => {
                Key::Ec(lc::EcdsaKeyPair::generate(&lc::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap())
            }
            "ES512" => {
                Key::Ec(lc::EcdsaKeyPair::generate(&lc::ECDSA_P521_SHA512_FIXED_SIGNING).unwrap())
            }
            _ => Key::Rsa(lc::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap()),
        };
        Case { alg, key }
    }

    fn jwk(&self) -> Value {
        match &self.key {
            Key::Ed(pair) => json!({"kty": "OKP", "crv": "Ed25519", "alg": self.alg, "kid": "k1",
                "x": b64(pair.public_key().as_ref())}),
            Key::Ec(pair) => {
                let point = pair.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                let crv = match self.alg {
                    "ES256" => "P-256",
                    "ES384" => "P-384",
                    _ => "P-521",
                };
                json!({"kty": "EC", "crv": crv, "alg": self.alg, "kid": "k1",
                    "x": b64(&point[1..1 + half]), "y": b64(&point[1 + half..])})
            }
            Key::Rsa(pair) => {
                let c = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "alg": self.alg, "kid": "k1", "n": b64(&c.n), "e": b64(&c.e)})
            }
        }
    }

    /// A token like Better Auth's jwt plugin issues.
    fn token(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"alg": self.alg, "kid": "k1"});
        let claims = json!({"iat": now, "exp": now + 900, "id": SUB, "email": "bench@ba-harness.test",
            "name": "Bench User", "emailVerified": false, "sub": SUB, "iss": ORIGIN, "aud": ORIGIN});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let signature = match &self.key {
            Key::Ed(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            Key::Ec(pair) => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Key::Rsa(pair) => {
                let encoding: &'static dyn lc::RsaEncoding = match self.alg {
                    "RS256" => &lc::RSA_PKCS1_SHA256,
                    "PS256" => &lc::RSA_PSS_SHA256,
                    _ => unreachable!(),
                };
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(encoding, &rng, input.as_bytes(), &mut signature)
                    .unwrap();
                signature
            }
        };
        format!("{input}.{}", b64(&signature))
    }
}

/// Runs `f` for about `budget`, returns calls per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..200 {
        f();
    }
    let started = Instant::now();
    let mut calls: u64 = 0;
    while started.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        calls += 100;
    }
    calls as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(secs);
    println!("JWT verification, one thread, {secs} s per case (verifies/s; ratio = harness / raw)");
    println!(
        "| alg | raw verify/s | harness path/s | ratio | µs raw | µs harness | of which: decode µs | JWK→key µs | claims µs |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let expected = ExpectedClaims::new(ORIGIN, None, None);
    for alg in ["EdDSA", "ES256", "ES384", "ES512", "RS256", "PS256"] {
        let case = Case::new(alg);
        let jwk_value = case.jwk();
        let cache =
            JwksCache::new(&jwt::parse_jwks(&json!({"keys": [jwk_value.clone()]})).unwrap());
        let token = case.token();
        // The harness path must accept the token, or the figure means nothing.
        verify_for_user(&token, &cache, &expected, SUB)
            .0
            .expect("the harness verifies it");

        let (input, signature_b64) = token.rsplit_once('.').unwrap();
        let raw: Box<dyn FnMut()> = if alg == "ES512" {
            let point = {
                let j = &jwk_value;
                let mut p = vec![0x04];
                p.extend(URL_SAFE_NO_PAD.decode(j["x"].as_str().unwrap()).unwrap());
                p.extend(URL_SAFE_NO_PAD.decode(j["y"].as_str().unwrap()).unwrap());
                p
            };
            let signature = URL_SAFE_NO_PAD.decode(signature_b64).unwrap();
            Box::new(move || {
                let key = UnparsedPublicKey::new(&lc::ECDSA_P521_SHA512_FIXED, &point);
                assert!(black_box(key.verify(input.as_bytes(), &signature)).is_ok());
            })
        } else {
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk_value.clone()).unwrap();
            let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let algorithm: jsonwebtoken::Algorithm = alg.parse().unwrap();
            Box::new(move || {
                assert!(black_box(
                    jsonwebtoken::crypto::verify(signature_b64, input.as_bytes(), &key, algorithm)
                        .unwrap()
                ));
            })
        };
        let raw_rate = rate(budget, raw);
        let harness_rate = rate(budget, || {
            assert!(
                black_box(verify_for_user(&token, &cache, &expected, SUB))
                    .0
                    .is_ok()
            );
        });
        // Where the difference goes.
        let decode_rate = rate(budget / 4, || {
            black_box(jwt::decode(&token).unwrap());
        });
        let jwk_rate = if alg == "ES512" {
            f64::INFINITY
        } else {
            let raw_jwk = jwk_value.as_object().unwrap().clone();
            rate(budget / 4, || {
                let jwk: jsonwebtoken::jwk::Jwk =
                    serde_json::from_value(Value::Object(raw_jwk.clone())).unwrap();
                black_box(jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap());
            })
        };
        let verified = jwt::verify(&token, &cache).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let claims_rate = rate(budget / 4, || {
            let c = &verified.jwt.claims;
            black_box(jwt::check_issuer(c, ORIGIN).is_ok());
            black_box(jwt::check_audience(c, ORIGIN).is_ok());
            black_box(jwt::check_not_expired(c, now).is_ok());
            black_box(jwt::check_subject(c, SUB).is_ok());
        });
        let us = |r: f64| 1e6 / r;
        println!(
            "| {alg} | {raw_rate:.0} | {harness_rate:.0} | {:.2}× | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} |",
            harness_rate / raw_rate,
            us(raw_rate),
            us(harness_rate),
            us(decode_rate),
            us(jwk_rate),
            us(claims_rate),
        );
    }
}
