//! `doctor`: what a deployment of the selected stacks needs, checked in seconds and changing nothing: the build
//! toolchain, the region, the credentials, the bootstrap stack (and its version and bucket), and the permissions
//! `up` and the read commands use, asked of IAM's policy simulator as `up`'s pre-flight check asks.

use crate::build;
use crate::cli::DoctorArgs;
use crate::error::{DeployerError, Result};
use crate::io::Event;
use crate::io::message::CheckStatus;
use crate::preflight::needs::{self, Place};
use crate::preflight::simulate::{self, Verdict};
use crate::target::aws::{bootstrap_changes, bootstrap_config};
use crate::target::aws_bootstrap::{Bootstrap, chosen_policies};

use super::Context;

/// Runs `doctor`.
pub(crate) async fn run(ctx: &Context, args: &DoctorArgs) -> Result<()> {
    let mut report = Report { ctx, failed: Vec::new() };
    report.toolchain();
    if ctx.global.local {
        report.check("target", CheckStatus::Ok, "the local target needs no AWS account: `up --local`".into());
        return report.finish();
    }
    let aws = match ctx.target.connect().await {
        Ok(aws) => aws,
        Err(error) => {
            report.check("credentials", CheckStatus::Fail, error.to_string());
            return report.finish();
        }
    };
    report.check("region", CheckStatus::Ok, aws.region.clone());
    let caller = match aws.caller().await {
        Ok(caller) => caller,
        Err(error) => {
            report.check("credentials", CheckStatus::Fail, error.to_string());
            return report.finish();
        }
    };
    report.check("credentials", CheckStatus::Ok, format!("{} (account {})", caller.arn, caller.account));

    let qualifier = &ctx.global.bootstrap.qualifier;
    let bootstrap = Bootstrap::read(&aws.cfn, qualifier, &caller).await?;
    let selection = ctx.selection(&args.selectors.stacks)?;
    let policies = chosen_policies(&[], bootstrap.as_ref());
    let mut config = bootstrap_config(&ctx.run, policies, bootstrap.as_ref());
    config.place = Some(caller.place(&aws.region));
    let assembly = selection.synth_with_bootstrap(&constructs::AssetManifest::new(), &config)?;
    let changes = bootstrap_changes(&aws, &assembly).await?;
    let bucket = bootstrap.as_ref().and_then(|b| b.bucket(&caller.account));
    match &bootstrap {
        None => report.check(
            "bootstrap",
            CheckStatus::Warn,
            format!(
                "no bootstrap stack {} in {}: the first `up` creates it (an S3 bucket, IAM policies and a role: it \
                 needs credentials that may create them)",
                constructs::qualifier::bootstrap_stack_name(qualifier),
                aws.region
            ),
        ),
        Some(found) => {
            let version = found.version.unwrap_or(0);
            let (status, detail) = if version < crate::bootstrap::VERSION {
                (
                    CheckStatus::Warn,
                    format!(
                        "{} is version {version}; this deployer writes version {}: the next `up` updates it (with \
                         credentials that may change IAM roles and policies)",
                        found.stack,
                        crate::bootstrap::VERSION
                    ),
                )
            } else if changes {
                (
                    CheckStatus::Warn,
                    format!("{} differs from what the app needs now: the next `up` updates it", found.stack),
                )
            } else {
                (CheckStatus::Ok, format!("{} version {version}", found.stack))
            };
            report.check("bootstrap", status, detail);
            if let Some(bucket) = &bucket {
                match crate::publish::s3::object_exists(&aws.s3, bucket, "doctor-probe", None).await {
                    Ok(_) => report.check("bucket", CheckStatus::Ok, format!("s3://{} is reachable", bucket.name)),
                    Err(error) => report.check("bucket", CheckStatus::Fail, error.to_string()),
                }
            }
        }
    }

    let place = Place {
        partition: caller.partition(),
        region: &aws.region,
        account: &caller.account,
        qualifier,
        stack_id: "00000000-0000-0000-0000-000000000000",
    };
    let app: Vec<String> = selection.names();
    let mut wanted = needs::for_up(&place, &app, bucket.as_ref().map(|b| b.name.as_str()), "asset.zip", changes);
    wanted.extend(needs::for_reads(&place, &app));
    match simulate::simulate(&aws.iam, &caller, &wanted).await {
        Verdict::Allowed => report.check(
            "permissions",
            CheckStatus::Ok,
            format!("{} call(s) of `up`, `status`, `logs`, `invoke` and `executions` allowed", wanted.len()),
        ),
        Verdict::Denied(denied) => {
            let error =
                crate::preflight::missing_permissions(&caller.arn, &denied, "that `up` and the read commands make");
            report.check("permissions", CheckStatus::Fail, error.to_string());
        }
        Verdict::NotChecked(why) => report.check("permissions", CheckStatus::Warn, format!("not checked: {why}")),
    }
    report.finish()
}

/// The checks made so far.
struct Report<'a> {
    ctx: &'a Context,
    failed: Vec<String>,
}

impl Report<'_> {
    fn check(&mut self, check: &str, status: CheckStatus, detail: String) {
        if status == CheckStatus::Fail {
            self.failed.push(check.to_owned());
        }
        self.ctx.run.host.notify(Event::Check { check: check.to_owned(), status, detail });
    }

    /// The Rust target of the functions' architecture, and (for AWS) the cross toolchain, without installing
    /// anything.
    fn toolchain(&mut self) {
        if self.ctx.global.local {
            let rustc = std::process::Command::new("rustc").arg("--version").output();
            match rustc {
                Ok(out) if out.status.success() => {
                    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                    self.check("toolchain", CheckStatus::Ok, version);
                }
                _ => self.check(
                    "toolchain",
                    CheckStatus::Fail,
                    "no rustc: install Rust with rustup (https://rustup.rs)".into(),
                ),
            }
            return;
        }
        let target = build::lambda_triple(self.ctx.global.arch);
        match build::ensure_rust_target(target) {
            Err(error) => self.check("toolchain", CheckStatus::Fail, error.to_string()),
            Ok(()) if build::zigbuild_found(&self.ctx.run.workspace) => {
                self.check("toolchain", CheckStatus::Ok, format!("Rust for {target}"));
            }
            Ok(()) => self.check(
                "toolchain",
                CheckStatus::Warn,
                format!(
                    "Rust for {target}; cargo-zigbuild is not installed yet: the first `up` installs it, pinned, into \
                     {}",
                    self.ctx.run.workspace.tools_dir().display()
                ),
            ),
        }
    }

    fn finish(self) -> Result<()> {
        if self.failed.is_empty() {
            Ok(())
        } else {
            Err(DeployerError::NotReady(format!(
                "doctor: {} check(s) failed ({}); see each line above for what to do",
                self.failed.len(),
                self.failed.join(", ")
            )))
        }
    }
}
