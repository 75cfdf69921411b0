//! What the app's stacks make, read from their templates, and the two policies the bootstrap stack derives from it:
//! the permissions boundary of every role they create, and the default policy of the CloudFormation execution role
//! that creates them.
//!
//! **The boundary** allows exactly the actions the app's roles are granted (each service's resources in the
//! account and region): a role can never do more, whatever policy is attached to it later.
//!
//! **The default execution policy** allows what CloudFormation calls to create, read, update and delete each
//! resource type the app's stacks use, as the type's CloudFormation schema lists it (`handlers.*.permissions`), on
//! the app's resources only. It is two documents: the allows, each action on its resource type in the account and
//! region (the one family an `Allow` names is the roles under the bootstrap's own path), and a guard that denies
//! those actions on everything but the app's resources: functions and log groups whose names CloudFormation generates from the app's stack
//! names, roles under the bootstrap's role path, the asset bucket's objects. Roles may only be created or given
//! policies when they carry the boundary (`iam:PermissionsBoundary`), and only passed to Lambda. Permissions a
//! schema lists for features the app does not use (VPCs, KMS keys, EFS, code signing, layers, `CodeDeploy` hooks,
//! ...) are left out, each with its reason in [`TABLE`]; a template that uses such a feature, or a resource type
//! [`TABLE`] lacks, is an error naming the fix. Generated names are only known once CloudFormation draws them, so
//! these statements name resource families (`<stack>-*`): that is why only the bootstrap stack may hold such
//! patterns. An action IAM authorizes on `*` only (creating an event source mapping) is never in the default: a stack
//! that needs one is refused with the policy document to create, which the user attaches beside the default
//! (`--execution-policy default --execution-policy <ARN>`), and the default then covers the rest.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use constructs::reference::{Expr, ManagedPolicyRef, Pseudo, Reference, Sub};
use constructs::resources::iam::{PolicyDocument, Statement};
use constructs::{SynthError, SynthesizedStack};

/// The resources an action applies to, in the default execution policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Scope {
    /// The app's functions (their versions and aliases included): names starting with an app stack's name.
    Functions,
    /// The app's log groups: `<stack>-*` and `/aws/lambda/<stack>-*`.
    LogGroups,
    /// Every CloudWatch Logs resource of the account and region, for read calls that list or describe
    /// account-level settings (`DescribeLogGroups`, resource and index policies).
    LogsReads,
    /// The roles under the bootstrap's role path.
    Roles,
    /// The roles under the role path, and only when they carry the boundary (`iam:PermissionsBoundary`).
    RolesWithBoundary,
    /// Passing the roles under the role path, to Lambda only (`iam:PassedToService`).
    PassRoles,
    /// The asset bucket's objects (Lambda reads a function's code with the caller's permissions).
    AssetObjects,
    /// The app's queues: names starting with an app stack's name.
    Queues,
    /// The app's DynamoDB tables (their indexes and streams included): names starting with an app stack's name.
    Tables,
    /// The event source mappings of the account and region: their ARNs carry a UUID Lambda draws, nothing of the
    /// stack's name.
    EventSourceMappings,
}

/// What one resource type needs: the actions by scope, and what its schema lists that is left out, with why.
#[derive(Debug)]
pub(crate) struct TypeNeeds {
    /// The CloudFormation resource type.
    pub(crate) resource_type: &'static str,
    /// The actions the default execution policy allows, by scope.
    pub(crate) allowed: &'static [(Scope, &'static [&'static str])],
    /// Actions the type's schema lists that the default leaves out, with the reason.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the test comparing the table with the schemas"))]
    pub(crate) excluded: &'static [(&'static str, &'static str)],
    /// Properties whose use needs one of the excluded permissions: a template using one is refused (unless it names
    /// one of [`TypeNeeds::managed_keys`]).
    pub(crate) unsupported_properties: &'static [&'static str],
    /// Values of an unsupported property that need none of the excluded permissions: an AWS managed key, which the
    /// service uses on the caller's behalf without a KMS grant.
    pub(crate) managed_keys: &'static [(&'static str, &'static str)],
    /// Actions the type's schema lists that IAM authorizes on `Resource: "*"` only, each with the condition key that
    /// narrows it to the app's functions: the default policy never allows an action on `*`, so a stack using the
    /// type needs a policy of the user's beside it (`--execution-policy default --execution-policy <ARN>`).
    pub(crate) own_policy: &'static [(&'static str, &'static str)],
}

