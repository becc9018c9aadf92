//! What every bundled server (the reference, its releases, the Next.js app, the framework apps,
//! the FastAPI resource server) shares: one process lifecycle. A lock between harness
//! processes, a run folder with its log, install steps run as logged and bounded child
//! processes, a free port, a bounded wait until the server is ready, and a boot error that ends
//! with the log's tail. Each server module is a description on top of these.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use tokio::process::{Child, Command};

use serde::Deserialize;

use crate::error::HarnessError;
use crate::target::OAuthClient;
use crate::test_user::random_string;

pub mod port;
pub(crate) mod venv;

/// How long a bundled server (reference, Next.js app, framework app, resource server) may take
/// from spawn to ready: well under a few seconds here; a cold disk or a loaded CI machine gets
/// generous slack.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one install step (`npm ci`, a build, a pip install) may take: `npm ci` compiles
/// better-sqlite3 from source (~65 s here); a loaded CI machine gets generous slack.
pub(crate) const INSTALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);

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

/// Runs npm in `dir` with progress lines naming `what` and a bounded wait; its output goes to
/// npm-ci.log.
pub(crate) async fn run_npm(dir: &Path, what: &str, args: &[&str]) -> Result<(), HarnessError> {
    eprintln!(
        "ba-harness: installing {what} (npm {} in {}); the first run compiles better-sqlite3, about 1-2 minutes…",
        args.first().unwrap_or(&""),
        dir.display()
    );
    let log_path = dir.join("npm-ci.log");
    // A fresh log per install: the tail shown on failure is this install's.
    let _ = fs::remove_file(&log_path);
    let started = Instant::now();
    run_logged(
        Command::new("npm").args(args),
        dir,
        &log_path,
        INSTALL_TIMEOUT,
        &format!("npm {}", args.join(" ")),
        "read the log below; better-sqlite3 builds from source and needs a C++ compiler, make and python3; npm ships with Node.js 20+ and must be on PATH, and the first install needs the npm registry",
    )
    .await?;
    eprintln!(
        "ba-harness: installed {what} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// How many ports a bundled server is started on before a taken port is reported.
pub(crate) const PORT_ATTEMPTS: u32 = 3;

/// Whether a boot failed because the chosen port was taken before the server could bind it:
/// [`free_port`] releases the port it found, so another process can win it in between.
pub(crate) fn port_was_taken(error: &HarnessError) -> bool {
    matches!(error, HarnessError::Boot { log_tail: Some(tail), .. } if tail.contains("EADDRINUSE"))
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

/// A fresh random signing secret for a bundled server (the run registers it for redaction with
/// the target's other credentials: `Target::register_credentials`).
pub(crate) fn new_secret() -> String {
    random_string(48)
}

/// How a bundled app is started: a free loopback port, the URL it is reached at, and a fresh
/// signing secret.
pub(crate) struct Launch {
    pub port: u16,
    pub url: String,
    pub secret: String,
}

impl Launch {
    /// The URL is `public_url` when given (the app behind a proxy), else
    /// `http://127.0.0.1:<port>`.
    pub(crate) fn new(public_url: Option<&str>) -> Result<Self, HarnessError> {
        let port = free_port()?;
        Ok(Launch {
            port,
            url: public_url.map_or_else(|| format!("http://127.0.0.1:{port}"), str::to_string),
            secret: new_secret(),
        })
    }
}

/// A bundled server's run folder (`<dir>/data/run-<pid>-<port>-<random>`) and its log, opened
/// for the child's stdout and stderr. The random part keeps two starts that were handed the same
/// port (one of them then fails to bind) from sharing a folder and reading each other's ready
/// file.
pub(crate) struct RunFolder {
    pub dir: PathBuf,
    pub log_path: PathBuf,
    pub stdout: File,
    pub stderr: File,
}

impl RunFolder {
    pub(crate) fn create(app_dir: &Path, port: u16, log_name: &str) -> Result<Self, HarnessError> {
        let data = app_dir.join("data");
        fs::create_dir_all(&data).map_err(|e| boot_io("create the run folder", &data, e))?;
        let dir = loop {
            let unique = random_string(6);
            let dir = data.join(format!("run-{}-{port}-{unique}", std::process::id()));
            match fs::create_dir(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(boot_io("create the run folder", &dir, e)),
            }
        };
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

/// A bundled server's running process: spawned with its output in its run folder's log,
/// killed on drop, and stopped (the run folder removed) by [`ServerProcess::stop`]. Every
/// bundled server holds one; none writes its own spawn, wait or stop.
pub(crate) struct ServerProcess {
    child: Child,
    run_dir: PathBuf,
    log_path: PathBuf,
    started: Instant,
}

impl ServerProcess {
    /// Spawns `command` (stdin closed, stdout and stderr to `run`'s log); `what` names the server
    /// in the error, `fix` says what to do when it cannot be started at all.
    pub(crate) fn spawn(
        command: &mut Command,
        run: RunFolder,
        what: &str,
        fix: &str,
    ) -> Result<Self, HarnessError> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(run.stdout))
            .stderr(Stdio::from(run.stderr))
            .kill_on_drop(true);
        let child = command.spawn().map_err(|e| HarnessError::Boot {
            cause: format!("could not start {what}: {e}"),
            fix: fix.into(),
            log_tail: None,
        })?;
        Ok(ServerProcess {
            child,
            run_dir: run.dir,
            log_path: run.log_path,
            started: Instant::now(),
        })
    }

    /// Polls `ready` until it yields a value (see [`wait_until_ready`]); `what` names the server
    /// and `exited_fix` says what to do when it exits during start-up.
    pub(crate) async fn wait_ready<T, F, Fut>(
        &mut self,
        what: &str,
        waiting_for: String,
        exited_fix: String,
        ready: F,
    ) -> Result<T, HarnessError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let watch = BootWatch {
            what: what.to_string(),
            waiting_for,
            log_path: &self.log_path,
            exited_fix,
        };
        wait_until_ready(&mut self.child, self.started, watch, ready).await
    }

    /// Waits until `url` answers with a 2xx status.
    pub(crate) async fn wait_answering(
        &mut self,
        what: &str,
        url: &str,
        exited_fix: String,
    ) -> Result<(), HarnessError> {
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HarnessError::Boot {
                cause: format!("could not build an HTTP client: {e}"),
                fix: "report this as a harness bug".into(),
                log_tail: None,
            })?;
        let probe = &probe;
        self.wait_ready(
            what,
            format!("did not answer {url}"),
            exited_fix,
            move || answers_ok(probe, url),
        )
        .await
    }

    /// The default fix for a server that exits during start-up: read its log.
    pub(crate) fn read_the_log(&self) -> String {
        format!("read the log below (full log: {})", self.log_path.display())
    }

    /// Milliseconds from spawn until now (the start-up time, right after a wait).
    pub(crate) fn startup_ms(&self) -> u128 {
        self.started.elapsed().as_millis()
    }

    /// Stops the server and removes its run folder (database, log).
    pub(crate) async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        let _ = fs::remove_dir_all(&self.run_dir);
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // kill_on_drop covers the process; this also covers an early return before `stop`.
        let _ = self.child.start_kill();
    }
}

