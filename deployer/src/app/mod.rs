//! The project's app and the stacks a command acts on.
//!
//! The app is a binary of the workspace that writes a cloud assembly ([`runner`]), named in `deployer.toml`
//! ([`config`]) or with `--app`. Stacks are selected by construct id or stack name, with `*` and `?` globs, as
//! `cdk deploy` selects them; without a selector, the app's default stack (`default-stack` in `deployer.toml`, or
//! the app's only stack). The bootstrap stack is the deployer's own ([`crate::bootstrap`]): `up` deploys it before
//! any selection, `synth` and `diff` show it beside the selection, and only `down --all` deletes it.

pub(crate) mod config;
pub(crate) mod runner;

use std::path::{Path, PathBuf};

use constructs::{AppContext, AssetManifest, AssetSpec, CloudAssembly, Environment, SynthesizedStack};

use self::config::ProjectConfig;
use self::runner::AppBinary;
use crate::bootstrap::BootstrapConfig;
use crate::error::{DeployerError, Result};
use crate::package;
use crate::workspace::Workspace;

/// What the command line says about the app.
#[derive(Debug, Clone)]
pub(crate) struct AppOptions {
    /// `--app`: the app's cargo package, instead of the one `deployer.toml` names.
    pub(crate) package: Option<String>,
    /// `--env`: the environment to synthesize for.
    pub(crate) environment: Option<String>,
    /// `--stack-name`: the default stack's name.
    pub(crate) stack_name: Option<String>,
    /// `--arch`: the functions' instruction set.
    pub(crate) architecture: constructs::Architecture,
    /// `--qualifier`: the bootstrap the app's stacks deploy with.
    pub(crate) qualifier: String,
}

/// The project's app, built and ready to synthesize.
pub(crate) struct ProjectApp {
    source: Source,
    context: AppContext,
    default_stack: Option<String>,
}

/// Where the app's stacks come from.
enum Source {
    /// The app's binary, run in the workspace.
    Process { workspace: Workspace, executable: PathBuf },
    /// Stacks defined in the test itself.
    #[cfg(test)]
    Defined(fn(&mut constructs::App) -> Result<(), constructs::SynthError>),
}

impl ProjectApp {
    /// Finds the app (`--app`, else `deployer.toml`), builds it and prepares its context.
    pub(crate) fn load(workspace: &Workspace, options: &AppOptions) -> Result<Self> {
        let config = ProjectConfig::read(&workspace.root)?;
        let (binary, default_stack) = match (&options.package, &config) {
            (Some(package), _) => (AppBinary { package: package.clone(), bin: None }, None),
            (None, Some(config)) => (
                AppBinary { package: config.app.package.clone(), bin: config.app.bin.clone() },
                config.app.default_stack.clone(),
            ),
            (None, None) => {
                return Err(DeployerError::Config(format!(
                    "no app: {} has no {} naming one; write one with `[app] package = \"<your app's package>\"`, \
                     or name the package with `--app`",
                    workspace.root.display(),
                    config::FILE_NAME
                )));
            }
        };
        let environment = match (&options.environment, &config) {
            (None, _) => Environment::default(),
            (Some(name), Some(config)) => config.environment(name)?,
            (Some(name), None) => {
                return Err(DeployerError::NotFound {
                    what: format!("no environment `{name}`: the workspace has no {}", config::FILE_NAME),
                    remedy: format!("define it as `[environments.{name}]` in {}", config::FILE_NAME),
                    source: None,
                });
            }
        };
        let executable = binary.build(workspace)?;
        let mut context = AppContext {
            environment,
            architecture: options.architecture,
            qualifier: options.qualifier.clone(),
            ..AppContext::default()
        };
        let source = Source::Process { workspace: workspace.clone(), executable };
        let app = Self { source, context: context.clone(), default_stack };
        if let Some(name) = &options.stack_name {
            // `--stack-name` renames the default stack, which the first synthesis tells.
            let assembly = app.synth(None)?;
            let default = app.default_stack_of(&assembly)?;
            context.stack_names.insert(default, name.clone());
            return Ok(Self { context, ..app });
        }
        Ok(app)
    }

