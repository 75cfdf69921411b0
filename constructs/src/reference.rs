//! Typed references: `Ref`, `Fn::GetAtt`, `Fn::Sub` and pseudo parameters as values that cannot be misspelled.
//!
//! Adding a resource to a stack returns its typed reference (`FunctionRef`, `RoleRef`, ...). A reference holds
//! the resource's construct handle, not its logical ID, so IDs that are only known at synth time (a version
//! named after the hash of its function) resolve correctly; each attribute a resource type has is a method.

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::error::SynthError;

/// Identifies one resource of one stack, before its logical ID is known.
///
/// Handles are only made by [`crate::construct::Stack::add`], so a reference always points at a real resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceHandle {
    stack: String,
    index: usize,
    path: String,
}

impl ResourceHandle {
    /// Makes the handle of the resource at `index` of `stack`.
    pub(crate) fn new(stack: &str, index: usize, path: String) -> Self {
        Self { stack: stack.to_owned(), index, path }
    }

    /// Name of the stack the resource belongs to.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// Full construct path, e.g. `durable-invoke-lambda/Processor`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Position of the resource in its stack.
    pub(crate) fn index(&self) -> usize {
        self.index
    }
}

/// Maps handles to logical IDs while a stack is synthesized.
pub(crate) trait Resolve {
    /// The logical ID of `handle`, or an error if it is not an earlier resource of the stack being rendered.
    fn logical_id(&self, handle: &ResourceHandle) -> Result<&str, SynthError>;

    /// Checks that `Fn::GetAtt` of `attribute` exists on the resource at `handle`.
    fn check_attribute(&self, _handle: &ResourceHandle, _attribute: &str) -> Result<(), SynthError> {
        Ok(())
    }
}

/// CloudFormation pseudo parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pseudo {
    /// `AWS::AccountId`.
    AccountId,
    /// `AWS::Region`.
    Region,
    /// `AWS::Partition`.
    Partition,
    /// `AWS::StackName`.
    StackName,
    /// `AWS::URLSuffix`.
    UrlSuffix,
    /// `AWS::StackId`: the stack's ARN, which ends in a UUID CloudFormation draws when it creates the stack.
    StackId,
}

impl Pseudo {
    /// The parameter's name as written in a template.
    pub fn name(self) -> &'static str {
        match self {
            Self::AccountId => "AWS::AccountId",
            Self::Region => "AWS::Region",
            Self::Partition => "AWS::Partition",
            Self::StackName => "AWS::StackName",
            Self::UrlSuffix => "AWS::URLSuffix",
            Self::StackId => "AWS::StackId",
        }
    }
}

/// A CloudFormation value: a literal string or an intrinsic function over typed references.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr(Kind);

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Literal(String),
    Ref(ResourceHandle),
    GetAtt(ResourceHandle, Cow<'static, str>),
    Pseudo(Pseudo),
    Sub(Vec<Expr>),
    /// `Fn::Select [index, Fn::Split [delimiter, source]]`.
    SplitSelect {
        source: Box<Expr>,
        delimiter: String,
        index: usize,
    },
}

impl Expr {
    /// A literal string.
    pub fn literal(value: impl Into<String>) -> Self {
        Self(Kind::Literal(value.into()))
    }

    /// `{"Ref": <logical id>}` of a resource.
    pub(crate) fn reference(handle: &ResourceHandle) -> Self {
        Self(Kind::Ref(handle.clone()))
    }

    /// `{"Fn::GetAtt": [<logical id>, attribute]}` of a resource.
    pub(crate) fn get_att(handle: &ResourceHandle, attribute: impl Into<Cow<'static, str>>) -> Self {
        Self(Kind::GetAtt(handle.clone(), attribute.into()))
    }

    /// Whether the value refers to the resource at `handle` (through `Ref`, `Fn::GetAtt` or inside `Fn::Sub`).
    pub(crate) fn mentions(&self, handle: &ResourceHandle) -> bool {
        match &self.0 {
            Kind::Ref(h) | Kind::GetAtt(h, _) => h == handle,
            Kind::Sub(parts) => parts.iter().any(|p| p.mentions(handle)),
            Kind::SplitSelect { source, .. } => source.mentions(handle),
            Kind::Literal(_) | Kind::Pseudo(_) => false,
        }
    }

