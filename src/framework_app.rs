//! Booting the bundled framework apps (targets/express, targets/nestjs, targets/tanstack-start):
//! one module for all of them. Each is a real app of its framework that mounts Better Auth at
//! `/api/auth` as Better Auth's integration guide for that framework says, pinned by its
//! package-lock.json. The harness installs it on first use (`npm ci`), builds it when the
//! framework needs a build (cached by a fingerprint of its sources), starts it on a free loopback
//! port, waits until `/api/auth/ok` answers, and stops it on drop.
//!
//! Every app has one switch that reproduces its framework's documented pitfall
//! ([`FrameworkAppOptions::pitfall`]); the harness's own tests (tests/framework_rules.rs) show
//! which scenarios fail against it.
//!
//! The process plumbing (logged, bounded, process-group installs and builds; the
//! exit-with-parent preload; folder locks) is shared with the Next.js app (`next_app`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::bundled::{
    DirLock, Launch, RunFolder, ServerProcess, boot_io, installed_versions, npm_ci_once,
    require_sources, run_logged, sources_fingerprint,
};
use crate::bundled::{targets_dir, targets_dir_or_default};
use crate::error::HarnessError;
use crate::next_app::node_options;
use crate::target::Target;

/// The framework's build (tsc, vite).
const BUILD_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Written into the build folder after a successful build: the fingerprint of its inputs.
const STAMP_FILE: &str = "ba-harness-build-stamp";

pub use crate::target::TargetKind;

/// A bundled framework app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Framework {
    Express,
    Nestjs,
    TanstackStart,
}

/// How one framework app is installed, built and started.
struct Spec {
    /// Folder under targets/.
    dir: &'static str,
    /// Human name for progress lines and errors.
    title: &'static str,
    /// Files that exist once `npm ci` has run (besides node_modules/.package-lock.json).
    installed: &'static [&'static str],
    /// The build command (node + args, run in the app folder) and its inputs, when the app
    /// needs one; its output goes to `build_dir`.
    build: Option<Build>,
    /// `node` arguments that start the server (PORT and the rest come from the environment).
    start: &'static [&'static str],
    /// The environment switch and value that reproduce the framework's documented pitfall.
    pitfall: (&'static str, &'static str),
    /// What the pitfall is, for progress lines.
    pitfall_title: &'static str,
    /// Packages whose installed versions describe the app.
    versions: &'static [&'static str],
}

struct Build {
    args: &'static [&'static str],
    inputs: &'static [&'static str],
    out_dir: &'static str,
}

impl Framework {
    pub const ALL: [Framework; 3] = [
        Framework::Express,
        Framework::Nestjs,
        Framework::TanstackStart,
    ];

    pub fn kind(self) -> TargetKind {
        match self {
            Framework::Express => TargetKind::Express,
            Framework::Nestjs => TargetKind::Nestjs,
            Framework::TanstackStart => TargetKind::TanstackStart,
        }
    }

    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// Its folder under targets/.
    pub fn dir_name(self) -> &'static str {
        self.spec().dir
    }

    fn spec(self) -> Spec {
        match self {
            Framework::Express => Spec {
                dir: "express",
                title: "Express app",
                installed: &[
                    "node_modules/better-sqlite3/build/Release/better_sqlite3.node",
                    "node_modules/express/package.json",
                ],
                build: None,
                start: &["server.mjs"],
                pitfall: ("EXPRESS_JSON", "before-handler"),
                pitfall_title: "with express.json() mounted before the auth handler",
                versions: &["express", "better-auth"],
            },
            Framework::Nestjs => Spec {
                dir: "nestjs",
                title: "NestJS app",
                installed: &[
                    "node_modules/better-sqlite3/build/Release/better_sqlite3.node",
                    "node_modules/@nestjs/core/package.json",
                    "node_modules/typescript/bin/tsc",
                ],
                build: Some(Build {
                    args: &["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"],
                    inputs: &["src", "tsconfig.json", "package.json", "package-lock.json"],
                    out_dir: "dist",
                }),
                start: &["dist/main.js"],
                pitfall: ("NEST_BODY_PARSER", "on"),
                pitfall_title: "with Nest's own body parser left on",
                versions: &[
                    "@nestjs/core",
                    "@thallesp/nestjs-better-auth",
                    "better-auth",
                ],
            },
            Framework::TanstackStart => Spec {
                dir: "tanstack-start",
                title: "TanStack Start app",
                installed: &[
                    "node_modules/better-sqlite3/build/Release/better_sqlite3.node",
                    "node_modules/vite/bin/vite.js",
                ],
                build: Some(Build {
                    args: &["node_modules/vite/bin/vite.js", "build"],
                    inputs: &[
                        "src",
                        "vite.config.ts",
                        "tsconfig.json",
                        "package.json",
                        "package-lock.json",
                    ],
                    out_dir: "dist",
                }),
                start: &["server.mjs"],
                pitfall: ("TANSTACK_COOKIES", "off"),
                pitfall_title: "without tanstackStartCookies()",
                versions: &["@tanstack/react-start", "better-auth"],
            },
        }
    }

    /// The app's folder under targets/.
    pub fn dir(self) -> PathBuf {
        let dir = targets_dir_or_default().join(self.spec().dir);
        std::path::absolute(&dir).unwrap_or(dir)
    }
}

