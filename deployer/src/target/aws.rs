//! The AWS target: `up` (name the assets → check the caller's permissions → build what is not published →
//! bootstrap → publish → deploy with the bootstrap's execution role → watch), `down`, `diff`, and what the other
//! commands read from CloudFormation.

use std::collections::BTreeMap;

use constructs::{AssetSource, AssetSpec, CloudAssembly};

use super::aws_bootstrap::{Bootstrap, chosen_policies};
use super::{Deployed, DownScope};
use super::{TargetContext, UpOptions, report_outputs};
use crate::app::Selection;
use crate::app::write_templates;
use crate::assets::{self, PlannedAsset};
use crate::aws::{Aws, AwsOptions};
use crate::bootstrap::BootstrapConfig;
use crate::build::{self, BuildOutput, BuildTarget};
use crate::cfn::approval::{self, RequireApproval};
use crate::cfn::change_set::{self, ChangeSetOutcome, ChangeSetRequest};
use crate::cfn::deploy::{
    Limits, MAX_TEMPLATE_BODY, StackDeployOutcome, StackDeployRequest, deploy_stack, template_source,
};
use crate::cfn::destroy::{EMPTY_BUCKET_LIMIT, destroy_stack, empty_bucket};
use crate::cfn::monitor::WATCH_LIMIT;
use crate::cfn::{replacement, stack, template_diff};
use crate::error::{DeployerError, Result};
use crate::interrupt::Interrupt;
use crate::io::Event;
use crate::package;
use crate::publish::s3::object_exists;
use crate::publish::{AssetBucket, PublishOutcome, publish_asset};

/// AWS, as the standard credential chain and the command line describe it.
pub(crate) struct AwsTarget {
    options: AwsOptions,
}

impl AwsTarget {
    /// The target for these options.
    pub(crate) fn new(options: AwsOptions) -> Self {
        Self { options }
    }

    /// Connects, checking that a region and credentials exist.
    pub(crate) async fn connect(&self) -> Result<Aws> {
        Aws::connect(&self.options).await
    }

