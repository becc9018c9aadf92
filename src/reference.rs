//! Booting the bundled real Better Auth server from targets/better-auth: install on first use,
//! start on a free loopback port, wait until it says it is ready, stop it on drop.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Deserialize;
use tokio::process::{Child, Command};

use crate::error::HarnessError;
use crate::redact::SecretRegistry;
use crate::target::{OAuthClient, Target};

/// How long a bundled server (reference, Next.js app, framework app, resource server) may take
/// from spawn to ready: well under a few seconds here; a cold disk or a loaded CI machine gets
/// generous slack.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `npm ci` may take (it compiles better-sqlite3 from source: ~65 s here).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The ready line the server writes (targets/better-auth/server.mjs).
#[derive(Clone, Debug, Deserialize)]
pub struct ReadyInfo {
    pub base_url: String,
    /// The port the server listens on (differs from the base URL's when it sits behind a proxy).
    pub port: u16,
    pub base_path: String,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub startup_ms: Option<u64>,
    /// Sign-in requests allowed per 10 s per client (None: rate limiting off).
    pub rate_limit_max: Option<u32>,
    pub cookie_cache_max_age: Option<i64>,
    pub jwt_alg: Option<String>,
    /// session.updateAge in seconds: get-session extends a session older than this.
    pub session_update_age: Option<u64>,
    /// The configuration profiles it runs (`BA_PROFILE`; empty: the default configuration).
    #[serde(default)]
    pub profiles: Vec<String>,
    /// advanced.cookiePrefix, reported when a profile is on.
    pub cookie_prefix: Option<String>,
    /// The seeded accounts (`email,password` lines) of the closed-signup profile.
    pub users_file: Option<String>,
}

/// A running bundled server; dropping it kills the process.
pub struct ReferenceServer {
    child: Child,
    pub ready: ReadyInfo,
    pub secret: String,
    run_dir: PathBuf,
    pub version: String,
    /// The throwaway CA the server's certificate chains to, when served over https.
    pub ca_pem: Option<String>,
}

/// The folder that holds the bundled servers: `$BA_HARNESS_TARGETS_DIR`, else ./targets, else
/// the one next to this crate's sources (so `cargo run` works from any directory).
pub fn targets_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("BA_HARNESS_TARGETS_DIR") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("targets");
    if local.join("better-auth/server.mjs").is_file() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("targets")
}

impl ReferenceServer {
    /// Installs (if needed) and starts targets/better-auth over http, returning once it is ready.
    pub async fn boot(extra_env: &[(&str, &str)]) -> Result<Self, HarnessError> {
        Self::boot_with(extra_env, false).await
    }

    /// Like [`ReferenceServer::boot`]; with `https`, the server gets a certificate from a fresh
    /// throwaway CA, which the harness (and the server itself, for its own JWKS fetches) trusts.
    pub async fn boot_with(extra_env: &[(&str, &str)], https: bool) -> Result<Self, HarnessError> {
        Self::boot_release(None, extra_env, https).await
    }

