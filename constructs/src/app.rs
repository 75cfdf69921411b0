//! The app: the stacks one project deploys, and what the deployer tells it when it runs it (the environment, stack
//! renames, the functions' architecture and the names of the built assets).
//!
//! An app is a binary of the user's workspace, named in `deployer.toml` as `cdk.json` names a CDK app. The deployer
//! runs it with `DEPLOYER_OUTDIR` set; [`App::run`] reads the context the deployer wrote there, lets the app
//! define its stacks, and writes the cloud assembly (each stack's template and what the deployer needs to know about
//! it) into the same folder ([`crate::assembly`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::assembly::{self, AssemblyError};
use crate::asset::{AssetManifest, AssetSpec};
use crate::construct::Stack;
use crate::error::SynthError;
use crate::resources::lambda::Architecture;
use crate::synth::{CloudAssembly, StackKind};

/// Environment variable naming the folder the deployer reads the cloud assembly from.
pub const OUTDIR_ENV: &str = "DEPLOYER_OUTDIR";

/// A named environment: where the app's stacks go and the values the app reads there, as a CDK stage or
/// `sam deploy --config-env` gives them. Defined in `deployer.toml` and chosen with `deployer --env <name>`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Environment {
    /// The environment's name (`staging`, `production`); `None` when the deployer was given none.
    pub name: Option<String>,
    /// The AWS account its stacks go to, when the environment pins one.
    pub account: Option<String>,
    /// The AWS region its stacks go to, when the environment pins one.
    pub region: Option<String>,
    /// Put before every stack name (`staging-`), so environments sharing an account keep apart.
    pub stack_prefix: String,
    /// Values the app reads with [`App::value`]: memory sizes, log retention, timeouts...
    pub values: BTreeMap<String, Value>,
    /// Whether the environment is protected from development shortcuts (`up --hotswap` refuses it).
    pub protected: bool,
}

/// What the deployer tells the app when it runs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AppContext {
    /// The environment the stacks are synthesized for.
    pub environment: Environment,
    /// Stack names chosen on the command line, by stack construct id (`--stack-name` renames the default stack).
    pub stack_names: BTreeMap<String, String>,
    /// The instruction set of the app's functions (`--arch`).
    pub architecture: Architecture,
    /// The built assets' object names. `None`: the deployer is asking which assets the stacks declare, so each
    /// asset gets a placeholder name.
    pub assets: Option<AssetManifest>,
    /// The bootstrap qualifier (`--qualifier`): which bootstrap's permissions boundary and role path the app's
    /// roles carry ([`crate::qualifier`]).
    pub qualifier: String,
}

impl Default for AppContext {
    fn default() -> Self {
        Self {
            environment: Environment::default(),
            stack_names: BTreeMap::new(),
            architecture: Architecture::default(),
            assets: None,
            qualifier: crate::qualifier::DEFAULT_QUALIFIER.to_owned(),
        }
    }
}

impl AppContext {
    /// The context file's name inside the output folder.
    pub const FILE_NAME: &'static str = "context.json";

    /// The environment's value `key` read as `T`, or `default` (see [`App::value`]).
    pub fn value<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T, SynthError> {
        match self.environment.values.get(key) {
            None => Ok(default),
            Some(value) => serde_json::from_value(value.clone()).map_err(|e| SynthError::InvalidValue {
                environment: self.environment.name.clone().unwrap_or_else(|| "(none)".to_owned()),
                key: key.to_owned(),
                message: e.to_string(),
            }),
        }
    }

