//! Booting the bundled Next.js app from targets/nextjs: install on first use (`npm ci`), build
//! once per variant and cache the build (rebuilt only when its sources or the lockfile change),
//! `next start` on a free loopback port, wait until it answers, stop it on drop.
//!
//! The app is a real Next.js 16 App Router app that mounts Better Auth as Better Auth's Next.js
//! guide does (route handler, server actions with `nextCookies()`, proxy.ts, a dashboard server
//! component). [`Variant::WithoutNextCookies`] is the same app built without `nextCookies()`,
//! the documented pitfall, into its own build folder; the harness's tests show the server-action
//! sign-in scenario failing against it.
//!
//! Every Node process of a build or a server gets `exit-with-parent.mjs` preloaded: it exits when
//! the harness (BA_HARNESS_PARENT_PID) is gone or when it was orphaned, so nothing outlives a
//! harness killed with SIGKILL. `npm ci` and `next build` also run in their own process group,
//! which is killed as a whole when the harness gives up on them.

use crate::bundled::{
    DirLock, Launch, RunFolder, ServerProcess, boot_io, check_node, installed_versions,
    npm_ci_once, require_sources, run_logged,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;
use url::Url;

use crate::bundled::targets_dir;
use crate::error::HarnessError;

/// `next build` with type checking (~25 s here; a minute on a cold disk).
const BUILD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The app's own sources: what a build depends on (besides node_modules, which follow the
/// lockfile). Folders are read recursively.
const BUILD_INPUTS: &[&str] = &[
    "app",
    "lib",
    "public",
    "proxy.ts",
    "instrumentation.ts",
    "next.config.ts",
    "tsconfig.json",
    "package.json",
    "package-lock.json",
];

/// Written into the build folder after a successful build: the fingerprint of its inputs.
const STAMP_FILE: &str = "ba-harness-build-stamp";

/// Which build of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// As Better Auth's guide says: `nextCookies()` last in the plugin list.
    WithNextCookies,
    /// Without `nextCookies()`: server actions that call `auth.api` set no cookie.
    WithoutNextCookies,
}

impl Variant {
    /// The `NEXT_COOKIES` switch next.config.ts inlines at build time.
    fn switch(self) -> &'static str {
        match self {
            Variant::WithNextCookies => "on",
            Variant::WithoutNextCookies => "off",
        }
    }

    /// The build folder next.config.ts picks for this variant.
    pub fn dist_dir(self) -> &'static str {
        match self {
            Variant::WithNextCookies => ".next",
            Variant::WithoutNextCookies => ".next-without-next-cookies",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Variant::WithNextCookies => "with nextCookies",
            Variant::WithoutNextCookies => "without nextCookies (the broken variant)",
        }
    }
}

/// How to boot the app.
#[derive(Clone, Debug)]
pub struct NextAppOptions {
    pub variant: Variant,
    /// The app's public URL (BETTER_AUTH_URL), when it sits behind a proxy; default its own
    /// `http://127.0.0.1:<port>`.
    pub public_url: Option<String>,
}

impl Default for NextAppOptions {
    fn default() -> Self {
        NextAppOptions {
            variant: Variant::WithNextCookies,
            public_url: None,
        }
    }
}

/// A running bundled Next.js app; dropping it kills the server.
pub struct NextApp {
    process: ServerProcess,
    /// Where the app is reached: its public URL (the proxy's, when given one).
    pub url: String,
    /// The port `next start` listens on, on 127.0.0.1.
    pub port: u16,
    /// The app's BETTER_AUTH_SECRET (random per boot, registered for redaction).
    pub secret: String,
    pub variant: Variant,
    /// `next <v>, better-auth <v>` as installed.
    pub version: String,
    /// Milliseconds from spawn to the first answer.
    pub startup_ms: u128,
}

/// The app's folder: targets/nextjs next to the bundled reference.
pub fn app_dir() -> PathBuf {
    crate::bundled::app_dir("nextjs")
}

impl NextApp {
    /// Installs (first use), builds (when needed) and starts the app with nextCookies.
    pub async fn boot() -> Result<Self, HarnessError> {
        Self::boot_with(&NextAppOptions::default()).await
    }