    /// `up`.
    pub(crate) async fn up(&self, ctx: &TargetContext, selection: &Selection, args: &UpOptions) -> Result<()> {
        let _locks = selection
            .names()
            .iter()
            .map(|name| crate::lock::acquire(&ctx.workspace.lock_dir(), name))
            .collect::<Result<Vec<_>>>()?;
        let host = ctx.host.clone();
        let interrupt = Interrupt::listen(move || {
            host.notify(Event::Warning {
                message: "Ctrl-C: stopping at the next safe point (a change set not executed yet is deleted; one \
                          being executed is left to CloudFormation). Press Ctrl-C again to exit at once"
                    .into(),
            });
        });
        let target = BuildTarget::Lambda(ctx.architecture);
        let planned = assets::plan(&ctx.workspace, &selection.assets(), target)?;
        let manifest = assets::manifest(&planned);
        let objects = assets::objects(&planned);
        let unpackaged = objects.iter().filter(|o| assets::packaged(&ctx.workspace, o).is_none()).count();
        if unpackaged > 0 {
            // Before connecting: a machine that cannot build should hear so first, whatever AWS holds.
            let host = ctx.host.clone();
            build::toolchain::ensure(&ctx.workspace, &move |message| host.notify(Event::Info { message }))?;
        }
        let aws = self.connect().await?;
        let caller = aws.caller().await?;
        check_environment(selection.app().environment(), &caller.account, &aws.region)?;
        let deployed_bootstrap = Bootstrap::read(&aws.cfn, &ctx.qualifier, &caller).await?;
        // The execution role's policies: as given now, else as chosen when the bootstrap was last deployed.
        let policies = chosen_policies(&args.execution_policies, deployed_bootstrap.as_ref());
        let mut bootstrap_config = bootstrap_config(ctx, policies, deployed_bootstrap.as_ref());
        bootstrap_config.place = Some(caller.place(&aws.region));
        let assembly = selection.synth_with_bootstrap(&manifest, &bootstrap_config)?;
        write_templates(&assembly, &ctx.workspace.synth_dir())?;
        let bucket = deployed_bootstrap.as_ref().and_then(|b| b.bucket(&caller.account));
        let sample_key = objects.first().map_or_else(|| "asset.zip".to_owned(), |o| o.key());
        preflight_up(ctx, &aws, &caller, &assembly, bucket.as_ref(), &sample_key).await?;
        let published = match &bucket {
            Some(bucket) => published(&aws, bucket, &ctx.workspace, &objects).await?,
            // Not bootstrapped yet: nothing is published, and `up` creates the bucket.
            None => BTreeMap::new(),
        };
        let built = match build_missing(ctx, &objects, &published, target) {
            // cargo got the same Ctrl-C from the terminal and stopped: say so rather than report a failed build.
            Err(_) if interrupt.is_requested() => return Err(stopped_before_deploying("while building")),
            built => built?,
        };
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::pause_at("after-build", &interrupt).await;
        if interrupt.is_requested() {
            return Err(stopped_before_deploying("after building"));
        }
        let host = ctx.host.as_ref();
        let bootstrap_stack = assembly
            .stacks
            .iter()
            .find(|s| s.kind == constructs::StackKind::Bootstrap)
            .ok_or_else(|| DeployerError::Build("the app has no bootstrap stack".into()))?;
        host.notify(Event::Stage {
            stage: "bootstrap".into(),
            message: format!(
                "stack {} (asset bucket, execution role, permissions boundary)",
                bootstrap_stack.stack_name
            ),
        });
        // Deployed with the caller's own credentials (it creates the execution role). Like `cdk bootstrap`, the
        // deployer's own stack is not put to approval: its policies are derived from the app's stacks, whose own
        // IAM changes are.
        let request = StackDeployRequest {
            stack: &bootstrap_stack.stack_name,
            template: &bootstrap_stack.template,
            template_body: &bootstrap_stack.template_body,
            parameters: vec![],
            tags: vec![],
            require_approval: RequireApproval::Never,
            template_bucket: None,
            role_arn: None,
            interrupt: &interrupt,
            limits: Limits::default(),
        };
        deploy_stack(&aws, &request, host).await?;
        let bootstrap = Bootstrap::read(&aws.cfn, &ctx.qualifier, &caller).await?.ok_or_else(|| {
            DeployerError::DeployFailed(format!(
                "the bootstrap stack {} is gone right after its deployment",
                bootstrap_stack.stack_name
            ))
        })?;
        let bucket = bootstrap.require_bucket(&caller.account)?;
        let execution_role = bootstrap.require_execution_role()?.to_owned();
        host.notify(Event::Stage {
            stage: "publish".into(),
            message: format!("{} asset(s) to s3://{}", objects.len(), bucket.name),
        });
        let mut codes = BTreeMap::new();
        for object in &objects {
            let key = object.key();
            let local = built.get(&object.name).cloned().or_else(|| assets::packaged(&ctx.workspace, object));
            let bytes = local.as_ref().map_or(0, |(_, bytes)| *bytes);
            let code = match &local {
                Some(_) => assets::local_code_sha256(&ctx.workspace, object),
                None => crate::publish::s3::code_sha256(&aws.s3, &bucket, &key).await?,
            };
            if let Some(code) = &code {
                codes.insert(object.name.clone(), code.clone());
            }
            let outcome = match (published.get(&object.name), local) {
                (Some(true), _) => PublishOutcome::AlreadyPublished,
                (_, Some((path, bytes))) => {
                    let code = code.clone().unwrap_or_default();
                    #[cfg(feature = "test-hooks")]
                    crate::test_hooks::pause_at("upload", &interrupt).await;
                    // An upload cut off by Ctrl-C leaves no object: S3 stores an object only once all of it
                    // has arrived.
                    tokio::select! {
                        biased;
                        () = interrupt.requested() => return Err(stopped_before_deploying("while uploading assets")),
                        published = publish_asset(&aws.s3, &bucket, &key, &path, bytes, &code) => published?,
                    }
                }
                (_, None) => {
                    return Err(DeployerError::Build(format!(
                        "asset {} ({key}) is neither published nor packaged on this machine; run `deployer up` \
                         again, which builds it",
                        object.asset_id
                    )));
                }
            };
            host.notify(match outcome {
                PublishOutcome::Uploaded => {
                    Event::AssetUploaded { asset: object.asset_id.clone(), key, bucket: bucket.name.clone(), bytes }
                }
                PublishOutcome::AlreadyPublished => Event::AssetSkipped { key, bucket: bucket.name.clone() },
            });
        }
        // Now that every zip's bytes are known, the versions are named after them (see `ResolvedAsset`).
        let assembly =
            selection.synth_with_bootstrap(&assets::manifest_with_codes(&planned, &codes), &bootstrap_config)?;
        write_templates(&assembly, &ctx.workspace.synth_dir())?;
        let mut all_outputs = BTreeMap::new();
        for stack in assembly.stacks.iter().filter(|s| s.kind == constructs::StackKind::App) {
            #[cfg(feature = "test-hooks")]
            crate::test_hooks::pause_at(&format!("before-stack:{}", stack.stack_name), &interrupt).await;
            if interrupt.is_requested() {
                return Err(DeployerError::Interrupted(format!(
                    "stopped before deploying {}; the stacks before it are deployed. Run `deployer up` again to \
                     continue",
                    stack.stack_name
                )));
            }
            if args.hotswap
                && let Some(outputs) = hotswap_stack(&aws, host, &stack.stack_name, &stack.template, &bucket).await?
            {
                all_outputs.insert(stack.stack_name.clone(), outputs);
                continue;
            }
            host.notify(Event::Stage { stage: "deploy".into(), message: format!("stack {}", stack.stack_name) });
            let request = StackDeployRequest {
                stack: &stack.stack_name,
                template: &stack.template,
                template_body: &stack.template_body,
                parameters: bucket_parameter(&stack.template, &bucket),
                tags: vec![],
                require_approval: args.require_approval,
                template_bucket: Some(&bucket),
                role_arn: Some(&execution_role),
                interrupt: &interrupt,
                limits: Limits::default(),
            };
            let outputs = match deploy_stack(&aws, &request, host).await? {
                StackDeployOutcome::NoChanges { outputs } | StackDeployOutcome::Deployed { outputs, .. } => outputs,
            };
            all_outputs.insert(stack.stack_name.clone(), outputs);
        }
        report_outputs(ctx, &all_outputs, args.outputs_file.as_deref())
    }

