//! Load beyond one process: three `load --worker I/3` processes against one bundled reference
//! (started here, on loopback, rate limits off), their measured windows started together with
//! `--start-at`, then `load merge`. The merged counts must be the workers' sums exactly, and its
//! percentiles must come from the merged histograms; one process running the same total users
//! is run beside it for comparison. Bounded to about half a minute.

mod mutating_proxy;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use ba_harness::reference::ReferenceServer;
use serde_json::Value;

use mutating_proxy::harness::{self, text};

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ba-harness-workers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn report(path: &Path) -> Value {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["ba_harness"].clone()
}

const GET: &str = "GET /api/auth/get-session";
const USERS: &str = "6";
const RUN_TIME: &str = "3s";

fn load(target: &str, extra: &[&str]) -> std::process::Child {
    harness::blocking_command()
        .args([
            "load",
            "--scenario",
            "get-session",
            "--target",
            target,
            "--users",
            USERS,
            "--run-time",
            RUN_TIME,
            "--sign-in-rate",
            "0",
            "--progress-every",
            "0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_merged_match_the_sums_and_one_process() {
    let server = ReferenceServer::boot(&[("RATE_LIMIT", "off")])
        .await
        .expect("the bundled reference boots");
    let target = server.ready.base_url.clone();
    let dir = dir();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Time for three processes to sign two users each up and in on 2 cores.
    let start_at = (now + 12).to_string();
    let workers: Vec<(PathBuf, std::process::Child)> = (0..3)
        .map(|i| {
            let json = dir.join(format!("worker-{i}.json"));
            let worker = format!("{i}/3");
            let child = load(
                &target,
                &[
                    "--worker",
                    &worker,
                    "--start-at",
                    &start_at,
                    "--report",
                    json.to_str().unwrap(),
                ],
            );
            (json, child)
        })
        .collect();
    let mut parts = Vec::new();
    for (json, child) in workers {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert!(text(&output).contains("users"), "{}", text(&output));
        parts.push((json, report_of(&output)));
    }
    let merged_json = dir.join("merged.json");
    let merged_html = dir.join("merged.html");
    let mut args: Vec<String> = vec!["load".into(), "merge".into()];
    args.extend(parts.iter().map(|(p, _)| p.display().to_string()));
    args.extend([
        "--report".into(),
        merged_json.display().to_string(),
        "--report".into(),
        merged_html.display().to_string(),
    ]);
    let output = harness::blocking_command().args(&args).output().unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("merged 3 worker reports"), "{all}");

    let workers: Vec<Value> = parts.iter().map(|(p, _)| report(p)).collect();
    let merged = report(&merged_json);
    // Each worker ran its share: 2 users each, numbered apart.
    for (i, w) in workers.iter().enumerate() {
        assert_eq!(w["users"], 2, "worker {i}");
        assert_eq!(w["worker"]["index"], i as u64);
    }
    // Counts: exactly the sums.
    let sum = |f: &dyn Fn(&Value) -> u64| workers.iter().map(f).sum::<u64>();
    let requests = sum(&|w| w["observed"]["requests"].as_u64().unwrap());
    assert!(requests > 0);
    assert_eq!(merged["observed"]["requests"].as_u64(), Some(requests));
    assert_eq!(
        merged["observed"]["failures"].as_u64(),
        Some(sum(&|w| w["observed"]["failures"].as_u64().unwrap()))
    );
    assert_eq!(merged["users"], 6);
    let counter = |w: &Value| w["histograms"][GET]["raw"]["counter"].as_u64().unwrap();
    assert_eq!(counter(&merged), sum(&|w| counter(w)));
    // Percentiles from the merged histogram: never outside the workers' own range (bucket
    // precision aside, under 0.8%).
    let row = |w: &Value| -> (f64, f64) {
        let r = w["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["request"] == GET)
            .unwrap()
            .clone();
        (r["p50_ms"].as_f64().unwrap(), r["p95_ms"].as_f64().unwrap())
    };
    let (p50, p95) = row(&merged);
    for (k, merged_value) in [(0, p50), (1, p95)] {
        let values: Vec<f64> = workers
            .iter()
            .map(|w| if k == 0 { row(w).0 } else { row(w).1 })
            .collect();
        let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = values.iter().cloned().fold(0.0, f64::max);
        assert!(
            merged_value >= lo * 0.99 && merged_value <= hi * 1.01,
            "merged {merged_value} outside the workers' {values:?}"
        );
    }
    // The windows overlapped: the workers started together.
    let starts: Vec<i64> = workers
        .iter()
        .map(|w| w["window_start_unix_ms"].as_i64().unwrap())
        .collect();
    let spread = starts.iter().max().unwrap() - starts.iter().min().unwrap();
    assert!(spread < 1500, "measured windows start {spread} ms apart");
    let html = std::fs::read_to_string(&merged_html).unwrap();
    assert!(html.contains("<h2>Workers</h2>") && !html.contains("<script"));

    // A report given twice is refused (exit 2), as is an incomplete set.
    let w0 = parts[0].0.display().to_string();
    let w1 = parts[1].0.display().to_string();
    let output = harness::blocking_command()
        .args(["load", "merge", &w0, &w0, &w1])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("twice"), "{}", text(&output));
    let output = harness::blocking_command()
        .args(["load", "merge", &w0, &w1])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("2/3 missing"), "{}", text(&output));

    // One process with the same 6 users against the same server, for comparison.
    let single_json = dir.join("single.json");
    let child = load(&target, &["--report", single_json.to_str().unwrap()]);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let single = report(&single_json);
    let (s50, s95) = row(&single);
    println!(
        "merged: {requests} requests, p50 {p50:.3} ms, p95 {p95:.3} ms; one process: {} requests, p50 {s50:.3} ms, p95 {s95:.3} ms",
        single["observed"]["requests"]
    );
    // Two runs on a shared 2-core machine: the same order of magnitude, not the same figure.
    for (m, s) in [(p50, s50), (p95, s95)] {
        assert!(m < s * 4.0 && s < m * 4.0, "merged {m} vs one process {s}");
    }
    server.stop().await;
}

fn report_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}
