//! Next.js page HTML: server-action form extraction, alerts, entities. Never a panic.
#![no_main]

use ba_harness::next::{
    action_url, alert_text, decode_entities, find_action_forms, parse_http_date, select_form,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let page = url::Url::parse("http://127.0.0.1:3000/sign-in").expect("a fixed URL parses");
    let forms = find_action_forms(&html);
    for form in &forms {
        let _ = form.action_id();
        let _ = form.describe();
        let _ = form.fill(&[("email", "a@b.test"), ("password", "x")]);
        let _ = action_url(&page, form);
    }
    let _ = select_form(&forms, &["email", "password"]);
    let _ = alert_text(&html);
    let _ = decode_entities(&html);
    let _ = parse_http_date(&html);
});