    /// Like [`ReferenceServer::boot_with`], for another Better Auth release: installed (first use)
    /// into targets/better-auth/releases/<version> with the newest @better-auth/oauth-provider of
    /// the same minor version that is not newer, or without the provider when there is none.
    pub async fn boot_release(
        release: Option<&str>,
        extra_env: &[(&str, &str)],
        https: bool,
    ) -> Result<Self, HarnessError> {
        let base = targets_dir().join("better-auth");
        // Absolute, because the server runs in `dir` and resolves the paths we hand it from there.
        let base = std::path::absolute(&base).unwrap_or(base);
        if !base.join("server.mjs").is_file() {
            return Err(HarnessError::Boot {
                cause: format!("the bundled reference is missing: {} has no server.mjs", base.display()),
                fix: "run from a ba-harness checkout, or set BA_HARNESS_TARGETS_DIR, or give --target URL".into(),
                log_tail: None,
            });
        }
        check_node().await?;
        let dir = match release {
            None => {
                ensure_installed(&base).await?;
                base
            }
            Some(version) => crate::reference_release::prepare(&base, version).await?,
        };

        let port = free_port()?;
        let secret = new_secret();
        let RunFolder {
            dir: run_dir,
            log_path,
            stdout: log,
            stderr: log_err,
        } = RunFolder::create(&dir, port, "server.log")?;
        let ready_path = run_dir.join("ready.json");

        let tls = if https {
            let tls = crate::tls::generate_loopback_tls().map_err(|e| HarnessError::Boot {
                cause: format!("could not generate a certificate for the https reference: {e}"),
                fix: "run without --reference-https".into(),
                log_tail: None,
            })?;
            for (file, pem) in [
                ("ca.pem", &tls.ca_pem),
                ("server.pem", &tls.server_cert_pem),
                ("server-key.pem", &tls.server_key_pem),
            ] {
                let path = run_dir.join(file);
                fs::write(&path, pem).map_err(|e| boot_io("write a TLS file", &path, e))?;
            }
            Some(tls)
        } else {
            None
        };

        let mut command = Command::new("node");
        if tls.is_some() {
            command
                .env("TLS_CERT_FILE", run_dir.join("server.pem"))
                .env("TLS_KEY_FILE", run_dir.join("server-key.pem"))
                .env("NODE_EXTRA_CA_CERTS", run_dir.join("ca.pem"));
        }
        command
            .arg("server.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("DATABASE_PATH", run_dir.join("reference.sqlite"))
            .env("READY_FILE", &ready_path)
            .env("BETTER_AUTH_SECRET", &secret)
            // The server exits by itself if the harness dies without stopping it (SIGKILL).
            .env("BA_HARNESS_PARENT_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(true);
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().map_err(|e| HarnessError::Boot {
            cause: format!("could not start `node server.mjs`: {e}"),
            fix: "install Node.js 20 or newer and make sure `node` is on PATH".into(),
            log_tail: None,
        })?;

        let started = Instant::now();
        let ready = wait_until_ready(
            &mut child,
            started,
            BootWatch {
                what: "the bundled Better Auth server".into(),
                waiting_for: "was not ready".into(),
                log_path: &log_path,
                exited_fix: format!(
                        "read the log below (full log: {}); a broken install is fixed by deleting {}/node_modules",
                        log_path.display(),
                        dir.display()
                    ),
            },
            || {
                let info = fs::read_to_string(&ready_path)
                    .ok()
                    .and_then(|text| serde_json::from_str::<ReadyInfo>(&text).ok());
                std::future::ready(info)
            },
        )
        .await?;
        Ok(ReferenceServer {
            child,
            ready,
            secret,
            run_dir,
            version: installed_version(&dir),
            ca_pem: tls.map(|t| t.ca_pem),
        })
    }

    /// The target this server is, with everything the harness knows about it.
    pub fn target(&self, timeout: Duration) -> Result<Target, HarnessError> {
        let mut target = Target::new(&self.ready.base_url, &self.ready.base_path, timeout)?;
        target.secret = Some(self.secret.clone());
        target.oauth = OAuthClient {
            client_id: self.ready.client_id.clone(),
            redirect_uri: self.ready.redirect_uri.clone(),
            post_logout_redirect_uri: self.ready.post_logout_redirect_uri.clone(),
        };
        target.rate_limit_max = self.ready.rate_limit_max;
        target.session_update_age = self.ready.session_update_age;
        target.ca_pem = self.ca_pem.clone().map(std::sync::Arc::new);
        target.description = format!(
            "bundled reference ({}) at {}{}",
            self.version, self.ready.base_url, self.ready.base_path
        );
        Ok(target)
    }

    /// Stops the server and removes its run folder (database, log).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        let _ = fs::remove_dir_all(&self.run_dir);
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        // kill_on_drop covers the process; this also covers an early return before `stop`.
        let _ = self.child.start_kill();
    }
}

async fn check_node() -> Result<(), HarnessError> {
    let output = Command::new("node").arg("--version").output().await;
    let version = match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => {
            return Err(HarnessError::Boot {
                cause: "`node` was not found on PATH: the bundled Better Auth server runs on Node.js".into(),
                fix: "install Node.js 20 or newer (with npm), or point the harness at your own server with --target URL".into(),
                log_tail: None,
            });
        }
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(HarnessError::Boot {
            cause: format!("Node.js {version} is too old for the bundled Better Auth server"),
            fix: "install Node.js 20 or newer".into(),
            log_tail: None,
        });
    }
    Ok(())
}

/// `npm ci` when node_modules is missing or older than the lockfile. A lock folder keeps two
/// harness processes (parallel tests, say) from installing into the same folder at once.
async fn ensure_installed(dir: &Path) -> Result<(), HarnessError> {
    if is_installed(dir) {
        return Ok(());
    }
    let Some(_lock) = DirLock::take(dir.join(".install-lock"), INSTALL_TIMEOUT, || {
        is_installed(dir)
    })
    .await?
    else {
        // Another harness process installed it while this one waited.
        return Ok(());
    };
    run_npm_ci(dir).await
}