/// How to boot a framework app.
#[derive(Clone, Debug)]
pub struct FrameworkAppOptions {
    pub framework: Framework,
    /// Start it with its framework's documented pitfall switched on (the broken variant).
    pub pitfall: bool,
    /// The app's public URL (BETTER_AUTH_URL), when it sits behind a proxy.
    pub public_url: Option<String>,
    /// More environment (COOKIE_CACHE_MAX_AGE, SESSION_UPDATE_AGE).
    pub env: Vec<(String, String)>,
}

impl FrameworkAppOptions {
    pub fn new(framework: Framework) -> Self {
        FrameworkAppOptions {
            framework,
            pitfall: false,
            public_url: None,
            env: Vec::new(),
        }
    }
}

/// A running bundled framework app; dropping it kills the server.
pub struct FrameworkApp {
    process: ServerProcess,
    pub framework: Framework,
    /// Where the app is reached (its public URL, the proxy's when given one).
    pub url: String,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    /// BETTER_AUTH_SECRET (random per boot, registered for redaction).
    pub secret: String,
    pub pitfall: bool,
    /// `express 5.3.0, better-auth 1.7.25`, as installed.
    pub version: String,
    /// session.updateAge given to the app, in seconds.
    pub session_update_age: Option<u64>,
    /// Milliseconds from spawn to the first answer.
    pub startup_ms: u128,
}

impl FrameworkApp {
    /// Installs (first use), builds (when needed) and starts the app as its guide sets it up.
    pub async fn boot(framework: Framework) -> Result<Self, HarnessError> {
        Self::boot_with(&FrameworkAppOptions::new(framework)).await
    }

    pub async fn boot_with(options: &FrameworkAppOptions) -> Result<Self, HarnessError> {
        let framework = options.framework;
        let spec = framework.spec();
        // Unpacks the bundled sources on first use; reports why it could not.
        targets_dir()?;
        let dir = framework.dir();
        require_sources(&dir, &["package.json", "package-lock.json"], spec.title, "")?;
        ensure_installed(&dir, &spec).await?;
        if let Some(build) = &spec.build {
            ensure_built(&dir, &spec, build).await?;
        }

        let Launch { port, url, secret } = Launch::new(options.public_url.as_deref())?;
        let run = RunFolder::create(&dir, port, "server.log")?;
        let mut command = node_command(&dir);
        command
            .args(spec.start)
            .env("PORT", port.to_string())
            .env("BETTER_AUTH_URL", &url)
            .env("BETTER_AUTH_SECRET", &secret)
            .env("DATABASE_PATH", run.dir.join("app.sqlite"));
        for (name, value) in &options.env {
            command.env(name, value);
        }
        if options.pitfall {
            command.env(spec.pitfall.0, spec.pitfall.1);
        }
        let what = format!("the bundled {}", spec.title);
        let mut process = ServerProcess::spawn(
            &mut command,
            run,
            &what,
            "install Node.js 20 or newer and make sure `node` is on PATH",
        )?;
        let exited_fix = process.read_the_log();
        process
            .wait_answering(
                &what,
                &format!("http://127.0.0.1:{port}/api/auth/ok"),
                exited_fix,
            )
            .await?;
        let session_update_age = options
            .env
            .iter()
            .find(|(name, _)| name == "SESSION_UPDATE_AGE")
            .and_then(|(_, value)| value.parse().ok());
        Ok(FrameworkApp {
            startup_ms: process.startup_ms(),
            process,
            framework,
            url,
            port,
            secret,
            pitfall: options.pitfall,
            version: installed_versions(&dir, spec.versions),
            session_update_age,
        })
    }

