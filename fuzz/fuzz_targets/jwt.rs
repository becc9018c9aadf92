//! JWT and JWKS inputs: the bytes up to the first NUL are a compact JWS, the rest a JWKS
//! document. Decoding, JWKS parsing and verification must never panic, and random input must
//! never verify.
#![no_main]

use ba_harness::protocol::jwt::{self, JwksCache, parse_jwks};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (token, jwks) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let token = String::from_utf8_lossy(token);
    let _ = jwt::decode(&token);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(jwks) else {
        return;
    };
    let Ok(jwks) = parse_jwks(&value) else {
        return;
    };
    for key in &jwks.keys {
        let _ = key.shape_problems();
        let _ = key.describe();
    }
    let _ = jwks.duplicate_kids();
    let cache = JwksCache::new(&jwks);
    let _ = jwt::verify(&token, &cache);
});
