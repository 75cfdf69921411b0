//! Amazon EventBridge rules in CDK's L2 manner: [`Rule`] matches events on a bus (or fires on a schedule) and
//! invokes its targets, each a plain function or the alias of a durable one; every target gets the
//! `AWS::Lambda::Permission` that lets EventBridge invoke it for this rule only (`SourceArn`).
//!
//! ```
//! use constructs::events::Rule;
//! use constructs::lambda::{Publish, RustFunction};
//! use constructs::resources::lambda::DurableConfig;
//! use constructs::{App, AssetManifest, Stack};
//!
//! let mut stack = Stack::new(&App::new(), "Orders")?;
//! let workflow = stack.construct("Workflow", RustFunction::new("workflow").durable(DurableConfig::new(3_600, 7)))?;
//! let live = workflow.publish(&mut stack, Publish::alias("live"))?;
//! let placed = Rule::on_event(serde_json::json!({"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}));
//! stack.construct("OrderPlaced", placed.target(&live))?;
//!
//! let template = stack.synth(&AssetManifest::placeholders(&stack.assets()))?.template;
//! assert_eq!(template["Resources"]["OrderPlaced"]["Properties"]["Targets"][0]["Arn"]["Ref"], "WorkflowLiveAlias");
//! let permission = &template["Resources"]["OrderPlacedTarget1Permission"]["Properties"];
//! assert_eq!(permission["Principal"], "events.amazonaws.com");
//! assert_eq!(permission["FunctionName"]["Ref"], "WorkflowLiveAlias");
//! assert_eq!(permission["SourceArn"]["Fn::GetAtt"][0], "OrderPlaced");
//! # Ok::<(), constructs::SynthError>(())
//! ```

use serde_json::Value;

use crate::construct::{Construct, Scope};
use crate::error::SynthError;
use crate::lambda::{Invocable, InvokeTarget};
use crate::reference::{Expr, Reference, ResourceHandle};
use crate::resources::cfn::{CfnRef, CfnResource, PropValue};
use crate::scheduler::ScheduleExpression;

/// The most targets a rule may have.
pub const MAX_TARGETS: usize = 5;

/// What a rule reacts to.
#[derive(Clone, Debug, PartialEq)]
enum Trigger {
    Pattern(Value),
    Schedule(ScheduleExpression),
}

/// An `AWS::Events::Rule` named by CloudFormation, on the account's default bus unless given another.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Rule {
    trigger: Trigger,
    targets: Vec<(InvokeTarget, Option<Value>)>,
    event_bus: Option<Expr>,
    description: Option<String>,
    enabled: bool,
}

impl Rule {
    /// A rule matching events with `pattern` (an EventBridge event pattern: a JSON object).
    pub fn on_event(pattern: Value) -> Self {
        Self::with(Trigger::Pattern(pattern))
    }

    /// A rule firing on `expression` (`rate(...)` or `cron(...)`; a one-time `at(...)` is for
    /// [`crate::scheduler::Schedule`]).
    pub fn on_schedule(expression: ScheduleExpression) -> Self {
        Self::with(Trigger::Schedule(expression))
    }

    fn with(trigger: Trigger) -> Self {
        Self { trigger, targets: Vec::new(), event_bus: None, description: None, enabled: true }
    }

    /// Invokes `target` (a plain function, or an alias or version of any function) with the matched event.
    pub fn target(mut self, target: &impl Invocable) -> Self {
        self.targets.push((InvokeTarget::of(target), None));
        self
    }

    /// Invokes `target` with `input` instead of the matched event.
    pub fn target_with_input(mut self, target: &impl Invocable, input: Value) -> Self {
        self.targets.push((InvokeTarget::of(target), Some(input)));
        self
    }

    /// Listens on this bus (its name or ARN) instead of the default one.
    pub fn event_bus(mut self, bus: impl Into<Expr>) -> Self {
        self.event_bus = Some(bus.into());
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

    fn check(&self, path: &str) -> Result<(), SynthError> {
        match &self.trigger {
            Trigger::Pattern(pattern) if pattern.as_object().is_none_or(serde_json::Map::is_empty) => {
                return Err(SynthError::invalid(
                    path,
                    format!("the event pattern must be a JSON object naming what to match, got `{pattern}`"),
                ));
            }
            Trigger::Schedule(expression) if expression.is_one_time() => {
                return Err(SynthError::invalid(
                    path,
                    format!(
                        "a rule cannot fire once (`{}`): use constructs::scheduler::Schedule for one-time schedules",
                        expression.as_str()
                    ),
                ));
            }
            Trigger::Schedule(_) if self.event_bus.is_some() => {
                return Err(SynthError::invalid(path, "a scheduled rule runs on the default event bus only"));
            }
            _ => {}
        }
        if self.targets.is_empty() || self.targets.len() > MAX_TARGETS {
            return Err(SynthError::invalid(
                path,
                format!(
                    "a rule needs 1 to {MAX_TARGETS} targets, got {}: add them with `.target(&function)`",
                    self.targets.len()
                ),
            ));
        }
        for (target, _) in &self.targets {
            target.check_invocable(path, "the rule")?;
        }
        Ok(())
    }
}

impl Construct for Rule {
    type Output = RuleRef;