const VPC: &str = "VpcConfig: the app's functions run outside a VPC";
const KMS: &str = "KmsKeyArn: the app's functions and log groups use AWS managed keys";
const EFS: &str = "FileSystemConfigs: no function mounts a file system";
const CODE_SIGNING: &str = "CodeSigningConfigArn: no code signing";
const CAPACITY: &str = "CapacityProviderConfig: functions run on Lambda's own capacity";
const TABLE_IMPORT: &str = "ImportSourceSpecification: the app's tables start empty, not imported from S3";
const TABLE_REPLICAS: &str = "replicas (AWS::DynamoDB::GlobalTable): an AWS::DynamoDB::Table has none";
const TABLE_KINESIS: &str = "KinesisStreamSpecification: no table streams to Kinesis";
const TABLE_KMS: &str = "SSESpecification: the app's tables are encrypted with the AWS owned key";
const LOGS_OPTIONAL: &str = "a log group option the app does not set (data protection, index, resource policies, deliveries, KMS, deletion protection, bearer tokens)";

/// What the default execution policy allows per resource type; curated from each type's CloudFormation schema
/// (the handler permissions, as cfn-lint ships them; a test compares the two).
pub(crate) const TABLE: &[TypeNeeds] = &[
    TypeNeeds {
        resource_type: "AWS::Lambda::Function",
        allowed: &[
            (
                Scope::Functions,
                &[
                    "lambda:CreateFunction",
                    "lambda:DeleteFunction",
                    "lambda:DeleteFunctionConcurrency",
                    "lambda:GetFunction",
                    "lambda:GetFunctionCodeSigningConfig",
                    "lambda:GetFunctionRecursionConfig",
                    "lambda:GetFunctionScalingConfig",
                    "lambda:GetRuntimeManagementConfig",
                    "lambda:PublishVersion",
                    "lambda:PutFunctionConcurrency",
                    "lambda:PutFunctionRecursionConfig",
                    "lambda:PutRuntimeManagementConfig",
                    "lambda:TagResource",
                    "lambda:UntagResource",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                ],
            ),
            (Scope::PassRoles, &["iam:PassRole"]),
            (Scope::AssetObjects, &["s3:GetObject", "s3:GetObjectVersion"]),
        ],
        excluded: &[
            ("ec2:DescribeNetworkInterfaces", VPC),
            ("ec2:DescribeSecurityGroups", VPC),
            ("ec2:DescribeSubnets", VPC),
            ("ec2:DescribeVpcs", VPC),
            ("elasticfilesystem:DescribeMountTargets", EFS),
            ("s3files:ListMountTargets", EFS),
            ("kms:CreateGrant", KMS),
            ("kms:Decrypt", KMS),
            ("kms:DescribeKey", KMS),
            ("kms:Encrypt", KMS),
            ("kms:GenerateDataKey", KMS),
            ("lambda:GetCodeSigningConfig", CODE_SIGNING),
            ("lambda:PutFunctionCodeSigningConfig", CODE_SIGNING),
            ("lambda:DeleteFunctionCodeSigningConfig", CODE_SIGNING),
            ("lambda:GetLayerVersion", "Layers: the functions are single binaries"),
            ("lambda:PassCapacityProvider", CAPACITY),
            ("lambda:PutFunctionScalingConfig", CAPACITY),
            (
                "lambda:AssociateRuntimeAlias",
                "RuntimeManagementConfig aliases: the functions run on provided.al2023 as is",
            ),
            ("lambda:ListFunctions", "the list handler: CloudFormation lists functions only to import them"),
        ],
        unsupported_properties: &[
            "VpcConfig",
            "KmsKeyArn",
            "FileSystemConfigs",
            "CodeSigningConfigArn",
            "Layers",
            "CapacityProviderConfig",
            "DurableConfig.KMSKeyArn",
        ],
        managed_keys: &[],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::Lambda::Version",
        allowed: &[(
            Scope::Functions,
            &[
                "lambda:DeleteFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionScalingConfig",
                "lambda:GetProvisionedConcurrencyConfig",
                "lambda:GetRuntimeManagementConfig",
                "lambda:ListVersionsByFunction",
                "lambda:PublishVersion",
                "lambda:PutProvisionedConcurrencyConfig",
                "lambda:PutRuntimeManagementConfig",
            ],
        )],
        excluded: &[("lambda:PutFunctionScalingConfig", CAPACITY)],
        unsupported_properties: &["FunctionScalingConfig"],
        managed_keys: &[],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::Lambda::Alias",
        allowed: &[(
            Scope::Functions,
            &[
                "lambda:CreateAlias",
                "lambda:DeleteAlias",
                "lambda:DeleteProvisionedConcurrencyConfig",
                "lambda:GetAlias",
                "lambda:GetProvisionedConcurrencyConfig",
                "lambda:PutProvisionedConcurrencyConfig",
                "lambda:UpdateAlias",
            ],
        )],
        excluded: &[
            ("codedeploy:CreateDeployment", "CodeDeploy traffic shifting: the alias moves in one step"),
            ("codedeploy:GetDeployment", "CodeDeploy traffic shifting: the alias moves in one step"),
            ("codedeploy:GetDeploymentConfig", "CodeDeploy traffic shifting: the alias moves in one step"),
            ("codedeploy:GetDeploymentGroup", "CodeDeploy traffic shifting: the alias moves in one step"),
            ("codedeploy:StopDeployment", "CodeDeploy traffic shifting: the alias moves in one step"),
            ("lambda:ListAliases", "the list handler: CloudFormation lists aliases only to import them"),
        ],
        unsupported_properties: &[],
        managed_keys: &[],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::IAM::Role",
        allowed: &[
            (
                Scope::Roles,
                &[
                    "iam:DeleteRole",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:UpdateRole",
                    "iam:UpdateRoleDescription",
                ],
            ),
            (
                Scope::RolesWithBoundary,
                &[
                    "iam:AttachRolePolicy",
                    "iam:CreateRole",
                    "iam:DeleteRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy",
                ],
            ),
        ],
        excluded: &[
            ("iam:DeleteRolePermissionsBoundary", "it would lift the boundary: the execution role must never do that"),
            ("iam:ListRoles", "the list handler: CloudFormation lists roles only to import them"),
        ],
        unsupported_properties: &[],
        managed_keys: &[],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::IAM::Policy",
        allowed: &[
            (Scope::Roles, &["iam:GetRolePolicy"]),
            (Scope::RolesWithBoundary, &["iam:DeleteRolePolicy", "iam:PutRolePolicy"]),
        ],
        excluded: &[
            ("iam:DeleteGroupPolicy", "Groups: the app's policies attach to roles only"),
            ("iam:GetGroupPolicy", "Groups: the app's policies attach to roles only"),
            ("iam:PutGroupPolicy", "Groups: the app's policies attach to roles only"),
            ("iam:DeleteUserPolicy", "Users: the app's policies attach to roles only"),
            ("iam:GetUserPolicy", "Users: the app's policies attach to roles only"),
            ("iam:PutUserPolicy", "Users: the app's policies attach to roles only"),
        ],
        unsupported_properties: &["Groups", "Users"],
        managed_keys: &[],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::Logs::LogGroup",
        allowed: &[
            (
                Scope::LogGroups,
                &[
                    "logs:CreateLogGroup",
                    "logs:DeleteLogGroup",
                    "logs:DeleteRetentionPolicy",
                    "logs:GetDataProtectionPolicy",
                    "logs:ListTagsForResource",
                    "logs:PutRetentionPolicy",
                    "logs:TagResource",
                    "logs:UntagResource",
                ],
            ),
            (
                Scope::LogsReads,
                &["logs:DescribeIndexPolicies", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies"],
            ),
        ],
        excluded: &[
            ("logs:AssociateKmsKey", KMS),
            ("logs:DisassociateKmsKey", KMS),
            ("logs:CreateLogDelivery", LOGS_OPTIONAL),
            ("logs:DeleteDataProtectionPolicy", LOGS_OPTIONAL),
            ("logs:DeleteIndexPolicy", LOGS_OPTIONAL),
            ("logs:DeleteResourcePolicy", LOGS_OPTIONAL),
            ("logs:PutBearerTokenAuthentication", LOGS_OPTIONAL),
            ("logs:PutDataProtectionPolicy", LOGS_OPTIONAL),
            ("logs:PutIndexPolicy", LOGS_OPTIONAL),
            ("logs:PutLogGroupDeletionProtection", LOGS_OPTIONAL),
            ("logs:PutResourcePolicy", LOGS_OPTIONAL),
            ("firehose:TagDeliveryStream", LOGS_OPTIONAL),
            ("s3:REST.PUT.OBJECT", LOGS_OPTIONAL),
        ],
        unsupported_properties: &[
            "KmsKeyId",
            "DataProtectionPolicy",
            "FieldIndexPolicies",
            "ResourcePolicyDocument",
            "DeletionProtectionEnabled",
            "BearerTokenAuthenticationEnabled",
        ],
        managed_keys: &[],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::SQS::Queue",
        allowed: &[(
            Scope::Queues,
            &[
                "sqs:CreateQueue",
                "sqs:DeleteQueue",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ListQueueTags",
                "sqs:SetQueueAttributes",
                "sqs:TagQueue",
                "sqs:UntagQueue",
            ],
        )],
        excluded: &[("sqs:ListQueues", "the list handler: CloudFormation lists queues only to import them")],
        unsupported_properties: &["KmsMasterKeyId"],
        // SQS encrypts with its AWS managed key for the caller; only a customer managed key needs KMS permissions.
        managed_keys: &[("KmsMasterKeyId", "alias/aws/sqs")],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::DynamoDB::Table",
        allowed: &[(
            Scope::Tables,
            &[
                "dynamodb:CreateTable",
                "dynamodb:DeleteTable",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeContributorInsights",
                "dynamodb:DescribeKinesisStreamingDestination",
                "dynamodb:DescribeTable",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:GetResourcePolicy",
                "dynamodb:ListTagsOfResource",
                "dynamodb:TagResource",
                "dynamodb:UntagResource",
                "dynamodb:UpdateContinuousBackups",
                "dynamodb:UpdateContributorInsights",
                "dynamodb:UpdateTable",
                "dynamodb:UpdateTimeToLive",
            ],
        )],
        excluded: &[
            ("dynamodb:ListTables", "the list handler: CloudFormation lists tables only to import them"),
            ("dynamodb:DescribeImport", TABLE_IMPORT),
            ("dynamodb:ImportTable", TABLE_IMPORT),
            ("dynamodb:BatchWriteItem", TABLE_IMPORT),
            ("dynamodb:DeleteItem", TABLE_IMPORT),
            ("dynamodb:GetItem", TABLE_IMPORT),
            ("dynamodb:PutItem", TABLE_IMPORT),
            ("dynamodb:Query", TABLE_IMPORT),
            ("dynamodb:Scan", TABLE_IMPORT),
            ("dynamodb:UpdateItem", TABLE_IMPORT),
            ("s3:GetObject", TABLE_IMPORT),
            ("s3:GetObjectMetadata", TABLE_IMPORT),
            ("s3:ListBucket", TABLE_IMPORT),
            ("logs:CreateLogGroup", TABLE_IMPORT),
            ("logs:CreateLogStream", TABLE_IMPORT),
            ("logs:DescribeLogGroups", TABLE_IMPORT),
            ("logs:DescribeLogStreams", TABLE_IMPORT),
            ("logs:PutLogEvents", TABLE_IMPORT),
            ("logs:PutRetentionPolicy", TABLE_IMPORT),
            ("dynamodb:CreateTableReplica", TABLE_REPLICAS),
            ("dynamodb:AssociateTableReplica", TABLE_REPLICAS),
            ("iam:CreateServiceLinkedRole", TABLE_REPLICAS),
            ("dynamodb:EnableKinesisStreamingDestination", TABLE_KINESIS),
            ("dynamodb:DisableKinesisStreamingDestination", TABLE_KINESIS),
            ("dynamodb:UpdateKinesisStreamingDestination", TABLE_KINESIS),
            ("kinesis:DescribeStream", TABLE_KINESIS),
            ("kinesis:PutRecords", TABLE_KINESIS),
            ("dynamodb:PutResourcePolicy", "ResourcePolicy: the table's access is granted to roles, not by the table"),
            (
                "dynamodb:DeleteResourcePolicy",
                "ResourcePolicy: the table's access is granted to roles, not by the table",
            ),
            ("kms:CreateGrant", TABLE_KMS),
            ("kms:Decrypt", TABLE_KMS),
            ("kms:DescribeKey", TABLE_KMS),
            ("kms:Encrypt", TABLE_KMS),
            ("kms:ListAliases", TABLE_KMS),
            ("kms:RevokeGrant", TABLE_KMS),
        ],
        unsupported_properties: &[
            "ImportSourceSpecification",
            "KinesisStreamSpecification",
            "ResourcePolicy",
            "SSESpecification.SSEEnabled",
        ],
        managed_keys: &[],
        own_policy: &[],
    },
    TypeNeeds {
        resource_type: "AWS::Lambda::EventSourceMapping",
        allowed: &[(
            Scope::EventSourceMappings,
            &[
                "lambda:DeleteEventSourceMapping",
                "lambda:GetEventSourceMapping",
                "lambda:ListTags",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:UpdateEventSourceMapping",
            ],
        )],
        excluded: &[
            ("lambda:ListEventSourceMappings", "the list handler: CloudFormation lists mappings only to import them"),
            ("kms:Decrypt", "KmsKeyArn: the mappings' filter criteria are not encrypted with a key of the app's"),
            ("kms:DescribeKey", "KmsKeyArn: the mappings' filter criteria are not encrypted with a key of the app's"),
            (
                "kms:GenerateDataKey",
                "KmsKeyArn: the mappings' filter criteria are not encrypted with a key of the app's",
            ),
        ],
        unsupported_properties: &["KmsKeyArn"],
        managed_keys: &[],
        own_policy: &[("lambda:CreateEventSourceMapping", "lambda:FunctionArn")],
    },
];

/// The partition, region and account a bootstrap is deployed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub(crate) partition: String,
    /// The region.
    pub(crate) region: String,
    /// The account id.
    pub(crate) account: String,
}

