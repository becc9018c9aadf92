//! The bundled ports of Better Auth to other languages (targets/better-auth-rs, the crates.io
//! `better-auth` on axum; targets/better-auth-py, PyPI's `better-auth-server` on FastAPI),
//! started like the reference: built or installed on first use, run on a free loopback port
//! with the reference's test configuration (cookie cache 6 s, updateAge 3 s, a fresh secret the
//! harness is given), ready when the server writes its ready file. `conform --port NAME`
//! checks one; `ba-harness matrix` compares the reports.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use super::venv::{ensure_venv, venv_python};
use super::{
    DirLock, ReadyInfo, RunFolder, ServerProcess, app_dir, free_port, new_secret, read_ready_file,
    require_sources, run_logged, targets_dir,
};
use crate::error::HarnessError;
use crate::target::Target;

/// A cold build of the Rust port took about 27 min on two busy cores.
const RUST_BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The tag filter every column of the compatibility matrix runs with: these scenarios check an
/// application around the auth server (the bundled Next.js, Express, NestJS, TanStack Start
/// apps, the FastAPI resource server), which a port run does not start.
pub const MATRIX_TAGS: &str = "not @next-app and not @resource-server and not @express and not @nestjs and not @tanstack-start";

/// Which port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Port {
    /// crates.io better-auth 1.0.0-alpha.5 on axum (built with cargo on first use; needs ICU's
    /// development files and pkg-config).
    Rust,
    /// PyPI better-auth-server 1.1.0 on FastAPI (a venv made on first use).
    Python,
}

impl Port {
    pub fn name(self) -> &'static str {
        match self {
            Port::Rust => "rust",
            Port::Python => "python",
        }
    }

    fn folder(self) -> &'static str {
        match self {
            Port::Rust => "better-auth-rs",
            Port::Python => "better-auth-py",
        }
    }

    fn title(self) -> String {
        format!("{} port (targets/{})", self.name(), self.folder())
    }

    /// Builds or installs the port in `dir` on first use; returns the command that starts it.
    async fn prepare(self, dir: &Path) -> Result<Command, HarnessError> {
        match self {
            Port::Python => {
                require_sources(dir, &["server.py", "requirements.txt"], "Python port", "")?;
                ensure_venv(dir, "the bundled Python port").await?;
                let mut command = Command::new(venv_python(dir));
                command.arg("server.py");
                Ok(command)
            }
            Port::Rust => {
                require_sources(dir, &["Cargo.toml", "Cargo.lock"], "Rust port", "")?;
                build_rust_port(dir).await?;
                Ok(Command::new(
                    dir.join("target/release/ba-harness-target-better-auth-rs"),
                ))
            }
        }
    }
}

/// `cargo build --release --locked` in the port's own folder and target dir (whatever
/// CARGO_TARGET_DIR says: the binary path depends on it), under the install lock. Cargo skips
/// the work when nothing changed.
async fn build_rust_port(dir: &Path) -> Result<(), HarnessError> {
    let _lock = DirLock::take(dir.join(".install-lock"), RUST_BUILD_TIMEOUT, || false).await?;
    let mut command = Command::new("cargo");
    command
        .args(["build", "--release", "--locked"])
        .env("CARGO_TARGET_DIR", dir.join("target"));
    // The port collates with ICU (rust_icu_* crates whose prebuilt bindings are chosen by the
    // major version of the system's libicu-dev).
    if std::env::var_os("RUST_ICU_MAJOR_VERSION_NUMBER").is_none() {
        command.env("RUST_ICU_MAJOR_VERSION_NUMBER", icu_major().await?);
    }
    eprintln!(
        "ba-harness: building the Rust port in {} (the first build takes many minutes)…",
        dir.display()
    );
    run_logged(
        &mut command,
        dir,
        &dir.join("build.log"),
        RUST_BUILD_TIMEOUT,
        "cargo build --release (the Rust port)",
        "the Rust port needs cargo, and ICU's development files with pkg-config (Debian/Ubuntu: apt-get install libicu-dev pkg-config)",
    )
    .await
}

async fn icu_major() -> Result<String, HarnessError> {
    let output = Command::new("pkg-config")
        .args(["--modversion", "icu-i18n"])
        .output()
        .await;
    match output {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout)
            .trim()
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string()),
        _ => Err(HarnessError::Boot {
            cause: "the Rust port needs ICU's development files, and pkg-config found none".into(),
            fix: "apt-get install libicu-dev pkg-config (Debian/Ubuntu), or set RUST_ICU_MAJOR_VERSION_NUMBER".into(),
            log_tail: None,
        }),
    }
}

/// A running port; dropping it kills the process.
pub struct PortServer {
    process: ServerProcess,
    pub port: Port,
    pub ready: ReadyInfo,
    pub secret: String,
}

impl PortServer {
    pub async fn boot(port: Port) -> Result<Self, HarnessError> {
        targets_dir()?;
        let dir = app_dir(port.folder());
        let mut command = port.prepare(&dir).await?;
        let listen = free_port()?;
        let secret = new_secret();
        let run = RunFolder::create(&dir, listen, "server.log")?;
        let ready_path = run.dir.join("ready.json");
        command
            .current_dir(&dir)
            .env("PORT", listen.to_string())
            .env("BETTER_AUTH_SECRET", &secret)
            .env("READY_FILE", &ready_path)
            .env("COOKIE_CACHE_MAX_AGE", "6")
            .env("SESSION_UPDATE_AGE", "3")
            .env("DATABASE_PATH", run.dir.join("port.sqlite"));
        let title = port.title();
        let mut process = ServerProcess::spawn(&mut command, run, &title, "see the log")?;
        let exited_fix = process.read_the_log();
        let ready = process
            .wait_ready(&title, "was not ready".into(), exited_fix, || {
                std::future::ready(read_ready_file(&ready_path))
            })
            .await?;
        Ok(PortServer {
            process,
            port,
            ready,
            secret,
        })
    }

    /// The port as the target: what its ready file says (rate limit, the OAuth client it
    /// seeded, updateAge), its secret known. A port without a sign-in limit has it off.
    pub fn target(&self, timeout: Duration) -> Result<Target, HarnessError> {
        let mut target = Target::new(&self.ready.base_url, &self.ready.base_path, timeout)?;
        target.secret = Some(self.secret.clone());
        target.oauth = self.ready.oauth_client();
        target.rate_limit_max = self.ready.rate_limit_max;
        target.rate_limit_off = self.ready.rate_limit_max.is_none();
        target.session_update_age = self.ready.session_update_age;
        target.description = format!(
            "bundled {} at {}{}",
            self.port.title(),
            self.ready.base_url,
            self.ready.base_path
        );
        Ok(target)
    }

    pub async fn stop(self) {
        self.process.stop().await;
    }
}
