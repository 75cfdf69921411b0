//! The calls a command is about to make, as IAM actions on resources: what `up` needs (and the bootstrap stack
//! when it changes), what `status`, `logs`, `invoke` and `executions` read; and the deploy role's permissions
//! policy the repository ships, written from the same lists.

use serde_json::{Value, json};

/// One IAM action on one resource, with the request context IAM evaluates it in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Need {
    /// `service:Action`.
    pub action: String,
    /// The resource's ARN (a pattern in the shipped policy, a concrete ARN for the simulator).
    pub resource: String,
    /// Condition keys and values of the request (`iam:PassedToService`).
    pub context: Vec<(String, String)>,
}

impl Need {
    fn new(action: &str, resource: &str) -> Self {
        Self { action: action.to_owned(), resource: resource.to_owned(), context: Vec::new() }
    }

    fn with(mut self, key: &str, value: &str) -> Self {
        self.context.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// Where a deployment happens. For the simulator every field is concrete; for the shipped policy they are
/// placeholders (`<ACCOUNT_ID>`) and patterns (`/*`).
#[derive(Debug, Clone)]
pub(crate) struct Place<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: &'a str,
    /// The region.
    pub region: &'a str,
    /// The account.
    pub account: &'a str,
    /// The bootstrap qualifier.
    pub qualifier: &'a str,
    /// What follows `stack/<name>/` in a stack's ARN: the stack's UUID, or `*`.
    pub stack_id: &'a str,
}

impl Place<'_> {
    fn stack(&self, name: &str) -> String {
        format!("arn:{}:cloudformation:{}:{}:stack/{name}/{}", self.partition, self.region, self.account, self.stack_id)
    }

    fn execution_role(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.partition,
            self.account,
            constructs::qualifier::execution_role_name_in(self.qualifier, self.region)
        )
    }

    fn functions(&self, stack: &str) -> String {
        format!("arn:{}:lambda:{}:{}:function:{stack}-*", self.partition, self.region, self.account)
    }

    fn log_groups(&self, stack: &str) -> [String; 2] {
        let arn = format!("arn:{}:logs:{}:{}:log-group:", self.partition, self.region, self.account);
        [format!("{arn}{stack}-*"), format!("{arn}/aws/lambda/{stack}-*")]
    }
}

/// What `up` calls on each app stack (the deploy loop: read, compare, change set, execute, watch, and its
/// recoveries: a stack left in `ROLLBACK_COMPLETE` or `REVIEW_IN_PROGRESS` is deleted and created again).
pub(crate) const STACK_ACTIONS: [&str; 10] = [
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplate",
    "cloudformation:ListChangeSets",
    "cloudformation:ListStackResources",
];

/// What `up` reads of the bootstrap stack when it leaves it as it is.
pub(crate) const BOOTSTRAP_READS: [&str; 2] = ["cloudformation:DescribeStacks", "cloudformation:GetTemplate"];

/// What creating or updating the bootstrap stack takes, with the caller's own credentials: a change set on it,
/// and what CloudFormation then does as the caller (an S3 bucket and its policy, IAM policies, a role).
pub(crate) const BOOTSTRAP_CHANGES: [&str; 5] = [
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
];

