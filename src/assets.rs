//! What the harness reads at run time, embedded in the binary so that it runs from anywhere
//! (`cargo install`, a copied binary, a read-only install): the feature files, the load
//! profiles, the known-deviation list and the sources of the bundled servers.
//!
//! The bundled servers are installed and built (npm ci, next build, a Python venv) where they
//! live, so they are unpacked into a cache folder first (crate::cache). Feature files are
//! unpacked too, because cucumber reads a folder. Profiles and the deviation list are read
//! straight from memory.
//!
//! rust-embed rather than include_dir: targets/ in a clone also holds node_modules, .next builds,
//! databases and venvs, and rust-embed's include/exclude globs keep them out at compile time
//! (include_dir has no filter and would embed hundreds of megabytes). `debug-embed` embeds in
//! debug builds too, so the test binary behaves like the released one and holds no build path.

use std::borrow::Cow;
use std::sync::OnceLock;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

/// The bundled servers' tracked sources (targets/*), without what installs and runs leave there.
/// A unit test checks this set against `git ls-files targets` whenever git is available.
#[derive(RustEmbed)]
#[folder = "targets/"]
#[exclude = "*node_modules/*"]
#[exclude = "*/.next/*"]
#[exclude = "*/.next-without-next-cookies/*"]
#[exclude = "*/next-env.d.ts"]
#[exclude = "*/data/*"]
#[exclude = "*/releases/*"]
#[exclude = "*/dist/*"]
#[exclude = "*/.output/*"]
#[exclude = "*/.tanstack/*"]
#[exclude = "*/.nitro/*"]
#[exclude = "*/.vinxi/*"]
#[exclude = "*/.venv/*"]
#[exclude = "*__pycache__/*"]
#[exclude = "*/target/*"]
#[exclude = "*.log"]
#[exclude = "*.sqlite"]
#[exclude = "*.sqlite-*"]
#[exclude = "*/.install-lock*"]
#[exclude = "*/.build-lock*"]
#[exclude = "*/.deps-stamp"]
struct Targets;

/// features/*.feature: the rules.
#[derive(RustEmbed)]
#[folder = "features/"]
#[include = "*.feature"]
struct Features;

/// scenarios/*.toml: the named load profiles.
#[derive(RustEmbed)]
#[folder = "scenarios/"]
#[include = "*.toml"]
struct Profiles;

/// The known-deviation list for the bundled release.
pub const DEVIATIONS: &str = include_str!("../known-deviations.toml");

/// One embedded file: its path under the asset root (e.g. `targets/better-auth/server.mjs`) and
/// its bytes.
pub struct Asset {
    pub path: String,
    pub data: Cow<'static, [u8]>,
}

/// The folders of the asset root that hold files to unpack.
pub const TARGETS_FOLDER: &str = "targets";
pub const FEATURES_FOLDER: &str = "features";

/// Every file that is unpacked into the cache: the targets and the features, sorted by path.
pub fn unpacked_files() -> Vec<Asset> {
    let mut files: Vec<Asset> = Vec::new();
    for path in Targets::iter() {
        if let Some(file) = Targets::get(&path) {
            files.push(Asset {
                path: format!("{TARGETS_FOLDER}/{path}"),
                data: file.data,
            });
        }
    }
    for path in Features::iter() {
        if let Some(file) = Features::get(&path) {
            files.push(Asset {
                path: format!("{FEATURES_FOLDER}/{path}"),
                data: file.data,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The embedded profile file `scenarios/<name>`, if there is one.
pub fn profile_file(name: &str) -> Option<String> {
    Profiles::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// The embedded profile files' names (`get-session.toml`, …).
pub fn profile_files() -> Vec<String> {
    Profiles::iter().map(|p| p.into_owned()).collect()
}

/// A short hash of everything unpacked: a new harness build with other sources gets a new cache
/// folder, and an unchanged one reuses the installs of the last.
pub fn content_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let mut hasher = Sha256::new();
        for asset in unpacked_files() {
            hasher.update(asset.path.as_bytes());
            hasher.update([0]);
            hasher.update((asset.data.len() as u64).to_le_bytes());
            hasher.update(&asset.data);
        }
        hasher
            .finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// The cache folder's name for this build: `<version>-<content hash>`.
pub fn cache_folder_name() -> String {
    format!("{}-{}", env!("CARGO_PKG_VERSION"), content_hash())
}

/// The bundled reference's Better Auth release, from its embedded package.json (e.g. `1.7.25`).
pub fn bundled_better_auth_version() -> Option<String> {
    let file = Targets::get("better-auth/package.json")?;
    let json: serde_json::Value = serde_json::from_slice(&file.data).ok()?;
    let version = json.get("dependencies")?.get("better-auth")?.as_str()?;
    Some(version.trim_start_matches(['^', '~', '=']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_bundled_sources_are_embedded() {
        let files = unpacked_files();
        let paths: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for needed in [
            "targets/better-auth/server.mjs",
            "targets/better-auth/package-lock.json",
            "targets/nextjs/package.json",
            "targets/fastapi-resource/requirements.txt",
        ] {
            assert!(paths.contains(needed), "{needed} is not embedded");
        }
        assert!(paths.iter().any(|p| p.starts_with("features/")));
        assert!(
            paths.iter().all(|p| !p.contains("node_modules/")),
            "node_modules must never be embedded"
        );
        assert!(profile_files().iter().any(|p| p == "get-session.toml"));
        assert_eq!(bundled_better_auth_version().as_deref(), Some("1.7.25"));
        assert_eq!(content_hash().len(), 12);
    }

    /// The exclude list above must keep exactly the tracked sources: nothing an install or a run
    /// leaves in targets/ (node_modules, builds, databases, logs) and no tracked file missing.
    /// Skipped where there is no git checkout (a source tarball).
    #[test]
    fn embedded_targets_are_exactly_the_tracked_sources() {
        // cargo runs unit tests in the package root.
        let root = ".";
        let Ok(output) = std::process::Command::new("git")
            .args(["-C", root, "ls-files", "targets", "features"])
            .output()
        else {
            return;
        };
        if !output.status.success() {
            return;
        }
        let tracked: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| !l.starts_with("features/") || l.ends_with(".feature"))
            .map(str::to_string)
            .collect();
        let embedded: BTreeSet<String> = unpacked_files().into_iter().map(|f| f.path).collect();
        let missing: Vec<_> = tracked.difference(&embedded).collect();
        let extra: Vec<_> = embedded.difference(&tracked).collect();
        assert!(missing.is_empty(), "tracked but not embedded: {missing:?}");
        assert!(
            extra.is_empty(),
            "embedded but not tracked (add an exclude in src/assets.rs): {extra:?}"
        );
    }
}
