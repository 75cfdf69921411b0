//! The construct tree: an [`App`] holds [`Stack`]s, a stack holds resources under construct ids and paths.
//!
//! A resource's path is its stack's construct id followed by the ids of the scopes it was added in and its own id
//! (`Pattern/Processor`), so it stays the same whatever name the stack is deployed under; its logical ID is derived
//! from the part below the stack ([`crate::logical_id`]). Adding a resource validates it and returns its typed
//! reference.

use std::sync::Arc;

use crate::app::{App, AppContext};
use crate::asset::{AssetManifest, AssetSpec};
use crate::error::SynthError;
use crate::reference::{Expr, Reference, ResourceHandle};
use crate::resources::Resource;
use crate::resources::sealed::Synthesize;
use crate::synth::{StackKind, SynthesizedStack};

/// One CloudFormation stack: resources by construct path, and outputs.
///
/// A stack has a construct id, which names it in the app and stays when the stack is deployed under another name
/// (the pattern's stack is `Pattern` whatever `--stack-name` says), and a CloudFormation stack name: the
/// environment's prefix followed by the name given on the command line, else the declared one, else the id.
#[derive(Debug)]
pub struct Stack {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) context: Arc<AppContext>,
    pub(crate) kind: StackKind,
    pub(crate) qualifier: String,
    pub(crate) description: Option<String>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) outputs: Vec<(String, Output)>,
}

/// A resource in a stack, with what the stack adds to it.
#[derive(Debug)]
pub(crate) struct Node {
    /// Construct ids below the stack.
    pub(crate) components: Vec<String>,
    /// Full path, stack name first.
    pub(crate) path: String,
    pub(crate) resource: Box<dyn Synthesize>,
    pub(crate) depends_on: Vec<ResourceHandle>,
    pub(crate) skips: Vec<CheckSkip>,
}

/// A checkov check skipped on one resource, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CheckSkip {
    pub(crate) id: String,
    pub(crate) comment: String,
}

/// A stack output.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Output {
    pub(crate) value: Expr,
    pub(crate) description: Option<String>,
}

impl Output {
    /// An output with this value.
    pub fn new(value: impl Into<Expr>) -> Self {
        Self { value: value.into(), description: None }
    }

    /// Sets the description shown next to the value.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

impl Stack {
    /// An application stack of `app` with construct id `id` (1 to 128 letters, digits and hyphens, starting with a
    /// letter, so that it can be typed on a command line and never reads as a glob). Its name is the id unless
    /// [`Stack::set_stack_name`] or the command line says otherwise, after the environment's prefix.
    pub fn new(app: &App, id: &str) -> Result<Self, SynthError> {
        Self::with_kind(app, id, StackKind::App)
    }

    /// A stack of the given kind.
    pub fn with_kind(app: &App, id: &str, kind: StackKind) -> Result<Self, SynthError> {
        if !is_stack_name(id) {
            return Err(SynthError::InvalidConstructId { path: String::new(), id: id.to_owned() });
        }
        let context = app.shared_context();
        let name = Self::resolve_name(&context, id, id)?;
        crate::qualifier::check(&context.qualifier)?;
        let qualifier = context.qualifier.clone();
        Ok(Self {
            id: id.to_owned(),
            name,
            context,
            kind,
            qualifier,
            description: None,
            nodes: Vec::new(),
            outputs: Vec::new(),
        })
    }

    /// Sets the CloudFormation stack name (1 to 128 letters, digits and hyphens, starting with a letter); the
    /// environment's prefix still comes first, and a name given on the command line (`--stack-name` for the
    /// default stack) wins.
    pub fn set_stack_name(&mut self, name: &str) -> Result<(), SynthError> {
        self.name = Self::resolve_name(&self.context, &self.id, name)?;
        Ok(())
    }

    fn resolve_name(context: &AppContext, id: &str, declared: &str) -> Result<String, SynthError> {
        let base = context.stack_names.get(id).map_or(declared, String::as_str);
        let name = format!("{}{base}", context.environment.stack_prefix);
        if is_stack_name(&name) { Ok(name) } else { Err(SynthError::InvalidStackName { name }) }
    }

    /// What the deployer told the app (environment, architecture): what higher-level constructs read their
    /// defaults from.
    pub fn context(&self) -> &AppContext {
        &self.context
    }

    /// The stack's construct id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sets the template's `Description`.
    pub fn set_description(&mut self, text: impl Into<String>) {
        self.description = Some(text.into());
    }

    /// The stack name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bootstrap or application stack.
    pub fn kind(&self) -> StackKind {
        self.kind
    }

