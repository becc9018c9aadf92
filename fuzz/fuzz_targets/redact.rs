//! Redaction of any header or body text: never a panic.
#![no_main]

use ba_harness::redact::{mask_jwts, redact_body, redact_header, scrub_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = redact_body(&text);
    let _ = mask_jwts(&text);
    let _ = scrub_text(&text);
    for name in [
        "set-cookie",
        "cookie",
        "location",
        "authorization",
        "set-auth-token",
        "x",
    ] {
        let _ = redact_header(name, &text);
    }
});