    pub async fn boot_with(options: &NextAppOptions) -> Result<Self, HarnessError> {
        // Unpacks the bundled sources on first use; reports why it could not.
        targets_dir()?;
        let dir = app_dir();
        require_sources(
            &dir,
            &["package.json", "next.config.ts"],
            "Next.js app",
            ", or give --next-app URL",
        )?;
        check_node(
            (20, 9),
            "the bundled Next.js app",
            "install Node.js 20.9 or newer (with npm), or give --next-app URL",
        )
        .await?;
        ensure_installed(&dir).await?;
        ensure_built(&dir, options.variant).await?;

        let Launch { port, url, secret } = Launch::new(options.public_url.as_deref())?;
        let run = RunFolder::create(&dir, port, "next.log")?;
        let database = run.dir.join("app.sqlite");
        let mut process = ServerProcess::spawn(
            node_command(&dir, options.variant)
                .args([
                    "start",
                    "--port",
                    &port.to_string(),
                    "--hostname",
                    "127.0.0.1",
                ])
                .env("BETTER_AUTH_URL", &url)
                .env("BETTER_AUTH_SECRET", &secret)
                .env("DATABASE_PATH", database),
            run,
            "`next start`",
            "install Node.js 20.9 or newer and make sure `node` is on PATH",
        )?;
        let exited_fix = format!(
            "{}; a broken build is fixed by deleting {}",
            process.read_the_log(),
            dir.join(options.variant.dist_dir()).display()
        );
        process
            .wait_answering(
                "the bundled Next.js app",
                &format!("http://127.0.0.1:{port}/api/auth/ok"),
                exited_fix,
            )
            .await?;
        Ok(NextApp {
            startup_ms: process.startup_ms(),
            process,
            url,
            port,
            secret,
            variant: options.variant,
            version: installed_versions(&dir, &["next", "better-auth"]),
        })
    }

    /// The app's public URL, parsed.
    pub fn app_url(&self) -> Url {
        Url::parse(&self.url).expect("the app URL is built from a port or given as a URL")
    }

    /// Stops the server and removes its run folder (database, log).
    pub async fn stop(self) {
        self.process.stop().await;
    }
}

/// `node node_modules/next/dist/bin/next …` in the app folder, with the environment every Next
/// process of the harness gets: production mode, no telemetry, the variant switch, the
/// exit-with-parent preload, and nothing inherited that would change what is checked.
fn node_command(dir: &Path, variant: Variant) -> Command {
    let mut command = Command::new("node");
    command
        .arg("node_modules/next/dist/bin/next")
        .current_dir(dir)
        .env("NODE_ENV", "production")
        .env("NEXT_TELEMETRY_DISABLED", "1")
        .env("NEXT_COOKIES", variant.switch())
        .env("BA_HARNESS_PARENT_PID", std::process::id().to_string())
        .env("NODE_OPTIONS", node_options(dir))
        // `TEST` (like NODE_ENV=test) silently turns Better Auth's origin checks off.
        .env_remove("TEST")
        .env_remove("NEXT_DIST_DIR")
        .env_remove("BETTER_AUTH_URL")
        .env_remove("BETTER_AUTH_SECRET")
        .env_remove("DATABASE_PATH")
        .stdin(Stdio::null());
    command
}

/// The caller's NODE_OPTIONS plus the exit-with-parent preload (a file URL: no quoting needed).
pub(crate) fn node_options(dir: &Path) -> String {
    let preload = Url::from_file_path(dir.join("exit-with-parent.mjs"))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| dir.join("exit-with-parent.mjs").display().to_string());
    let own = format!("--import={preload}");
    match std::env::var("NODE_OPTIONS") {
        Ok(existing) if !existing.trim().is_empty() => format!("{existing} {own}"),
        _ => own,
    }
}

// ---------------------------------------------------------------------------------------------
// Install

async fn ensure_installed(dir: &Path) -> Result<(), HarnessError> {
    npm_ci_once(dir, "the bundled Next.js app", || is_installed(dir)).await
}