    /// Sets the bootstrap qualifier whose bootstrap stack this stack deploys with (its asset bucket, permissions
    /// boundary and role path: [`crate::qualifier`]).
    pub fn set_qualifier(&mut self, qualifier: &str) -> Result<(), SynthError> {
        crate::qualifier::check(qualifier)?;
        qualifier.clone_into(&mut self.qualifier);
        Ok(())
    }

    /// The bootstrap qualifier.
    pub fn qualifier(&self) -> &str {
        &self.qualifier
    }

    /// Adds a resource directly under the stack and returns its typed reference.
    ///
    /// The resource is validated here: a value CloudFormation would reject is an error naming the path.
    pub fn add<R: Resource>(&mut self, id: &str, resource: R) -> Result<R::Ref, SynthError> {
        self.add_at(&[], id, resource)
    }

    /// A scope below the stack: resources added through it get paths `<stack>/<id>/...` (`Default` adds nothing
    /// to paths and logical ids, as in the CDK, so wrapping resources in a construct changes nothing deployed).
    pub fn scope(&mut self, id: &str) -> Result<Scope<'_>, SynthError> {
        self.root().into_scope(id)
    }

    /// The stack itself as a scope.
    pub fn root(&mut self) -> Scope<'_> {
        Scope { stack: self, prefix: Vec::new() }
    }

    /// Adds a construct (a function with its role and log group, a queue, a pattern of several of them) with
    /// construct id `id` directly under the stack; returns what it gives back.
    pub fn construct<C: Construct>(&mut self, id: &str, construct: C) -> Result<C::Output, SynthError> {
        self.root().construct(id, construct)
    }

    /// Makes `dependent` wait for `dependency` (`DependsOn`). Both must belong to this stack.
    pub fn add_dependency(
        &mut self,
        dependent: &impl Reference,
        dependency: &impl Reference,
    ) -> Result<(), SynthError> {
        let target = self.own(dependency.handle())?.clone();
        let index = self.own(dependent.handle())?.index();
        if index == target.index() {
            return Err(SynthError::invalid(target.path(), "a resource cannot depend on itself"));
        }
        if let Some(node) = self.nodes.get_mut(index)
            && !node.depends_on.contains(&target)
        {
            node.depends_on.push(target);
        }
        Ok(())
    }

    /// Skips a checkov check on one resource, with a one-line reason (written to the resource's `Metadata`).
    pub fn skip_check(&mut self, target: &impl Reference, check_id: &str, comment: &str) -> Result<(), SynthError> {
        let handle = self.own(target.handle())?;
        if !check_id.starts_with("CKV") || comment.trim().is_empty() || comment.contains('\n') {
            return Err(SynthError::invalid(
                handle.path(),
                format!("checkov skip `{check_id}` needs a CKV id and a one-line reason"),
            ));
        }
        let index = handle.index();
        if let Some(node) = self.nodes.get_mut(index) {
            node.skips.push(CheckSkip { id: check_id.to_owned(), comment: comment.to_owned() });
        }
        Ok(())
    }

    /// Adds an output; its name must be alphanumeric and unique in the stack.
    pub fn add_output(&mut self, name: &str, output: Output) -> Result<(), SynthError> {
        let path = format!("{}/{name}", self.id);
        if name.is_empty() || name.len() > 255 || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(SynthError::invalid(&path, "output names must be 1 to 255 letters and digits"));
        }
        if self.outputs.iter().any(|(n, _)| n == name) {
            return Err(SynthError::DuplicateConstruct { path });
        }
        self.outputs.push((name.to_owned(), output));
        Ok(())
    }

    /// The assets this stack's resources declare, in the order the resources were added.
    pub fn assets(&self) -> Vec<AssetSpec> {
        self.nodes
            .iter()
            .filter_map(|n| n.resource.asset().map(|source| AssetSpec { id: n.path.clone(), source: source.clone() }))
            .collect()
    }

    /// Synthesizes this stack's template.
    pub fn synth(&self, assets: &AssetManifest) -> Result<SynthesizedStack, SynthError> {
        crate::synth::synth_stack(self, assets)
    }

    pub(crate) fn add_at<R: Resource>(
        &mut self,
        prefix: &[String],
        id: &str,
        resource: R,
    ) -> Result<R::Ref, SynthError> {
        let mut components = prefix.to_vec();
        let scope_path =
            std::iter::once(self.id.as_str()).chain(prefix.iter().map(String::as_str)).collect::<Vec<_>>().join("/");
        check_id(&scope_path, id)?;
        components.push(id.to_owned());
        let path = format!("{scope_path}/{id}");
        if self.nodes.iter().any(|n| n.path == path) {
            return Err(SynthError::DuplicateConstruct { path });
        }
        resource.validate(&path)?;
        let handle = ResourceHandle::new(&self.id, self.nodes.len(), path.clone());
        let reference = resource.make_ref(handle);
        self.nodes.push(Node {
            components,
            path,
            resource: Box::new(resource),
            depends_on: Vec::new(),
            skips: Vec::new(),
        });
        Ok(reference)
    }

    /// The handle, if it belongs to this stack.
    fn own<'h>(&self, handle: &'h ResourceHandle) -> Result<&'h ResourceHandle, SynthError> {
        if handle.stack() == self.id && handle.index() < self.nodes.len() {
            Ok(handle)
        } else {
            Err(SynthError::UnresolvedReference {
                path: self.id.clone(),
                target: handle.path().to_owned(),
                stack: self.id.clone(),
            })
        }
    }
}

