//! The cache folder: where the embedded bundled servers and feature files (crate::assets) are
//! unpacked on first use, and where their installs and builds (npm ci, next build, the Python
//! venv) then happen, so the harness binary itself can live anywhere, read-only.
//!
//! `$BA_HARNESS_CACHE_DIR`, else `$XDG_CACHE_HOME/ba-harness`, else `~/.cache/ba-harness`; under
//! it one folder per build, `<version>-<content hash>/` (crate::assets::cache_folder_name).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use crate::error::HarnessError;

/// How long a process waits for another one that is unpacking into the same cache; unpacking
/// writes well under a megabyte, so a lock older than this was left by a dead process.
const UNPACK_LOCK_LIMIT: Duration = Duration::from_secs(60);

/// The cache folder (not yet the per-build folder under it).
pub fn cache_base() -> Result<PathBuf, HarnessError> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = from_env("BA_HARNESS_CACHE_DIR") {
        return Ok(dir);
    }
    // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
    if let Some(dir) = from_env("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("ba-harness"));
    }
    if let Some(home) = from_env("HOME") {
        return Ok(home.join(".cache").join("ba-harness"));
    }
    Err(HarnessError::Usage(
        "no cache folder for the bundled servers: HOME, XDG_CACHE_HOME and BA_HARNESS_CACHE_DIR \
         are all unset; set BA_HARNESS_CACHE_DIR to a writable folder"
            .into(),
    ))
}

/// This build's unpacked assets, unpacked on first use: `<cache>/<version>-<hash>/` with
/// `targets/` and `features/` in it.
pub fn assets_root() -> Result<PathBuf, HarnessError> {
    if let Some(root) = ROOT.get() {
        return Ok(root.clone());
    }
    let root = unpack_into(&cache_base()?)?;
    Ok(ROOT.get_or_init(|| root).clone())
}

/// The unpacked assets' folder if this process has unpacked (or found) them already; never
/// unpacks.
pub fn unpacked_root() -> Option<PathBuf> {
    ROOT.get().cloned()
}

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Unpacks the embedded assets into `<base>/<version>-<hash>/` unless they are there already,
/// and returns that folder. Atomic: the files are written to a temporary folder beside it, which
/// is then renamed, so a folder with the final name is always complete. A lock folder keeps two
/// processes from unpacking at once; if one still loses the race, its copy is thrown away.
pub fn unpack_into(base: &Path) -> Result<PathBuf, HarnessError> {
    let name = crate::assets::cache_folder_name();
    let root = base.join(&name);
    if root.is_dir() {
        return Ok(root);
    }
    fs::create_dir_all(base).map_err(|e| cache_error("create the cache folder", base, e))?;
    let lock = base.join(format!(".{name}.lock"));
    let _lock = UnpackLock::take(&lock, || root.is_dir())?;
    if root.is_dir() {
        return Ok(root);
    }
    let temp = base.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let written = write_assets(&temp);
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&temp);
        return Err(e);
    }
    match fs::rename(&temp, &root) {
        Ok(()) => Ok(root),
        // Another process (without the lock: a stale-lock takeover) renamed first.
        Err(_) if root.is_dir() => {
            let _ = fs::remove_dir_all(&temp);
            Ok(root)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&temp);
            Err(cache_error("move the unpacked files into place", &root, e))
        }
    }
}

fn write_assets(dir: &Path) -> Result<(), HarnessError> {
    for asset in crate::assets::unpacked_files() {
        let path = dir.join(&asset.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| cache_error("create a folder", parent, e))?;
        }
        fs::write(&path, &asset.data).map_err(|e| cache_error("write", &path, e))?;
    }
    Ok(())
}

fn cache_error(what: &str, path: &Path, e: std::io::Error) -> HarnessError {
    HarnessError::Usage(format!(
        "could not {what} {} in the harness's cache ({e}); set BA_HARNESS_CACHE_DIR to a writable folder",
        path.display()
    ))
}

/// A lock folder, like crate::reference::DirLock but waited for synchronously: unpacking is a
/// matter of milliseconds, and it happens before any server is started.
struct UnpackLock(PathBuf);

impl UnpackLock {
    fn take(path: &Path, done: impl Fn() -> bool) -> Result<Option<Self>, HarnessError> {
        let started = Instant::now();
        loop {
            match fs::create_dir(path) {
                Ok(()) => return Ok(Some(UnpackLock(path.to_path_buf()))),
                Err(_) if done() => return Ok(None),
                Err(_) if is_stale(path) => {
                    let _ = fs::remove_dir(path);
                }
                Err(_) if started.elapsed() < UNPACK_LOCK_LIMIT => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(cache_error("take the unpack lock", path, e)),
            }
        }
    }
}

impl Drop for UnpackLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

fn is_stale(lock: &Path) -> bool {
    fs::metadata(lock)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > UNPACK_LOCK_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_base(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ba-harness-cache-test-{tag}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn unpacks_once_completely_and_reuses_the_folder() {
        let base = temp_base("once");
        let root = unpack_into(&base).unwrap();
        assert_eq!(root, base.join(crate::assets::cache_folder_name()));
        assert!(root.join("targets/better-auth/server.mjs").is_file());
        assert!(root.join("features").read_dir().unwrap().next().is_some());
        // A marker left in the folder survives a second call: it is reused, not rewritten.
        fs::write(root.join("marker"), "x").unwrap();
        assert_eq!(unpack_into(&base).unwrap(), root);
        assert!(root.join("marker").is_file());
        // No temporary folder or lock is left behind.
        let leftovers: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn concurrent_unpacks_agree_on_one_complete_folder() {
        let base = temp_base("race");
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let base = base.clone();
                std::thread::spawn(move || unpack_into(&base).unwrap())
            })
            .collect();
        let roots: Vec<PathBuf> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(roots.windows(2).all(|w| w[0] == w[1]));
        let files = crate::assets::unpacked_files();
        for asset in &files {
            let on_disk = fs::read(roots[0].join(&asset.path)).unwrap();
            assert_eq!(on_disk, asset.data.as_ref(), "{}", asset.path);
        }
        assert_eq!(
            fs::read_dir(&base).unwrap().count(),
            1,
            "only the final folder is left"
        );
        fs::remove_dir_all(&base).unwrap();
    }
}
