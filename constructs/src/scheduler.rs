//! Amazon EventBridge Scheduler in CDK's L2 manner: [`Schedule`] invokes a function (a plain one, or the alias of a
//! durable one) at a rate, on a cron expression or once, through a role of its own that may invoke that target and
//! nothing else.
//!
//! ```
//! use constructs::lambda::{Publish, RustFunction};
//! use constructs::resources::lambda::DurableConfig;
//! use constructs::scheduler::{Schedule, ScheduleExpression};
//! use constructs::{App, AssetManifest, Stack};
//!
//! let mut stack = Stack::new(&App::new(), "Reports")?;
//! let report = stack.construct("Report", RustFunction::new("report").durable(DurableConfig::new(3_600, 7)))?;
//! let live = report.publish(&mut stack, Publish::alias("live"))?;
//! let nightly = Schedule::new(ScheduleExpression::cron("0 2 * * ? *")?, &live).input(serde_json::json!({"kind": "daily"}));
//! stack.construct("Nightly", nightly)?;
//!
//! let template = stack.synth(&AssetManifest::placeholders(&stack.assets()))?.template;
//! let target = &template["Resources"]["Nightly"]["Properties"]["Target"];
//! assert_eq!(target["Arn"]["Ref"], "ReportLiveAlias");
//! assert_eq!(target["Input"], r#"{"kind":"daily"}"#);
//! let role = &template["Resources"]["NightlyRole"]["Properties"];
//! assert_eq!(role["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"][0]["Ref"], "ReportLiveAlias");
//!
//! // Its unqualified function is no target: a durable function runs only through a qualified ARN.
//! let error = stack.construct("Hourly", Schedule::new(ScheduleExpression::rate_hours(1), &report)).unwrap_err();
//! assert!(error.to_string().contains("target its alias"));
//! # Ok::<(), constructs::SynthError>(())
//! ```

use serde_json::Value;

use crate::construct::{Construct, Scope};
use crate::error::SynthError;
use crate::lambda::{Invocable, InvokeTarget};
use crate::reference::{Expr, Pseudo, Reference, ResourceHandle, RoleRef};
use crate::resources::cfn::{CfnRef, CfnResource, PropValue};
use crate::resources::iam::{PolicyDocument, Role, Statement};

/// When a schedule (or an EventBridge rule) fires: `rate(...)`, `cron(...)` or, for a schedule only, `at(...)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScheduleExpression(String);

impl ScheduleExpression {
    /// Every `minutes` minutes.
    pub fn rate_minutes(minutes: u32) -> Self {
        Self::rate(minutes, "minute")
    }

    /// Every `hours` hours.
    pub fn rate_hours(hours: u32) -> Self {
        Self::rate(hours, "hour")
    }

    /// Every `days` days.
    pub fn rate_days(days: u32) -> Self {
        Self::rate(days, "day")
    }

    fn rate(value: u32, unit: &str) -> Self {
        let value = value.max(1);
        Self(if value == 1 { format!("rate(1 {unit})") } else { format!("rate({value} {unit}s)") })
    }

    /// A cron expression of six fields (`minutes hours day-of-month month day-of-week year`), in UTC unless the
    /// schedule names a time zone.
    pub fn cron(fields: &str) -> Result<Self, SynthError> {
        let count = fields.split_whitespace().count();
        if count != 6 {
            return Err(SynthError::invalid(
                "schedule expression",
                format!(
                    "`{fields}` has {count} fields; EventBridge cron expressions have six: minutes hours \
                     day-of-month month day-of-week year, e.g. `0 2 * * ? *`"
                ),
            ));
        }
        Ok(Self(format!("cron({})", fields.split_whitespace().collect::<Vec<_>>().join(" "))))
    }

    /// Once, at `yyyy-mm-ddThh:mm:ss` (schedules only).
    pub fn at(time: &str) -> Result<Self, SynthError> {
        let bytes = time.as_bytes();
        let shaped = bytes.len() == 19
            && bytes.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                10 => *b == b'T',
                13 | 16 => *b == b':',
                _ => b.is_ascii_digit(),
            });
        if !shaped {
            return Err(SynthError::invalid(
                "schedule expression",
                format!("`{time}` is not a time of the form yyyy-mm-ddThh:mm:ss"),
            ));
        }
        Ok(Self(format!("at({time})")))
    }

    /// The expression as EventBridge reads it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it fires once (`at(...)`).
    pub fn is_one_time(&self) -> bool {
        self.0.starts_with("at(")
    }
}

/// An `AWS::Scheduler::Schedule` in the default group that invokes its target asynchronously, with the role it
/// does that with (`<id>Role`, which may invoke only that target, assumed by the scheduler of this account only).
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Schedule {
    expression: ScheduleExpression,
    target: InvokeTarget,
    input: Option<Value>,
    time_zone: Option<String>,
    description: Option<String>,
    enabled: bool,
}

impl Schedule {
    /// Invokes `target` (a plain function, or an alias or version of any function) when `expression` fires.
    pub fn new(expression: ScheduleExpression, target: &impl Invocable) -> Self {
        Self {
            expression,
            target: InvokeTarget::of(target),
            input: None,
            time_zone: None,
            description: None,
            enabled: true,
        }
    }

    /// The event the target receives (default: none, `{}`).
    pub fn input(mut self, event: Value) -> Self {
        self.input = Some(event);
        self
    }

    /// The IANA time zone cron and at expressions are read in (`Europe/Paris`).
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        self.time_zone = Some(zone.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Creates it disabled.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }
}

