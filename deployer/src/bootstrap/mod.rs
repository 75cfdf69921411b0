//! The bootstrap stack (like `cdk bootstrap`), one per qualifier in an account and region: what every deployment of
//! the app's stacks needs first. It is the deployer's own stack, written with the construct library, and never part
//! of an app.
//!
//! - **The asset bucket** holding the functions' code: encrypted (SSE-KMS with the AWS managed key), all public
//!   access blocked, ACLs disabled, versioned (noncurrent versions expire after 30 days), stale multipart uploads
//!   aborted, requests without TLS denied. Its name carries the qualifier and 8 hex digits of this stack's own id,
//!   so nobody can create it first ([`constructs::qualifier::bucket_name`]); the deployer passes it to the app's stacks
//!   (their `AssetBucket` parameter).
//! - **The permissions boundary** every role of the app's stacks carries: the actions those roles are granted, no
//!   more ([`execution_policy::boundary`]).
//! - **The CloudFormation execution role** every change set of an app stack names (`RoleARN`): CloudFormation
//!   creates the stacks' resources with it, so the credentials that deploy need only CloudFormation, the asset
//!   bucket and `iam:PassRole` on this role. Its policies are the user's choice when bootstrapping (`up
//!   --execution-policy <ARN>`); by default, one that allows what the app's resource types need on the app's
//!   resources only, and lets it create roles only with the boundary, so it can never create a role more powerful
//!   than the boundary ([`execution_policy::default_execution_policy`]).
//!
//! The stack is derived from the app's synthesized stacks, so it changes when the app gains a stack, a resource
//! type or a role grant; `up` deploys it first, with the caller's own credentials.

pub(crate) mod execution_policy;

use constructs::qualifier;
use constructs::reference::{Reference, Sub};
use constructs::resources::iam::{ManagedPolicy, PolicyDocument, Principal, Role, Statement};
use constructs::resources::s3::{Bucket, BucketEncryption, BucketPolicy, LifecycleRule};
use constructs::{
    App, AppContext, AssetManifest, Output, RemovalPolicy, Stack, StackKind, SynthError, SynthesizedStack,
};

use self::execution_policy::{Beside, Footprint};

/// Name of the bootstrap stack of the default qualifier ([`qualifier::bootstrap_stack_name`] for any).
pub(crate) const STACK_NAME: &str = qualifier::BOOTSTRAP_STACK_NAME;
/// Logical ID of the asset bucket.
pub(crate) const BUCKET_LOGICAL_ID: &str = "AssetBucket";
/// Output holding the asset bucket's name.
pub(crate) const BUCKET_NAME_OUTPUT: &str = "AssetBucketName";
/// Output holding the CloudFormation execution role's ARN.
pub(crate) const EXECUTION_ROLE_OUTPUT: &str = "ExecutionRoleArn";
/// Output holding the permissions boundary's ARN.
pub(crate) const BOUNDARY_OUTPUT: &str = "PermissionsBoundaryArn";
/// Output holding the execution role's policies as chosen: [`DEFAULT_EXECUTION_POLICY`], or the ARNs given
/// (with [`DEFAULT_EXECUTION_POLICY`] first when the default policy stays beside them), comma-separated. `up` keeps the choice when it is not given again.
pub(crate) const EXECUTION_POLICIES_OUTPUT: &str = "ExecutionPolicies";
/// What [`EXECUTION_POLICIES_OUTPUT`] holds when the execution role has the default policy.
pub(crate) const DEFAULT_EXECUTION_POLICY: &str = "default";
/// Output holding the app stacks the default execution policy covers, comma-separated: those of the app, and every
/// one covered by an earlier deployment of this bootstrap stack, so a deployment under another stack name
/// (`--stack-name`) never takes away what CloudFormation needs to update or delete stacks deployed before.
pub(crate) const APP_STACKS_OUTPUT: &str = "AppStacks";
/// Output holding [`VERSION`].
pub(crate) const VERSION_OUTPUT: &str = "BootstrapVersion";
/// Version of the bootstrap template; raised whenever it changes in a way a deployer may need to know. 2: the
/// qualifier, an unguessable bucket name, the execution role and the permissions boundary.
pub(crate) const VERSION: u32 = 2;
/// Days a replaced asset version is kept.
pub(crate) const NONCURRENT_VERSION_DAYS: u32 = 30;

/// What the user chooses about the bootstrap stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BootstrapConfig {
    /// The qualifier.
    pub(crate) qualifier: String,
    /// Managed policy ARNs for the execution role, and [`DEFAULT_EXECUTION_POLICY`] for the default policy beside
    /// them; none: the default policy alone.
    pub(crate) execution_policies: Vec<String>,
    /// App stacks the default policy keeps covering besides the app's own (those of earlier deployments).
    pub(crate) covered_stacks: Vec<String>,
    /// Where it is deployed, when known (`up`, `doctor`): a policy document the user is asked to create names it.
    pub(crate) place: Option<execution_policy::Place>,
}

impl BootstrapConfig {
    /// The default bootstrap of `qualifier`: the default execution policy, covering the app's stacks only.
    pub(crate) fn new(qualifier: &str) -> Self {
        Self {
            qualifier: qualifier.to_owned(),
            execution_policies: Vec::new(),
            covered_stacks: Vec::new(),
            place: None,
        }
    }

    /// Whether the execution role gets the default policy (alone, or beside the ARNs given).
    pub(crate) fn uses_default_policy(&self) -> bool {
        self.execution_policies.is_empty() || self.execution_policies.iter().any(|p| p == DEFAULT_EXECUTION_POLICY)
    }
}

