//! The Python side of the bundled servers (the FastAPI resource server, the Python port): a
//! venv in the app folder with its pinned requirements.txt, made on first use and remade when
//! the requirements change, under the install lock.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio::process::Command;

use super::{DirLock, INSTALL_TIMEOUT, boot_io, run_logged};
use crate::error::HarnessError;

/// Written into the venv after a complete install: the hash of the requirements it holds.
const STAMP_FILE: &str = "ba-harness-requirements.sha256";

pub(crate) fn venv_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join(".venv").join("Scripts").join("python.exe")
    } else {
        dir.join(".venv").join("bin").join("python")
    }
}

/// The interpreter that makes the venv: `$BA_HARNESS_PYTHON`, else `python3`.
fn base_python() -> String {
    std::env::var("BA_HARNESS_PYTHON")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "python3".into())
}

fn requirements_hash(dir: &Path) -> Result<String, HarnessError> {
    let path = dir.join("requirements.txt");
    let text = fs::read(&path).map_err(|e| boot_io("read requirements.txt", &path, e))?;
    Ok(Sha256::digest(&text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn is_installed(dir: &Path, hash: &str) -> bool {
    venv_python(dir).is_file()
        && fs::read_to_string(dir.join(".venv").join(STAMP_FILE)).is_ok_and(|s| s.trim() == hash)
}

/// Makes the venv and installs the pinned requirements, unless the venv already holds exactly
/// them. A lock folder keeps parallel harness processes (tests) from installing at once.
pub(crate) async fn ensure_venv(dir: &Path, what: &str) -> Result<(), HarnessError> {
    let hash = requirements_hash(dir)?;
    if is_installed(dir, &hash) {
        return Ok(());
    }
    let Some(_lock) = DirLock::take(dir.join(".install-lock"), INSTALL_TIMEOUT, || {
        is_installed(dir, &hash)
    })
    .await?
    else {
        // Another harness process installed it while this one waited.
        return Ok(());
    };
    install(dir, &hash, what).await
}

async fn install(dir: &Path, hash: &str, what: &str) -> Result<(), HarnessError> {
    eprintln!(
        "ba-harness: installing {what} (python3 -m venv and pip install -r requirements.txt in {}); first run only, about 20-40 s…",
        dir.display()
    );
    let started = Instant::now();
    let log_path = dir.join("pip-install.log");
    // One log per install, both steps appended to it.
    let _ = fs::remove_file(&log_path);
    let venv = dir.join(".venv");
    let python = base_python();
    check_python(&python, what).await?;
    run_logged(
        Command::new(&python).args(["-m", "venv", "--clear"]).arg(&venv),
        dir,
        &log_path,
        INSTALL_TIMEOUT,
        &format!("{python} -m venv"),
        "install Python 3.11 or newer with its venv module (Debian: apt-get install python3-venv), or set BA_HARNESS_PYTHON",
    )
    .await?;
    run_logged(
        Command::new(venv_python(dir)).args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            "requirements.txt",
        ]),
        dir,
        &log_path,
        INSTALL_TIMEOUT,
        "pip install -r requirements.txt",
        "the first install needs the Python package index (PyPI)",
    )
    .await?;
    let stamp = venv.join(STAMP_FILE);
    fs::write(&stamp, hash).map_err(|e| boot_io("write the install stamp", &stamp, e))?;
    eprintln!(
        "ba-harness: installed {what} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The pinned FastAPI (and Starlette) of both Python servers need Python 3.11 or newer.
const MIN_PYTHON: (u32, u32) = (3, 11);

async fn check_python(python: &str, what: &str) -> Result<(), HarnessError> {
    let output = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .stdin(Stdio::null())
        .output()
        .await;
    let version = match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => {
            return Err(HarnessError::Boot {
                cause: format!("`{python}` was not found: {what} runs on Python"),
                fix: "install Python 3.11 or newer (or set BA_HARNESS_PYTHON); without Python, leave the Python servers out (for the resource server: give --resource URL or --tags 'not @resource-server')".into(),
                log_tail: None,
            });
        }
    };
    if !python_is_recent_enough(&version) {
        return Err(HarnessError::Boot {
            cause: format!(
                "`{python}` is Python {version}; {what} pins a FastAPI that needs {}.{} or newer",
                MIN_PYTHON.0, MIN_PYTHON.1
            ),
            fix: "install a newer Python and point BA_HARNESS_PYTHON at it (for the resource server, or leave it out with --tags 'not @resource-server')".into(),
            log_tail: None,
        });
    }
    Ok(())
}

fn python_is_recent_enough(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= MIN_PYTHON,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_versions() {
        assert!(python_is_recent_enough("3.11"));
        assert!(python_is_recent_enough("3.13"));
        assert!(python_is_recent_enough("4.0"));
        assert!(!python_is_recent_enough("3.10"));
        assert!(!python_is_recent_enough("3.9"));
        assert!(!python_is_recent_enough("x"));
    }
}
