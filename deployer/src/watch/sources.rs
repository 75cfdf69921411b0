//! What a watch looks at: the files each function binary builds from (as the asset fingerprint reads them), with a
//! hash of their contents, and which binaries a change touches. Contents, not modification times: saving a file
//! unchanged, or `touch`, rebuilds nothing, and an edit within one timestamp tick is still seen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::build::fingerprint;
use crate::error::{DeployerError, Result};
use crate::workspace::Workspace;

/// A cargo binary the stacks declare: `(package, binary)`.
pub(crate) type Binary = (String, String);

/// Each watched file's SHA-256 (`None`: absent), and the files each binary builds from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    files: BTreeMap<PathBuf, Option<[u8; 32]>>,
    inputs: BTreeMap<Binary, BTreeSet<PathBuf>>,
}

/// What changed between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Change {
    /// The files added, removed or changed.
    pub(crate) files: Vec<PathBuf>,
    /// The binaries that build from any of them (before or after the change).
    pub(crate) binaries: BTreeSet<Binary>,
}

impl Snapshot {
    /// Lists and hashes the files `binaries` build from in `workspace`, now.
    pub(crate) fn take(workspace: &Workspace, binaries: &BTreeSet<Binary>) -> Result<Self> {
        let mut snapshot = Self::default();
        for binary in binaries {
            let files = fingerprint::input_files(workspace, &binary.0, &binary.1)?;
            for file in &files {
                if !snapshot.files.contains_key(file) {
                    snapshot.files.insert(file.clone(), hash(file)?);
                }
            }
            snapshot.inputs.insert(binary.clone(), files);
        }
        Ok(snapshot)
    }

    /// How many files exist among those watched.
    pub(crate) fn file_count(&self) -> usize {
        self.files.values().filter(|hash| hash.is_some()).count()
    }

    /// What changed from `self` to `now`; empty when nothing did.
    pub(crate) fn change(&self, now: &Self) -> Change {
        let paths: BTreeSet<&PathBuf> = self.files.keys().chain(now.files.keys()).collect();
        let files: Vec<PathBuf> = paths
            .into_iter()
            .filter(|path| self.files.get(*path).copied().flatten() != now.files.get(*path).copied().flatten())
            .cloned()
            .collect();
        let binaries = self
            .inputs
            .iter()
            .chain(&now.inputs)
            .filter(|(_, inputs)| files.iter().any(|file| inputs.contains(file)))
            .map(|(binary, _)| binary.clone())
            .collect();
        Change { files, binaries }
    }
}

/// The SHA-256 of `path`'s contents; `None` when it does not exist (the workspace's optional files, a file just
/// removed, or one an editor is replacing this very moment).
fn hash(path: &Path) -> Result<Option<[u8; 32]>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(Sha256::digest(&bytes).into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DeployerError::io("read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::{Binary, Snapshot};
    use crate::workspace::Workspace;

    /// A workspace of three packages: `a` and `b` (binaries) both use the library `shared`.
    fn workspace(root: &Path) -> Workspace {
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\", \"shared\"]\nresolver = \"3\"\n");
        for bin in ["a", "b"] {
            write(
                &format!("{bin}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{bin}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nshared = \
                     {{ path = \"../shared\" }}\n"
                ),
            );
            write(&format!("{bin}/src/main.rs"), "fn main() { shared::hello(); }\n");
            write(&format!("{bin}/tests/it.rs"), "#[test]\nfn t() {}\n");
        }
        write("shared/Cargo.toml", "[package]\nname = \"shared\"\nversion = \"0.1.0\"\nedition = \"2024\"\n");
        write("shared/src/lib.rs", "pub fn hello() {}\n");
        Workspace::discover_from(root).unwrap()
    }

    fn binaries() -> BTreeSet<Binary> {
        [("a".to_owned(), "a".to_owned()), ("b".to_owned(), "b".to_owned())].into()
    }

    fn names(binaries: &BTreeSet<Binary>) -> Vec<&str> {
        binaries.iter().map(|(_, binary)| binary.as_str()).collect()
    }

    #[test]
    fn an_edit_touches_only_the_binaries_that_build_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = workspace(dir.path());
        let before = Snapshot::take(&workspace, &binaries()).unwrap();
        assert_eq!(before.file_count(), 7, "two manifests and mains, the library's two files, the workspace's");
        assert!(before.change(&Snapshot::take(&workspace, &binaries()).unwrap()).files.is_empty());

        std::fs::write(dir.path().join("a/src/main.rs"), "fn main() { shared::hello(); shared::hello(); }\n").unwrap();
        let after = Snapshot::take(&workspace, &binaries()).unwrap();
        let change = before.change(&after);
        assert_eq!(change.files, [dir.path().join("a/src/main.rs")]);
        assert_eq!(names(&change.binaries), ["a"], "b does not build from a's main");

        std::fs::write(dir.path().join("shared/src/new.rs"), "pub fn more() {}\n").unwrap();
        let change = after.change(&Snapshot::take(&workspace, &binaries()).unwrap());
        assert_eq!(change.files, [dir.path().join("shared/src/new.rs")], "a new file is seen");
        assert_eq!(names(&change.binaries), ["a", "b"], "both build from the shared library");
    }

    #[test]
    fn tests_and_unchanged_saves_touch_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = workspace(dir.path());
        let before = Snapshot::take(&workspace, &binaries()).unwrap();
        std::fs::write(dir.path().join("a/tests/it.rs"), "#[test]\nfn t2() {}\n").unwrap();
        // The same bytes written again: a new modification time, the same contents.
        std::fs::write(dir.path().join("b/src/main.rs"), "fn main() { shared::hello(); }\n").unwrap();
        let change = before.change(&Snapshot::take(&workspace, &binaries()).unwrap());
        assert!(change.files.is_empty() && change.binaries.is_empty(), "{change:?}");

        std::fs::remove_file(dir.path().join("shared/src/lib.rs")).unwrap();
        let change = before.change(&Snapshot::take(&workspace, &binaries()).unwrap());
        assert_eq!(change.files, [dir.path().join("shared/src/lib.rs")], "a removed file is a change");
        assert_eq!(names(&change.binaries), ["a", "b"]);
    }
}