/// A scope inside a stack: construct ids added here are prefixed with the scope's path.
#[derive(Debug)]
pub struct Scope<'a> {
    stack: &'a mut Stack,
    prefix: Vec<String>,
}

impl<'a> Scope<'a> {
    /// Adds a resource in this scope and returns its typed reference.
    pub fn add<R: Resource>(&mut self, id: &str, resource: R) -> Result<R::Ref, SynthError> {
        self.stack.add_at(&self.prefix, id, resource)
    }

    /// A nested scope (`Default` is transparent: it adds nothing to paths and logical ids).
    pub fn scope(&mut self, id: &str) -> Result<Scope<'_>, SynthError> {
        Scope { stack: &mut *self.stack, prefix: self.prefix.clone() }.into_scope(id)
    }

    fn into_scope(mut self, id: &str) -> Result<Scope<'a>, SynthError> {
        check_id(&self.path(), id)?;
        if id != crate::logical_id::HIDDEN_ID {
            self.prefix.push(id.to_owned());
        }
        Ok(self)
    }

    /// Adds a construct with construct id `id` in this scope; returns what it gives back.
    pub fn construct<C: Construct>(&mut self, id: &str, construct: C) -> Result<C::Output, SynthError> {
        check_id(&self.path(), id)?;
        construct.build(self, id)
    }

    /// The scope's full path (the stack's id for the stack itself).
    pub fn path(&self) -> String {
        std::iter::once(self.stack.id.as_str())
            .chain(self.prefix.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The construct ids from the stack down to this scope.
    pub fn components(&self) -> &[String] {
        &self.prefix
    }

    /// The stack the scope is in: for grants and dependencies, which act on resources wherever they are.
    pub fn stack(&mut self) -> &mut Stack {
        self.stack
    }

    /// What the deployer told the app (environment, architecture).
    pub fn context(&self) -> &AppContext {
        &self.stack.context
    }
}

/// A reusable piece of infrastructure, as a CDK construct: it adds its resources (and constructs of its own) to the
/// scope it is given, under ids derived from `id`, and gives back references to what it made.
///
/// A construct either nests (`scope.scope(id)`, so its children's paths read `Stack/Checkout/Processor`) or adds
/// siblings named after `id` (`ProcessorRole` next to `Processor`), as [`crate::lambda::RustFunction`] does.
///
/// ```
/// use constructs::{App, Construct, Scope, Stack, SynthError};
/// use constructs::resources::logs::LogGroup;
/// use constructs::reference::LogGroupRef;
///
/// /// Two log groups under one id.
/// struct Pair;
/// impl Construct for Pair {
///     type Output = (LogGroupRef, LogGroupRef);
///     fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<Self::Output, SynthError> {
///         let mut inner = scope.scope(id)?;
///         Ok((inner.add("Left", LogGroup::new(7))?, inner.add("Right", LogGroup::new(7))?))
///     }
/// }
///
/// let mut stack = Stack::new(&App::new(), "Logs")?;
/// let (left, _) = stack.construct("Audit", Pair)?;
/// assert_eq!(constructs::reference::Reference::handle(&left).path(), "Logs/Audit/Left");
/// # Ok::<(), SynthError>(())
/// ```
pub trait Construct {
    /// What adding it gives back: references to the resources it made.
    type Output;

    /// Adds the construct's resources to `scope` under construct id `id`.
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<Self::Output, SynthError>;
}

/// CloudFormation's stack name rule, which construct ids of stacks follow too.
fn is_stack_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn check_id(scope_path: &str, id: &str) -> Result<(), SynthError> {
    if id.is_empty() || id.contains('/') {
        Err(SynthError::InvalidConstructId { path: scope_path.to_owned(), id: id.to_owned() })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
