//! `conform --apps …`: the whole suite against each bundled framework app, then the matrix.

use std::path::Path;
use std::time::Duration;

use crate::conform::ConformOptions;
use crate::error::HarnessError;
use crate::framework_app::{Framework, FrameworkApp, FrameworkAppOptions};
use crate::report::RunReport;

/// The environment the bundled apps get in a matrix run: the same short cookie cache and
/// updateAge as the bundled reference, so the cookie-cache and session-refresh features run.
const MATRIX_ENV: &[(&str, &str)] = &[("COOKIE_CACHE_MAX_AGE", "6"), ("SESSION_UPDATE_AGE", "3")];

/// `conform --apps …`: boots the listed bundled apps (in parallel), runs the whole suite against
/// each as its own target, one after the other, prints each summary and then the matrix of
/// feature areas (rows) by target (columns), the bundled reference's run first. With `json`,
/// each app's report goes next to it as `<stem>-<app>.json`. True when every app's run passed.
pub(crate) async fn run_apps(
    apps: &[Framework],
    options: &ConformOptions,
    timeout: Duration,
    reference: &RunReport,
    json: Option<&Path>,
) -> Result<bool, HarnessError> {
    let mut unique: Vec<Framework> = Vec::new();
    for app in apps {
        if !unique.contains(app) {
            unique.push(*app);
        }
    }
    if unique.is_empty() {
        return Ok(true);
    }
    eprintln!(
        "ba-harness: starting the bundled framework apps: {}…",
        unique
            .iter()
            .map(|f| format!("{} (targets/{})", f.name(), f.dir_name()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let booted = futures::future::join_all(unique.iter().map(|framework| {
        let mut options = FrameworkAppOptions::new(*framework);
        options.env = MATRIX_ENV
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        async move { FrameworkApp::boot_with(&options).await }
    }))
    .await;
    // Any failure stops them all (the booted ones by their drop).
    let booted = booted.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut reports: Vec<(String, RunReport)> = Vec::new();
    for app in booted {
        let mut target = app.target(timeout)?;
        target.declare_configured_capabilities();
        println!(
            "\nba-harness conform: {} (started in {} ms)",
            target.description, app.startup_ms
        );
        let result = crate::conform::run(target, options).await;
        let name = app.framework.name().to_string();
        app.stop().await;
        let report = result?;
        println!("{}", report.summary());
        if let Some(path) = json {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let app_path = path.with_file_name(format!("{stem}-{name}.json"));
            report.write_json(&app_path)?;
            println!("JSON report: {}", app_path.display());
        }
        reports.push((name, report));
    }
    let mut columns: Vec<(&str, &RunReport)> = vec![("reference", reference)];
    columns.extend(reports.iter().map(|(n, r)| (n.as_str(), r)));
    println!(
        "\nFramework matrix (passed/failed/skipped per feature area; +Nw SHOULD warnings, +Nd known deviations):\n"
    );
    println!("{}", crate::report::matrix::render_reports(&columns));
    Ok(reports.iter().all(|(_, r)| r.passed()))
}