    /// `down`: the selected stacks (the pattern's by default), or with `--all` every stack of the app that exists,
    /// then the asset bucket's objects and the bootstrap stack.
    pub(crate) async fn down(&self, ctx: &TargetContext, selection: &Selection, scope: DownScope) -> Result<()> {
        // Region and credentials first: a configuration error is the same whoever else is deploying, and checking
        // it takes no lock another run would then have to wait for.
        let aws = self.connect().await?;
        let names = selection.names();
        let _locks = names
            .iter()
            .map(|name| crate::lock::acquire(&ctx.workspace.lock_dir(), name))
            .collect::<Result<Vec<_>>>()?;
        let host = ctx.host.as_ref();
        // In reverse order of deployment, so a stack goes before those it was deployed after.
        for name in names.iter().rev() {
            if scope == DownScope::All && stack::describe(&aws.cfn, name).await?.is_none() {
                continue;
            }
            host.notify(Event::Stage { stage: "destroy".into(), message: format!("stack {name}") });
            destroy_stack(&aws.cfn, name, WATCH_LIMIT, host).await?;
        }
        if scope == DownScope::All {
            let name = &constructs::qualifier::bootstrap_stack_name(&ctx.qualifier);
            if let Some(name) = stack::physical_id(&aws.cfn, name, crate::bootstrap::BUCKET_LOGICAL_ID).await? {
                let bucket = AssetBucket { name, owner: aws.account_id().await? };
                let removed = empty_bucket(&aws.s3, &bucket, EMPTY_BUCKET_LIMIT).await?;
                host.notify(Event::Info {
                    message: format!("emptied s3://{} ({removed} object version(s))", bucket.name),
                });
            }
            host.notify(Event::Stage { stage: "destroy".into(), message: format!("stack {name}") });
            destroy_stack(&aws.cfn, name, WATCH_LIMIT, host).await?;
        }
        Ok(())
    }