/// The folder that holds the bundled servers: `$BA_HARNESS_TARGETS_DIR` when it is set (the
/// repository's .cargo/config.toml sets it to the clone's targets/ for `cargo run` and
/// `cargo test`, so development uses the clone's files and installs), else the sources embedded
/// in the binary, unpacked into the cache folder on first use (crate::cache), so an installed
/// binary works from any folder.
pub fn targets_dir() -> Result<PathBuf, HarnessError> {
    if let Some(dir) = std::env::var_os("BA_HARNESS_TARGETS_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    Ok(crate::cache::assets_root()?.join(crate::assets::TARGETS_FOLDER))
}

/// [`targets_dir`] for the path helpers that cannot fail (app folders named in messages and
/// tests); every boot calls [`targets_dir`] first, so an unpack error is reported there.
pub(crate) fn targets_dir_or_default() -> PathBuf {
    targets_dir().unwrap_or_else(|_| PathBuf::from("targets"))
}

/// The ready file a bundled server writes once it listens (targets/better-auth/server.mjs, and the
/// ports in targets/better-auth-rs and targets/better-auth-py, in the same format).
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
    /// The oauth-provider's codeExpiresIn in seconds, when set short (`CODE_EXPIRES_IN`).
    pub code_expires_in: Option<u64>,
    /// The configuration profiles it runs (`BA_PROFILE`; empty: the default configuration).
    #[serde(default)]
    pub profiles: Vec<String>,
    /// advanced.cookiePrefix, reported when a profile is on.
    pub cookie_prefix: Option<String>,
    /// The seeded accounts (`email,password` lines) of the closed-signup profile.
    pub users_file: Option<String>,
    /// The test-only mailbox that answers the last password-reset link sent to an address.
    pub mailbox: Option<String>,
    #[serde(default)]
    pub revoke_sessions_on_password_reset: bool,
    /// emailAndPassword.resetPasswordTokenExpiresIn, session.expiresIn, session.freshAge (s).
    pub reset_password_token_expires_in: Option<u64>,
    pub session_expires_in: Option<u64>,
    pub fresh_age: Option<u64>,
}