/// The bootstrap stack for the app's stacks `app` (synthesized), as `config` chooses, synthesized (it declares no
/// asset). Every resource of the stacks named in `deploying` must be covered by the default execution policy (when
/// it is the one chosen); see [`Footprint::of`].
pub(crate) fn synth(
    config: &BootstrapConfig,
    app: &[SynthesizedStack],
    deploying: &[String],
) -> Result<SynthesizedStack, SynthError> {
    stack(config, app, deploying)?.synth(&AssetManifest::new())
}

/// The bootstrap stack for the app's stacks `app` (synthesized), as `config` chooses.
fn stack(config: &BootstrapConfig, app: &[SynthesizedStack], deploying: &[String]) -> Result<Stack, SynthError> {
    let q = config.qualifier.as_str();
    let context = AppContext { qualifier: q.to_owned(), ..AppContext::default() };
    let mut stack =
        Stack::with_kind(&App::with_context(context), &qualifier::bootstrap_stack_name(q), StackKind::Bootstrap)?;
    stack.set_description(
        "Durable deployer bootstrap (like cdk bootstrap): the asset bucket, the CloudFormation execution role and the \
         permissions boundary of the app's roles",
    );
    let bucket = stack.add(
        BUCKET_LOGICAL_ID,
        Bucket::new()
            .name(qualifier::bucket_name(q))
            .encryption(BucketEncryption::KmsManaged)
            .versioned()
            .lifecycle_rule(LifecycleRule {
                id: "ExpireNoncurrentVersions".to_owned(),
                noncurrent_version_expiration_days: Some(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_days: Some(1),
            })
            // Deleted with its stack: `down --all` empties it first.
            .removal_policy(RemovalPolicy::Delete),
    )?;
    stack.skip_check(
        &bucket,
        "CKV_AWS_18",
        "access logging needs a second bucket; this one only holds build outputs written by the deployer",
    )?;
    // Plain-HTTP requests are denied whatever they ask for, on the bucket and on every object in it: the form AWS
    // Config's `s3-bucket-ssl-requests-only` rule looks for. A list of actions would leave every action not on it
    // (ACLs, tagging, ...) open over HTTP.
    stack.add(
        "AssetBucketPolicy",
        BucketPolicy::new(
            &bucket,
            PolicyDocument::new().statement(
                Statement::deny()
                    .sid("DenyInsecureTransport")
                    .principal(Principal::Anyone)
                    .actions(["s3:*"])
                    .resource(bucket.arn())
                    .resource(Sub::new().value(bucket.arn()).text("/*").build())
                    .condition("Bool", "aws:SecureTransport", "false"),
            ),
        ),
    )?;
    let mut footprint = Footprint::of(app, deploying);
    for stack in &config.covered_stacks {
        if !footprint.stacks.contains(stack) {
            footprint.stacks.push(stack.clone());
        }
    }
    // One order whichever environment deploys: two environments sharing the bootstrap would otherwise each rewrite
    // it with their own stacks first.
    footprint.stacks.sort();
    let boundary = stack.add(
        "PermissionsBoundary",
        ManagedPolicy::new(execution_policy::boundary(&footprint))
            .name(qualifier::boundary_name(q))
            .description("Permissions boundary of every role the app's stacks create: what those roles are granted"),
    )?;
    let mut role = Role::for_service("cloudformation.amazonaws.com")
        .name(qualifier::execution_role_name(q))
        .description("CloudFormation execution role: creates the app's stacks' resources (change sets name it)");
    let arns: Vec<&String> = config.execution_policies.iter().filter(|p| *p != DEFAULT_EXECUTION_POLICY).collect();
    if config.uses_default_policy() {
        let beside = if arns.is_empty() { Beside::Nothing } else { Beside::UserPolicies };
        let policies = execution_policy::default_execution_policy(
            &footprint,
            q,
            &boundary,
            &bucket.arn(),
            beside,
            config.place.as_ref(),
        )?;
        let policy = stack.add(
            "DefaultExecutionPolicy",
            ManagedPolicy::new(policies.allows)
                .description("What CloudFormation needs to deploy the app's resource types (the guard narrows it)"),
        )?;
        role = role.managed_policy_arn(policy.ref_());
        if let Some(guard) = policies.guard {
            let guard = stack.add(
                "DefaultExecutionGuard",
                ManagedPolicy::new(guard).description("Denies those actions on every resource but the app's own"),
            )?;
            role = role.managed_policy_arn(guard.ref_());
        }
    }
    for arn in arns {
        role = role.managed_policy_arn(arn.as_str());
    }
    let role = stack.add("ExecutionRole", role)?;
    stack.add_output(
        BUCKET_NAME_OUTPUT,
        Output::new(bucket.ref_()).description("Name of the bucket the deployer uploads assets to"),
    )?;
    stack.add_output(
        EXECUTION_ROLE_OUTPUT,
        Output::new(role.arn()).description("The role CloudFormation deploys the app's stacks with"),
    )?;
    stack.add_output(
        BOUNDARY_OUTPUT,
        Output::new(boundary.ref_()).description("The permissions boundary of every role of the app's stacks"),
    )?;
    let chosen = if config.execution_policies.is_empty() {
        DEFAULT_EXECUTION_POLICY.to_owned()
    } else {
        config.execution_policies.join(",")
    };
    stack.add_output(
        EXECUTION_POLICIES_OUTPUT,
        Output::new(chosen).description("The execution role's policies as chosen at bootstrap"),
    )?;
    stack.add_output(
        APP_STACKS_OUTPUT,
        Output::new(footprint.stacks.join(",")).description("The app stacks the default execution policy covers"),
    )?;
    stack.add_output(
        VERSION_OUTPUT,
        Output::new(VERSION.to_string()).description("Version of this bootstrap template"),
    )?;
    Ok(stack)
}

#[cfg(test)]
mod tests;
