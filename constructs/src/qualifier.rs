//! The bootstrap qualifier, and the names the bootstrap stack gives its resources by it: the contract between the
//! bootstrap stack and the app's stacks, as CDK's bootstrap template and its stack synthesizer share one.
//!
//! A qualifier (`--qualifier`, [`DEFAULT_QUALIFIER`] unless chosen) tells several bootstraps of one account and
//! region apart. Every name below carries it. An app stack learns them from its qualifier alone, at synth time:
//!
//! - the permissions boundary is a customer managed policy of a fixed name, so its ARN is a `Fn::Sub` of the
//!   partition, account, region and qualifier. Policy names live in the account's own namespace: nobody else can
//!   take one.
//! - the asset bucket's name also carries 8 hex digits of the bootstrap stack's own id (a UUID CloudFormation draws
//!   when it creates the stack), so nobody can guess it and create it first: bucket names are global. The deployer
//!   reads it from the bootstrap stack and passes it to each app stack as a parameter
//!   ([`crate::asset::BUCKET_PARAMETER`]). Not an export and `Fn::ImportValue`: an import ties the bootstrap stack
//!   to every app stack (it could not change the bucket, nor be deleted first), and emulators drop the exports of
//!   stacks made through change sets.

use crate::error::SynthError;
use crate::reference::{Expr, Pseudo, Sub};

/// The bootstrap stack's name for the default qualifier (the deployer's own stack, like `CDKToolkit`).
pub const BOOTSTRAP_STACK_NAME: &str = "DurableDeployerToolkit";

/// The qualifier unless the user picks another.
pub const DEFAULT_QUALIFIER: &str = "default";

/// Checks a qualifier: 1 to 10 lowercase letters and digits (it is part of a bucket name, and keeps every name
/// below within its service's limit).
pub fn check(qualifier: &str) -> Result<(), SynthError> {
    let valid =
        (1..=10).contains(&qualifier.len()) && qualifier.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(SynthError::invalid(
            "qualifier",
            format!("`{qualifier}` is not a valid qualifier: use 1 to 10 lowercase letters and digits"),
        ))
    }
}

/// The bootstrap stack's name: `DurableDeployerToolkit` for the default qualifier, `DurableDeployerToolkit-<q>`
/// for another.
pub fn bootstrap_stack_name(qualifier: &str) -> String {
    if qualifier == DEFAULT_QUALIFIER {
        BOOTSTRAP_STACK_NAME.to_owned()
    } else {
        format!("{BOOTSTRAP_STACK_NAME}-{qualifier}")
    }
}

/// The asset bucket's name: `durable-assets-<q>-<account>-<region>-<8 hex digits of the bootstrap stack's UUID>`
/// (at most 62 characters).
pub fn bucket_name(qualifier: &str) -> Expr {
    let uuid = Expr::split_select(Pseudo::StackId, "/", 2);
    Sub::new()
        .text(format!("durable-assets-{qualifier}-"))
        .value(Pseudo::AccountId)
        .text("-")
        .value(Pseudo::Region)
        .text("-")
        .value(Expr::split_select(uuid, "-", 0))
        .build()
}

/// The permissions boundary's name: `durable-deployer-<q>-boundary-<region>` (customer managed policies are
/// account-wide: the region keeps each region's bootstrap its own).
pub fn boundary_name(qualifier: &str) -> Expr {
    Sub::new().text(format!("durable-deployer-{qualifier}-boundary-")).value(Pseudo::Region).build()
}

/// The permissions boundary's ARN, as every role of an app stack names it.
pub fn boundary_arn(qualifier: &str) -> Expr {
    Sub::new()
        .text("arn:")
        .value(Pseudo::Partition)
        .text(":iam::")
        .value(Pseudo::AccountId)
        .text(":policy/")
        .value(boundary_name(qualifier))
        .build()
}

/// The IAM path of every role of an app stack, `/durable-deployer/<q>/<region>/`: the CloudFormation execution
/// role may create and change roles under it only, whatever names CloudFormation generates for them.
pub fn role_path(qualifier: &str) -> Expr {
    Sub::new().text(format!("/durable-deployer/{qualifier}/")).value(Pseudo::Region).text("/").build()
}

/// The CloudFormation execution role's name, `durable-deployer-<q>-cfn-exec-<region>`: fixed, so the deploy role's
/// permissions policy can allow passing exactly it.
pub fn execution_role_name(qualifier: &str) -> Expr {
    Sub::new().text(format!("durable-deployer-{qualifier}-cfn-exec-")).value(Pseudo::Region).build()
}

/// The execution role's name in `region`: what [`execution_role_name`] evaluates to there.
pub fn execution_role_name_in(qualifier: &str, region: &str) -> String {
    format!("durable-deployer-{qualifier}-cfn-exec-{region}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_are_short_lowercase_words() {
        assert!(check(DEFAULT_QUALIFIER).is_ok());
        assert!(check("team2").is_ok());
        for bad in ["", "Team", "a-b", "elevenchars", "a_b"] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_qualifier_keeps_the_bootstrap_stack_name() {
        assert_eq!(bootstrap_stack_name(DEFAULT_QUALIFIER), "DurableDeployerToolkit");
        assert_eq!(bootstrap_stack_name("team2"), "DurableDeployerToolkit-team2");
    }

    /// The longest qualifier, account and region still make a valid bucket name.
    #[test]
    fn the_longest_bucket_name_fits_s3s_limit() {
        let longest =
            format!("durable-assets-{}-{}-{}-{}", "q".repeat(10), "1".repeat(12), "ap-southeast-5", "a".repeat(8));
        assert!(longest.len() <= 63, "{}", longest.len());
        let role = execution_role_name_in(&"q".repeat(10), "ap-southeast-5");
        assert!(role.len() <= 64, "{role}");
    }
}