fn is_installed(dir: &Path) -> bool {
    let marker = dir.join("node_modules/.package-lock.json");
    let required = [
        "node_modules/better-sqlite3/build/Release/better_sqlite3.node",
        "node_modules/next/dist/bin/next",
        "node_modules/typescript/package.json",
    ];
    let lock_time = fs::metadata(dir.join("package-lock.json")).and_then(|m| m.modified());
    let marker_time = fs::metadata(&marker).and_then(|m| m.modified());
    match (lock_time, marker_time) {
        (Ok(lock), Ok(installed)) => {
            installed >= lock && required.iter().all(|p| dir.join(p).is_file())
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Build

async fn ensure_built(dir: &Path, variant: Variant) -> Result<(), HarnessError> {
    let fingerprint = build_fingerprint(dir, variant)?;
    if is_built(dir, variant, &fingerprint) {
        return Ok(());
    }
    let lock_path = dir.join(format!(".build-lock{}", variant.dist_dir()));
    let _lock = DirLock::take(lock_path, BUILD_TIMEOUT, || {
        is_built(dir, variant, &fingerprint)
    })
    .await?;
    if is_built(dir, variant, &fingerprint) {
        return Ok(());
    }
    eprintln!(
        "ba-harness: building the bundled Next.js app {} (next build into {}; cached for later runs)…",
        variant.describe(),
        variant.dist_dir()
    );
    let started = Instant::now();
    let log = dir.join(format!("build{}.log", variant.dist_dir()));
    let mut command = node_command(dir, variant);
    command.arg("build");
    run_logged(
        &mut command,
        dir,
        &log,
        BUILD_TIMEOUT,
        "next build",
        "read the build log; a broken install is fixed by deleting node_modules",
    )
    .await?;
    let stamp = dir.join(variant.dist_dir()).join(STAMP_FILE);
    fs::write(&stamp, &fingerprint).map_err(|e| boot_io("write the build stamp", &stamp, e))?;
    eprintln!(
        "ba-harness: built the bundled Next.js app in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn is_built(dir: &Path, variant: Variant, fingerprint: &str) -> bool {
    let dist = dir.join(variant.dist_dir());
    dist.join("BUILD_ID").is_file()
        && fs::read_to_string(dist.join(STAMP_FILE)).is_ok_and(|s| s.trim() == fingerprint)
}

/// SHA-256 over the variant and every build input (relative path and content, in path order).
pub fn build_fingerprint(dir: &Path, variant: Variant) -> Result<String, HarnessError> {
    crate::bundled::sources_fingerprint(dir, BUILD_INPUTS, variant.switch())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_sources_and_variant() {
        let temp = crate::temp_dir::TempDir::new("next-fingerprint").unwrap();
        let dir = temp.path();
        fs::create_dir_all(dir.join("app")).unwrap();
        fs::write(dir.join("app/page.tsx"), "a").unwrap();
        fs::write(dir.join("package-lock.json"), "{}").unwrap();
        let first = build_fingerprint(dir, Variant::WithNextCookies).unwrap();
        assert_eq!(
            first,
            build_fingerprint(dir, Variant::WithNextCookies).unwrap()
        );
        assert_ne!(
            first,
            build_fingerprint(dir, Variant::WithoutNextCookies).unwrap()
        );
        // Build output and other folders do not count; a source change does.
        fs::create_dir_all(dir.join(".next")).unwrap();
        fs::write(dir.join(".next/BUILD_ID"), "x").unwrap();
        assert_eq!(
            first,
            build_fingerprint(dir, Variant::WithNextCookies).unwrap()
        );
        fs::write(dir.join("app/page.tsx"), "b").unwrap();
        assert_ne!(
            first,
            build_fingerprint(dir, Variant::WithNextCookies).unwrap()
        );
    }

    #[test]
    fn node_options_keep_the_callers_and_add_the_preload() {
        let options = node_options(Path::new("/srv/a b/nextjs"));
        assert!(
            options.ends_with("--import=file:///srv/a%20b/nextjs/exit-with-parent.mjs"),
            "{options}"
        );
    }
}
