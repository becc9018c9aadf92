//! Other Better Auth releases as the bundled reference (`--better-auth VERSION`), so that
//! `snapshot` can record two real releases and `diff` can show what changed between them.

use std::fs;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::bundled::{boot_io, installed_version, run_npm};
use crate::error::HarnessError;

/// A release number as npm writes it: digits and dots, optionally a pre-release suffix.
pub fn is_version(text: &str) -> bool {
    let core = text.split('-').next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn numbers(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split('-').next()?;
    let mut it = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// The provider release for a Better Auth release: the newest stable one with the same major
/// and minor version that is not newer than it.
pub fn matching_provider(release: &str, provider_versions: &[String]) -> Option<String> {
    let (major, minor, patch) = numbers(release)?;
    provider_versions
        .iter()
        .filter(|v| !v.contains('-'))
        .filter_map(|v| numbers(v).map(|n| (n, v)))
        .filter(|((ma, mi, pa), _)| *ma == major && *mi == minor && *pa <= patch)
        .max_by_key(|(n, _)| *n)
        .map(|(_, v)| v.clone())
}

/// The published releases of an npm package, from the npm registry.
pub async fn published_versions(package: &str) -> Result<Vec<String>, HarnessError> {
    let output = Command::new("npm")
        .args(["view", package, "versions", "--json"])
        .output()
        .await
        .map_err(|e| HarnessError::Boot {
            cause: format!("could not run `npm view {package} versions`: {e}"),
            fix: "install npm (it ships with Node.js 20+) and make sure the npm registry is reachable".into(),
            log_tail: None,
        })?;
    serde_json::from_slice(&output.stdout).map_err(|e| HarnessError::Boot {
        cause: format!("`npm view {package} versions` gave no version list: {e}"),
        fix: "check that the npm registry is reachable (npm config get registry)".into(),
        log_tail: None,
    })
}

/// Makes targets/better-auth/releases/<version> (package.json, .npmrc, a copy of server.mjs)
/// and installs it on first use. Returns the folder to run server.mjs in.
pub async fn prepare(base: &Path, version: &str) -> Result<PathBuf, HarnessError> {
    if !is_version(version) {
        return Err(HarnessError::Usage(format!(
            "--better-auth `{version}` is not a release number (e.g. 1.7.5)"
        )));
    }
    let dir = base.join("releases").join(version);
    fs::create_dir_all(&dir).map_err(|e| boot_io("create the release folder", &dir, e))?;
    // Always the current server script: the harness's contract with the server is its env and
    // ready line, not the release.
    fs::copy(base.join("server.mjs"), dir.join("server.mjs"))
        .map_err(|e| boot_io("copy server.mjs", &dir, e))?;
    if installed_version(&dir, "better-auth").as_deref() == Some(version)
        && dir
            .join("node_modules/better-sqlite3/build/Release/better_sqlite3.node")
            .is_file()
    {
        return Ok(dir);
    }
    let provider = matching_provider(
        version,
        &published_versions("@better-auth/oauth-provider").await?,
    );
    let sqlite = installed_version(base, "better-sqlite3").unwrap_or_else(|| "12.11.1".into());
    let mut dependencies = serde_json::json!({
        "better-auth": version,
        "better-sqlite3": sqlite,
    });
    if let Some(p) = &provider {
        dependencies["@better-auth/oauth-provider"] = serde_json::Value::String(p.clone());
    }
    let package = serde_json::json!({
        "name": format!("ba-harness-reference-{version}"),
        "private": true,
        "type": "module",
        "dependencies": dependencies,
    });
    let write = |name: &str, text: String| {
        fs::write(dir.join(name), text).map_err(|e| boot_io("write", &dir.join(name), e))
    };
    write(
        "package.json",
        serde_json::to_string_pretty(&package).unwrap_or_default(),
    )?;
    // Provider releases pin exact peers that a newer better-auth does not match.
    write(".npmrc", "legacy-peer-deps=true\n".into())?;
    eprintln!(
        "ba-harness: Better Auth {version} with {}",
        provider
            .as_deref()
            .map(|p| format!("@better-auth/oauth-provider {p}"))
            .unwrap_or_else(|| "no OAuth provider (no release of it fits)".into())
    );
    // No install scripts: better-sqlite3 would compile itself once per release (about a
    // minute of C++ each). The bundled install's build of the same version is copied instead.
    run_npm(
        &dir,
        &format!("Better Auth {version}"),
        &["install", "--ignore-scripts", "--no-audit", "--no-fund"],
    )
    .await?;
    share_native_build(base, &dir)?;
    Ok(dir)
}

/// Copies the bundled install's compiled better-sqlite3 (`build/`) into a release's install:
/// the same package version on the same Node, so the same binary. A different version is
/// compiled in place instead (`npm rebuild`), once.
fn share_native_build(base: &Path, dir: &Path) -> Result<(), HarnessError> {
    let from = base.join("node_modules/better-sqlite3/build");
    let to = dir.join("node_modules/better-sqlite3/build");
    let same_version =
        installed_version(base, "better-sqlite3") == installed_version(dir, "better-sqlite3");
    if !same_version || !from.join("Release/better_sqlite3.node").is_file() {
        return Err(HarnessError::Boot {
            cause: format!(
                "the release's better-sqlite3 ({}) differs from the bundled one ({}), whose build it would reuse",
                installed_version(dir, "better-sqlite3").unwrap_or_default(),
                installed_version(base, "better-sqlite3").unwrap_or_default()
            ),
            fix: format!("run `npm rebuild better-sqlite3` in {}", dir.display()),
            log_tail: None,
        });
    }
    copy_tree(&from, &to).map_err(|e| boot_io("copy the better-sqlite3 build", &to, e))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_release_numbers() {
        assert!(is_version("1.7.25"));
        assert!(is_version("1.7.0-beta.6"));
        assert!(!is_version("1.7"));
        assert!(!is_version("latest"));
        assert!(!is_version("1.7.5; rm -rf /"));
    }

    #[test]
    fn picks_the_newest_provider_of_the_same_minor_not_newer() {
        let versions: Vec<String> = ["1.6.31", "1.6.33", "1.7.0-rc.1", "1.7.0", "1.7.4", "1.7.5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            matching_provider("1.7.25", &versions).as_deref(),
            Some("1.7.5")
        );
        assert_eq!(
            matching_provider("1.7.4", &versions).as_deref(),
            Some("1.7.4")
        );
        assert_eq!(
            matching_provider("1.6.32", &versions).as_deref(),
            Some("1.6.31")
        );
        assert_eq!(matching_provider("1.5.0", &versions), None);
    }
}
