//! `AWS::IAM::Role` (trust, inline policies, managed policy ARNs), `AWS::IAM::Policy` and
//! `AWS::IAM::ManagedPolicy`.
//!
//! Every role of an app stack carries the bootstrap's permissions boundary and lives under the bootstrap's role
//! path ([`crate::qualifier`]): the CloudFormation execution role may only create roles that carry that boundary,
//! so no stack it deploys can create a role with more power than the boundary allows. The role builder adds both
//! from the stack's qualifier, so no construct can forget them; the bootstrap stack's own roles get neither.

use serde_json::{Value, json};

use super::{POLICY_VERSION, PolicyDocument, Statement};
use crate::error::SynthError;
use crate::reference::{Expr, ManagedPolicyRef, PolicyRef, Reference, ResourceHandle, RoleRef};
use crate::resources::sealed::{MakeRef, Synthesize};
use crate::resources::{Props, Resource, check_description};
use crate::synth::{RenderContext, StackKind};

fn check_policy_name(path: &str, name: &str) -> Result<(), SynthError> {
    let valid =
        (1..=128).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(SynthError::invalid(path, format!("policy name `{name}` must be 1 to 128 of [A-Za-z0-9+=,.@_-]")))
    }
}

/// An `AWS::IAM::Role` assumed by an AWS service.
#[derive(Clone, Debug)]
#[must_use]
pub struct Role {
    name: Option<Expr>,
    service: String,
    policies: Vec<(String, PolicyDocument)>,
    managed_policy_arns: Vec<Expr>,
    description: Option<String>,
    trust_conditions: Vec<(String, String, Expr)>,
}

impl Role {
    /// A role that `service` (e.g. `lambda.amazonaws.com`) may assume.
    pub fn for_service(service: impl Into<String>) -> Self {
        Self {
            name: None,
            service: service.into(),
            policies: Vec::new(),
            managed_policy_arns: Vec::new(),
            description: None,
            trust_conditions: Vec::new(),
        }
    }