    /// Reads `<dir>/context.json`; an absent file is the default context.
    pub fn read(dir: &Path) -> Result<Self, AssemblyError> {
        let path = dir.join(Self::FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AssemblyError::invalid(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(AssemblyError::io("read", &path, e)),
        }
    }

    /// Writes `<dir>/context.json`.
    pub fn write(&self, dir: &Path) -> Result<(), AssemblyError> {
        std::fs::create_dir_all(dir).map_err(|e| AssemblyError::io("create", dir, e))?;
        let path = dir.join(Self::FILE_NAME);
        let text = serde_json::to_string_pretty(self).map_err(|e| AssemblyError::invalid(&path, e))?;
        std::fs::write(&path, text).map_err(|e| AssemblyError::io("write", &path, e))
    }
}

/// A CDK-style app: the stacks one deployment manages, in the order they were added.
///
/// # Examples
///
/// ```
/// use constructs::{App, Output, Stack};
/// use constructs::resources::logs::LogGroup;
///
/// let mut app = App::new();
/// let mut stack = Stack::new(&app, "Logs")?;
/// let group = stack.add("Group", LogGroup::new(14))?;
/// stack.add_output("GroupName", Output::new(constructs::reference::Reference::ref_(&group)))?;
/// app.add_stack(stack)?;
/// let assembly = app.synth()?;
/// assert_eq!(assembly.stacks[0].stack_name, "Logs");
/// # Ok::<(), constructs::SynthError>(())
/// ```
#[derive(Debug, Default)]
pub struct App {
    context: Arc<AppContext>,
    stacks: Vec<Stack>,
}

impl App {
    /// An app with the default context: no environment, arm64, placeholder asset names.
    pub fn new() -> Self {
        Self::default()
    }

    /// An app with the given context.
    pub fn with_context(context: AppContext) -> Self {
        Self { context: Arc::new(context), stacks: Vec::new() }
    }

    /// Runs an app as the deployer runs it: reads the context from `DEPLOYER_OUTDIR`, calls `define` to add the
    /// stacks, and writes the cloud assembly there. Errors are printed with what to do; the exit code says whether
    /// the assembly was written.
    ///
    /// A project's app binary is one line:
    ///
    /// ```no_run
    /// fn main() -> std::process::ExitCode {
    ///     constructs::App::run(|app| {
    ///         let stack = constructs::Stack::new(app, "Empty")?;
    ///         app.add_stack(stack)
    ///     })
    /// }
    /// ```
    pub fn run(define: impl FnOnce(&mut Self) -> Result<(), SynthError>) -> ExitCode {
        let Some(dir) = std::env::var_os(OUTDIR_ENV).map(PathBuf::from) else {
            eprintln!(
                "error: {OUTDIR_ENV} is not set: this app is run by the deployer (`cargo run -p deployer -- synth`); \
                 to run it by hand, set {OUTDIR_ENV} to the folder the templates should go to"
            );
            return ExitCode::from(2);
        };
        let result = AppContext::read(&dir).map_err(|e| e.to_string()).and_then(|context| {
            let mut app = Self::with_context(context);
            define(&mut app).map_err(|e| e.to_string())?;
            app.write_assembly(&dir).map_err(|e| e.to_string())
        });
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        }
    }

    /// What the deployer told the app.
    pub fn context(&self) -> &AppContext {
        &self.context
    }

    /// The environment the stacks are synthesized for.
    pub fn environment(&self) -> &Environment {
        &self.context.environment
    }

    /// The instruction set of the app's functions.
    pub fn architecture(&self) -> Architecture {
        self.context.architecture
    }

    /// The environment's value `key` read as `T`, or `default` when the environment sets none. A value of the
    /// wrong shape is an error naming the key and the environment.
    ///
    /// ```
    /// let app = constructs::App::new();
    /// assert_eq!(app.value("memory", 128_u32)?, 128);
    /// # Ok::<(), constructs::SynthError>(())
    /// ```
    pub fn value<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T, SynthError> {
        self.context.value(key, default)
    }

    /// Adds a stack; its name and its construct id must be unique in the app.
    pub fn add_stack(&mut self, stack: Stack) -> Result<(), SynthError> {
        if self.stacks.iter().any(|s| s.name == stack.name || s.id == stack.id) {
            return Err(SynthError::DuplicateStack { name: stack.name });
        }
        self.stacks.push(stack);
        Ok(())
    }

