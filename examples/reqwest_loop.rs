//! Baseline for benches/load-vs-wrk.sh: the get-session loop of `ba-harness load` without goose.
//! Same client settings as a virtual user's (reqwest, no redirects, no gzip, a timeout), same
//! per-response check (`ba_harness::load::get_session::check_answer`), N tasks on the same tokio
//! runtime kind; only goose's scheduling and per-request metrics are missing. The difference to
//! `ba-harness load` is what goose costs per request.
//!
//!   cargo run --release --example reqwest_loop -- http://127.0.0.1:18088 8 10
//!
//! Prints one JSON line: requests, failures, seconds, per_second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ba_harness::load::get_session::check_answer;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let origin = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:18088".into());
    let users: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let url = reqwest::Url::parse(&format!("{origin}/api/auth/get-session")).unwrap();
    let requests = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..users)
        .map(|_| {
            let (url, requests, failures) = (url.clone(), requests.clone(), failures.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(15))
                    .no_gzip()
                    .tls_certs_only([])
                    .build()
                    .unwrap();
                let mut cookie = reqwest::header::HeaderValue::from_static(
                    "better-auth.session_token=canned-session-token.c2lnbmF0dXJl",
                );
                cookie.set_sensitive(true);
                while Instant::now() < deadline {
                    let ok = match client
                        .get(url.clone())
                        .header(reqwest::header::COOKIE, cookie.clone())
                        .send()
                        .await
                    {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            match response.bytes().await {
                                Ok(body) => check_answer(status, &body, "canned-user").is_ok(),
                                Err(_) => false,
                            }
                        }
                        Err(_) => false,
                    };
                    requests.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = requests.load(Ordering::Relaxed);
    println!(
        "{{\"requests\": {n}, \"failures\": {}, \"seconds\": {elapsed:.3}, \"per_second\": {:.1}}}",
        failures.load(Ordering::Relaxed),
        n as f64 / elapsed
    );
}
