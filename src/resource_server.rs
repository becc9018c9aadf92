//! The JWT-verifying backend: a resource server that takes `Authorization: Bearer <JWT>` from
//! Better Auth's jwt plugin, verifies it against the issuer's JWKS and answers the subject.
//!
//! Two halves:
//! - booting the bundled one, targets/fastapi-resource (FastAPI + PyJWT on uvicorn): a venv made
//!   with `python3 -m venv` and `pip install -r requirements.txt` on first use (again when the
//!   requirements change), started on a free loopback port, ready when `/health` answers, stopped
//!   on drop; it exits by itself when the harness is gone (BA_HARNESS_PARENT_PID);
//! - what the harness knows about a resource server and its issuer ([`ResourceIssuer`]), and the
//!   pure checks of its answers ([`check_accepted`], [`check_refused`]), unit-tested here.

use std::fs;
use std::path::{Path, PathBuf};

use tokio::process::Command;
use url::Url;

use crate::bundled::targets_dir;
use crate::bundled::venv::{ensure_venv, venv_python};
use crate::bundled::{RunFolder, ServerProcess, free_port, require_sources};
use crate::error::HarnessError;
use crate::reference::ReferenceServer;
use crate::target::Target;

/// The path the bundled backend serves the signed-in user at.
pub const ME_PATH: &str = "/api/me";
/// The JWT_TEST_PROFILES the bundled reference serves (targets/better-auth/server.mjs), each at
/// `/profiles/<name>` + the base path.
pub const ISSUER_PROFILES: &[&str] = &["wrong-issuer", "wrong-audience", "expired"];
/// The issuer's key rotation interval the bundled conform run uses (jwks.rotationInterval).
pub const BUNDLED_ROTATION_INTERVAL_SECS: u64 = 4;
pub use crate::target::{LONGEST_ROTATION_WAIT_SECS, ResourceIssuer};

/// Whether a `--tags` expression selects any @resource-server scenario (every one carries that
/// tag; some also @issuer-profiles or @key-rotation). No expression selects them all.
pub fn tags_select_resource_scenarios(tags: Option<&str>) -> bool {
    use cucumber::tag::Ext as _;
    use std::str::FromStr as _;
    let Some(expr) = tags else {
        return true;
    };
    let Ok(op) = cucumber::gherkin::tagexpr::TagOperation::from_str(expr) else {
        return false;
    };
    [
        vec!["resource-server"],
        vec!["resource-server", "issuer-profiles"],
        vec!["resource-server", "key-rotation"],
    ]
    .iter()
    .any(|tags| {
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        op.eval(tags.iter())
    })
}

/// `--resource URL` (with `--issuer-profiles` and `--jwks-rotation-interval`, which describe the
/// target as the issuer) onto the target.
pub fn apply_resource_args(
    target: &mut Target,
    resource: Option<&str>,
    issuer_profiles: bool,
    rotation_interval_secs: Option<u64>,
) -> Result<(), HarnessError> {
    let Some(url) = resource else {
        return Ok(());
    };
    let parsed = crate::target::http_url(
        "--resource",
        url,
        "the URL the backend answers the user at, e.g. http://127.0.0.1:8000/api/me",
    )?;
    target.resource_server = Some(parsed);
    if issuer_profiles || rotation_interval_secs.is_some() {
        target.resource_issuer = Some(ResourceIssuer {
            base_url: target.base_url.clone(),
            base_path: target.base_path.clone(),
            profiles: issuer_profiles,
            rotation_interval_secs,
        });
    }
    target.description = format!("{}; resource server at {url}", target.description);
    Ok(())
}

/// The bundled setup for @resource-server: an issuer of its own (the bundled reference with
/// JWT_TEST_PROFILES and key rotation every [`BUNDLED_ROTATION_INTERVAL_SECS`] s, so that its
/// keys and profiles never disturb the main reference's scenarios) and the FastAPI backend
/// configured with that issuer's JWKS URL, issuer and audience.
pub struct BundledResource {
    pub issuer: ReferenceServer,
    pub backend: ResourceServer,
}