    /// Adds the rule `<id>` and a permission `<id>Target<n>Permission` per target to `scope`.
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<RuleRef, SynthError> {
        self.check(&format!("{}/{id}", scope.path()))?;
        let targets = PropValue::list(self.targets.iter().enumerate().map(|(index, (target, input))| {
            let mut entry =
                vec![("Arn", PropValue::from(target.invoke_arn())), ("Id", format!("Target{}", index + 1).into())];
            if let Some(input) = input {
                entry.push(("Input", input.to_string().into()));
            }
            PropValue::object(entry)
        }));
        let mut rule = CfnResource::new("AWS::Events::Rule")
            .set("State", if self.enabled { "ENABLED" } else { "DISABLED" })
            .set("Targets", targets);
        rule = match &self.trigger {
            Trigger::Pattern(pattern) => rule.set("EventPattern", pattern.clone()),
            Trigger::Schedule(expression) => rule.set("ScheduleExpression", expression.as_str()),
        };
        if let Some(bus) = self.event_bus {
            rule = rule.set("EventBusName", bus);
        }
        if let Some(text) = self.description {
            rule = rule.set("Description", text);
        }
        let rule = scope.add(id, rule)?;
        let mut permissions = Vec::new();
        for (index, (target, _)) in self.targets.iter().enumerate() {
            let permission = CfnResource::new("AWS::Lambda::Permission")
                .set("Action", "lambda:InvokeFunction")
                .set("FunctionName", target.invoke_arn())
                .set("Principal", "events.amazonaws.com")
                .set("SourceArn", rule.get_att("Arn"));
            permissions.push(scope.add(&format!("{id}Target{}Permission", index + 1), permission)?);
        }
        Ok(RuleRef { rule, permissions })
    }
}

/// What [`Rule`] made: the rule (`ref_()` is its name) and its targets' permissions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleRef {
    rule: CfnRef,
    permissions: Vec<CfnRef>,
}

impl RuleRef {
    /// `Fn::GetAtt [Rule, Arn]`.
    pub fn arn(&self) -> Expr {
        self.rule.get_att("Arn")
    }

    /// The `AWS::Lambda::Permission` of each target, in the order the targets were given.
    pub fn permissions(&self) -> &[CfnRef] {
        &self.permissions
    }
}

impl Reference for RuleRef {
    fn handle(&self) -> &ResourceHandle {
        self.rule.handle()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lambda::RustFunction;
    use crate::resources::lambda::DurableConfig;
    use crate::{App, AssetManifest, Stack};

    #[test]
    fn every_target_gets_a_permission_for_this_rule_only() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let a = stack.construct("A", RustFunction::new("a")).unwrap();
        let b = stack.construct("B", RustFunction::new("b")).unwrap();
        let rule =
            Rule::on_schedule(ScheduleExpression::rate_hours(6)).target(&a).target_with_input(&b, json!({"x": 1}));
        let made = stack.construct("Tick", rule).unwrap();
        assert_eq!(made.permissions().len(), 2);
        let t = stack.synth(&AssetManifest::placeholders(&stack.assets())).unwrap().template;
        let targets = &t["Resources"]["Tick"]["Properties"]["Targets"];
        assert_eq!(targets[1], json!({"Arn": {"Fn::GetAtt": ["B", "Arn"]}, "Id": "Target2", "Input": "{\"x\":1}"}));
        assert_eq!(t["Resources"]["Tick"]["Properties"]["ScheduleExpression"], "rate(6 hours)");
        for (n, function) in [(1, "A"), (2, "B")] {
            let permission = &t["Resources"][format!("TickTarget{n}Permission")]["Properties"];
            assert_eq!(permission["FunctionName"], json!({"Fn::GetAtt": [function, "Arn"]}));
            assert_eq!(permission["SourceArn"], json!({"Fn::GetAtt": ["Tick", "Arn"]}));
            assert_eq!(permission["Action"], "lambda:InvokeFunction");
            assert_eq!(permission["Principal"], "events.amazonaws.com");
        }
    }

    #[test]
    fn a_durable_function_s_unqualified_arn_an_empty_pattern_and_no_target_are_refused() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let flow = stack.construct("Flow", RustFunction::new("flow").durable(DurableConfig::new(60, 1))).unwrap();
        let error =
            stack.construct("R1", Rule::on_event(json!({"source": ["x"]})).target(&flow)).unwrap_err().to_string();
        assert!(
            error.starts_with("S/R1: the rule targets S/Flow, a durable function, by its unqualified ARN"),
            "{error}"
        );
        let error = stack.construct("R2", Rule::on_event(json!({})).target(&flow)).unwrap_err().to_string();
        assert!(error.contains("event pattern must be a JSON object"), "{error}");
        let error = stack.construct("R3", Rule::on_event(json!({"source": ["x"]}))).unwrap_err().to_string();
        assert!(error.contains("needs 1 to 5 targets"), "{error}");
        let at = ScheduleExpression::at("2030-01-01T00:00:00").unwrap();
        let error = stack.construct("R4", Rule::on_schedule(at)).unwrap_err().to_string();
        assert!(error.contains("cannot fire once"), "{error}");
    }
}
