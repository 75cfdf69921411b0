//! One module per verb, each with a `run`; what several of them share lives here.

pub(crate) mod callback;
pub(crate) mod diff;
pub(crate) mod doctor;
pub(crate) mod down;
pub(crate) mod executions;
pub(crate) mod history;
pub(crate) mod invoke;
pub(crate) mod logs;
pub(crate) mod replay;
pub(crate) mod status;
pub(crate) mod stop;
pub(crate) mod synth;
pub(crate) mod time;
pub(crate) mod up;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::app::config::ProjectConfig;
use crate::app::{AppOptions, ProjectApp, Selection};
use crate::aws::{Aws, AwsOptions};
use crate::cli::{FunctionArgs, GlobalArgs};
use crate::error::{DeployerError, Result};
use crate::functions::{self, FunctionSpec, Want};
use crate::io::Host;
use crate::target::{Deployed, Target, TargetContext};
use crate::workspace::Workspace;

/// What every command runs with.
pub(crate) struct Context {
    /// Global options.
    pub(crate) global: GlobalArgs,
    /// What the target's operations run with (output, workspace, the options a target reads).
    pub(crate) run: TargetContext,
    /// AWS or the local target, as `--local` chose.
    pub(crate) target: Target,
}

impl Context {
    /// The context of one run: the environment `--env` names (in `deployer.toml`) gives the region unless
    /// `--region` does.
    pub(crate) fn new(global: GlobalArgs, host: Arc<dyn Host>, workspace: Workspace) -> Result<Self> {
        let environment_region = match (&global.env, ProjectConfig::read(&workspace.root)?) {
            (Some(name), Some(config)) => config.environment(name)?.region,
            _ => None,
        };
        let options = AwsOptions {
            profile: global.profile.clone(),
            region: global.region.clone().or(environment_region),
            ..AwsOptions::default()
        };
        let target = Target::new(global.local, &workspace, options);
        let run = TargetContext {
            host,
            workspace,
            profile: global.profile.clone(),
            region: global.region.clone(),
            architecture: global.arch,
            qualifier: global.bootstrap.qualifier.clone(),
        };
        Ok(Self { global, run, target })
    }

    /// What the command line says about the app.
    fn app_options(&self) -> AppOptions {
        AppOptions {
            package: self.global.app.clone(),
            environment: self.global.env.clone(),
            stack_name: self.global.stack_name.clone(),
            architecture: self.global.arch,
            qualifier: self.global.bootstrap.qualifier.clone(),
        }
    }

    /// The project's app, built.
    pub(crate) fn app(&self) -> Result<ProjectApp> {
        ProjectApp::load(&self.run.workspace, &self.app_options())
    }

    /// The stacks `selectors` name (the app's default stack when none).
    pub(crate) fn selection(&self, selectors: &[String]) -> Result<Selection> {
        Selection::new(self.app()?, selectors)
    }

    /// Every stack of the app.
    pub(crate) fn everything(&self) -> Result<Selection> {
        Selection::all(self.app()?)
    }
}

/// A stack of the app as the target holds it: what it declares about its functions, and their deployed names.
pub(crate) struct StackOnTarget {
    /// The stack's name.
    pub(crate) stack: String,
    /// Its functions, as synthesized.
    pub(crate) catalog: Vec<FunctionSpec>,
    /// Clients of the target.
    pub(crate) aws: Aws,
    /// The stack as deployed.
    pub(crate) deployed: Deployed,
    /// Each deployed function's name, by logical id.
    pub(crate) names: BTreeMap<String, String>,
}

impl StackOnTarget {
    /// Finds the stack `stack` names (the pattern's by default) and connects to it on the target. When a function
    /// is named (`function`), or meant by default (`want_default`), the stack's own names are checked first, so
    /// an unknown function is reported with the choices even when the target cannot be reached.
    pub(crate) async fn find(
        ctx: &Context,
        stack: Option<&str>,
        function: Option<&str>,
        want: Want,
        want_default: bool,
    ) -> Result<Self> {
        let selection = Selection::one(ctx.app()?, stack)?;
        let assembly = selection.synth_for_names();
        let stack = selection.first().map(|s| s.stack_name.clone()).unwrap_or_default();
        let catalog = assembly.stack(&stack).map(functions::catalog).unwrap_or_default();
        let known = if function.is_some() || want_default {
            functions::choose(&catalog, &stack, function, &BTreeMap::new(), want).map(|_| ())
        } else {
            Ok(())
        };
        let aws = match (ctx.target.connect().await, known) {
            (Ok(aws), _) => aws,
            (Err(_), Err(unknown @ (DeployerError::NotFound { .. } | DeployerError::Unsupported { .. }))) => {
                return Err(unknown);
            }
            (Err(error), _) => return Err(error),
        };
        let deployed = ctx.target.deployed(&aws, &stack).await?;
        let names = catalog
            .iter()
            .filter_map(|f| Some((f.logical_id.clone(), deployed.physical.get(&f.logical_id)?.clone())))
            .collect();
        Ok(Self { stack, catalog, aws, deployed, names })
    }

    /// The function `selector` names (the stack's durable function by default), with its deployed name.
    pub(crate) fn function(&self, ctx: &Context, selector: Option<&str>, want: Want) -> Result<(FunctionSpec, String)> {
        let spec = functions::choose(&self.catalog, &self.stack, selector, &self.names, want)?.clone();
        let name = self.names.get(&spec.logical_id).cloned().ok_or_else(|| DeployerError::NotFound {
            what: format!("function {} is not deployed in stack {}", spec.construct_id, self.stack),
            remedy: format!("deploy the stack again with `deployer up{} {}`", ctx.target.flag(), self.stack),
            source: None,
        })?;
        Ok((spec, name))
    }
}

/// A function a command acts on, found by name in its stack and on the target.
pub(crate) struct Resolved {
    /// What the stack declares about it.
    pub(crate) spec: FunctionSpec,
    /// Its deployed name.
    pub(crate) name: String,
    /// Its stack as deployed.
    pub(crate) deployed: Deployed,
    /// Clients of the target.
    pub(crate) aws: Aws,
}

impl Resolved {
    /// What to invoke: the alias of a function that has one, `$LATEST` of a durable one without (a durable
    /// function cannot be invoked unqualified), else the function itself.
    pub(crate) fn invocation_target(&self) -> String {
        match (&self.spec.alias, self.spec.durable) {
            (Some((_, alias)), _) => format!("{}:{alias}", self.name),
            (None, true) => format!("{}:$LATEST", self.name),
            (None, false) => self.name.clone(),
        }
    }
}

/// Connects to the target and finds the function `args` names (the stack's durable function by default).
pub(crate) async fn resolve_function(ctx: &Context, args: &FunctionArgs, want: Want) -> Result<Resolved> {
    let on_target = StackOnTarget::find(ctx, args.stack.as_deref(), args.function.as_deref(), want, true).await?;
    let (spec, name) = on_target.function(ctx, args.function.as_deref(), want)?;
    Ok(Resolved { spec, name, deployed: on_target.deployed, aws: on_target.aws })
}
