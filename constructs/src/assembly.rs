//! The cloud assembly: what an app writes for the deployer, as a CDK app writes `cdk.out`.
//!
//! One folder holds `assembly.json` (each stack's construct id, name, template file, assets and example events)
//! and one `<stack name>.template.json` per stack. The app writes it ([`write`], through
//! [`crate::App::run`]); the deployer and the test library read it ([`read`]). The format carries a version, so a
//! deployer meeting an app built against another version of this library says so instead of misreading it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::asset::AssetSpec;
use crate::error::SynthError;
use crate::synth::{CloudAssembly, StackKind, SynthesizedStack};

/// Version of the assembly format this library writes and reads.
pub const VERSION: u32 = 1;
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "assembly.json";

/// Why an assembly could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssemblyError {
    /// The app could not be synthesized.
    #[error(transparent)]
    Synth(SynthError),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not what the format says.
    #[error("{} is not a valid cloud assembly file: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The assembly was written by another version of the format.
    #[error(
        "the app wrote cloud assembly format {found}, this deployer reads format {VERSION}: build the app and the \
         deployer against the same version of the `constructs` crate"
    )]
    Version {
        /// The version the assembly declares.
        found: u32,
    },
}

impl AssemblyError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io { action, path: path.to_path_buf(), source }
    }

    pub(crate) fn invalid(path: &Path, message: impl std::fmt::Display) -> Self {
        Self::Invalid { path: path.to_path_buf(), message: message.to_string() }
    }
}

/// `assembly.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Manifest {
    version: u32,
    stacks: Vec<StackEntry>,
}

/// One stack of `assembly.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StackEntry {
    id: String,
    stack_name: String,
    kind: StackKind,
    template_file: String,
    assets: Vec<AssetSpec>,
    example_events: BTreeMap<String, Value>,
}

/// Writes `assembly` into `dir`: the templates, then the manifest (last, so a reader never sees a manifest naming
/// a template not yet written).
pub fn write(assembly: &CloudAssembly, dir: &Path) -> Result<(), AssemblyError> {
    std::fs::create_dir_all(dir).map_err(|e| AssemblyError::io("create", dir, e))?;
    let mut stacks = Vec::new();
    for stack in &assembly.stacks {
        let file = stack.file_name();
        let path = dir.join(&file);
        std::fs::write(&path, &stack.template_body).map_err(|e| AssemblyError::io("write", &path, e))?;
        stacks.push(StackEntry {
            id: stack.id.clone(),
            stack_name: stack.stack_name.clone(),
            kind: stack.kind,
            template_file: file,
            assets: stack.assets.clone(),
            example_events: stack.example_events.clone(),
        });
    }
    let path = dir.join(MANIFEST_FILE);
    let text = serde_json::to_string_pretty(&Manifest { version: VERSION, stacks })
        .map_err(|e| AssemblyError::invalid(&path, e))?;
    std::fs::write(&path, text).map_err(|e| AssemblyError::io("write", &path, e))
}

/// Reads the assembly an app wrote into `dir`.
pub fn read(dir: &Path) -> Result<CloudAssembly, AssemblyError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(|e| AssemblyError::io("read", &path, e))?;
    let version = serde_json::from_slice::<Value>(&bytes)
        .map_err(|e| AssemblyError::invalid(&path, e))?
        .get("version")
        .and_then(Value::as_u64)
        .ok_or_else(|| AssemblyError::invalid(&path, "it has no `version`"))?;
    if version != u64::from(VERSION) {
        return Err(AssemblyError::Version { found: u32::try_from(version).unwrap_or(u32::MAX) });
    }
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| AssemblyError::invalid(&path, e))?;
    let mut stacks = Vec::new();
    for entry in manifest.stacks {
        if entry.template_file.contains(['/', '\\']) || entry.template_file.starts_with('.') {
            return Err(AssemblyError::invalid(
                &path,
                format!("template file `{}` is not a plain name", entry.template_file),
            ));
        }
        let file = dir.join(&entry.template_file);
        let template_body = std::fs::read_to_string(&file).map_err(|e| AssemblyError::io("read", &file, e))?;
        let template = serde_json::from_str(&template_body).map_err(|e| AssemblyError::invalid(&file, e))?;
        stacks.push(SynthesizedStack {
            id: entry.id,
            stack_name: entry.stack_name,
            kind: entry.kind,
            template,
            template_body,
            example_events: entry.example_events,
            assets: entry.assets,
        });
    }
    Ok(CloudAssembly { stacks })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn another_format_version_is_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), r#"{"version": 99, "stacks": []}"#).unwrap();
        let error = read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("format 99") && error.contains(&format!("format {VERSION}")), "{error}");
    }

    #[test]
    fn a_template_path_outside_the_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = r#"{"version": 1, "stacks": [{"id": "A", "stackName": "a", "kind": "App",
            "templateFile": "../a.json", "assets": [], "exampleEvents": {}}]}"#;
        std::fs::write(dir.path().join(MANIFEST_FILE), manifest).unwrap();
        let error = read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("../a.json"), "{error}");
    }

    #[test]
    fn a_missing_assembly_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let error = read(dir.path()).unwrap_err().to_string();
        assert!(error.contains(MANIFEST_FILE), "{error}");
    }
}
