//! What `up --local` does not emulate of a stack, said in one warning per stack instead of passed over in silence:
//! the local target runs Lambda functions, their versions and aliases (and writes their logs); a queue, a table, a
//! topic or any other service's resource is not created, and an event source mapping, a schedule or a rule never
//! fires. Functions that name such a resource in their environment get its physical id from the same stack
//! deployed on AWS when there is one (functions run here, the rest is real), else a placeholder.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Types the local target runs or stands in for: the functions and what they need to run and log. IAM is not
/// enforced locally, so a role or policy has nothing left to emulate.
const EMULATED: &[&str] = &[
    "AWS::Lambda::Function",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
];

/// Types that make a service invoke a function: locally nothing invokes it on their behalf.
const TRIGGERS: &[&str] =
    &["AWS::Lambda::EventSourceMapping", "AWS::Scheduler::Schedule", "AWS::Events::Rule", "AWS::Lambda::Permission"];

/// One resource of a stack that the local target does not emulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotEmulated {
    /// Logical id.
    pub(crate) logical_id: String,
    /// `AWS::...` type.
    pub(crate) kind: String,
    /// Whether it would invoke a function (an event source, a schedule, a rule, a permission for one).
    pub(crate) trigger: bool,
    /// `<function>.<VARIABLE>` of every function environment variable that names it.
    pub(crate) named_by: Vec<String>,
    /// Its physical id in the same stack deployed on AWS, which those variables get instead of a placeholder.
    pub(crate) aws_id: Option<String>,
}

/// The resources of `template` that the local target does not emulate, in logical-id order.
pub(crate) fn not_emulated(template: &Value) -> Vec<NotEmulated> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else { return Vec::new() };
    let kind_of = |id: &str| resources.get(id).and_then(|r| r.get("Type")).and_then(Value::as_str).unwrap_or_default();
    let mut found: Vec<NotEmulated> = resources
        .keys()
        .filter(|id| !EMULATED.contains(&kind_of(id)))
        .map(|id| NotEmulated {
            logical_id: id.clone(),
            kind: kind_of(id).to_owned(),
            trigger: TRIGGERS.contains(&kind_of(id)),
            named_by: Vec::new(),
            aws_id: None,
        })
        .collect();
    for (function, resource) in resources.iter().filter(|(id, _)| kind_of(id) == "AWS::Lambda::Function") {
        let variables = resource.pointer("/Properties/Environment/Variables").and_then(Value::as_object);
        for (name, value) in variables.into_iter().flatten() {
            let mut targets = BTreeSet::new();
            referenced(value, &mut targets);
            for entry in found.iter_mut().filter(|e| targets.contains(&e.logical_id)) {
                entry.named_by.push(format!("{function}.{name}"));
            }
        }
    }
    found
}

/// The warning `up --local` gives for `stack`, or `None` when it emulates everything in it.
pub(crate) fn warning(stack: &str, resources: &[NotEmulated]) -> Option<String> {
    if resources.is_empty() {
        return None;
    }
    let mut lines = vec![format!(
        "the local target runs the functions of {stack} but does not emulate {} of its resources; they exist only \
         when the stack is deployed to AWS (`deployer up {stack}`):",
        resources.len()
    )];
    for resource in resources {
        let what = if resource.trigger {
            "never fires locally: nothing invokes the function on its behalf; run it with `deployer invoke --local`"
                .to_owned()
        } else if resource.named_by.is_empty() {
            "not created locally".to_owned()
        } else if let Some(id) = &resource.aws_id {
            format!(
                "not created locally; {} get(s) `{id}`, the resource of the stack deployed on AWS, so local \
                 functions use the real one",
                resource.named_by.join(", ")
            )
        } else {
            format!(
                "not created locally; {} get(s) the placeholder `{stack}-{}`, so calls to it from a local function \
                 fail",
                resource.named_by.join(", "),
                resource.logical_id
            )
        };
        lines.push(format!("  - {} ({}): {what}", resource.logical_id, resource.kind));
    }
    Some(lines.join("\n"))
}

/// Whether a function's environment names a resource the local target does not create: only then is the same
/// stack on AWS worth asking for its physical ids.
pub(crate) fn names_real_resources(resources: &[NotEmulated]) -> bool {
    resources.iter().any(|r| !r.trigger && !r.named_by.is_empty())
}

/// `template` with every function environment variable that is a `Ref` to a resource of `aws_ids` (logical id →
/// the physical id of the same stack on AWS) set to that physical id; `resources` learn which ids they got.
pub(crate) fn with_aws_ids(
    template: &Value,
    aws_ids: &BTreeMap<String, String>,
    resources: &mut [NotEmulated],
) -> Value {
    let mut template = template.clone();
    for resource in resources.iter_mut().filter(|r| !r.trigger && !r.named_by.is_empty()) {
        resource.aws_id = aws_ids.get(&resource.logical_id).cloned();
    }
    let Some(functions) = template.get_mut("Resources").and_then(Value::as_object_mut) else { return template };
    for function in functions.values_mut().filter(|r| r["Type"] == "AWS::Lambda::Function") {
        let Some(variables) = function.pointer_mut("/Properties/Environment/Variables").and_then(Value::as_object_mut)
        else {
            continue;
        };
        for value in variables.values_mut() {
            let known = value["Ref"].as_str().and_then(|id| resources.iter().find(|r| r.logical_id == id));
            if let Some(id) = known.and_then(|r| r.aws_id.clone()) {
                *value = Value::String(id);
            }
        }
    }
    template
}