    /// `diff`: each template against the deployed one and, with credentials, CloudFormation's change set (created
    /// and deleted, never executed). Nothing is built: the assets are named by their fingerprints.
    pub(crate) async fn diff(&self, ctx: &TargetContext, selection: &Selection) -> Result<()> {
        let planned = assets::plan(&ctx.workspace, &selection.assets(), BuildTarget::Lambda(ctx.architecture))?;
        let aws = match self.connect().await {
            Ok(aws) => Some(aws),
            Err(e) => {
                ctx.host.notify(Event::Warning {
                    message: format!("{e}; showing the templates' diff against an empty account"),
                });
                None
            }
        };
        let caller = match &aws {
            Some(aws) => Some(aws.caller().await?),
            None => None,
        };
        let bootstrap = match (&aws, &caller) {
            (Some(aws), Some(caller)) => Bootstrap::read(&aws.cfn, &ctx.qualifier, caller).await?,
            _ => None,
        };
        // The bootstrap as the next `up` would deploy it: with the execution policies chosen last time.
        let policies = chosen_policies(&[], bootstrap.as_ref());
        let bootstrap_config = bootstrap_config(ctx, policies, bootstrap.as_ref());
        let owner = caller.as_ref().map(|c| c.account.clone()).unwrap_or_default();
        let bucket = bootstrap.as_ref().and_then(|b| b.bucket(&owner));
        // The zips' bytes, as `up` would name the versions after them: packaged here, or recorded with the object.
        let mut codes = assets::local_codes(&ctx.workspace, &planned);
        if let (Some(aws), Some(bucket)) = (&aws, &bucket) {
            for object in assets::objects(&planned) {
                if !codes.contains_key(&object.name)
                    && let Some(code) = crate::publish::s3::code_sha256(&aws.s3, bucket, &object.key()).await?
                {
                    codes.insert(object.name.clone(), code);
                }
            }
        }
        let assembly =
            selection.synth_with_bootstrap(&assets::manifest_with_codes(&planned, &codes), &bootstrap_config)?;
        let execution_role = bootstrap.as_ref().and_then(|b| b.execution_role.as_deref());
        for synthesized in &assembly.stacks {
            let name = &synthesized.stack_name;
            let deployed = match &aws {
                Some(aws) if stack::describe(&aws.cfn, name).await?.is_some() => {
                    stack::deployed_template(&aws.cfn, name).await?
                }
                _ => None,
            };
            let changes = template_diff::diff(deployed.as_ref(), &synthesized.template);
            let widening = approval::broadening(deployed.as_ref(), &synthesized.template);
            ctx.host.notify(Event::TemplateDiff {
                stack: name.clone(),
                deployed: deployed.is_some(),
                changes: changes.clone(),
                widening,
            });
            let mut planned_changes = None;
            if let (Some(aws), Some(_), false) = (&aws, &deployed, changes.is_empty()) {
                // A template over the inline limit is read from the asset bucket, as `up` deploys it.
                let large = synthesized.template_body.len() > MAX_TEMPLATE_BODY;
                let template =
                    template_source(aws, name, &synthesized.template_body, bucket.as_ref().filter(|_| large)).await?;
                // Only for a stack that exists: a change set on a missing stack would leave a
                // REVIEW_IN_PROGRESS stack behind. An app stack's names the execution role, as `up`'s does.
                let role_arn = execution_role.filter(|_| synthesized.kind == constructs::StackKind::App);
                let parameters =
                    bucket.as_ref().map(|b| bucket_parameter(&synthesized.template, b)).unwrap_or_default();
                let request = ChangeSetRequest {
                    stack: name,
                    create: false,
                    template,
                    parameters: &parameters,
                    tags: &[],
                    role_arn,
                };
                if let ChangeSetOutcome::Ready { name: cs, changes } =
                    change_set::create(&aws.cfn, &request, &change_set::new_name(), change_set::CHANGE_SET_LIMIT)
                        .await?
                {
                    change_set::delete(&aws.cfn, name, &cs).await?;
                    ctx.host.notify(Event::ChangeSetPreview { stack: name.clone(), changes: changes.clone() });
                    planned_changes = Some(changes);
                }
            }
            for replacement in
                replacement::durable_replacements(deployed.as_ref(), &synthesized.template, planned_changes.as_deref())
            {
                ctx.host.notify(Event::Warning { message: replacement.warning(name) });
            }
        }
        Ok(())
    }
}

/// The physical id of every resource of `stack` (`ListStackResources`), and when it last changed.
pub(crate) async fn deployed(aws: &Aws, name: &str) -> Result<Deployed> {
    let info = stack::describe(&aws.cfn, name).await?.ok_or_else(|| DeployerError::NotFound {
        what: format!("stack {name} does not exist in {}", aws.region),
        remedy: "deploy it with `deployer up` first".to_owned(),
        source: None,
    })?;
    let physical = stack::physical_ids(&aws.cfn, name).await?;
    Ok(Deployed { physical, last_changed: info.last_changed })
}