/// What `up` needs to deploy `app_stacks` (and the bootstrap stack, when `bootstrap_changes`) into `place`, with
/// the asset bucket `bucket` (known once bootstrapped) and `sample_key`, an object key it will upload.
pub(crate) fn for_up(
    place: &Place<'_>,
    app_stacks: &[String],
    bucket: Option<&str>,
    sample_key: &str,
    bootstrap_changes: bool,
) -> Vec<Need> {
    let mut needs = Vec::new();
    let bootstrap = place.stack(&constructs::qualifier::bootstrap_stack_name(place.qualifier));
    for action in BOOTSTRAP_READS {
        needs.push(Need::new(action, &bootstrap));
    }
    if bootstrap_changes {
        for action in BOOTSTRAP_CHANGES {
            needs.push(Need::new(action, &bootstrap));
        }
        let (p, r, a, q) = (place.partition, place.region, place.account, place.qualifier);
        let role = place.execution_role();
        let boundary = format!("arn:{p}:iam::{a}:policy/durable-deployer-{q}-boundary-{r}");
        needs.push(Need::new("iam:CreateRole", &role));
        needs.push(Need::new("iam:AttachRolePolicy", &role));
        needs.push(Need::new("iam:CreatePolicy", &boundary));
        needs.push(Need::new("iam:CreatePolicyVersion", &boundary));
        // The bucket's name is drawn when it is created: any of the qualifier's names stands for it.
        let new_bucket = format!("arn:{p}:s3:::durable-assets-{q}-{a}-{r}-00000000");
        for action in ["s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutEncryptionConfiguration"] {
            needs.push(Need::new(action, &new_bucket));
        }
    }
    for stack in app_stacks {
        for action in STACK_ACTIONS {
            needs.push(Need::new(action, &place.stack(stack)));
        }
    }
    needs.push(
        Need::new("iam:PassRole", &place.execution_role()).with("iam:PassedToService", "cloudformation.amazonaws.com"),
    );
    if let Some(bucket) = bucket {
        let arn = format!("arn:{}:s3:::{bucket}", place.partition);
        needs.push(Need::new("s3:ListBucket", &arn));
        for action in ["s3:GetObject", "s3:PutObject"] {
            needs.push(Need::new(action, &format!("{arn}/{sample_key}")));
        }
    }
    needs
}

/// What `status`, `logs`, `invoke` and `executions` call on `app_stacks` (`history`, `stop` and `callback` act
/// on the same functions).
pub(crate) fn for_reads(place: &Place<'_>, app_stacks: &[String]) -> Vec<Need> {
    let mut needs = Vec::new();
    for stack in app_stacks {
        for action in ["cloudformation:DescribeStacks", "cloudformation:ListStackResources"] {
            needs.push(Need::new(action, &place.stack(stack)));
        }
        for action in [
            "lambda:GetAlias",
            "lambda:GetDurableExecution",
            "lambda:GetDurableExecutionHistory",
            "lambda:InvokeFunction",
            "lambda:ListDurableExecutionsByFunction",
        ] {
            needs.push(Need::new(action, &place.functions(stack)));
        }
        for group in place.log_groups(stack) {
            needs.push(Need::new("logs:FilterLogEvents", &group));
        }
    }
    needs
}

/// Calls grouped by resource and context: one policy statement, or one simulator request, each.
pub(crate) type Group<'a, T> = (&'a str, &'a [(String, String)], Vec<T>);

