//! The snapshot normaliser on any text and any JSON body. Never a panic.
#![no_main]

use ba_harness::snapshot::{normalise_json, normalise_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = normalise_text(&text);
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) {
        normalise_json(&mut value);
    }
});