impl ReadyInfo {
    /// The OAuth client the server seeded (with end session on, which dynamic registration
    /// cannot set).
    pub fn oauth_client(&self) -> OAuthClient {
        OAuthClient {
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            post_logout_redirect_uri: self.post_logout_redirect_uri.clone(),
        }
    }

    /// The password-reset mailbox and the lifetimes the server reports.
    pub fn account_settings(&self) -> crate::target::AccountSettings {
        crate::target::AccountSettings {
            mailbox: self
                .mailbox
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok()),
            revoke_sessions_on_password_reset: self.revoke_sessions_on_password_reset,
            reset_token_expires_in: self.reset_password_token_expires_in,
            session_expires_in: self.session_expires_in,
            fresh_age: self.fresh_age,
        }
    }
}

/// The ready file a bundled server writes once it listens, when it is there and complete.
pub(crate) fn read_ready_file(path: &Path) -> Option<ReadyInfo> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// A bundled app's folder under the targets folder, absolute (servers run in it and resolve
/// the paths handed to them from there).
pub(crate) fn app_dir(name: &str) -> PathBuf {
    let dir = targets_dir_or_default().join(name);
    std::path::absolute(&dir).unwrap_or(dir)
}

/// `npm ci` into `dir` under its install lock unless `installed` already holds; `what` names
/// the app in the progress lines.
pub(crate) async fn npm_ci_once(
    dir: &Path,
    what: &str,
    installed: impl Fn() -> bool,
) -> Result<(), HarnessError> {
    if installed() {
        return Ok(());
    }
    let Some(_lock) = DirLock::take(dir.join(".install-lock"), INSTALL_TIMEOUT, &installed).await?
    else {
        // Another harness process installed it while this one waited.
        return Ok(());
    };
    if installed() {
        return Ok(());
    }
    run_npm(
        dir,
        what,
        &["ci", "--include=dev", "--no-audit", "--no-fund"],
    )
    .await
}