    /// `{"Fn::Select": [index, {"Fn::Split": [delimiter, source]}]}`: one piece of `source` cut at `delimiter`.
    pub fn split_select(source: impl Into<Expr>, delimiter: impl Into<String>, index: usize) -> Self {
        Self(Kind::SplitSelect { source: Box::new(source.into()), delimiter: delimiter.into(), index })
    }

    /// The literal text, if this is a literal.
    pub fn as_literal(&self) -> Option<&str> {
        match &self.0 {
            Kind::Literal(s) => Some(s),
            _ => None,
        }
    }

    /// Renders the value as template JSON.
    pub(crate) fn render(&self, cx: &dyn Resolve) -> Result<Value, SynthError> {
        Ok(match &self.0 {
            Kind::Literal(s) => Value::String(s.clone()),
            Kind::Ref(h) => json!({ "Ref": cx.logical_id(h)? }),
            Kind::GetAtt(h, attr) => {
                cx.check_attribute(h, attr)?;
                json!({ "Fn::GetAtt": [cx.logical_id(h)?, attr] })
            }
            Kind::Pseudo(p) => json!({ "Ref": p.name() }),
            Kind::Sub(parts) => {
                if parts.iter().all(|p| matches!(p.0, Kind::Literal(_))) {
                    let text: String = parts.iter().filter_map(Self::as_literal).collect();
                    Value::String(text)
                } else {
                    let mut template = String::new();
                    let mut variables = serde_json::Map::new();
                    for part in parts {
                        part.write_sub(cx, &mut template, &mut variables)?;
                    }
                    if variables.is_empty() {
                        json!({ "Fn::Sub": template })
                    } else {
                        json!({ "Fn::Sub": [template, variables] })
                    }
                }
            }
            Kind::SplitSelect { source, delimiter, index } => {
                json!({ "Fn::Select": [index, { "Fn::Split": [delimiter, source.render(cx)?] }] })
            }
        })
    }

    /// Appends this value to a `Fn::Sub` template string; a value `${...}` cannot name (a piece of a
    /// split) becomes a variable of the `Fn::Sub`'s map, `V1`, `V2`...
    fn write_sub(
        &self,
        cx: &dyn Resolve,
        out: &mut String,
        variables: &mut serde_json::Map<String, Value>,
    ) -> Result<(), SynthError> {
        match &self.0 {
            // `${` would start a variable: Fn::Sub writes a literal `${` as `${!`.
            Kind::Literal(s) => out.push_str(&s.replace("${", "${!")),
            Kind::Ref(h) => {
                out.push_str("${");
                out.push_str(cx.logical_id(h)?);
                out.push('}');
            }
            Kind::GetAtt(h, attr) => {
                cx.check_attribute(h, attr)?;
                out.push_str("${");
                out.push_str(cx.logical_id(h)?);
                out.push('.');
                out.push_str(attr);
                out.push('}');
            }
            Kind::Pseudo(p) => {
                out.push_str("${");
                out.push_str(p.name());
                out.push('}');
            }
            Kind::Sub(parts) => {
                for part in parts {
                    part.write_sub(cx, out, variables)?;
                }
            }
            Kind::SplitSelect { .. } => {
                let name = format!("V{}", variables.len() + 1);
                variables.insert(name.clone(), self.render(cx)?);
                out.push_str("${");
                out.push_str(&name);
                out.push('}');
            }
        }
        Ok(())
    }
}

impl From<&str> for Expr {
    fn from(value: &str) -> Self {
        Self::literal(value)
    }
}

impl From<String> for Expr {
    fn from(value: String) -> Self {
        Self::literal(value)
    }
}

impl From<Pseudo> for Expr {
    fn from(value: Pseudo) -> Self {
        Self(Kind::Pseudo(value))
    }
}

/// Builds a `Fn::Sub` from literal text and typed values, so no `${...}` is written by hand.
///
/// ```
/// use constructs::reference::{Pseudo, Sub};
/// let name = Sub::new().text("assets-").value(Pseudo::AccountId).text("-").value(Pseudo::Region).build();
/// # let _ = name;
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a Sub builder does nothing until `build` is called"]
pub struct Sub {
    parts: Vec<Expr>,
}

