//! Policy documents and statements, checked against the least-privilege rule when rendered.
//!
//! The rule is about what a policy *allows*: an `Allow` statement names each action (`service:Action`, no `*`),
//! never uses `NotAction` or `NotResource`, and names each resource, with one exception, the trailing `:*`
//! qualifier of one typed reference (every version or alias of one function). A `Deny` statement only takes access
//! away, so it may be as broad as it needs to be (`s3:*` on a bucket and its objects without TLS is the norm).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::SynthError;
use crate::reference::Expr;
use crate::synth::RenderContext;

/// The policy language version.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// Who a resource policy statement applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Principal {
    /// Everyone (`"*"`): only accepted in `Deny` statements.
    Anyone,
    /// An AWS service, e.g. `lambda.amazonaws.com`.
    Service(String),
}

/// One policy statement.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principal: Option<Principal>,
    actions: Vec<String>,
    resources: Vec<Expr>,
    patterns: Vec<Expr>,
    not_resources: Vec<Expr>,
    conditions: BTreeMap<String, BTreeMap<String, Value>>,
    /// Conditions whose value is a template expression (an ARN built with `Fn::Sub`), rendered with the statement.
    expr_conditions: Vec<(String, String, Expr)>,
}

impl Statement {
    /// An `Allow` statement.
    pub fn allow() -> Self {
        Self::new(Effect::Allow)
    }

    /// A `Deny` statement.
    pub fn deny() -> Self {
        Self::new(Effect::Deny)
    }

    fn new(effect: Effect) -> Self {
        Self {
            sid: None,
            effect,
            principal: None,
            actions: Vec::new(),
            resources: Vec::new(),
            patterns: Vec::new(),
            not_resources: Vec::new(),
            conditions: BTreeMap::new(),
            expr_conditions: Vec::new(),
        }
    }

    /// Sets the statement id.
    pub fn sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// Sets the principal (resource policies only).
    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Adds actions: `service:Action`; a wildcard (`s3:*`) only in a `Deny` statement.
    pub fn actions<I, S>(mut self, actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.actions.extend(actions.into_iter().map(Into::into));
        self
    }

