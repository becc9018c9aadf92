//! Private temporary folders, removed when dropped: goose's own reports during a load run, and
//! the scratch folders of unit tests.

use std::path::{Path, PathBuf};

use crate::error::HarnessError;

/// A private temporary folder, `ba-harness-<label>-<pid>-<random>` under the system's temporary
/// folder; removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Result<Self, HarnessError> {
        let dir = std::env::temp_dir().join(format!(
            "ba-harness-{label}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| HarnessError::Output {
            path: dir.display().to_string(),
            source: e,
        })?;
        Ok(TempDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
