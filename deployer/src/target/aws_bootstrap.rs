//! The bootstrap stack as deployed: its asset bucket, its CloudFormation execution role, its version and the
//! execution policies chosen for it. Read from the stack's resources and deployed template rather than its
//! outputs, which emulators do not keep for stacks made through change sets.

use crate::bootstrap::{APP_STACKS_OUTPUT, BUCKET_LOGICAL_ID, DEFAULT_EXECUTION_POLICY, VERSION_OUTPUT};
use serde_json::Value;

use crate::aws::Caller;
use crate::cfn::stack;
use crate::error::{DeployerError, Result};
use crate::publish::AssetBucket;

/// Logical id of the execution role in the bootstrap template.
const EXECUTION_ROLE_ID: &str = "ExecutionRole";

/// A deployed bootstrap stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bootstrap {
    /// The stack's name.
    pub stack: String,
    /// The asset bucket's name.
    pub bucket: Option<String>,
    /// The execution role's ARN (bootstrap version 2 and later).
    pub execution_role: Option<String>,
    /// The template's version.
    pub version: Option<u32>,
    /// The execution role's policies as chosen: empty for the default policy alone, `default` first when it stays
    /// beside ARNs.
    pub execution_policies: Vec<String>,
    /// The app stacks its default execution policy covers.
    pub app_stacks: Vec<String>,
}

impl Bootstrap {
    /// The bootstrap stack of `qualifier`, when it exists, as `caller` sees it.
    pub(crate) async fn read(
        cfn: &aws_sdk_cloudformation::Client,
        qualifier: &str,
        caller: &Caller,
    ) -> Result<Option<Self>> {
        let name = constructs::qualifier::bootstrap_stack_name(qualifier);
        if stack::describe(cfn, &name).await?.is_none() {
            return Ok(None);
        }
        let template = stack::deployed_template(cfn, &name).await?.unwrap_or(Value::Null);
        let physical = stack::physical_ids(cfn, &name).await?;
        let bucket = physical.get(BUCKET_LOGICAL_ID).cloned();
        // The role's name is its physical id; it has no path.
        let execution_role = physical
            .get(EXECUTION_ROLE_ID)
            .map(|role| format!("arn:{}:iam::{}:role/{role}", caller.partition(), caller.account));
        Ok(Some(Self::from_template(name, &template, bucket, execution_role)))
    }

