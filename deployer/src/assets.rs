//! The assets of a selection, named without building: each cargo binary by the fingerprint of its build inputs
//! ([`crate::build::fingerprint`]), each prebuilt zip by the SHA-256 of its bytes. The name is the S3 key
//! (`<name>.zip`) and what the templates are synthesized against; `up` builds and packages only the objects that
//! are neither published nor packaged already, into `target/deployer/assets/<name>.zip`.

use std::path::{Path, PathBuf};

use constructs::{AssetManifest, AssetSource, AssetSpec};

use crate::build::BuildTarget;
use crate::build::fingerprint::Fingerprints;
use crate::error::{DeployerError, Result};
use crate::package::zip::sha256_hex;
use crate::workspace::Workspace;

/// One asset of the selection and the name of its object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedAsset {
    /// The construct path of the resource using it.
    pub(crate) asset_id: String,
    /// Where its code comes from.
    pub(crate) source: AssetSource,
    /// The object's name: 64 lowercase hex digits.
    pub(crate) name: String,
}

impl PlannedAsset {
    /// The S3 key of its object.
    pub(crate) fn key(&self) -> String {
        format!("{}.zip", self.name)
    }
}

/// Names every asset of `assets` for a build for `target`, without building.
pub(crate) fn plan(workspace: &Workspace, assets: &[AssetSpec], target: BuildTarget) -> Result<Vec<PlannedAsset>> {
    let needs_toolchain = assets.iter().any(|a| matches!(a.source, AssetSource::CargoBinary { .. }));
    let fingerprints = if needs_toolchain { Some(Fingerprints::new(workspace)?) } else { None };
    plan_with(workspace, assets, target, fingerprints.as_ref())
}

/// [`plan`] with given fingerprints (for tests).
pub(crate) fn plan_with(
    workspace: &Workspace,
    assets: &[AssetSpec],
    target: BuildTarget,
    fingerprints: Option<&Fingerprints<'_>>,
) -> Result<Vec<PlannedAsset>> {
    let mut planned = Vec::new();
    for asset in assets {
        let name = match (&asset.source, fingerprints) {
            (AssetSource::CargoBinary { package, binary }, Some(prints)) => prints.binary(package, binary, target)?,
            (AssetSource::CargoBinary { .. }, None) => {
                return Err(DeployerError::Build(format!(
                    "asset {} is a cargo binary, but no fingerprints were computed; this is a bug of the deployer",
                    asset.id
                )));
            }
            (AssetSource::Zip { path }, _) => {
                let path = zip_path(workspace, path);
                let bytes = std::fs::read(&path).map_err(|e| missing_zip(&asset.id, &path, &e))?;
                sha256_hex(&bytes)
            }
        };
        planned.push(PlannedAsset { asset_id: asset.id.clone(), source: asset.source.clone(), name });
    }
    Ok(planned)
}

/// The manifest the templates are synthesized against.
pub(crate) fn manifest(planned: &[PlannedAsset]) -> AssetManifest {
    let mut manifest = AssetManifest::new();
    for asset in planned {
        manifest.insert(asset.asset_id.clone(), asset.name.clone());
    }
    manifest
}

/// The manifest with the SHA-256 of each object's zip bytes where `codes` (by object name) knows it: what a
/// function's versions are named after.
pub(crate) fn manifest_with_codes(
    planned: &[PlannedAsset],
    codes: &std::collections::BTreeMap<String, String>,
) -> AssetManifest {
    let mut manifest = manifest(planned);
    for asset in planned {
        if let Some(code) = codes.get(&asset.name) {
            manifest.set_code_sha256(&asset.asset_id, code.clone());
        }
    }
    manifest
}

/// The SHA-256 of `object`'s zip bytes when it is packaged on this machine.
pub(crate) fn local_code_sha256(workspace: &Workspace, object: &PlannedAsset) -> Option<String> {
    let (path, _) = packaged(workspace, object)?;
    std::fs::read(path).ok().map(|bytes| sha256_hex(&bytes))
}

/// The SHA-256 of the zip bytes of each object of `planned` packaged on this machine, by object name.
pub(crate) fn local_codes(
    workspace: &Workspace,
    planned: &[PlannedAsset],
) -> std::collections::BTreeMap<String, String> {
    objects(planned).into_iter().filter_map(|o| Some((o.name.clone(), local_code_sha256(workspace, o)?))).collect()
}

/// The distinct objects of `planned` (many assets share one: every conformance function runs one binary), in the
/// order first used.
pub(crate) fn objects(planned: &[PlannedAsset]) -> Vec<&PlannedAsset> {
    let mut seen = std::collections::BTreeSet::new();
    planned.iter().filter(|a| seen.insert(a.name.as_str())).collect()
}

/// Where the packaged object `name` lives on this machine.
pub(crate) fn packaged_path(workspace: &Workspace, name: &str) -> PathBuf {
    workspace.target_dir.join("deployer").join("assets").join(format!("{name}.zip"))
}

/// The zip of `asset`'s object as already packaged on this machine (a prebuilt zip is its own) and its size.
pub(crate) fn packaged(workspace: &Workspace, asset: &PlannedAsset) -> Option<(PathBuf, u64)> {
    let path = match &asset.source {
        AssetSource::Zip { path } => zip_path(workspace, path),
        AssetSource::CargoBinary { .. } => packaged_path(workspace, &asset.name),
    };
    let bytes = std::fs::metadata(&path).ok().filter(std::fs::Metadata::is_file)?.len();
    Some((path, bytes))
}

fn zip_path(workspace: &Workspace, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { workspace.root.join(path) }
}

fn missing_zip(asset: &str, path: &Path, error: &std::io::Error) -> DeployerError {
    DeployerError::Build(format!(
        "asset {asset} points at {} ({error}); build that zip first or fix the path in stacks/",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn assets_sharing_a_binary_share_one_object_and_a_zip_is_named_by_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prebuilt.zip"), b"zip bytes").unwrap();
        let workspace =
            Workspace { root: dir.path().to_path_buf(), target_dir: dir.path().join("target"), packages: vec![] };
        let cargo = |id: &str| AssetSpec {
            id: id.into(),
            source: AssetSource::CargoBinary { package: "p".into(), binary: "p".into() },
        };
        let zip = AssetSpec { id: "s/Z".into(), source: AssetSource::Zip { path: "prebuilt.zip".into() } };
        let error = plan_with(&workspace, &[cargo("s/A")], BuildTarget::Host, None).unwrap_err();
        assert!(error.to_string().contains("s/A"), "{error}");
        let planned = plan_with(&workspace, std::slice::from_ref(&zip), BuildTarget::Host, None).unwrap();
        assert_eq!(planned[0].name, sha256_hex(b"zip bytes"));
        assert_eq!(packaged(&workspace, &planned[0]).unwrap().1, 9, "a prebuilt zip is its own package");
        let shared = [planned[0].clone(), planned[0].clone()];
        assert_eq!(objects(&shared).len(), 1);
        let missing = AssetSpec { id: "s/M".into(), source: AssetSource::Zip { path: "nope.zip".into() } };
        let error = plan_with(&workspace, &[missing], BuildTarget::Host, None).unwrap_err().to_string();
        assert!(error.contains("s/M") && error.contains("nope.zip"), "{error}");
    }
}