impl BundledResource {
    pub async fn boot() -> Result<Self, HarnessError> {
        let interval = BUNDLED_ROTATION_INTERVAL_SECS.to_string();
        let issuer = ReferenceServer::boot(&[
            ("JWT_TEST_PROFILES", "on"),
            ("JWKS_ROTATION_INTERVAL", interval.as_str()),
            ("RATE_LIMIT", "off"),
        ])
        .await?;
        let info = issuer_of(&issuer, true, Some(BUNDLED_ROTATION_INTERVAL_SECS))?;
        // On failure the issuer is dropped, which kills it.
        let backend = ResourceServer::boot(&ResourceServerOptions {
            jwks_url: info.jwks_url(),
            issuer: info.origin(),
            ..ResourceServerOptions::default()
        })
        .await?;
        Ok(BundledResource { issuer, backend })
    }

    /// What the harness knows about the bundled issuer.
    pub fn issuer_info(&self) -> ResourceIssuer {
        issuer_of(&self.issuer, true, Some(BUNDLED_ROTATION_INTERVAL_SECS))
            .expect("the issuer's base URL parsed at boot")
    }

    /// Points the target's @resource-server scenarios at this backend and issuer.
    pub fn configure(&self, target: &mut Target) {
        target.resource_server = Some(self.backend.me_url());
        target.resource_issuer = Some(self.issuer_info());
        target.description = format!(
            "{}; bundled resource server ({}) at {} verifying JWTs of its own issuer at {} (key rotation every {} s, JWT test profiles)",
            target.description,
            self.backend.version,
            self.backend.url,
            self.issuer.ready.base_url,
            BUNDLED_ROTATION_INTERVAL_SECS
        );
    }

    pub async fn stop(self) {
        self.backend.stop().await;
        self.issuer.stop().await;
    }
}

/// The issuer a bundled reference is.
pub fn issuer_of(
    server: &ReferenceServer,
    profiles: bool,
    rotation_interval_secs: Option<u64>,
) -> Result<ResourceIssuer, HarnessError> {
    let base_url = Url::parse(&server.ready.base_url).map_err(|e| HarnessError::Boot {
        cause: format!("the reference reported a base URL that is not a URL ({e})"),
        fix: "report this as a harness bug".into(),
        log_tail: None,
    })?;
    Ok(ResourceIssuer {
        base_url,
        base_path: server.ready.base_path.clone(),
        profiles,
        rotation_interval_secs,
    })
}

// ---------------------------------------------------------------------------------------------
// Checking the backend's answers (pure)

pub use crate::protocol::resource::{
    ExpectedUser, check_accepted, check_bearer_challenge, check_refused,
};

/// How to start the bundled backend.
#[derive(Clone, Debug, Default)]
pub struct ResourceServerOptions {
    /// The issuer's JWKS URL.
    pub jwks_url: String,
    /// The expected `iss` (and `aud`, unless `audience` is given).
    pub issuer: String,
    pub audience: Option<String>,
    /// One rule switched off (the app's BROKEN switch), for the harness's own tests.
    pub broken: Option<String>,
}

/// A running bundled backend; dropping it kills the process.
pub struct ResourceServer {
    process: ServerProcess,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    pub port: u16,
    /// Milliseconds from spawn to the first answer from /health.
    pub startup_ms: u128,
    /// `fastapi <v>, PyJWT <v>, uvicorn <v>` as pinned.
    pub version: String,
}

/// targets/fastapi-resource, next to the bundled reference.
pub fn app_dir() -> PathBuf {
    crate::bundled::app_dir("fastapi-resource")
}