    /// Synthesizes the app: with `assets`, against those asset names; without, with placeholders (enough to read
    /// names, functions and assets).
    pub(crate) fn synth(&self, assets: Option<&AssetManifest>) -> Result<CloudAssembly> {
        let context = AppContext { assets: assets.cloned(), ..self.context.clone() };
        match &self.source {
            Source::Process { workspace, executable } => runner::synth(workspace, executable, &context),
            #[cfg(test)]
            Source::Defined(define) => {
                let mut app = constructs::App::with_context(context);
                define(&mut app)?;
                Ok(app.synth()?)
            }
        }
    }

    /// An app whose stacks `define` adds, for tests.
    #[cfg(test)]
    pub(crate) fn defined(
        define: fn(&mut constructs::App) -> Result<(), constructs::SynthError>,
        default_stack: Option<&str>,
        context: AppContext,
    ) -> Self {
        Self { source: Source::Defined(define), context, default_stack: default_stack.map(str::to_owned) }
    }

    /// The environment the app is synthesized for.
    pub(crate) fn environment(&self) -> &Environment {
        &self.context.environment
    }

    /// The construct id of the stack a command acts on when none is named.
    fn default_stack_of(&self, assembly: &CloudAssembly) -> Result<String> {
        if let Some(id) = &self.default_stack {
            return Ok(id.clone());
        }
        match assembly.stacks.as_slice() {
            [only] => Ok(only.id.clone()),
            stacks => Err(DeployerError::Usage(format!(
                "the app has {} stacks and {} names no default: name the stacks to act on ({}), or set \
                 `default-stack` under [app]",
                stacks.len(),
                config::FILE_NAME,
                stacks.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

/// The app and the stacks a command acts on.
pub(crate) struct Selection {
    app: ProjectApp,
    /// The app's stacks, synthesized with placeholder asset names.
    assembly: CloudAssembly,
    /// Indexes into the assembly's stacks, in the app's order.
    chosen: Vec<usize>,
}

impl Selection {
    /// The stacks of `app` that `selectors` name (ids or names, globs allowed); the app's default stack when there
    /// are none. A selector that matches no stack is an error listing the stacks.
    pub(crate) fn new(app: ProjectApp, selectors: &[String]) -> Result<Self> {
        let assembly = app.synth(None)?;
        let defaults = if selectors.is_empty() { vec![app.default_stack_of(&assembly)?] } else { Vec::new() };
        let selectors = if selectors.is_empty() { &defaults[..] } else { selectors };
        let mut chosen = Vec::new();
        for selector in selectors {
            let found: Vec<usize> = assembly
                .stacks
                .iter()
                .enumerate()
                .filter(|(_, s)| glob(selector, &s.id) || glob(selector, &s.stack_name))
                .map(|(index, _)| index)
                .collect();
            if found.is_empty() {
                return Err(unknown_stack(&assembly, selector));
            }
            chosen.extend(found);
        }
        chosen.sort_unstable();
        chosen.dedup();
        Ok(Self { app, assembly, chosen })
    }

    /// Every stack of `app`.
    pub(crate) fn all(app: ProjectApp) -> Result<Self> {
        let assembly = app.synth(None)?;
        let chosen = (0..assembly.stacks.len()).collect();
        Ok(Self { app, assembly, chosen })
    }

    /// The one stack `selector` names (the default stack when `None`): an error when it names none or several.
    pub(crate) fn one(app: ProjectApp, selector: Option<&str>) -> Result<Self> {
        let selectors: Vec<String> = selector.map(str::to_owned).into_iter().collect();
        let selection = Self::new(app, &selectors)?;
        if selection.chosen.len() > 1 {
            let names: Vec<&str> = selection.stacks().map(|s| s.stack_name.as_str()).collect();
            return Err(DeployerError::NotFound {
                what: format!("`{}` names {} stacks", selector.unwrap_or("the default"), names.len()),
                remedy: format!("name one of them with `--stack`: {}", names.join(", ")),
                source: None,
            });
        }
        Ok(selection)
    }

    /// The selected stacks, in the app's order, synthesized with placeholder asset names.
    pub(crate) fn stacks(&self) -> impl Iterator<Item = &SynthesizedStack> {
        self.chosen.iter().filter_map(|index| self.assembly.stacks.get(*index))
    }

    /// The first selected stack (the only one, for [`Selection::one`]).
    pub(crate) fn first(&self) -> Option<&SynthesizedStack> {
        self.stacks().next()
    }

    /// The app the stacks come from.
    pub(crate) fn app(&self) -> &ProjectApp {
        &self.app
    }

    /// The assets of the selected stacks, in the stacks' order.
    pub(crate) fn assets(&self) -> Vec<AssetSpec> {
        self.stacks().flat_map(|s| s.assets.iter().cloned()).collect()
    }

    /// The CloudFormation names of the selected stacks.
    pub(crate) fn names(&self) -> Vec<String> {
        self.stacks().map(|s| s.stack_name.clone()).collect()
    }

    /// The selected stacks with placeholder asset names: enough to read their functions, aliases and outputs,
    /// which never depend on the assets, without fingerprinting anything.
    pub(crate) fn synth_for_names(&self) -> CloudAssembly {
        CloudAssembly { stacks: self.stacks().cloned().collect() }
    }

    /// Synthesizes the selected stacks against `assets`, the bootstrap stack as `bootstrap` chooses first.
    pub(crate) fn synth_with_bootstrap(
        &self,
        assets: &AssetManifest,
        bootstrap: &BootstrapConfig,
    ) -> Result<CloudAssembly> {
        let mut stacks = vec![self.bootstrap(bootstrap)?];
        stacks.extend(self.synth_app(assets)?.stacks);
        Ok(CloudAssembly { stacks })
    }

    /// The selected stacks synthesized against `assets`, without the bootstrap stack (the local target has none).
    pub(crate) fn synth_app(&self, assets: &AssetManifest) -> Result<CloudAssembly> {
        // The app synthesizes all its stacks: those not selected get placeholder names, and are dropped.
        let every: Vec<AssetSpec> = self.assembly.stacks.iter().flat_map(|s| s.assets.iter().cloned()).collect();
        let mut complete = AssetManifest::placeholders(&every);
        complete.0.extend(assets.0.iter().map(|(id, asset)| (id.clone(), asset.clone())));
        let assembly = self.app.synth(Some(&complete))?;
        let names = self.names();
        Ok(CloudAssembly { stacks: assembly.stacks.into_iter().filter(|s| names.contains(&s.stack_name)).collect() })
    }

    /// The bootstrap of the app's qualifier, with the default execution policy.
    pub(crate) fn default_bootstrap(&self) -> BootstrapConfig {
        BootstrapConfig::new(&self.app.context.qualifier)
    }

    /// The bootstrap stack as `config` chooses, synthesized. It is derived from every stack of the app, selected
    /// or not: it serves them all; only the selected ones must be covered whole by its default execution policy.
    pub(crate) fn bootstrap(&self, config: &BootstrapConfig) -> Result<SynthesizedStack> {
        Ok(crate::bootstrap::synth(config, &self.assembly.stacks, &self.names())?)
    }
}

/// The error for a selector that names no stack: the app's stacks, and how to name them.
fn unknown_stack(assembly: &CloudAssembly, selector: &str) -> DeployerError {
    let listed: Vec<String> = assembly
        .stacks
        .iter()
        .map(|s| if s.id == s.stack_name { s.id.clone() } else { format!("{} ({})", s.id, s.stack_name) })
        .collect();
    let remedy = if glob(selector, crate::bootstrap::STACK_NAME) {
        format!(
            "{} is the bootstrap stack: `up` deploys it before any stack, and `down --all` deletes it",
            crate::bootstrap::STACK_NAME
        )
    } else {
        format!(
            "name stacks by construct id or stack name, `*` and `?` as wildcards (quote them); the app's stacks: {}",
            listed.join(", ")
        )
    };
    DeployerError::NotFound { what: format!("no stack of the app matches `{selector}`"), remedy, source: None }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters and `?` for one.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point: the position after the last `*` seen.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests;

/// Writes each template as `<stack>.template.json` into `dir` and returns the paths.
pub(crate) fn write_templates(assembly: &CloudAssembly, dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    std::fs::create_dir_all(dir).map_err(|e| DeployerError::io("create", dir, e))?;
    let mut written = Vec::new();
    for stack in &assembly.stacks {
        let path = dir.join(stack.file_name());
        package::zip::write_atomically(&path, stack.template_body.as_bytes())?;
        written.push((stack.stack_name.clone(), path));
    }
    Ok(written)
}