impl Construct for Schedule {
    type Output = ScheduleRef;

    /// Adds `<id>Role` and the schedule `<id>` to `scope`.
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<ScheduleRef, SynthError> {
        let path = format!("{}/{id}", scope.path());
        self.target.check_invocable(&path, "the schedule")?;
        let invoke = Statement::allow()
            .sid("InvokeTarget")
            .actions(["lambda:InvokeFunction"])
            .resource(self.target.invoke_arn());
        let role = scope.add(
            &format!("{id}Role"),
            Role::for_service("scheduler.amazonaws.com")
                .trust_condition("StringEquals", "aws:SourceAccount", Pseudo::AccountId)
                .description(format!("Invokes the target of the schedule {path}"))
                .inline_policy("invoke-target", PolicyDocument::new().statement(invoke)),
        )?;
        let mut target = vec![("Arn", PropValue::from(self.target.invoke_arn())), ("RoleArn", role.arn().into())];
        if let Some(event) = &self.input {
            target.push(("Input", event.to_string().into()));
        }
        let mut schedule = CfnResource::new("AWS::Scheduler::Schedule")
            .set("FlexibleTimeWindow", PropValue::object([("Mode", "OFF".into())]))
            .set("ScheduleExpression", self.expression.as_str())
            .set("State", if self.enabled { "ENABLED" } else { "DISABLED" })
            .set("Target", PropValue::object(target));
        if let Some(zone) = self.time_zone {
            schedule = schedule.set("ScheduleExpressionTimezone", zone);
        }
        if let Some(text) = self.description {
            schedule = schedule.set("Description", text);
        }
        let schedule = scope.add(id, schedule)?;
        Ok(ScheduleRef { schedule, role })
    }
}

/// What [`Schedule`] made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScheduleRef {
    schedule: CfnRef,
    role: RoleRef,
}

impl ScheduleRef {
    /// `Fn::GetAtt [Schedule, Arn]`.
    pub fn arn(&self) -> Expr {
        self.schedule.get_att("Arn")
    }

    /// The role the schedule invokes its target with.
    pub fn role(&self) -> &RoleRef {
        &self.role
    }
}

impl Reference for ScheduleRef {
    fn handle(&self) -> &ResourceHandle {
        self.schedule.handle()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lambda::{Publish, RustFunction};
    use crate::resources::lambda::DurableConfig;
    use crate::{App, AssetManifest, Stack};

    #[test]
    fn expressions_are_checked_and_spelled_as_eventbridge_reads_them() {
        assert_eq!(ScheduleExpression::rate_minutes(1).as_str(), "rate(1 minute)");
        assert_eq!(ScheduleExpression::rate_days(3).as_str(), "rate(3 days)");
        assert_eq!(ScheduleExpression::cron("0  2 * * ? *").unwrap().as_str(), "cron(0 2 * * ? *)");
        assert!(ScheduleExpression::cron("0 2 * * *").unwrap_err().to_string().contains("has 5 fields"));
        assert!(ScheduleExpression::at("2026-12-24T18:00:00").unwrap().is_one_time());
        assert!(ScheduleExpression::at("2026-12-24 18:00").is_err());
    }

    #[test]
    fn a_plain_function_is_invoked_by_its_arn_through_a_role_of_this_account() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let job = stack.construct("Job", RustFunction::new("job")).unwrap();
        let made =
            stack.construct("Tick", Schedule::new(ScheduleExpression::rate_minutes(5), &job).disabled()).unwrap();
        assert_eq!(made.role().handle().path(), "S/TickRole");
        let t = stack.synth(&AssetManifest::placeholders(&stack.assets())).unwrap().template;
        let schedule = &t["Resources"]["Tick"]["Properties"];
        assert_eq!(schedule["State"], "DISABLED");
        assert_eq!(schedule["Target"]["Arn"], json!({"Fn::GetAtt": ["Job", "Arn"]}));
        assert!(schedule["Target"].get("Input").is_none());
        let role = &t["Resources"]["TickRole"]["Properties"];
        let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(trust["Principal"]["Service"], "scheduler.amazonaws.com");
        assert_eq!(trust["Condition"], json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}));
        let statements = role["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Resource"], json!([{"Fn::GetAtt": ["Job", "Arn"]}]));
    }

    /// A durable function's schedule invokes its alias, and the schedule's role may invoke that alias and nothing
    /// else: not the function's other versions, not the unqualified function.
    #[test]
    fn a_durable_function_is_invoked_through_its_alias_and_the_role_names_the_alias_only() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let flow = stack.construct("Flow", RustFunction::new("flow").durable(DurableConfig::new(600, 1))).unwrap();
        let live = flow.publish(&mut stack, Publish::alias("live")).unwrap();
        stack.construct("Nightly", Schedule::new(ScheduleExpression::cron("0 2 * * ? *").unwrap(), &live)).unwrap();
        let t = stack.synth(&AssetManifest::placeholders(&stack.assets())).unwrap().template;
        assert_eq!(t["Resources"]["Nightly"]["Properties"]["Target"]["Arn"], json!({"Ref": "FlowLiveAlias"}));
        assert_eq!(
            t["Resources"]["Nightly"]["Properties"]["Target"]["RoleArn"],
            json!({"Fn::GetAtt": ["NightlyRole", "Arn"]})
        );
        let statements = &t["Resources"]["NightlyRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(
            statements,
            &json!([{"Sid": "InvokeTarget", "Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [{"Ref": "FlowLiveAlias"}]}])
        );
    }
}