fn is_installed(dir: &Path) -> bool {
    let marker = dir.join("node_modules/.package-lock.json");
    let binding = dir.join("node_modules/better-sqlite3/build/Release/better_sqlite3.node");
    let lock_time = fs::metadata(dir.join("package-lock.json")).and_then(|m| m.modified());
    let marker_time = fs::metadata(&marker).and_then(|m| m.modified());
    match (lock_time, marker_time) {
        (Ok(lock), Ok(installed)) => binding.is_file() && installed >= lock,
        _ => false,
    }
}

/// A folder used as a lock between harness processes (parallel tests): created to take it,
/// removed on drop. A lock older than `limit` is taken as left behind by a dead process.
pub(crate) struct DirLock(PathBuf);

impl DirLock {
    pub(crate) async fn take(
        path: PathBuf,
        limit: Duration,
        done: impl Fn() -> bool,
    ) -> Result<Option<Self>, HarnessError> {
        let waited = Instant::now();
        loop {
            match fs::create_dir(&path) {
                Ok(()) => return Ok(Some(DirLock(path))),
                Err(_) if lock_is_stale(&path, limit) => {
                    let _ = fs::remove_dir(&path);
                }
                Err(_) if waited.elapsed() < limit => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if done() {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(boot_io("take a lock", &path, e)),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

fn lock_is_stale(lock: &Path, limit: Duration) -> bool {
    fs::metadata(lock)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > limit)
}

async fn run_npm_ci(dir: &Path) -> Result<(), HarnessError> {
    run_npm(dir, &["ci", "--no-audit", "--no-fund"]).await
}

/// Runs npm in `dir` with a progress line and a bounded wait; its output goes to npm-ci.log.
pub(crate) async fn run_npm(dir: &Path, args: &[&str]) -> Result<(), HarnessError> {
    eprintln!(
        "ba-harness: installing a Better Auth server (npm {} in {}); the first run compiles better-sqlite3, about 1-2 minutes…",
        args.first().unwrap_or(&""),
        dir.display()
    );
    let log_path = dir.join("npm-ci.log");
    let log =
        File::create(&log_path).map_err(|e| boot_io("create the install log", &log_path, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| boot_io("open the install log", &log_path, e))?;
    let started = Instant::now();
    let child = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| HarnessError::Boot {
            cause: format!("could not run `npm ci`: {e}"),
            fix: "install npm (it ships with Node.js 20+) and make sure it is on PATH".into(),
            log_tail: None,
        })?;
    let status = match tokio::time::timeout(INSTALL_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(output)) => output.status,
        Ok(Err(e)) => return Err(boot_io("wait for npm ci", dir, e)),
        Err(_) => {
            return Err(HarnessError::Boot {
                cause: format!(
                    "npm ci did not finish within {} s",
                    INSTALL_TIMEOUT.as_secs()
                ),
                fix: format!("read {} and retry", log_path.display()),
                log_tail: Some(tail(&log_path, 20)),
            });
        }
    };
    if !status.success() {
        return Err(HarnessError::Boot {
            cause: format!("npm ci failed in {} ({status})", dir.display()),
            fix: format!(
                "read the log below (full log: {}); better-sqlite3 builds from source and needs a C++ compiler, make and python3",
                log_path.display()
            ),
            log_tail: Some(tail(&log_path, 20)),
        });
    }
    eprintln!(
        "ba-harness: installed the bundled server in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn installed_version(dir: &Path) -> String {
    let read = |pkg: &str| -> Option<String> {
        let text =
            fs::read_to_string(dir.join("node_modules").join(pkg).join("package.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        Some(format!("{pkg} {}", v.get("version")?.as_str()?))
    };
    [read("better-auth"), read("@better-auth/oauth-provider")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// A free loopback port: bind port 0, read it, release it (the server binds it right after).
pub(crate) fn free_port() -> Result<u16, HarnessError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| HarnessError::Boot {
        cause: format!("could not find a free port on 127.0.0.1: {e}"),
        fix: "check that the loopback interface is up".into(),
        log_tail: None,
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| boot_io("read the free port", Path::new("127.0.0.1"), e))
}

pub(crate) fn boot_io(what: &str, path: &Path, e: std::io::Error) -> HarnessError {
    HarnessError::Boot {
        cause: format!("could not {what} ({}): {e}", path.display()),
        fix: "check that the checkout is writable".into(),
        log_tail: None,
    }
}

/// The last `lines` lines of a log, indented, with secrets scrubbed.
/// A fresh random signing secret for a bundled server, registered for redaction.
pub(crate) fn new_secret() -> String {
    let secret: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect();
    SecretRegistry::global().register(&secret);
    secret
}

/// A bundled server's run folder (`<dir>/data/run-<pid>-<port>`) and its log, opened for the
/// child's stdout and stderr.
pub(crate) struct RunFolder {
    pub dir: PathBuf,
    pub log_path: PathBuf,
    pub stdout: File,
    pub stderr: File,
}

impl RunFolder {
    pub(crate) fn create(app_dir: &Path, port: u16, log_name: &str) -> Result<Self, HarnessError> {
        let dir = app_dir
            .join("data")
            .join(format!("run-{}-{port}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|e| boot_io("create the run folder", &dir, e))?;
        let log_path = dir.join(log_name);
        let stdout =
            File::create(&log_path).map_err(|e| boot_io("create the log", &log_path, e))?;
        let stderr = stdout
            .try_clone()
            .map_err(|e| boot_io("open the log", &log_path, e))?;
        Ok(RunFolder {
            dir,
            log_path,
            stdout,
            stderr,
        })
    }
}

/// How a bundled server names itself in its boot errors.
pub(crate) struct BootWatch<'a> {
    /// `the bundled Better Auth server`
    pub what: String,
    /// What did not happen in time: `was not ready`, `did not answer <url>`.
    pub waiting_for: String,
    pub log_path: &'a Path,
    /// The fix to print when it exits during start-up.
    pub exited_fix: String,
}

/// Polls `ready` every 100 ms until it yields a value. A child that exits first, or is still
/// not ready after READY_TIMEOUT (then it is killed), is a boot error with its log's tail.
pub(crate) async fn wait_until_ready<T, F, Fut>(
    child: &mut Child,
    started: Instant,
    watch: BootWatch<'_>,
    mut ready: F,
) -> Result<T, HarnessError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    loop {
        if let Some(value) = ready().await {
            return Ok(value);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(HarnessError::Boot {
                cause: format!("{} exited during start-up ({status})", watch.what),
                fix: watch.exited_fix,
                log_tail: Some(tail(watch.log_path, 20)),
            });
        }
        if started.elapsed() > READY_TIMEOUT {
            let _ = child.start_kill();
            return Err(HarnessError::Boot {
                cause: format!(
                    "{} {} within {} s",
                    watch.what,
                    watch.waiting_for,
                    READY_TIMEOUT.as_secs()
                ),
                fix: format!("read its log: {}", watch.log_path.display()),
                log_tail: Some(tail(watch.log_path, 20)),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A ready check for [`wait_until_ready`]: `url` answers with a 2xx status.
pub(crate) async fn answers_ok(probe: &reqwest::Client, url: &str) -> Option<()> {
    match probe.get(url).send().await {
        Ok(response) if response.status().is_success() => Some(()),
        _ => None,
    }
}

pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    crate::redact::scrub_text(
        &all[start..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(log_path: &Path) -> BootWatch<'_> {
        BootWatch {
            what: "the test server".into(),
            waiting_for: "was not ready".into(),
            log_path,
            exited_fix: "read the log".into(),
        }
    }

    #[tokio::test]
    async fn a_server_that_exits_during_start_up_is_a_boot_error_with_its_log() {
        let dir = std::env::temp_dir().join(format!("ba-harness-boot-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let log_path = dir.join("exits.log");
        fs::write(&log_path, "listening...\nError: port in use\n").unwrap();
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let result: Result<(), _> =
            wait_until_ready(&mut child, Instant::now(), watch(&log_path), || {
                std::future::ready(None)
            })
            .await;
        match result {
            Err(HarnessError::Boot {
                cause, log_tail, ..
            }) => {
                assert!(
                    cause.starts_with("the test server exited during start-up"),
                    "{cause}"
                );
                assert!(log_tail.unwrap_or_default().contains("port in use"));
            }
            other => panic!("expected a boot error, got {other:?}"),
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_ready_server_is_ready_at_the_first_poll() {
        let mut child = Command::new("sleep")
            .arg("5")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let value = wait_until_ready(
            &mut child,
            Instant::now(),
            watch(Path::new("/nonexistent")),
            || std::future::ready(Some(42)),
        )
        .await
        .unwrap();
        assert_eq!(value, 42);
    }
}