/// Adds the logical ids `value` refers to (`Ref`, `Fn::GetAtt`, `${Id}` and `${Id.Attr}` of `Fn::Sub`).
fn referenced(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, arg) in map {
                match (key.as_str(), arg) {
                    ("Ref", Value::String(id)) => {
                        out.insert(id.clone());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(id) = parts.first().and_then(Value::as_str) {
                            out.insert(id.to_owned());
                        }
                    }
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        out.insert(dotted.split('.').next().unwrap_or_default().to_owned());
                    }
                    ("Fn::Sub", sub) => {
                        let pattern = match sub {
                            Value::Array(parts) => parts.first().and_then(Value::as_str).unwrap_or_default(),
                            other => other.as_str().unwrap_or_default(),
                        };
                        for part in pattern.split("${").skip(1) {
                            let name = part.split('}').next().unwrap_or_default();
                            out.insert(name.split('.').next().unwrap_or_default().to_owned());
                        }
                        if let Value::Array(parts) = sub {
                            parts.iter().skip(1).for_each(|p| referenced(p, out));
                        }
                    }
                    _ => referenced(arg, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| referenced(item, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example app's order stack: its queues and table are not created, its event source mapping never fires,
    /// and the workflow's `ORDERS_TABLE` is named as getting a placeholder; the functions, their versions and
    /// alias, log groups and roles are not listed.
    #[test]
    fn the_order_stack_s_queue_table_and_event_source_are_named_with_what_that_means() {
        let mut app = constructs::App::new();
        stacks::app(&mut app).unwrap();
        let assembly = app.synth().unwrap();
        let orders = &assembly.stack_by_id(stacks::orders::STACK_ID).unwrap().template;
        let found = not_emulated(orders);
        let listed: Vec<(&str, &str, bool)> =
            found.iter().map(|r| (r.logical_id.as_str(), r.kind.as_str(), r.trigger)).collect();
        assert_eq!(
            listed,
            [
                ("OrderQueue", "AWS::SQS::Queue", false),
                ("OrderQueueDeadLetterQueue", "AWS::SQS::Queue", false),
                ("OrderQueueSource", "AWS::Lambda::EventSourceMapping", true),
                ("OrderTable", "AWS::DynamoDB::Table", false),
            ]
        );
        let table = found.iter().find(|r| r.logical_id == "OrderTable").unwrap();
        assert_eq!(table.named_by, ["Workflow.ORDERS_TABLE"]);
        let text = warning("durable-orders", &found).unwrap();
        assert!(text.starts_with("the local target runs the functions of durable-orders but does not emulate 4"));
        assert!(text.contains(
            "OrderTable (AWS::DynamoDB::Table): not created locally; Workflow.ORDERS_TABLE get(s) the placeholder \
             `durable-orders-OrderTable`"
        ));
        assert!(text.contains("OrderQueueSource (AWS::Lambda::EventSourceMapping): never fires locally"), "{text}");
    }

    /// With the stack deployed on AWS, the workflow's `ORDERS_TABLE` gets the real table's name, and only that
    /// variable changes; a queue no variable names stays unchanged.
    #[test]
    fn a_variable_naming_a_resource_on_aws_gets_its_physical_id() {
        let mut app = constructs::App::new();
        stacks::app(&mut app).unwrap();
        let assembly = app.synth().unwrap();
        let orders = &assembly.stack_by_id(stacks::orders::STACK_ID).unwrap().template;
        let mut found = not_emulated(orders);
        assert!(names_real_resources(&found));
        let ids = BTreeMap::from([
            ("OrderTable".to_owned(), "durable-orders-OrderTable-1A2B3C".to_owned()),
            ("OrderQueue".to_owned(), "https://sqs.us-east-1.amazonaws.com/123456789012/q".to_owned()),
        ]);
        let template = with_aws_ids(orders, &ids, &mut found);
        let variables = &template["Resources"]["Workflow"]["Properties"]["Environment"]["Variables"];
        assert_eq!(variables["ORDERS_TABLE"], "durable-orders-OrderTable-1A2B3C");
        assert_eq!(
            variables["FULFIL_FUNCTION_NAME"],
            orders["Resources"]["Workflow"]["Properties"]["Environment"]["Variables"]["FULFIL_FUNCTION_NAME"]
        );
        let text = warning("durable-orders", &found).unwrap();
        assert!(text.contains("Workflow.ORDERS_TABLE get(s) `durable-orders-OrderTable-1A2B3C`, the resource of the stack deployed on AWS"), "{text}");
        assert!(text.contains("OrderQueue (AWS::SQS::Queue): not created locally\n"), "{text}");
    }

    /// The pattern holds functions, versions, an alias, log groups, roles and a policy only: nothing to say.
    #[test]
    fn the_pattern_has_nothing_the_local_target_does_not_emulate() {
        let mut app = constructs::App::new();
        stacks::app(&mut app).unwrap();
        let assembly = app.synth().unwrap();
        let pattern = &assembly.stack_by_id(stacks::pattern::STACK_ID).unwrap().template;
        assert_eq!(not_emulated(pattern), []);
        assert_eq!(warning("durable-invoke-lambda", &[]), None);
    }

    #[test]
    fn references_are_found_in_ref_getatt_and_sub() {
        let value = serde_json::json!({"Fn::Join": ["", [
            {"Ref": "A"}, {"Fn::GetAtt": ["B", "Arn"]}, {"Fn::GetAtt": "C.Arn"},
            {"Fn::Sub": "x-${D}-${E.Arn}-${AWS::Region}"}, {"Fn::Sub": ["${v}", {"v": {"Ref": "F"}}]}
        ]]});
        let mut out = BTreeSet::new();
        referenced(&value, &mut out);
        assert_eq!(out.into_iter().collect::<Vec<_>>(), ["A", "AWS::Region", "B", "C", "D", "E", "F", "v"]);
    }
}