/// A policy document allowing `needs`: one statement per resource and context, actions sorted.
pub(crate) fn policy(needs: &[Need], sid: impl Fn(usize, &Need) -> String) -> Value {
    let mut groups: Vec<Group<'_, &str>> = Vec::new();
    for need in needs {
        match groups.iter_mut().find(|(r, c, _)| *r == need.resource && *c == need.context.as_slice()) {
            Some((_, _, actions)) => actions.push(&need.action),
            None => groups.push((&need.resource, &need.context, vec![&need.action])),
        }
    }
    // IAM wants each statement id once in a policy.
    let mut ids: Vec<String> = Vec::new();
    let statements: Vec<Value> = groups
        .into_iter()
        .enumerate()
        .map(|(index, (resource, context, mut actions))| {
            actions.sort_unstable();
            actions.dedup();
            let mut first = needs.iter().find(|n| n.resource == resource).map_or_else(String::new, |n| sid(index, n));
            let repeats = ids.iter().filter(|id| **id == first).count();
            ids.push(first.clone());
            if repeats > 0 {
                first.push_str(&(repeats + 1).to_string());
            }
            let mut statement = json!({ "Sid": first, "Effect": "Allow", "Action": actions, "Resource": resource });
            if !context.is_empty() {
                let conditions: serde_json::Map<String, Value> =
                    context.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                statement["Condition"] = json!({ "StringEquals": conditions });
            }
            statement
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The deploy role's permissions policy for the pattern's stack, with placeholders for the account, region,
/// asset bucket and the deploy role's own name, written from the same lists of calls as the pre-flight check:
/// what `.github/aws/deploy-role-permissions-policy.json` must hold (a test compares them).
#[cfg(test)]
pub(crate) fn deploy_role_policy() -> Value {
    let place = Place {
        partition: "aws",
        region: "<REGION>",
        account: "<ACCOUNT_ID>",
        qualifier: constructs::qualifier::DEFAULT_QUALIFIER,
        stack_id: "*",
    };
    let app = [stacks::pattern::STACK_NAME.to_owned()];
    let mut needs = for_up(&place, &app, Some("<ASSET_BUCKET>"), "*", false);
    needs.extend(for_reads(&place, &app));
    needs.push(Need::new("iam:SimulatePrincipalPolicy", "arn:aws:iam::<ACCOUNT_ID>:role/<DEPLOY_ROLE_NAME>"));
    policy(&needs, |_, need| statement_id(need))
}

/// A statement id saying what the statement is for.
#[cfg(test)]
fn statement_id(need: &Need) -> String {
    let r = &need.resource;
    let kind = if r.contains(":stack/DurableDeployerToolkit") {
        "ReadTheBootstrapStack"
    } else if r.contains(":stack/") {
        "DeployTheAppStacks"
    } else if need.action == "iam:PassRole" {
        "PassOnlyTheExecutionRoleToCloudFormation"
    } else if need.action == "iam:SimulatePrincipalPolicy" {
        "CheckOwnPermissionsBeforeDeploying"
    } else if r.starts_with("arn:aws:s3:::") && r.contains('/') {
        "UploadAndReadAssets"
    } else if r.starts_with("arn:aws:s3:::") {
        "ListAssets"
    } else if r.contains(":function:") {
        "InvokeAndReadTheFunctions"
    } else if r.contains("/aws/lambda/") {
        "ReadTheLogsOfNamedLogGroups"
    } else {
        "ReadTheLogs"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place<'static> {
        Place { partition: "aws", region: "eu-west-1", account: "123456789012", qualifier: "default", stack_id: "x" }
    }

    #[test]
    fn up_needs_the_bootstrap_calls_only_when_the_bootstrap_changes() {
        let app = ["app".to_owned()];
        let steady = for_up(&place(), &app, Some("b"), "k.zip", false);
        assert!(!steady.iter().any(|n| n.action == "iam:CreateRole" || n.action == "s3:CreateBucket"));
        let changing = for_up(&place(), &app, None, "k.zip", true);
        assert!(changing.iter().any(|n| n.action == "iam:CreateRole"
            && n.resource == "arn:aws:iam::123456789012:role/durable-deployer-default-cfn-exec-eu-west-1"));
        assert!(!changing.iter().any(|n| n.action == "s3:PutObject"), "no bucket yet: no upload to check");
        let pass = steady.iter().find(|n| n.action == "iam:PassRole").unwrap();
        assert_eq!(pass.context, [("iam:PassedToService".to_owned(), "cloudformation.amazonaws.com".to_owned())]);
        assert!(steady.iter().any(|n| n.resource == "arn:aws:s3:::b/k.zip" && n.action == "s3:PutObject"));
    }

    /// The policy the repository ships is the one the deployer writes from its own lists of calls.
    #[test]
    fn the_shipped_deploy_role_policy_is_the_one_the_deployer_writes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.github/aws/deploy-role-permissions-policy.json");
        let shipped: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            shipped,
            deploy_role_policy(),
            "regenerate it: {}",
            serde_json::to_string_pretty(&deploy_role_policy()).unwrap()
        );
    }
}