    /// Adds a resource.
    pub fn resource(mut self, resource: impl Into<Expr>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// Adds a resource name pattern: a family of resources named by a wildcard, such as every function whose
    /// CloudFormation-generated name starts with a stack's name. Only the bootstrap stack's deployment roles (the
    /// CloudFormation execution role, and the permissions boundary capping the app's roles) may use one, in a
    /// `Deny` or an `Allow`: they act on resources that do not exist when they are created. Rendering one in an
    /// app stack is an error.
    pub fn resource_pattern(mut self, pattern: impl Into<Expr>) -> Self {
        self.patterns.push(pattern.into());
        self
    }

    /// Adds a `NotResource` entry: the statement covers every resource except these. Only in a `Deny`
    /// statement: an `Allow` with `NotResource` grants everything not listed, including what does not exist yet.
    pub fn not_resource(mut self, resource: impl Into<Expr>) -> Self {
        self.not_resources.push(resource.into());
        self
    }

    /// Adds a condition, e.g. `("Bool", "aws:SecureTransport", false)`.
    pub fn condition(mut self, operator: impl Into<String>, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.conditions.entry(operator.into()).or_default().insert(key.into(), value.into());
        self
    }

    /// Whether a resource of the statement refers to the resource at `handle`.
    pub(crate) fn mentions(&self, handle: &crate::reference::ResourceHandle) -> bool {
        self.resources.iter().chain(&self.not_resources).any(|r| r.mentions(handle))
    }

    /// Adds a condition whose value is a template expression, e.g. `("StringEquals", "iam:PermissionsBoundary",
    /// <the boundary's ARN>)`.
    pub fn condition_expr(
        mut self,
        operator: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<Expr>,
    ) -> Self {
        self.expr_conditions.push((operator.into(), key.into(), value.into()));
        self
    }

    fn label(&self, index: usize) -> String {
        match &self.sid {
            Some(sid) => format!("{index} ({sid})"),
            None => index.to_string(),
        }
    }

    pub(crate) fn validate(&self, path: &str, index: usize) -> Result<(), SynthError> {
        let broad = |reason: String| SynthError::OverlyBroadPolicy {
            path: path.to_owned(),
            statement: self.label(index),
            reason,
        };
        if self.actions.is_empty() {
            return Err(broad("it has no action".to_owned()));
        }
        for action in &self.actions {
            let (service, name) = action.split_once(':').unwrap_or(("", ""));
            if service.is_empty() || name.is_empty() || service.contains('*') {
                return Err(broad(format!("action `{action}` must be of the form `service:Action`")));
            }
            if self.effect == Effect::Allow && action.contains('*') {
                return Err(broad(format!("allowed action `{action}` must be one `service:Action` without `*`")));
            }
        }
        if (self.resources.is_empty() && self.patterns.is_empty()) == self.not_resources.is_empty() {
            return Err(broad("it needs either Resource or NotResource entries, not both".to_owned()));
        }
        if self.effect == Effect::Allow && !self.not_resources.is_empty() {
            return Err(broad("an Allow statement must name its resources, not use NotResource".to_owned()));
        }
        if self.effect == Effect::Allow && self.principal == Some(Principal::Anyone) {
            return Err(broad("it allows the `*` principal".to_owned()));
        }
        if let Some(sid) = &self.sid
            && (sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(SynthError::invalid(path, format!("Sid `{sid}` must be letters and digits")));
        }
        Ok(())
    }

    fn render(&self, cx: &RenderContext<'_>, index: usize) -> Result<Value, SynthError> {
        let mut out = Map::new();
        if let Some(sid) = &self.sid {
            out.insert("Sid".into(), json!(sid));
        }
        out.insert(
            "Effect".into(),
            json!(match self.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            }),
        );
        match &self.principal {
            Some(Principal::Anyone) => {
                out.insert("Principal".into(), json!("*"));
            }
            Some(Principal::Service(s)) => {
                out.insert("Principal".into(), json!({ "Service": s }));
            }
            None => {}
        }
        out.insert("Action".into(), json!(self.actions));
        for (key, list) in [("Resource", &self.resources), ("NotResource", &self.not_resources)] {
            if list.is_empty() {
                continue;
            }
            let rendered = list.iter().map(|r| r.render(cx)).collect::<Result<Vec<_>, _>>()?;
            if self.effect == Effect::Allow {
                for value in &rendered {
                    check_resource(cx.path(), &self.label(index), key, value)?;
                }
            }
            out.insert(key.into(), Value::Array(rendered));
        }
        if !self.patterns.is_empty() {
            if cx.kind() != crate::synth::StackKind::Bootstrap {
                return Err(SynthError::OverlyBroadPolicy {
                    path: cx.path().to_owned(),
                    statement: self.label(index),
                    reason: "resource name patterns are for the bootstrap stack's deployment roles only".to_owned(),
                });
            }
            let mut rendered = self.patterns.iter().map(|r| r.render(cx)).collect::<Result<Vec<_>, _>>()?;
            if let Some(Value::Array(exact)) = out.remove("Resource") {
                rendered.splice(0..0, exact);
            }
            out.insert("Resource".into(), Value::Array(rendered));
        }
        let mut conditions = self.conditions.clone();
        for (operator, key, value) in &self.expr_conditions {
            conditions.entry(operator.clone()).or_default().insert(key.clone(), value.render(cx)?);
        }
        if !conditions.is_empty() {
            out.insert("Condition".into(), json!(conditions));
        }
        Ok(Value::Object(out))
    }
}

/// The text a resource entry shows before deployment: a literal, or a `Fn::Sub` template (other intrinsics,
/// such as `Fn::GetAtt`, are opaque and hold no wildcard written by us).
fn resource_text(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(o) => match o.get("Fn::Sub") {
            Some(Value::String(s)) => Some(s),
            Some(Value::Array(a)) => a.first().and_then(Value::as_str),
            _ => None,
        },
        _ => None,
    }
}

/// An allowed resource may hold one `*`, as the final qualifier wildcard right after a typed reference
/// (`${Fn.Arn}:*`, `...:function:${Fn}:*`): every version or alias of one resource, never a family of resources.
fn check_resource(path: &str, statement: &str, key: &str, value: &Value) -> Result<(), SynthError> {
    let Some(text) = resource_text(value) else {
        return Ok(());
    };
    let qualifier_form =
        text.matches('*').count() == 1 && text.strip_suffix(":*").is_some_and(|prefix| prefix.ends_with('}'));
    if text.contains('*') && !qualifier_form {
        return Err(SynthError::OverlyBroadPolicy {
            path: path.to_owned(),
            statement: statement.to_owned(),
            reason: format!("{key} `{text}` has a wildcard other than a trailing `<arn>:*`"),
        });
    }
    Ok(())
}

