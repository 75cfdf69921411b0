//! The bootstrap stack as deployed: the asset bucket, the CloudFormation execution role and the choice of its
//! policies, read from the stack's outputs (the bucket's name cannot be computed: it carries part of the stack's
//! own id).

use std::collections::BTreeMap;

use stacks::bootstrap::{
    BUCKET_NAME_OUTPUT, DEFAULT_EXECUTION_POLICY, EXECUTION_POLICIES_OUTPUT, EXECUTION_ROLE_OUTPUT, VERSION_OUTPUT,
};

use crate::cfn::stack;
use crate::error::{DeployerError, Result};
use crate::publish::AssetBucket;

/// A deployed bootstrap stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bootstrap {
    /// The stack's name.
    pub stack: String,
    /// Its outputs.
    pub outputs: BTreeMap<String, String>,
}

impl Bootstrap {
    /// The bootstrap stack of `qualifier`, when it exists.
    pub(crate) async fn read(cfn: &aws_sdk_cloudformation::Client, qualifier: &str) -> Result<Option<Self>> {
        let name = stacks::qualifier::bootstrap_stack_name(qualifier);
        Ok(stack::describe(cfn, &name).await?.map(|info| Self { stack: name, outputs: info.outputs }))
    }

    /// The asset bucket, which must belong to `owner` (the caller's account).
    pub(crate) fn bucket(&self, owner: &str) -> Option<AssetBucket> {
        self.outputs.get(BUCKET_NAME_OUTPUT).map(|name| AssetBucket { name: name.clone(), owner: owner.to_owned() })
    }

    /// The asset bucket, or an error saying the bootstrap stack is not one this deployer wrote.
    pub(crate) fn require_bucket(&self, owner: &str) -> Result<AssetBucket> {
        self.bucket(owner).ok_or_else(|| self.incomplete(BUCKET_NAME_OUTPUT))
    }

    /// The CloudFormation execution role's ARN (bootstrap version 2 and later).
    pub(crate) fn execution_role(&self) -> Option<&str> {
        self.outputs.get(EXECUTION_ROLE_OUTPUT).map(String::as_str)
    }

    /// The execution role, or an error saying how to get one.
    pub(crate) fn require_execution_role(&self) -> Result<&str> {
        self.execution_role().ok_or_else(|| self.incomplete(EXECUTION_ROLE_OUTPUT))
    }

    /// The bootstrap template's version.
    pub(crate) fn version(&self) -> Option<u32> {
        self.outputs.get(VERSION_OUTPUT).and_then(|v| v.parse().ok())
    }

    /// The execution role's policies as chosen at the last bootstrap: empty for the default policy (or a bootstrap
    /// from before the choice existed).
    pub(crate) fn execution_policies(&self) -> Vec<String> {
        match self.outputs.get(EXECUTION_POLICIES_OUTPUT).map(String::as_str) {
            None | Some(DEFAULT_EXECUTION_POLICY | "") => Vec::new(),
            Some(list) => list.split(',').map(str::to_owned).collect(),
        }
    }

    fn incomplete(&self, output: &str) -> DeployerError {
        DeployerError::DeployFailed(format!(
            "the bootstrap stack {} has no output {output}: it was made by an older deployer or by hand. Run \
             `deployer up` with credentials that may update it (it creates the execution role and the permissions \
             boundary), or check `aws cloudformation describe-stacks --stack-name {}`",
            self.stack, self.stack
        ))
    }
}

/// The execution role's policies an `up` bootstraps with: those given (`default` alone: the default policy), else
/// those chosen at the last bootstrap, else the default (empty).
pub(crate) fn chosen_policies(given: &[String], deployed: Option<&Bootstrap>) -> Vec<String> {
    if given.is_empty() {
        return deployed.map(Bootstrap::execution_policies).unwrap_or_default();
    }
    given.iter().filter(|p| p.as_str() != DEFAULT_EXECUTION_POLICY).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployed(policies: &str) -> Bootstrap {
        let outputs = [(EXECUTION_POLICIES_OUTPUT.to_owned(), policies.to_owned())].into();
        Bootstrap { stack: "DurableDeployerToolkit".into(), outputs }
    }

    /// A choice made at bootstrap stays until another is made: an `up` without `--execution-policy` never puts the
    /// default back in place of the user's policies.
    #[test]
    fn the_execution_policy_choice_is_kept_until_changed() {
        let arn = "arn:aws:iam::123456789012:policy/deploy".to_owned();
        let custom = deployed(&arn);
        assert_eq!(chosen_policies(&[], Some(&custom)), [arn.clone()]);
        assert!(chosen_policies(&["default".into()], Some(&custom)).is_empty(), "`default` restores the default");
        let other = "arn:aws:iam::aws:policy/PowerUserAccess".to_owned();
        assert_eq!(chosen_policies(std::slice::from_ref(&other), Some(&custom)), [other]);
        assert!(chosen_policies(&[], Some(&deployed("default"))).is_empty());
        assert!(chosen_policies(&[], None).is_empty());
    }
}