/// An environment that pins an account or a region is only deployed there: credentials for another account (or a
/// `--region` that contradicts it) stop the deployment before anything is built or sent.
fn check_environment(environment: &constructs::Environment, account: &str, region: &str) -> Result<()> {
    let name = environment.name.as_deref().unwrap_or_default();
    if let Some(expected) = environment.account.as_deref().filter(|a| *a != account) {
        return Err(DeployerError::Conflict {
            what: format!("environment {name} deploys to account {expected}, but the credentials are for {account}"),
            remedy: format!(
                "use the credentials of account {expected} (`--profile`, or `aws sso login` for its profile), or fix \
                 `account` under [environments.{name}] in deployer.toml"
            ),
        });
    }
    if let Some(expected) = environment.region.as_deref().filter(|r| *r != region) {
        return Err(DeployerError::Conflict {
            what: format!("environment {name} deploys to region {expected}, but this run targets {region}"),
            remedy: format!("drop `--region {region}`, or fix `region` under [environments.{name}] in deployer.toml"),
        });
    }
    Ok(())
}

/// Ctrl-C before any stack was touched.
fn stopped_before_deploying(when: &str) -> DeployerError {
    DeployerError::Interrupted(format!(
        "stopped {when}; no stack was changed. Run `deployer up` again to continue (assets already uploaded are \
         reused)"
    ))
}