    /// The app as a conformance target: its Better Auth at /api/auth, its kind's app-level
    /// scenarios on, its secret known, Better Auth's default sign-in rate limit (3 per 10 s).
    pub fn target(&self, timeout: Duration) -> Result<Target, HarnessError> {
        let mut target = Target::new(&self.url, "/api/auth", timeout)?;
        target.secret = Some(self.secret.clone());
        target.kind = Some(self.framework.kind());
        target.rate_limit_max = Some(3);
        target.session_update_age = self.session_update_age;
        target.description = format!(
            "bundled {} ({}) at {}/api/auth{}",
            self.framework.spec().title,
            self.version,
            self.url,
            if self.pitfall {
                format!(" {}", self.framework.spec().pitfall_title)
            } else {
                String::new()
            }
        );
        Ok(target)
    }

    /// Stops the server and removes its run folder (database, log).
    pub async fn stop(self) {
        self.process.stop().await;
    }
}

/// `node …` in the app folder: production mode, the exit-with-parent preload (the one file in
/// targets/nextjs), and nothing inherited that would change what is checked.
fn node_command(dir: &Path) -> Command {
    let mut command = Command::new("node");
    command
        .current_dir(dir)
        .env("NODE_ENV", "production")
        .env("BA_HARNESS_PARENT_PID", std::process::id().to_string())
        .env("NODE_OPTIONS", node_options(&preload_dir()))
        // `TEST` (like NODE_ENV=test) silently turns Better Auth's origin checks off.
        .env_remove("TEST")
        .env_remove("BETTER_AUTH_URL")
        .env_remove("BETTER_AUTH_SECRET")
        .env_remove("DATABASE_PATH")
        .env_remove("EXPRESS_JSON")
        .env_remove("NEST_BODY_PARSER")
        .env_remove("TANSTACK_COOKIES")
        .env_remove("COOKIE_CACHE_MAX_AGE")
        .env_remove("SESSION_UPDATE_AGE")
        .stdin(Stdio::null());
    command
}

/// The folder of exit-with-parent.mjs (targets/nextjs), absolute: NODE_OPTIONS needs a file URL.
fn preload_dir() -> PathBuf {
    crate::bundled::app_dir("nextjs")
}

async fn ensure_installed(dir: &Path, spec: &Spec) -> Result<(), HarnessError> {
    npm_ci_once(dir, &format!("the bundled {}", spec.title), || {
        is_installed(dir, spec)
    })
    .await
}

fn is_installed(dir: &Path, spec: &Spec) -> bool {
    let lock_time = fs::metadata(dir.join("package-lock.json")).and_then(|m| m.modified());
    let marker_time =
        fs::metadata(dir.join("node_modules/.package-lock.json")).and_then(|m| m.modified());
    match (lock_time, marker_time) {
        (Ok(lock), Ok(installed)) => {
            installed >= lock && spec.installed.iter().all(|p| dir.join(p).is_file())
        }
        _ => false,
    }
}