    /// The stacks, in the order they were added.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// The stack whose construct id is `id`.
    pub fn stack(&self, id: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.id == id)
    }

    /// Every asset the app's stacks declare, sorted by asset id.
    pub fn assets(&self) -> Vec<AssetSpec> {
        let mut assets: Vec<AssetSpec> = self.stacks.iter().flat_map(Stack::assets).collect();
        assets.sort_by(|a, b| a.id.cmp(&b.id));
        assets
    }

    /// The shared context, for the stacks this app makes.
    pub(crate) fn shared_context(&self) -> Arc<AppContext> {
        Arc::clone(&self.context)
    }

    /// Synthesizes every stack against the context's asset names (placeholders when it has none): bootstrap stacks
    /// first, then app stacks, each group in the order added.
    pub fn synth(&self) -> Result<CloudAssembly, SynthError> {
        let manifest = match &self.context.assets {
            Some(manifest) => manifest.clone(),
            None => AssetManifest::placeholders(&self.assets()),
        };
        self.synth_with(&manifest)
    }

    /// Synthesizes every stack against `assets`.
    pub fn synth_with(&self, assets: &AssetManifest) -> Result<CloudAssembly, SynthError> {
        let mut ordered: Vec<&Stack> = self.stacks.iter().collect();
        ordered.sort_by_key(|s| match s.kind {
            StackKind::Bootstrap => 0,
            StackKind::App => 1,
        });
        let stacks = ordered.into_iter().map(|s| s.synth(assets)).collect::<Result<Vec<_>, _>>()?;
        Ok(CloudAssembly { stacks })
    }

    /// Synthesizes the app and writes its cloud assembly into `dir`.
    pub fn write_assembly(&self, dir: &Path) -> Result<(), AssemblyError> {
        let assembly = self.synth().map_err(AssemblyError::Synth)?;
        assembly::write(&assembly, dir)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::logs::LogGroup;

    fn staging() -> AppContext {
        AppContext {
            environment: Environment {
                name: Some("staging".into()),
                stack_prefix: "staging-".into(),
                values: BTreeMap::from([("memory".to_owned(), json!(256)), ("name".to_owned(), json!("x"))]),
                ..Environment::default()
            },
            stack_names: BTreeMap::from([("Renamed".to_owned(), "other-name".to_owned())]),
            ..AppContext::default()
        }
    }

    #[test]
    fn values_are_read_typed_with_a_default() {
        let app = App::with_context(staging());
        assert_eq!(app.value("memory", 128_u32).unwrap(), 256);
        assert_eq!(app.value("absent", 7_u32).unwrap(), 7);
        let error = app.value("name", 1_u32).unwrap_err().to_string();
        assert!(error.contains("`name`") && error.contains("staging"), "{error}");
    }

    #[test]
    fn stack_names_take_the_prefix_and_renames_by_construct_id() {
        let mut app = App::with_context(staging());
        let plain = Stack::new(&app, "Plain").unwrap();
        assert_eq!((plain.id(), plain.name()), ("Plain", "staging-Plain"));
        let mut named = Stack::new(&app, "Named").unwrap();
        named.set_stack_name("my-stack").unwrap();
        assert_eq!(named.name(), "staging-my-stack");
        let mut renamed = Stack::new(&app, "Renamed").unwrap();
        renamed.set_stack_name("declared").unwrap();
        assert_eq!(renamed.name(), "staging-other-name", "the command line wins over the declared name");
        app.add_stack(plain).unwrap();
        assert!(matches!(app.add_stack(Stack::new(&app, "Plain").unwrap()), Err(SynthError::DuplicateStack { .. })));
    }

    #[test]
    fn the_assembly_is_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = App::new();
        let mut stack = Stack::new(&app, "Logs").unwrap();
        stack.add("Group", LogGroup::new(14)).unwrap();
        app.add_stack(stack).unwrap();
        app.write_assembly(dir.path()).unwrap();
        let read = assembly::read(dir.path()).unwrap();
        assert_eq!(read, app.synth().unwrap());
    }
}