/// What the execution role holds beside the default policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beside {
    /// The default policy alone: it must cover every resource of the stacks being deployed.
    Nothing,
    /// Policies the user chose (`--execution-policy default --execution-policy <ARN>`): the default covers what it
    /// can, theirs the rest (resource types the table lacks, excluded permissions, actions on `*`).
    UserPolicies,
}

/// Why the default policy alone cannot deploy a resource of `kind`, and the statement the user's own policy needs.
fn own_policy_needed(needs: &TypeNeeds, stacks: &[String], place: Option<&Place>) -> String {
    let (partition, region, account) = place
        .map_or(("aws", "<region>", "<account>"), |p| (p.partition.as_str(), p.region.as_str(), p.account.as_str()));
    let functions: Vec<String> =
        stacks.iter().map(|s| format!("arn:{partition}:lambda:{region}:{account}:function:{s}-*")).collect();
    let statements: Vec<Value> = needs
        .own_policy
        .iter()
        .map(|(action, key)| {
            serde_json::json!({
                "Effect": "Allow",
                "Action": action,
                "Resource": "*",
                "Condition": {"ArnLike": {*key: functions}},
            })
        })
        .collect();
    let kind = needs.resource_type;
    let actions: Vec<&str> = needs.own_policy.iter().map(|(action, _)| *action).collect();
    let action = actions.join(", ");
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    // Without credentials (a bare `synth`) the account and region are not known: the user fills them in.
    let fill_in = if place.is_none() { "; fill in `<region>` and `<account>`" } else { "" };
    format!(
        "CloudFormation creates an {kind} with {action}, which IAM authorizes on `Resource: \"*\"` only, and the \
         default execution policy never allows an action on `*`. Create a managed policy of this document \
         (narrowed to the app's functions by its condition{fill_in}) and bootstrap with \
         `up --execution-policy default --execution-policy <its ARN>`: {document}"
    )
}