/// Which objects the asset bucket (named by the bootstrap stack) already holds whole, by name; a bucket missing
/// although its bootstrap stack names it is an error with its remedy.
async fn published(
    aws: &Aws,
    bucket: &AssetBucket,
    workspace: &crate::workspace::Workspace,
    objects: &[&PlannedAsset],
) -> Result<BTreeMap<String, bool>> {
    let mut found = BTreeMap::new();
    for object in objects {
        // The size of a zip packaged here is known: an object of another size was cut short, and is replaced.
        let size = assets::packaged(workspace, object).map(|(_, bytes)| bytes);
        match object_exists(&aws.s3, bucket, &object.key(), size).await {
            Ok(exists) => {
                found.insert(object.name.clone(), exists);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(found)
}

/// Builds, in one cargo invocation, every cargo object that is neither published nor packaged here, and packages
/// each as `target/deployer/assets/<name>.zip`. Returns the new zips and their sizes, by object name.
fn build_missing(
    ctx: &TargetContext,
    objects: &[&PlannedAsset],
    published: &BTreeMap<String, bool>,
    target: BuildTarget,
) -> Result<BTreeMap<String, (std::path::PathBuf, u64)>> {
    let missing: Vec<&PlannedAsset> = objects
        .iter()
        .copied()
        .filter(|o| !published.get(&o.name).copied().unwrap_or(false))
        .filter(|o| matches!(o.source, AssetSource::CargoBinary { .. }))
        .filter(|o| assets::packaged(&ctx.workspace, o).is_none())
        .collect();
    let mut built = BTreeMap::new();
    if missing.is_empty() {
        return Ok(built);
    }
    ctx.host.notify(Event::Stage {
        stage: "build".into(),
        message: format!("compiling {} function binary(ies) for provided.al2023 ({})", missing.len(), ctx.architecture),
    });
    let specs: Vec<AssetSpec> =
        missing.iter().map(|o| AssetSpec { id: o.asset_id.clone(), source: o.source.clone() }).collect();
    for (object, output) in missing.iter().zip(build::build(&ctx.workspace, &specs, target)?) {
        let BuildOutput::Binary(binary) = output else { continue };
        let zip = assets::packaged_path(&ctx.workspace, &object.name);
        let packaged = package::package_bootstrap(&binary.bootstrap, &zip)?;
        ctx.host.notify(Event::AssetPackaged {
            asset: object.asset_id.clone(),
            path: packaged.zip_path.display().to_string(),
            bytes: packaged.bytes,
            sha256: packaged.sha256.clone(),
            fingerprint: object.name.clone(),
        });
        built.insert(object.name.clone(), (packaged.zip_path, packaged.bytes));
    }
    Ok(built)
}

/// The bootstrap as the next `up` deploys it: the execution role given `policies`, its default policy still
/// covering the stacks `deployed` covers.
pub(crate) fn bootstrap_config(
    ctx: &TargetContext,
    policies: Vec<String>,
    deployed: Option<&Bootstrap>,
) -> BootstrapConfig {
    BootstrapConfig {
        qualifier: ctx.qualifier.clone(),
        execution_policies: policies,
        covered_stacks: deployed.map(|b| b.app_stacks.clone()).unwrap_or_default(),
        place: None,
    }
}

/// The pre-flight check of `up`: the calls it is about to make, the bootstrap's included when the bootstrap stack
/// is to be created or changed, asked of IAM's policy simulator before anything is built.
async fn preflight_up(
    ctx: &TargetContext,
    aws: &Aws,
    caller: &crate::aws::Caller,
    assembly: &CloudAssembly,
    bucket: Option<&AssetBucket>,
    sample_key: &str,
) -> Result<()> {
    let bootstrap_changes = bootstrap_changes(aws, assembly).await?;
    let app_stacks: Vec<String> =
        assembly.stacks.iter().filter(|s| s.kind == constructs::StackKind::App).map(|s| s.stack_name.clone()).collect();
    let place = crate::preflight::needs::Place {
        partition: caller.partition(),
        region: &aws.region,
        account: &caller.account,
        qualifier: &ctx.qualifier,
        stack_id: "00000000-0000-0000-0000-000000000000",
    };
    let needs = crate::preflight::needs::for_up(
        &place,
        &app_stacks,
        bucket.map(|b| b.name.as_str()),
        sample_key,
        bootstrap_changes,
    );
    let verdict = crate::preflight::simulate::simulate(&aws.iam, caller, &needs).await;
    let before = if bootstrap_changes {
        "to bootstrap (the bootstrap stack is to be created or updated, with these credentials) and deploy"
    } else {
        "to deploy"
    };
    if let Some(why) = crate::preflight::outcome(verdict, &caller.arn, before)? {
        ctx.host.notify(Event::Warning { message: format!("permissions not checked before building: {why}") });
    }
    Ok(())
}

/// `up --hotswap` of one stack: its function code updated through the Lambda API when nothing else changed;
/// returns its outputs then, or `None` (said why, unless nothing changed at all) for a deployment through
/// CloudFormation.
async fn hotswap_stack(
    aws: &Aws,
    host: &dyn crate::io::Host,
    name: &str,
    template: &serde_json::Value,
    bucket: &AssetBucket,
) -> Result<Option<BTreeMap<String, String>>> {
    let fallback = |reason: &str| {
        host.notify(Event::HotswapFallback { stack: name.to_owned(), reason: reason.to_owned() });
        Ok(None)
    };
    let Some(info) = stack::describe(&aws.cfn, name).await? else { return fallback("it is not deployed yet") };
    if !matches!(info.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
        return fallback(&format!("it is {}", info.status));
    }
    let Some(deployed) = stack::deployed_template(&aws.cfn, name).await? else {
        return fallback("CloudFormation returned no template for it");
    };
    let plan = match super::aws_hotswap::plan(&deployed, template) {
        Err(reason) => return fallback(&reason),
        // The template is the deployed one: the usual path says "no changes".
        Ok(plan) if plan.functions.is_empty() => return Ok(None),
        Ok(plan) => plan,
    };
    host.notify(Event::Stage { stage: "hotswap".into(), message: format!("stack {name} (function code only)") });
    let started = std::time::Instant::now();
    let physical = stack::physical_ids(&aws.cfn, name).await?;
    let swapped = super::aws_hotswap::execute(aws, &plan, &physical, &bucket.name).await?;
    host.notify(Event::Hotswapped {
        stack: name.to_owned(),
        functions: swapped
            .into_iter()
            .map(|s| crate::io::HotswappedFunction { function: s.function, code: s.code, version: s.version })
            .collect(),
        aliases: plan.aliases.iter().map(|alias| alias.logical_id.clone()).collect(),
        stale_outputs: plan.stale_outputs.clone(),
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(Some(info.outputs))
}

/// The asset bucket's name for a template that takes it (one with assets): its only parameter.
fn bucket_parameter(template: &serde_json::Value, bucket: &AssetBucket) -> Vec<(String, String)> {
    let takes = template["Parameters"].get(constructs::asset::BUCKET_PARAMETER).is_some();
    if takes { vec![(constructs::asset::BUCKET_PARAMETER.to_owned(), bucket.name.clone())] } else { Vec::new() }
}

/// Whether `up` will create or change the bootstrap stack: it does not exist, or its template differs.
pub(crate) async fn bootstrap_changes(aws: &Aws, assembly: &CloudAssembly) -> Result<bool> {
    let Some(bootstrap) = assembly.stacks.iter().find(|s| s.kind == constructs::StackKind::Bootstrap) else {
        return Ok(false);
    };
    if stack::describe(&aws.cfn, &bootstrap.stack_name).await?.is_none() {
        return Ok(true);
    }
    Ok(stack::deployed_template(&aws.cfn, &bootstrap.stack_name).await?.as_ref() != Some(&bootstrap.template))
}
