//! The construct tree: an [`App`] holds [`Stack`]s, a stack holds resources under construct ids and paths.
//!
//! A resource's path is its stack's name followed by the ids of the scopes it was added in and its own id
//! (`durable-invoke-lambda/Processor`); its logical ID is derived from the part below the stack
//! ([`crate::logical_id`]). Adding a resource validates it and returns its typed reference.

use crate::asset::{AssetManifest, AssetSpec};
use crate::error::SynthError;
use crate::reference::{Expr, Reference, ResourceHandle};
use crate::resources::Resource;
use crate::resources::sealed::Synthesize;
use crate::synth::{CloudAssembly, StackKind, SynthesizedStack};

/// A CDK-style app: the stacks one deployment manages, in the order they were added.
#[derive(Debug, Default)]
pub struct App {
    stacks: Vec<Stack>,
}

impl App {
    /// An app without stacks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stack; its name and its construct id must be unique in the app.
    pub fn add_stack(&mut self, stack: Stack) -> Result<(), SynthError> {
        if self.stacks.iter().any(|s| s.name == stack.name || s.id == stack.id) {
            return Err(SynthError::DuplicateStack { name: stack.name });
        }
        self.stacks.push(stack);
        Ok(())
    }

    /// The stacks, in the order they were added.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// The stack called `name`.
    pub fn stack(&self, name: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// Every asset the app's stacks declare, sorted by asset id.
    pub fn assets(&self) -> Vec<AssetSpec> {
        let mut assets: Vec<AssetSpec> = self.stacks.iter().flat_map(Stack::assets).collect();
        assets.sort_by(|a, b| a.id.cmp(&b.id));
        assets
    }

    /// Synthesizes every stack: bootstrap stacks first, then app stacks, each group in the order added.
    pub fn synth(&self, assets: &AssetManifest) -> Result<CloudAssembly, SynthError> {
        let mut ordered: Vec<&Stack> = self.stacks.iter().collect();
        ordered.sort_by_key(|s| match s.kind {
            StackKind::Bootstrap => 0,
            StackKind::App => 1,
        });
        let stacks = ordered.into_iter().map(|s| s.synth(assets)).collect::<Result<Vec<_>, _>>()?;
        Ok(CloudAssembly { stacks })
    }
}

/// One CloudFormation stack: resources by construct path, and outputs.
///
/// A stack has a construct id, which names it in the app and stays when the stack is deployed under another name
/// (the pattern's stack is `Pattern` whatever `--stack-name` says), and a CloudFormation stack name.
#[derive(Debug)]
pub struct Stack {
    pub(crate) id: String,
    pub(crate) name: String,
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
    /// An application stack. The name must be a valid CloudFormation stack name.
    pub fn new(name: &str) -> Result<Self, SynthError> {
        Self::with_kind(name, StackKind::App)
    }

    /// A stack of the given kind.
    pub fn with_kind(name: &str, kind: StackKind) -> Result<Self, SynthError> {
        let valid = (1..=128).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(SynthError::InvalidStackName { name: name.to_owned() });
        }
        Ok(Self {
            id: name.to_owned(),
            name: name.to_owned(),
            kind,
            qualifier: crate::qualifier::DEFAULT_QUALIFIER.to_owned(),
            description: None,
            nodes: Vec::new(),
            outputs: Vec::new(),
        })
    }

    /// Sets the stack's construct id (by default its name): 1 to 128 letters, digits and hyphens, starting with a
    /// letter, so that it can be typed on a command line and never reads as a glob.
    pub fn set_id(&mut self, id: &str) -> Result<(), SynthError> {
        let valid = (1..=128).contains(&id.len())
            && id.starts_with(|c: char| c.is_ascii_alphabetic())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(SynthError::InvalidConstructId { path: self.name.clone(), id: id.to_owned() });
        }
        id.clone_into(&mut self.id);
        Ok(())
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

    /// A scope below the stack: resources added through it get paths `<stack>/<id>/...`.
    pub fn scope(&mut self, id: &str) -> Result<Scope<'_>, SynthError> {
        check_id(&self.name, id)?;
        Ok(Scope { stack: self, prefix: vec![id.to_owned()] })
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
        let path = format!("{}/{name}", self.name);
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

    fn add_at<R: Resource>(&mut self, prefix: &[String], id: &str, resource: R) -> Result<R::Ref, SynthError> {
        let mut components = prefix.to_vec();
        let scope_path =
            std::iter::once(self.name.as_str()).chain(prefix.iter().map(String::as_str)).collect::<Vec<_>>().join("/");
        check_id(&scope_path, id)?;
        components.push(id.to_owned());
        let path = format!("{scope_path}/{id}");
        if self.nodes.iter().any(|n| n.path == path) {
            return Err(SynthError::DuplicateConstruct { path });
        }
        resource.validate(&path)?;
        let handle = ResourceHandle::new(&self.name, self.nodes.len(), path.clone());
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
        if handle.stack() == self.name && handle.index() < self.nodes.len() {
            Ok(handle)
        } else {
            Err(SynthError::UnresolvedReference {
                path: self.name.clone(),
                target: handle.path().to_owned(),
                stack: self.name.clone(),
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

impl Scope<'_> {
    /// Adds a resource in this scope and returns its typed reference.
    pub fn add<R: Resource>(&mut self, id: &str, resource: R) -> Result<R::Ref, SynthError> {
        self.stack.add_at(&self.prefix, id, resource)
    }

    /// A nested scope.
    pub fn scope(&mut self, id: &str) -> Result<Scope<'_>, SynthError> {
        check_id(&self.path(), id)?;
        let mut prefix = self.prefix.clone();
        prefix.push(id.to_owned());
        Ok(Scope { stack: self.stack, prefix })
    }

    /// The scope's full path.
    pub fn path(&self) -> String {
        format!("{}/{}", self.stack.name, self.prefix.join("/"))
    }
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