/// What the app's stacks hold, as far as the bootstrap's policies are concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Footprint {
    /// The app stacks' names.
    pub(crate) stacks: Vec<String>,
    /// The resource types they use, with the first resource of each (`stack/LogicalId`), for error messages.
    pub(crate) types: BTreeMap<String, String>,
    /// Every action an `Allow` statement of one of their roles' policies grants.
    pub(crate) role_actions: BTreeSet<String>,
    /// Properties a default policy does not cover, where used (`stack/LogicalId: Property`).
    pub(crate) unsupported: Vec<String>,
    /// Resources of the stacks being deployed whose type needs an action on `*` ([`TypeNeeds::own_policy`]), by
    /// `stack/LogicalId`, with the type.
    pub(crate) own_policy: Vec<(String, &'static str)>,
}

impl Footprint {
    /// Reads the app's synthesized templates. The stacks named in `deploying` must be covered whole; of the others,
    /// resources of a type the table lacks are left out (with their properties), so that a stack of the app the
    /// default policy cannot deploy does not stop the deployment of the others: it stops its own.
    pub(crate) fn of(stacks: &[SynthesizedStack], deploying: &[String]) -> Self {
        let mut footprint = Self::default();
        for stack in stacks {
            footprint.stacks.push(stack.stack_name.clone());
            let strict = deploying.contains(&stack.stack_name);
            let resources = stack.template.get("Resources").and_then(Value::as_object);
            for (id, resource) in resources.into_iter().flatten() {
                let kind = resource.get("Type").and_then(Value::as_str).unwrap_or_default();
                let at = format!("{}/{id}", stack.stack_name);
                let covered = TABLE.iter().any(|t| t.resource_type == kind);
                if !strict && !covered {
                    continue;
                }
                footprint.types.entry(kind.to_owned()).or_insert_with(|| at.clone());
                let properties = resource.get("Properties").cloned().unwrap_or(Value::Null);
                for document in policy_documents(kind, &properties) {
                    footprint.role_actions.extend(allowed_actions(document));
                }
                let needs = TABLE.iter().find(|t| t.resource_type == kind);
                if let Some(needs) = needs.filter(|n| strict && !n.own_policy.is_empty()) {
                    footprint.own_policy.push((at.clone(), needs.resource_type));
                }
                for property in needs.map_or(&[][..], |n| n.unsupported_properties) {
                    let mut value = Some(&properties);
                    for part in property.split('.') {
                        value = value.and_then(|v| v.get(part));
                    }
                    let managed = needs.is_some_and(|n| {
                        n.managed_keys
                            .iter()
                            .any(|(p, key)| p == property && value.and_then(Value::as_str) == Some(key))
                    });
                    if value.is_some() && strict && !managed {
                        footprint.unsupported.push(format!("{at}: {property}"));
                    }
                }
            }
        }
        footprint
    }
}