impl Sub {
    /// An empty template.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends literal text (a `${` in it is escaped).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.parts.push(Expr::literal(text));
        self
    }

    /// Appends a typed value: a reference, an attribute, a pseudo parameter or another `Sub`.
    pub fn value(mut self, value: impl Into<Expr>) -> Self {
        self.parts.push(value.into());
        self
    }

    /// The finished expression; a template without any reference renders as a plain string.
    pub fn build(self) -> Expr {
        Expr(Kind::Sub(self.parts))
    }
}

/// Anything that points at one resource of a stack (every typed reference).
pub trait Reference {
    /// The handle of the referenced resource.
    fn handle(&self) -> &ResourceHandle;

    /// `{"Ref": <logical id>}`: what `Ref` returns depends on the resource type (see each reference type).
    fn ref_(&self) -> Expr {
        Expr::reference(self.handle())
    }
}

macro_rules! resource_ref {
    ($(#[$doc:meta])* $name:ident { $($(#[$adoc:meta])* $method:ident => $attr:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            handle: ResourceHandle,
        }

        impl $name {
            /// Wraps the handle of a resource of this type.
            pub(crate) fn new(handle: ResourceHandle) -> Self {
                Self { handle }
            }

            $(
                $(#[$adoc])*
                pub fn $method(&self) -> Expr {
                    Expr::get_att(&self.handle, $attr)
                }
            )*
        }

        impl Reference for $name {
            fn handle(&self) -> &ResourceHandle {
                &self.handle
            }
        }
    };
}

resource_ref!(
    /// An `AWS::Lambda::Function`; `ref_()` is its name.
    FunctionRef {
        /// `Fn::GetAtt [Function, Arn]`: the unqualified function ARN.
        arn => "Arn",
    }
);

impl FunctionRef {
    /// `arn:<partition>:lambda:<region>:<account>:function:<name>:*`: every version and alias of this function
    /// (and what a durable execution's ARN starts with), built from the function's name.
    pub fn qualified_arns(&self) -> Expr {
        Sub::new()
            .text("arn:")
            .value(Pseudo::Partition)
            .text(":lambda:")
            .value(Pseudo::Region)
            .text(":")
            .value(Pseudo::AccountId)
            .text(":function:")
            .value(self.ref_())
            .text(":*")
            .build()
    }
}

/// An `AWS::Lambda::Version`; `ref_()` is the qualified version ARN.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VersionRef {
    handle: ResourceHandle,
    function: FunctionRef,
}

impl VersionRef {
    /// Wraps the handle of a version of `function`.
    pub(crate) fn new(handle: ResourceHandle, function: FunctionRef) -> Self {
        Self { handle, function }
    }

    /// `Fn::GetAtt [Version, Version]`: the version number. Keep it out of Outputs (some emulators drop them all).
    pub fn version(&self) -> Expr {
        Expr::get_att(&self.handle, "Version")
    }

    /// The function this is a version of.
    pub fn function(&self) -> &FunctionRef {
        &self.function
    }
}

impl Reference for VersionRef {
    fn handle(&self) -> &ResourceHandle {
        &self.handle
    }
}

resource_ref!(
    /// An `AWS::Lambda::Alias`; `ref_()` is the alias ARN.
    AliasRef {}
);

resource_ref!(
    /// An `AWS::IAM::Role`; `ref_()` is its name.
    RoleRef {
        /// `Fn::GetAtt [Role, Arn]`.
        arn => "Arn",
    }
);

resource_ref!(
    /// An `AWS::IAM::Policy`.
    PolicyRef {}
);

resource_ref!(
    /// An `AWS::IAM::ManagedPolicy`; `ref_()` is its ARN.
    ManagedPolicyRef {}
);

resource_ref!(
    /// An `AWS::Logs::LogGroup`; `ref_()` is its name.
    LogGroupRef {
        /// `Fn::GetAtt [LogGroup, Arn]`: `arn:...:log-group:<name>:*`, which covers the group's streams.
        arn => "Arn",
    }
);

resource_ref!(
    /// An `AWS::S3::Bucket`; `ref_()` is its name.
    BucketRef {
        /// `Fn::GetAtt [Bucket, Arn]`.
        arn => "Arn",
    }
);

resource_ref!(
    /// An `AWS::S3::BucketPolicy`.
    BucketPolicyRef {}
);

#[cfg(test)]
mod tests;