impl ResourceServer {
    /// Installs (first use) and starts the bundled backend, verifying JWTs of `options.issuer`.
    pub async fn boot(options: &ResourceServerOptions) -> Result<Self, HarnessError> {
        // Unpacks the bundled sources on first use; reports why it could not.
        targets_dir()?;
        let dir = app_dir();
        require_sources(
            &dir,
            &["app.py", "requirements.txt"],
            "resource server",
            ", or give --resource URL",
        )?;
        ensure_venv(&dir, "the bundled resource server").await?;

        let port = free_port()?;
        let run = RunFolder::create(&dir, port, "server.log")?;
        let mut process = ServerProcess::spawn(
            Command::new(venv_python(&dir))
                .arg("run.py")
                .current_dir(&dir)
                .env("PORT", port.to_string())
                .env("JWKS_URL", &options.jwks_url)
                .env("JWT_ISSUER", &options.issuer)
                .env("JWT_AUDIENCE", options.audience.as_deref().unwrap_or(""))
                .env("BROKEN", options.broken.as_deref().unwrap_or(""))
                .env("BA_HARNESS_PARENT_PID", std::process::id().to_string())
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("PYTHONUNBUFFERED", "1"),
            run,
            "the resource server (.venv/bin/python run.py)",
            &format!(
                "delete {} to have it reinstalled",
                dir.join(".venv").display()
            ),
        )?;
        let url = format!("http://127.0.0.1:{port}");
        let exited_fix = process.read_the_log();
        process
            .wait_answering(
                "the bundled resource server",
                &format!("{url}/health"),
                exited_fix,
            )
            .await?;
        Ok(ResourceServer {
            startup_ms: process.startup_ms(),
            process,
            url,
            port,
            version: pinned_versions(&dir),
        })
    }

    /// The endpoint that answers the signed-in user: `<url>/api/me`.
    pub fn me_url(&self) -> Url {
        Url::parse(&format!("{}{ME_PATH}", self.url)).expect("built from a loopback port")
    }

    /// Stops the server and removes its run folder (its log).
    pub async fn stop(self) {
        self.process.stop().await;
    }
}

/// The pinned versions of the packages that matter, read from requirements.txt.
fn pinned_versions(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join("requirements.txt")).unwrap_or_default();
    pinned_from(&text, &["fastapi", "PyJWT", "uvicorn"])
}

fn pinned_from(requirements: &str, wanted: &[&str]) -> String {
    wanted
        .iter()
        .filter_map(|name| {
            requirements.lines().find_map(|line| {
                let (spec, version) = line.split_once("==")?;
                let package = spec.split('[').next()?.trim();
                package
                    .eq_ignore_ascii_case(name)
                    .then(|| format!("{name} {}", version.trim()))
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_filter_decides_whether_the_backend_boots() {
        assert!(tags_select_resource_scenarios(None));
        assert!(tags_select_resource_scenarios(Some("@resource-server")));
        assert!(tags_select_resource_scenarios(Some("@key-rotation")));
        assert!(tags_select_resource_scenarios(Some(
            "@issuer-profiles or @jwt"
        )));
        assert!(tags_select_resource_scenarios(Some("not @next-app")));
        assert!(!tags_select_resource_scenarios(Some(
            "not @resource-server"
        )));
        assert!(!tags_select_resource_scenarios(Some("@jwt")));
        assert!(!tags_select_resource_scenarios(Some("((")));
    }

    #[test]
    fn issuer_urls() {
        let issuer = ResourceIssuer {
            base_url: Url::parse("http://127.0.0.1:3000/x").unwrap(),
            base_path: "/api/auth".into(),
            profiles: true,
            rotation_interval_secs: Some(4),
        };
        assert_eq!(issuer.jwks_url(), "http://127.0.0.1:3000/api/auth/jwks");
        assert_eq!(issuer.origin(), "http://127.0.0.1:3000");
        assert_eq!(
            issuer.profile_base_path("expired"),
            "/profiles/expired/api/auth"
        );
    }

    #[test]
    fn pinned_versions_come_from_the_requirements() {
        let text = "# c\nfastapi==0.1.0\nPyJWT[crypto]==2.0.0\nuvicorn == 0.3\nother==1\n";
        assert_eq!(
            pinned_from(text, &["fastapi", "PyJWT", "uvicorn"]),
            "fastapi 0.1.0, PyJWT 2.0.0, uvicorn 0.3"
        );
    }
}
