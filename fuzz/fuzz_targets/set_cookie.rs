//! Set-Cookie lines and the values in them: parsing, fold detection, signed values, the
//! cookie cache, redaction. Nothing may panic on any input.
#![no_main]

use ba_harness::protocol::cookie::{
    SetCookie, encode_cookie_value, folded_cookie_names, invalid_value_chars, split_signed_value,
    tamper_signature,
};
use ba_harness::protocol::cookie_cache::{encoding_of, forge_cached_email};
use ba_harness::redact::{redact_header, redact_set_cookie};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Headers reach the harness as lossily decoded text.
    let line = String::from_utf8_lossy(data);
    let _ = folded_cookie_names(&line);
    let _ = redact_set_cookie(&line);
    let _ = redact_header("cookie", &line);
    if let Ok(cookie) = SetCookie::parse(&line) {
        assert!(!cookie.name.is_empty());
        let decoded = cookie.decoded_value();
        let _ = invalid_value_chars(&cookie.value);
        if let Ok(signed) = split_signed_value(&decoded) {
            let _ = tamper_signature(&signed);
        }
        let _ = encoding_of(&cookie.value);
        let _ = forge_cached_email(&cookie.value, "forged@ba-harness.test");
        let _ = encode_cookie_value(&decoded);
    }
});