    /// What a deployed `template` says, with the physical names read beside it.
    pub(crate) fn from_template(
        stack: String,
        template: &Value,
        bucket: Option<String>,
        execution_role: Option<String>,
    ) -> Self {
        let version = template["Outputs"][VERSION_OUTPUT]["Value"].as_str().and_then(|v| v.parse().ok());
        // Policies given at bootstrap are literal ARNs; the default policy is a reference to the stack's own.
        let arns = template["Resources"][EXECUTION_ROLE_ID]["Properties"]["ManagedPolicyArns"].as_array();
        let execution_policies = arns
            .filter(|list| list.iter().any(Value::is_string))
            .map(|list| {
                list.iter()
                    .map(|p| p.as_str().unwrap_or(DEFAULT_EXECUTION_POLICY))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .map(|list| normalized(&list))
            .unwrap_or_default();
        let app_stacks = template["Outputs"][APP_STACKS_OUTPUT]["Value"]
            .as_str()
            .map(|list| list.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        Self { stack, bucket, execution_role, version, execution_policies, app_stacks }
    }

    /// The asset bucket, which must belong to `owner` (the caller's account).
    pub(crate) fn bucket(&self, owner: &str) -> Option<AssetBucket> {
        self.bucket.as_ref().map(|name| AssetBucket { name: name.clone(), owner: owner.to_owned() })
    }

    /// The asset bucket, or an error saying the bootstrap stack is not whole.
    pub(crate) fn require_bucket(&self, owner: &str) -> Result<AssetBucket> {
        self.bucket(owner).ok_or_else(|| self.incomplete(BUCKET_LOGICAL_ID))
    }

    /// The execution role, or an error saying how to get one.
    pub(crate) fn require_execution_role(&self) -> Result<&str> {
        self.execution_role.as_deref().ok_or_else(|| self.incomplete(EXECUTION_ROLE_ID))
    }

    fn incomplete(&self, resource: &str) -> DeployerError {
        DeployerError::DeployFailed(format!(
            "the bootstrap stack {stack} holds no {resource}: it was made by an older deployer or by hand. Run \
             `deployer up` with credentials that may update it (it creates the execution role and the permissions \
             boundary), or look at `aws cloudformation describe-stack-resources --stack-name {stack}`",
            stack = self.stack
        ))
    }
}

/// The execution role's policies an `up` bootstraps with: those given, else those chosen at the last bootstrap,
/// else the default (empty). `default` alone is the default policy; beside ARNs, the default policy stays with them.
pub(crate) fn chosen_policies(given: &[String], deployed: Option<&Bootstrap>) -> Vec<String> {
    if given.is_empty() {
        return deployed.map(|b| b.execution_policies.clone()).unwrap_or_default();
    }
    normalized(given)
}

/// One spelling of a choice of policies: empty for the default policy alone, else `default` (when kept) first,
/// then each ARN once, in the order given.
fn normalized(policies: &[String]) -> Vec<String> {
    let arns: Vec<&String> = policies.iter().filter(|p| p.as_str() != DEFAULT_EXECUTION_POLICY).collect();
    if arns.is_empty() {
        return Vec::new();
    }
    let mut chosen = Vec::new();
    if arns.len() < policies.len() {
        chosen.push(DEFAULT_EXECUTION_POLICY.to_owned());
    }
    for arn in arns {
        if !chosen.contains(arn) {
            chosen.push(arn.clone());
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bootstrap deployed with `policies` (`None`: the default policy), as its template shows it.
    fn deployed(policies: Option<&str>) -> Bootstrap {
        let arns = match policies {
            Some(arn) => serde_json::json!([arn]),
            None => serde_json::json!([{"Ref": "DefaultExecutionPolicy"}, {"Ref": "DefaultExecutionGuard"}]),
        };
        let template = serde_json::json!({
            "Resources": {"ExecutionRole": {"Properties": {"ManagedPolicyArns": arns}}},
            "Outputs": {"BootstrapVersion": {"Value": "2"}},
        });
        Bootstrap::from_template("DurableDeployerToolkit".into(), &template, Some("b".into()), None)
    }

    /// A choice made at bootstrap stays until another is made: an `up` without `--execution-policy` never puts the
    /// default back in place of the user's policies.
    #[test]
    fn the_execution_policy_choice_is_kept_until_changed() {
        let arn = "arn:aws:iam::123456789012:policy/deploy".to_owned();
        let custom = deployed(Some(&arn));
        assert_eq!(custom.version, Some(2));
        assert_eq!(chosen_policies(&[], Some(&custom)), std::slice::from_ref(&arn));
        assert!(chosen_policies(&["default".into()], Some(&custom)).is_empty(), "`default` restores the default");
        let other = "arn:aws:iam::aws:policy/PowerUserAccess".to_owned();
        assert_eq!(chosen_policies(std::slice::from_ref(&other), Some(&custom)), [other]);
        assert!(chosen_policies(&[], Some(&deployed(None))).is_empty());
        assert!(chosen_policies(&[], None).is_empty());
    }

    /// `--execution-policy default --execution-policy <ARN>` keeps the default policy beside the user's, and a later
    /// `up` reads that choice back from the deployed template (the default is a reference, the user's an ARN).
    #[test]
    fn the_default_policy_can_stay_beside_the_user_s() {
        let arn = "arn:aws:iam::123456789012:policy/create-mappings".to_owned();
        let given = [arn.clone(), "default".into(), arn.clone()];
        let chosen = chosen_policies(&given, None);
        assert_eq!(chosen, ["default".to_owned(), arn.clone()]);
        let template = serde_json::json!({
            "Resources": {"ExecutionRole": {"Properties": {"ManagedPolicyArns": [
                {"Ref": "DefaultExecutionPolicy"}, {"Ref": "DefaultExecutionGuard"}, arn,
            ]}}},
        });
        let read = Bootstrap::from_template("DurableDeployerToolkit".into(), &template, None, None);
        assert_eq!(read.execution_policies, chosen);
        assert_eq!(chosen_policies(&[], Some(&read)), chosen, "kept by an `up` that does not choose again");
    }
}
