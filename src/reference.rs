//! Booting the bundled real Better Auth server from targets/better-auth: install on first use,
//! start on a free loopback port, wait until it says it is ready, stop it on drop.

use std::fs;
use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::bundled::{
    PORT_ATTEMPTS, RunFolder, ServerProcess, boot_io, check_node, free_port, installed_versions,
    new_secret, npm_ci_once, port_was_taken, read_ready_file, require_sources,
};
pub use crate::bundled::{ReadyInfo, targets_dir};
use crate::error::HarnessError;
use crate::target::Target;

/// A running bundled server; dropping it kills the process.
pub struct ReferenceServer {
    process: ServerProcess,
    pub ready: ReadyInfo,
    pub secret: String,
    pub version: String,
    /// The throwaway CA the server's certificate chains to, when served over https.
    pub ca_pem: Option<String>,
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
        let base = targets_dir()?.join("better-auth");
        // Absolute, because the server runs in `dir` and resolves the paths we hand it from there.
        let base = std::path::absolute(&base).unwrap_or(base);
        require_sources(
            &base,
            &["server.mjs"],
            "reference",
            ", or give --target URL",
        )?;
        check_node(
            (20, 0),
            "the bundled Better Auth server",
            "install Node.js 20 or newer (with npm), or point the harness at your own server with --target URL",
        )
        .await?;
        let dir = match release {
            None => {
                ensure_installed(&base).await?;
                base
            }
            Some(version) => {
                // The release reuses the bundled install's compiled better-sqlite3.
                ensure_installed(&base).await?;
                crate::reference_release::prepare(&base, version).await?
            }
        };

        // The port is free when chosen but only bound when node listens; another process (or a
        // parallel test) can take it in between. Node then exits with EADDRINUSE: choose again.
        let mut attempt = 1;
        let (process, ready, secret, tls) = loop {
            match Self::start(&dir, extra_env, https).await {
                Err(e) if attempt < PORT_ATTEMPTS && port_was_taken(&e) => attempt += 1,
                started => break started?,
            }
        };
        Ok(ReferenceServer {
            process,
            ready,
            secret,
            version: installed_versions(&dir, &["better-auth", "@better-auth/oauth-provider"]),
            ca_pem: tls.map(|t| t.ca_pem),
        })
    }

    /// One start of the installed server in `dir` on a freshly chosen port.
    async fn start(
        dir: &Path,
        extra_env: &[(&str, &str)],
        https: bool,
    ) -> Result<
        (
            ServerProcess,
            ReadyInfo,
            String,
            Option<crate::tls::LoopbackTls>,
        ),
        HarnessError,
    > {
        let port = free_port()?;
        let secret = new_secret();
        let run = RunFolder::create(dir, port, "server.log")?;
        let run_dir = run.dir.clone();
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
            .current_dir(dir)
            .env("PORT", port.to_string())
            .env("DATABASE_PATH", run_dir.join("reference.sqlite"))
            .env("READY_FILE", &ready_path)
            .env("BETTER_AUTH_SECRET", &secret)
            // The server exits by itself if the harness dies without stopping it (SIGKILL).
            .env("BA_HARNESS_PARENT_PID", std::process::id().to_string());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut process = ServerProcess::spawn(
            &mut command,
            run,
            "`node server.mjs`",
            "install Node.js 20 or newer and make sure `node` is on PATH",
        )?;
        let exited_fix = format!(
            "{}; a broken install is fixed by deleting {}/node_modules",
            process.read_the_log(),
            dir.display()
        );
        let ready = process
            .wait_ready(
                "the bundled Better Auth server",
                "was not ready".into(),
                exited_fix,
                || std::future::ready(read_ready_file(&ready_path)),
            )
            .await?;
        Ok((process, ready, secret, tls))
    }

    /// The target this server is, with everything the harness knows about it.
    pub fn target(&self, timeout: Duration) -> Result<Target, HarnessError> {
        let mut target = Target::new(&self.ready.base_url, &self.ready.base_path, timeout)?;
        target.secret = Some(self.secret.clone());
        target.oauth = self.ready.oauth_client();
        target.rate_limit_max = self.ready.rate_limit_max;
        target.session_update_age = self.ready.session_update_age;
        target.code_lifetime = self.ready.code_expires_in;
        // server.mjs leaves jwt.issuer and jwt.audience at their default, its origin.
        let origin = target.base_url.origin().ascii_serialization();
        target.jwt_issuer = Some(origin.clone());
        target.jwt_audience = Some(origin);
        // Nor does it set emailAndPassword's password limits: Better Auth's defaults.
        target.min_password_length = Some(crate::protocol::session::DEFAULT_MIN_PASSWORD_LENGTH);
        target.max_password_length = Some(crate::protocol::session::DEFAULT_MAX_PASSWORD_LENGTH);
        target.account_settings = self.ready.account_settings();
        target.ca_pem = self.ca_pem.clone().map(std::sync::Arc::new);
        target.description = format!(
            "bundled reference ({}) at {}{}",
            self.version, self.ready.base_url, self.ready.base_path
        );
        Ok(target)
    }

    /// Stops the server and removes its run folder (database, log).
    pub async fn stop(self) {
        self.process.stop().await;
    }
}

/// `npm ci` when node_modules is missing or older than the lockfile. A lock folder keeps two
/// harness processes (parallel tests, say) from installing into the same folder at once.
async fn ensure_installed(dir: &Path) -> Result<(), HarnessError> {
    npm_ci_once(dir, "the bundled Better Auth server", || is_installed(dir)).await
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