/// `<pkg> <version>, …` of `packages` as installed under `dir`/node_modules (for reports).
pub(crate) fn installed_versions(dir: &Path, packages: &[&str]) -> String {
    packages
        .iter()
        .filter_map(|pkg| Some(format!("{pkg} {}", installed_version(dir, pkg)?)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The version of `package` installed under `dir`/node_modules.
pub(crate) fn installed_version(dir: &Path, package: &str) -> Option<String> {
    let text =
        fs::read_to_string(dir.join("node_modules").join(package).join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("version")?.as_str().map(str::to_string)
}

/// A hash over `salt` and the files under `inputs` (paths relative to `dir`, contents): a build
/// is redone when it changes.
pub(crate) fn sources_fingerprint(
    dir: &Path,
    inputs: &[&str],
    salt: &str,
) -> Result<String, HarnessError> {
    use sha2::{Digest, Sha256};
    let mut files: Vec<PathBuf> = Vec::new();
    for input in inputs {
        collect_files(&dir.join(input), &mut files);
    }
    files.sort();
    let mut hash = Sha256::new();
    hash.update(salt.as_bytes());
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        let content = fs::read(&file).map_err(|e| boot_io("read a source file", &file, e))?;
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update((content.len() as u64).to_le_bytes());
        hash.update(&content);
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A boot error unless `dir` holds every file of `required`: the bundled sources of `what` are
/// missing (a wrong BA_HARNESS_TARGETS_DIR); `instead` names the flag that gives a running one.
pub(crate) fn require_sources(
    dir: &Path,
    required: &[&str],
    what: &str,
    instead: &str,
) -> Result<(), HarnessError> {
    if required.iter().all(|file| dir.join(file).is_file()) {
        return Ok(());
    }
    Err(HarnessError::Boot {
        cause: format!(
            "the bundled {what} is missing: {} has no {}",
            dir.display(),
            required.join(" or ")
        ),
        fix: format!(
            "unset BA_HARNESS_TARGETS_DIR to use the sources embedded in ba-harness{instead}"
        ),
        log_tail: None,
    })
}

/// A ready check for [`wait_until_ready`]: `url` answers with a 2xx status.
pub(crate) async fn answers_ok(probe: &reqwest::Client, url: &str) -> Option<()> {
    match probe.get(url).send().await {
        Ok(response) if response.status().is_success() => Some(()),
        _ => None,
    }
}

/// The last `lines` lines of a log, indented, with JWTs masked (the error line that shows it is
/// scrubbed of the command's registered secrets too: `cli::main`).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    crate::redact::mask_jwts(
        &all[start..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

pub(crate) fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
    } else if let Ok(entries) = fs::read_dir(path) {
        for entry in entries.flatten() {
            collect_files(&entry.path(), out);
        }
    }
}

/// How often a long install or build says it is still running.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// The progress line of a long install or build: how long it has run and its log's last line.
fn still_running(what: &str, elapsed: Duration, last_line: &str) -> String {
    let last = last_line.trim();
    let mut line = format!(
        "ba-harness: still running `{what}` ({} min)",
        elapsed.as_secs() / 60
    );
    if !last.is_empty() {
        let shown: String = last.chars().take(120).collect();
        line.push_str(&format!(": {shown}"));
    }
    line
}

/// Runs `command` in `dir` in its own process group, output to `log`, bounded by `limit`; the
/// whole group is killed if it overruns or the harness stops waiting (drop).
pub(crate) async fn run_logged(
    command: &mut Command,
    dir: &Path,
    log_path: &Path,
    limit: Duration,
    what: &str,
    fix: &str,
) -> Result<(), HarnessError> {
    // Appended: an install of several steps (a venv, then pip) keeps one log.
    let log = File::options()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(|e| boot_io("open a log", log_path, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| boot_io("open a log", log_path, e))?;
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().map_err(|e| HarnessError::Boot {
        cause: format!("could not run `{what}`: {e}"),
        fix: fix.into(),
        log_tail: None,
    })?;
    let mut group = GroupGuard(child.id());
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    // A build can take many minutes with nothing else printed; a CI log (and a CI that stops
    // silent jobs) needs to see that it is alive and what it is doing.
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    let status = loop {
        tokio::select! {
            waited = child.wait() => match waited {
                Ok(status) => break status,
                Err(e) => return Err(boot_io(&format!("wait for {what}"), dir, e)),
            },
            _ = tokio::time::sleep_until(deadline) => {
                return Err(HarnessError::Boot {
                    cause: format!("{what} did not finish within {} s", limit.as_secs()),
                    fix: format!("read {} and retry", log_path.display()),
                    log_tail: Some(tail(log_path, 20)),
                });
            }
            _ = heartbeat.tick() => {
                eprintln!("{}", still_running(what, started.elapsed(), &tail(log_path, 1)));
            }
        }
    };
    // Finished: the group is gone (or its stragglers exit by themselves); do not signal a
    // process group id the system may reuse.
    group.0 = None;
    if !status.success() {
        return Err(HarnessError::Boot {
            cause: format!("{what} failed in {} ({status})", dir.display()),
            fix: format!("{fix} (full log: {})", log_path.display()),
            log_tail: Some(tail(log_path, 20)),
        });
    }
    Ok(())
}

/// Kills a process group on drop (npm's compilers, Next's build workers).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pgid) = self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Checks that `node` is on PATH and at least `min` (major, minor); `what` names the server that
/// needs it and `fix_absent` says what to do without Node.
pub(crate) async fn check_node(
    min: (u32, u32),
    what: &str,
    fix_absent: &str,
) -> Result<(), HarnessError> {
    let output = Command::new("node").arg("--version").output().await;
    let version = match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => {
            return Err(HarnessError::Boot {
                cause: format!("`node` was not found on PATH: {what} runs on Node.js"),
                fix: fix_absent.into(),
                log_tail: None,
            });
        }
    };
    if !node_is_recent_enough(&version, min) {
        return Err(HarnessError::Boot {
            cause: format!(
                "Node.js {version} is too old for {what} (it needs {}.{} or newer)",
                min.0, min.1
            ),
            fix: format!("install Node.js {}.{} or newer", min.0, min.1),
            log_tail: None,
        });
    }
    Ok(())
}

/// `v20.9.0` against (20, 9).
fn node_is_recent_enough(version: &str, min: (u32, u32)) -> bool {
    let numbers: Vec<u32> = version
        .trim_start_matches('v')
        .split('.')
        .filter_map(|n| n.parse().ok())
        .collect();
    numbers.len() >= 2 && (numbers[0], numbers[1]) >= min
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

    #[test]
    fn a_long_build_says_how_long_it_has_run_and_what_it_is_doing() {
        let line = still_running(
            "cargo build --release",
            Duration::from_secs(150),
            "       Compiling icu_properties v1.5.1",
        );
        assert_eq!(
            line,
            "ba-harness: still running `cargo build --release` (2 min): Compiling icu_properties v1.5.1"
        );
        let quiet = still_running("npm ci", Duration::from_secs(61), "   ");
        assert_eq!(quiet, "ba-harness: still running `npm ci` (1 min)");
    }

    #[test]
    fn two_starts_handed_the_same_port_get_their_own_run_folders() {
        let app = std::env::temp_dir().join(format!("ba-harness-runs-{}", std::process::id()));
        let first = RunFolder::create(&app, 4000, "server.log").unwrap();
        let second = RunFolder::create(&app, 4000, "server.log").unwrap();
        assert_ne!(first.dir, second.dir);
        assert!(first.log_path.exists() && second.log_path.exists());
        let _ = fs::remove_dir_all(&app);
    }

    #[test]
    fn only_a_start_up_that_found_its_port_taken_is_retried() {
        let boot = |tail: Option<&str>| HarnessError::Boot {
            cause: "the bundled Better Auth server exited during start-up".into(),
            fix: String::new(),
            log_tail: tail.map(str::to_string),
        };
        let taken = "Error: listen EADDRINUSE: address already in use 127.0.0.1:4000";
        assert!(port_was_taken(&boot(Some(taken))));
        assert!(!port_was_taken(&boot(Some(
            "SyntaxError: Unexpected token"
        ))));
        assert!(!port_was_taken(&boot(None)));
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

    #[test]
    fn node_versions_are_compared_by_major_and_minor() {
        assert!(node_is_recent_enough("v20.20.2", (20, 9)));
        assert!(node_is_recent_enough("v22.0.0", (20, 9)));
        assert!(!node_is_recent_enough("v20.8.1", (20, 9)));
        assert!(!node_is_recent_enough("v18.19.0", (20, 0)));
        assert!(!node_is_recent_enough("garbage", (20, 0)));
    }
}