    /// Sets an explicit `RoleName` (by default CloudFormation generates one): for a role others must name
    /// before it exists, such as the bootstrap's execution role.
    pub fn name(mut self, name: impl Into<Expr>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a condition to the trust policy, e.g. `("StringEquals", "aws:SourceAccount", Pseudo::AccountId)`, so
    /// the service assumes the role only on behalf of this account (the confused-deputy guard).
    pub fn trust_condition(
        mut self,
        operator: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<Expr>,
    ) -> Self {
        self.trust_conditions.push((operator.into(), key.into(), value.into()));
        self
    }

    /// Adds an inline policy.
    pub fn inline_policy(mut self, name: impl Into<String>, document: PolicyDocument) -> Self {
        self.policies.push((name.into(), document));
        self
    }

    /// Adds `statement` to the inline policy `name`, creating it (what grants do to a role already in a stack).
    pub(crate) fn add_statement(&mut self, name: &str, statement: Statement) {
        match self.policies.iter_mut().find(|(n, _)| n == name) {
            Some((_, document)) => document.push(statement),
            None => self.policies.push((name.to_owned(), PolicyDocument::new().statement(statement))),
        }
    }

    /// Attaches a managed policy by ARN.
    pub fn managed_policy_arn(mut self, arn: impl Into<Expr>) -> Self {
        self.managed_policy_arns.push(arn.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

impl Synthesize for Role {
    fn resource_type(&self) -> &'static str {
        "AWS::IAM::Role"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        if !self.service.ends_with(".amazonaws.com") || self.service.contains('*') {
            return Err(SynthError::invalid(path, format!("`{}` is not an aws service principal", self.service)));
        }
        for (name, document) in &self.policies {
            check_policy_name(path, name)?;
            document.validate(path)?;
        }
        check_description(path, self.description.as_deref(), 1000)
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        let mut statement = json!({
            "Effect": "Allow",
            "Principal": { "Service": self.service },
            "Action": "sts:AssumeRole",
        });
        if !self.trust_conditions.is_empty() {
            let mut conditions = serde_json::Map::new();
            for (operator, key, value) in &self.trust_conditions {
                let entry = conditions.entry(operator.clone()).or_insert_with(|| json!({}));
                if let Value::Object(keys) = entry {
                    keys.insert(key.clone(), value.render(cx)?);
                }
            }
            statement["Condition"] = Value::Object(conditions);
        }
        let trust = json!({ "Version": POLICY_VERSION, "Statement": [statement] });
        let managed = if self.managed_policy_arns.is_empty() {
            None
        } else {
            let arns = self.managed_policy_arns.iter().map(|a| a.render(cx)).collect::<Result<Vec<_>, _>>()?;
            Some(Value::Array(arns))
        };
        let policies = if self.policies.is_empty() {
            None
        } else {
            let rendered = self
                .policies
                .iter()
                .map(|(name, doc)| Ok(json!({ "PolicyDocument": doc.render(cx)?, "PolicyName": name })))
                .collect::<Result<Vec<_>, SynthError>>()?;
            Some(Value::Array(rendered))
        };
        let app = cx.kind() == StackKind::App;
        let boundary = app.then(|| crate::qualifier::boundary_arn(cx.qualifier()).render(cx)).transpose()?;
        let path = app.then(|| crate::qualifier::role_path(cx.qualifier()).render(cx)).transpose()?;
        Ok(Props::new()
            .set("AssumeRolePolicyDocument", trust)
            .set_opt("Description", self.description.clone())
            .set_opt("ManagedPolicyArns", managed)
            .set_opt("Path", path)
            .set_opt("PermissionsBoundary", boundary)
            .set_opt("Policies", policies)
            .set_opt("RoleName", self.name.as_ref().map(|n| n.render(cx)).transpose()?)
            .build())
    }
}

impl MakeRef for Role {
    type Ref = RoleRef;
    fn make_ref(&self, handle: ResourceHandle) -> RoleRef {
        RoleRef::new(handle)
    }
}

impl Resource for Role {}

/// An `AWS::IAM::Policy` attached to roles: for grants that reference resources which themselves need the role
/// (a function's own ARN), which an inline policy of the role could not do without a dependency cycle.
#[derive(Clone, Debug)]
#[must_use]
pub struct Policy {
    name: String,
    document: PolicyDocument,
    roles: Vec<RoleRef>,
}

impl Policy {
    /// A policy called `name` holding `document`.
    pub fn new(name: impl Into<String>, document: PolicyDocument) -> Self {
        Self { name: name.into(), document, roles: Vec::new() }
    }

    /// Appends a statement to the policy in place.
    pub(crate) fn add_statement(&mut self, statement: Statement) {
        self.document.push(statement);
    }

    /// Attaches the policy to `role`.
    pub fn role(mut self, role: &RoleRef) -> Self {
        self.roles.push(role.clone());
        self
    }
}

impl Synthesize for Policy {
    fn resource_type(&self) -> &'static str {
        "AWS::IAM::Policy"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        check_policy_name(path, &self.name)?;
        if self.roles.is_empty() {
            return Err(SynthError::invalid(path, "the policy is attached to no role"));
        }
        self.document.validate(path)
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        let roles = self.roles.iter().map(|r| r.ref_().render(cx)).collect::<Result<Vec<_>, _>>()?;
        Ok(Props::new()
            .set("PolicyDocument", self.document.render(cx)?)
            .set("PolicyName", self.name.clone())
            .set("Roles", roles)
            .build())
    }
}

impl MakeRef for Policy {
    type Ref = PolicyRef;
    fn make_ref(&self, handle: ResourceHandle) -> PolicyRef {
        PolicyRef::new(handle)
    }
}

impl Resource for Policy {}

/// An `AWS::IAM::ManagedPolicy`: a policy of its own, attached by ARN (`Ref`), such as a permissions boundary.
#[derive(Clone, Debug)]
#[must_use]
pub struct ManagedPolicy {
    name: Option<Expr>,
    description: Option<String>,
    document: PolicyDocument,
}

impl ManagedPolicy {
    /// A managed policy holding `document`.
    pub fn new(document: PolicyDocument) -> Self {
        Self { name: None, description: None, document }
    }

    /// Sets an explicit `ManagedPolicyName` (by default CloudFormation generates one).
    pub fn name(mut self, name: impl Into<Expr>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

impl Synthesize for ManagedPolicy {
    fn resource_type(&self) -> &'static str {
        "AWS::IAM::ManagedPolicy"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        self.document.validate(path)?;
        check_description(path, self.description.as_deref(), 1000)
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        Ok(Props::new()
            .set_opt("Description", self.description.clone())
            .set_opt("ManagedPolicyName", self.name.as_ref().map(|n| n.render(cx)).transpose()?)
            .set("PolicyDocument", self.document.render(cx)?)
            .build())
    }
}

impl MakeRef for ManagedPolicy {
    type Ref = ManagedPolicyRef;
    fn make_ref(&self, handle: ResourceHandle) -> ManagedPolicyRef {
        ManagedPolicyRef::new(handle)
    }
}

impl Resource for ManagedPolicy {}