/// The policy documents of a role or policy resource.
fn policy_documents<'a>(kind: &str, properties: &'a Value) -> Vec<&'a Value> {
    match kind {
        "AWS::IAM::Role" => properties
            .get("Policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("PolicyDocument"))
            .collect(),
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => properties.get("PolicyDocument").into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The actions a document's `Allow` statements grant.
fn allowed_actions(document: &Value) -> Vec<String> {
    let statements = document.get("Statement").and_then(Value::as_array).into_iter().flatten();
    statements
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .flat_map(|s| match s.get("Action") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The permissions boundary: per service the app's roles use, the actions they are granted, on that service's
/// resources in this account and region.
pub(crate) fn boundary(footprint: &Footprint) -> PolicyDocument {
    let mut by_service: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for action in &footprint.role_actions {
        let (service, _) = action.split_once(':').unwrap_or((action, ""));
        by_service.entry(service).or_default().push(action);
    }
    if by_service.is_empty() {
        // A boundary allows only what it allows: with no grant to mirror, a policy of one Deny allows nothing (a
        // policy needs a statement, and an Allow would grant something).
        return PolicyDocument::new().statement(
            Statement::deny().sid("NothingGranted").actions(["iam:*"]).resource_pattern(service_resources("iam")),
        );
    }
    let mut document = PolicyDocument::new();
    for (service, actions) in by_service {
        let sid: String = format!("AppRoles{}", capitalized(service));
        document = document.statement(
            Statement::allow().sid(sid).actions(actions.iter().copied()).resource_pattern(service_resources(service)),
        );
    }
    document
}

/// `arn:<partition>:<service>:<region>:<account>:*`, the ARN forms of services without a region or an account
/// as they write them.
fn service_resources(service: &str) -> Expr {
    let sub = Sub::new().text("arn:").value(Pseudo::Partition).text(format!(":{service}:"));
    match service {
        "s3" => sub.text("::*").build(),
        "iam" | "sts" => sub.text(":").value(Pseudo::AccountId).text(":*").build(),
        _ => sub.value(Pseudo::Region).text(":").value(Pseudo::AccountId).text(":*").build(),
    }
}

fn capitalized(service: &str) -> String {
    service
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The default execution policy, in two documents (each within IAM's size limit for a managed policy).
#[derive(Debug)]
pub(crate) struct DefaultPolicies {
    /// What CloudFormation may do, each action on its resource type in the account and region (a function, a log
    /// group, a queue, a table, an object), the way an `Allow` names resources, or on the roles under the
    /// bootstrap's path.
    pub(crate) allows: PolicyDocument,
    /// The guard: those actions denied on every resource but the app's own (its stacks' generated names, the asset
    /// bucket's objects). With [`DefaultPolicies::allows`], the role may act
    /// on the app's resources only; `None` when no action needs narrowing.
    pub(crate) guard: Option<PolicyDocument>,
}

/// The default execution policy for the app's resource types, on the app's resources only.
pub(crate) fn default_execution_policy(
    footprint: &Footprint,
    qualifier: &str,
    boundary: &ManagedPolicyRef,
    bucket_arn: &Expr,
    beside: Beside,
    place: Option<&Place>,
) -> Result<DefaultPolicies, SynthError> {
    if let (Beside::Nothing, Some(used)) = (beside, footprint.unsupported.first()) {
        return Err(SynthError::invalid(
            used,
            "the default CloudFormation execution policy does not cover this property (it needs permissions on \
             resources outside the app): bootstrap with `up --execution-policy default --execution-policy <policy \
             ARN>` naming a policy that allows the rest, or extend deployer/src/bootstrap/execution_policy.rs",
        ));
    }
    let first_own = footprint
        .own_policy
        .first()
        .and_then(|(at, kind)| TABLE.iter().find(|t| t.resource_type == *kind).map(|needs| (at, needs)));
    if let (Beside::Nothing, Some((at, needs))) = (beside, first_own) {
        return Err(SynthError::invalid(at, own_policy_needed(needs, &footprint.stacks, place)));
    }
    let mut scopes: BTreeMap<Scope, BTreeSet<&str>> = BTreeMap::new();
    for (kind, at) in &footprint.types {
        let Some(needs) = TABLE.iter().find(|t| t.resource_type == kind) else {
            if beside == Beside::UserPolicies {
                continue;
            }
            return Err(SynthError::invalid(
                at,
                format!(
                    "the default CloudFormation execution policy does not cover resource type {kind}: add what \
                     CloudFormation needs for it (its schema's handler permissions) to \
                     deployer/src/bootstrap/execution_policy.rs, or bootstrap with `up --execution-policy default \
                     --execution-policy <policy ARN>` naming a policy that allows it"
                ),
            ));
        };
        for (scope, actions) in needs.allowed {
            scopes.entry(*scope).or_default().extend(actions.iter().copied());
        }
    }
    let in_account = |service: &str, resource_type: &str| {
        Sub::new()
            .text("arn:")
            .value(Pseudo::Partition)
            .text(format!(":{service}:"))
            .value(Pseudo::Region)
            .text(":")
            .value(Pseudo::AccountId)
            .text(format!(":{resource_type}"))
            .build()
    };
    let roles = Sub::new()
        .text("arn:")
        .value(Pseudo::Partition)
        .text(":iam::")
        .value(Pseudo::AccountId)
        .text(":role")
        .value(constructs::qualifier::role_path(qualifier))
        .text("*")
        .build();
    // A stack whose name extends another's (`<name>-...`) has its resources covered by the other's patterns.
    let stacks: Vec<&String> = footprint
        .stacks
        .iter()
        .filter(|s| !footprint.stacks.iter().any(|other| other != *s && s.starts_with(&format!("{other}-"))))
        .collect();
    let families = |service: &str, prefixes: &[&str]| -> Vec<Expr> {
        let mut out = Vec::new();
        for stack in &stacks {
            for prefix in prefixes {
                out.push(in_account(service, &format!("{prefix}{stack}-*")));
            }
        }
        out
    };
    let mut allows = PolicyDocument::new();
    // The guard: the actions of every scope narrowed to the app's resources, and those resources.
    let mut guarded: BTreeSet<&str> = BTreeSet::new();
    let mut own: Vec<Expr> = Vec::new();
    let mut unguarded: BTreeMap<Scope, BTreeSet<&str>> = BTreeMap::new();
    for (scope, actions) in &scopes {
        let statement = Statement::allow().actions(actions.iter().copied());
        let (statement, app_resources) = match scope {
            Scope::Functions => (
                statement.sid("Functions").resource_pattern(in_account("lambda", "function:*")),
                families("lambda", &["function:"]),
            ),
            Scope::LogGroups => (
                statement.sid("LogGroups").resource_pattern(in_account("logs", "log-group:*")),
                families("logs", &["log-group:", "log-group:/aws/lambda/"]),
            ),
            Scope::LogsReads => (statement.sid("LogsReads").resource_pattern(in_account("logs", "*")), Vec::new()),
            // The roles under the bootstrap's own path, named in the `Allow` itself: an IAM resource cannot end in
            // `:*` short of every IAM resource of the account (`arn:<p>:iam::<a>:*`), which IAM accepts but moto, a
            // target users test against, refuses.
            Scope::Roles => (statement.sid("Roles").resource_pattern(roles.clone()), Vec::new()),
            Scope::RolesWithBoundary => (
                statement.sid("RolesWithTheBoundaryOnly").resource_pattern(roles.clone()).condition_expr(
                    "StringEquals",
                    "iam:PermissionsBoundary",
                    boundary.ref_(),
                ),
                Vec::new(),
            ),
            Scope::PassRoles => (
                statement.sid("PassRolesToLambdaOnly").resource_pattern(roles.clone()).condition(
                    "StringEquals",
                    "iam:PassedToService",
                    "lambda.amazonaws.com",
                ),
                Vec::new(),
            ),
            Scope::AssetObjects => {
                let objects = Sub::new().text("arn:").value(Pseudo::Partition).text(":s3:::*").build();
                (
                    statement.sid("ReadObjects").resource_pattern(objects),
                    vec![Sub::new().value(bucket_arn.clone()).text("/*").build()],
                )
            }
            Scope::Queues => (statement.sid("Queues").resource_pattern(in_account("sqs", "*")), families("sqs", &[""])),
            Scope::Tables => (
                statement.sid("Tables").resource_pattern(in_account("dynamodb", "*")),
                families("dynamodb", &["table/"]),
            ),
            Scope::EventSourceMappings => (
                statement.sid("EventSourceMappings").resource_pattern(in_account("lambda", "event-source-mapping:*")),
                Vec::new(),
            ),
        };
        allows = allows.statement(statement);
        if app_resources.is_empty() {
            unguarded.insert(*scope, actions.clone());
        } else {
            guarded.extend(actions.iter().copied());
            for resource in app_resources {
                if !own.contains(&resource) {
                    own.push(resource);
                }
            }
        }
    }
    // An action also allowed account-wide (a logs read) stays out of the guard; one also allowed on the mappings
    // (tagging) keeps them: they are named by a UUID, so no family of the app's can name them. (The roles' actions
    // are no other scope's.)
    for (scope, actions) in &unguarded {
        match scope {
            Scope::EventSourceMappings if actions.iter().any(|a| guarded.contains(a)) => {
                own.push(in_account("lambda", "event-source-mapping:*"));
            }
            Scope::LogsReads => guarded.retain(|a| !actions.contains(a)),
            _ => {}
        }
    }
    let guard = (!guarded.is_empty()).then(|| {
        let statement = own.into_iter().fold(
            Statement::deny().sid("OnlyTheAppsResources").actions(guarded.iter().copied()),
            Statement::not_resource,
        );
        PolicyDocument::new().statement(statement)
    });
    Ok(DefaultPolicies { allows, guard })
}