/// A policy document: `{"Version": "2012-10-17", "Statement": [...]}`.
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a statement.
    pub fn statement(mut self, statement: Statement) -> Self {
        self.statements.push(statement);
        self
    }

    /// Appends a statement in place.
    pub(crate) fn push(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    /// Checks the document's statements (what can be checked before references resolve).
    pub(crate) fn validate(&self, path: &str) -> Result<(), SynthError> {
        if self.statements.is_empty() {
            return Err(SynthError::invalid(path, "a policy document needs a statement"));
        }
        self.statements.iter().enumerate().try_for_each(|(i, s)| s.validate(path, i))
    }

    /// Renders the document, checking every allowed resource entry for wildcards.
    pub(crate) fn render(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        let statements =
            self.statements.iter().enumerate().map(|(i, s)| s.render(cx, i)).collect::<Result<Vec<_>, _>>()?;
        Ok(json!({ "Version": POLICY_VERSION, "Statement": statements }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_actions_and_missing_resources_are_rejected_in_allow_statements() {
        let err = Statement::allow().actions(["s3:*"]).resource("arn:aws:s3:::b").validate("s/R", 0);
        assert!(matches!(err, Err(SynthError::OverlyBroadPolicy { .. })), "{err:?}");
        let err = Statement::allow().actions(["s3:Get*"]).resource("arn:aws:s3:::b").validate("s/R", 0);
        assert!(matches!(err, Err(SynthError::OverlyBroadPolicy { .. })), "{err:?}");
        let err = Statement::allow().actions(["s3:GetObject"]).validate("s/R", 1);
        assert!(matches!(err, Err(SynthError::OverlyBroadPolicy { .. })), "{err:?}");
        let err = Statement::allow()
            .principal(Principal::Anyone)
            .actions(["s3:GetObject"])
            .resource("arn:aws:s3:::b")
            .validate("s/R", 2);
        assert!(matches!(err, Err(SynthError::OverlyBroadPolicy { .. })), "{err:?}");
    }

    #[test]
    fn an_allow_statement_never_uses_not_resource() {
        let err = Statement::allow().actions(["s3:GetObject"]).not_resource("arn:aws:s3:::b").validate("s/R", 0);
        let Err(SynthError::OverlyBroadPolicy { reason, .. }) = err else {
            unreachable!("NotResource in an Allow statement was accepted: {err:?}");
        };
        assert!(reason.contains("NotResource"), "{reason}");
    }

    #[test]
    fn a_deny_statement_may_be_broad() {
        let deny = Statement::deny()
            .principal(Principal::Anyone)
            .actions(["s3:*"])
            .resource("arn:aws:s3:::b")
            .resource("arn:aws:s3:::b/*")
            .condition("Bool", "aws:SecureTransport", "false");
        deny.validate("s/R", 0).unwrap();
        Statement::deny().actions(["s3:PutObject"]).not_resource("arn:aws:s3:::b/keep").validate("s/R", 1).unwrap();
        // Still well formed: a Deny names a service.
        let err = Statement::deny().actions(["*"]).resource("arn:aws:s3:::b").validate("s/R", 2);
        assert!(matches!(err, Err(SynthError::OverlyBroadPolicy { .. })), "{err:?}");
    }

    #[test]
    fn resource_wildcards_only_in_qualifier_form() {
        let ok = json!({"Fn::Sub": "${Orchestrator.Arn}:*"});
        assert!(check_resource("s/R", "0", "Resource", &ok).is_ok());
        assert!(check_resource("s/R", "0", "Resource", &json!({"Fn::GetAtt": ["G", "Arn"]})).is_ok());
        let literal = json!("arn:aws:lambda:us-east-1:123456789012:function:*");
        for bad in [json!("*"), json!({"Fn::Sub": "${Bucket.Arn}/*"}), json!("arn:aws:s3:::b/*:*x"), literal] {
            let err = check_resource("s/R", "0", "Resource", &bad).err();
            assert!(matches!(err, Some(SynthError::OverlyBroadPolicy { .. })), "{bad}");
        }
    }
}
