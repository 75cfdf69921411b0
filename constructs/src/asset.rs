//! Assets: the code a stack declares (a cargo binary or a prebuilt zip), and where the deployer put it.
//!
//! Stacks declare assets; the deployer builds and zips them, uploads each zip to the bootstrap bucket under
//! `<sha256>.zip` and hands the hashes back in an [`AssetManifest`]. The key is the content hash, so a template
//! changes exactly when code changes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::SynthError;

/// The template parameter through which a stack with assets learns the asset bucket's name: the bucket's name
/// carries part of its bootstrap stack's id, so it is only known once bootstrapped, and the deployer passes it.
pub const BUCKET_PARAMETER: &str = "AssetBucket";

/// One asset an app declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetSpec {
    /// The construct path of the resource using it, e.g. `durable-invoke-lambda/Processor`.
    pub id: String,
    /// What to build or pick up.
    pub source: AssetSource,
}

/// Where an asset's zip comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssetSource {
    /// A binary of a workspace package, built for Lambda and zipped as `bootstrap`.
    CargoBinary {
        /// Cargo package name.
        package: String,
        /// Binary target name within the package.
        binary: String,
    },
    /// A zip that already exists.
    Zip {
        /// Path of the zip file.
        path: PathBuf,
    },
}

/// The hashes of the built assets, by asset id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetManifest(pub BTreeMap<String, ResolvedAsset>);

/// A built and published asset.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResolvedAsset {
    /// The object's name, 64 lowercase hex digits: for a cargo binary the fingerprint of its build's inputs (known
    /// without building), for a prebuilt zip the SHA-256 of its bytes. The S3 key is `<name>.zip`.
    pub sha256: String,
    /// The SHA-256 of the zip's bytes, once it is known (built here, or recorded with the uploaded object): the
    /// code Lambda will hold. A function's versions are named after it rather than after the object's name, so a
    /// change of build inputs that leaves the zip byte-identical publishes no new version (which CloudFormation
    /// would refuse: "A version for this Lambda function exists").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
}

impl ResolvedAsset {
    /// The S3 object key of the zip: `<sha256>.zip`.
    pub fn object_key(&self) -> String {
        format!("{}.zip", self.sha256)
    }
}

impl AssetManifest {
    /// An empty manifest.
    pub fn new() -> Self {
        Self::default()
    }

    /// A manifest naming every asset of `assets` with a placeholder (64 zeros): enough to synthesize templates
    /// whose functions, outputs and names are read, before anything is fingerprinted or built.
    pub fn placeholders(assets: &[AssetSpec]) -> Self {
        let mut manifest = Self::new();
        for asset in assets {
            manifest.insert(asset.id.clone(), "0".repeat(64));
        }
        manifest
    }

    /// Records the hash of asset `id`.
    pub fn insert(&mut self, id: impl Into<String>, sha256: impl Into<String>) {
        self.0.insert(id.into(), ResolvedAsset { sha256: sha256.into(), code_sha256: None });
    }

    /// Records the SHA-256 of asset `id`'s zip bytes, once known (see [`ResolvedAsset::code_sha256`]).
    pub fn set_code_sha256(&mut self, id: &str, code_sha256: impl Into<String>) {
        if let Some(asset) = self.0.get_mut(id) {
            asset.code_sha256 = Some(code_sha256.into());
        }
    }

    /// The resolved asset `id`, checked to carry a well-formed hash.
    pub fn resolve(&self, id: &str) -> Result<&ResolvedAsset, SynthError> {
        let asset = self.0.get(id).ok_or_else(|| SynthError::MissingAsset { id: id.to_owned() })?;
        let well_formed =
            asset.sha256.len() == 64 && asset.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if well_formed {
            Ok(asset)
        } else {
            Err(SynthError::InvalidAssetHash { id: id.to_owned(), sha256: asset.sha256.clone() })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn object_key_is_the_hash() {
        let a = ResolvedAsset { sha256: "ab".repeat(32), code_sha256: None };
        assert_eq!(a.object_key(), format!("{}.zip", "ab".repeat(32)));
    }

    #[test]
    fn resolve_names_missing_and_malformed_assets() {
        let mut m = AssetManifest::new();
        m.insert("s/Good", "0".repeat(64));
        m.insert("s/Upper", "A".repeat(64));
        assert!(m.resolve("s/Good").is_ok());
        let err = m.resolve("s/Missing").unwrap_err().to_string();
        assert!(err.contains("s/Missing"), "{err}");
        let err = m.resolve("s/Upper").unwrap_err().to_string();
        assert!(err.contains("s/Upper"), "{err}");
    }
}