async fn ensure_built(dir: &Path, spec: &Spec, build: &Build) -> Result<(), HarnessError> {
    let fingerprint = sources_fingerprint(dir, build.inputs, "")?;
    let stamp = dir.join(build.out_dir).join(STAMP_FILE);
    let is_built = || fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == fingerprint);
    if is_built() {
        return Ok(());
    }
    let _lock = DirLock::take(dir.join(".build-lock"), BUILD_TIMEOUT, is_built).await?;
    if is_built() {
        return Ok(());
    }
    eprintln!(
        "ba-harness: building the bundled {} (into {}; cached for later runs)…",
        spec.title, build.out_dir
    );
    let started = Instant::now();
    let mut command = node_command(dir);
    command.args(build.args);
    run_logged(
        &mut command,
        dir,
        &dir.join("build.log"),
        BUILD_TIMEOUT,
        "the build",
        "read the build log; a broken install is fixed by deleting node_modules",
    )
    .await?;
    fs::write(&stamp, &fingerprint).map_err(|e| boot_io("write the build stamp", &stamp, e))?;
    eprintln!(
        "ba-harness: built the bundled {} in {:.0} s",
        spec.title,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// SHA-256 over every build input (relative path and content, in path order).
/// Sets what kind of app the target is (`--target-kind`): its app-level scenarios apply; a
/// Next.js target is its own Next.js app for @next-app.
pub fn apply_target_kind(target: &mut Target, kind: Option<TargetKind>) {
    let Some(kind) = kind else { return };
    target.kind = Some(kind);
    if kind == TargetKind::Nextjs && target.next_app.is_none() {
        target.next_app = Some(target.base_url.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_framework_has_its_app_and_its_capability() {
        for framework in Framework::ALL {
            let capability = framework.kind().capability().unwrap();
            assert!(
                crate::target::capability_for_tag(capability).is_some(),
                "{capability}"
            );
            // The app is bundled, pinned, and its pitfall switch is never inherited from the
            // caller's environment.
            let dir = framework.dir();
            assert!(dir.join("package.json").is_file(), "{}", dir.display());
            assert!(dir.join("package-lock.json").is_file(), "{}", dir.display());
            let switch = framework.spec().pitfall.0;
            let command = node_command(&dir);
            assert!(
                command
                    .as_std()
                    .get_envs()
                    .any(|(name, value)| name == switch && value.is_none()),
                "{switch} is removed from the inherited environment"
            );
        }
        assert_eq!(TargetKind::Node.capability(), None);
    }

    #[test]
    fn the_target_kind_turns_its_scenarios_on() {
        let timeout = Duration::from_secs(1);
        let mut node = Target::new("http://127.0.0.1:1", "/api/auth", timeout).unwrap();
        apply_target_kind(&mut node, Some(TargetKind::Node));
        node.declare_configured_capabilities();
        // Only the rate-limit probe, which every target gets unless its limiter is declared off.
        node.capabilities.remove("rate-limit-probe");
        assert!(node.capabilities.is_empty(), "{:?}", node.capabilities);

        let mut express = Target::new("http://127.0.0.1:1", "/api/auth", timeout).unwrap();
        apply_target_kind(&mut express, Some(TargetKind::Express));
        express.declare_configured_capabilities();
        express.capabilities.remove("rate-limit-probe");
        assert_eq!(
            express.capabilities.iter().collect::<Vec<_>>(),
            vec!["express"]
        );

        // A Next.js target is its own Next.js app.
        let mut next = Target::new("http://127.0.0.1:3000", "/api/auth", timeout).unwrap();
        apply_target_kind(&mut next, Some(TargetKind::Nextjs));
        next.declare_configured_capabilities();
        assert!(next.capabilities.contains("next-app"));
        assert_eq!(
            next.next_app.as_ref().map(|u| u.as_str()),
            Some("http://127.0.0.1:3000/")
        );
    }

    #[test]
    fn the_fingerprint_follows_the_sources() {
        let temp = crate::temp_dir::TempDir::new("framework-fingerprint").unwrap();
        let dir = temp.path();
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(dir.join("src/main.ts"), "a").unwrap();
        let first = sources_fingerprint(dir, &["src", "missing.json"], "").unwrap();
        assert_eq!(first, sources_fingerprint(dir, &["src"], "").unwrap());
        fs::write(dir.join("src/main.ts"), "b").unwrap();
        assert_ne!(first, sources_fingerprint(dir, &["src"], "").unwrap());
    }
}
