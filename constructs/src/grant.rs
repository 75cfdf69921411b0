//! Grants: permissions given to whatever runs as a role, as the narrowest `Allow` the references allow.
//!
//! A resource's `grant_*` method (`processor.grant_invoke(stack, &orchestrator)`, `queue.grant_send(...)`) builds
//! the statement and hands it to [`Stack::add_to_policy`], which puts it where it belongs:
//!
//! - in the role's inline policy `permissions`, so it exists before anything running as the role starts (IAM takes
//!   a while to make a separate policy effective, and a function created before it can be invoked in between);
//! - unless it names the grantee's own function (a durable function checkpointing its own executions): an inline
//!   policy naming the function would make the role depend on the function that depends on the role, so such
//!   statements go to a policy of their own, `<function>Policy`, and every published version of the function waits
//!   for it.

use std::any::Any;

use crate::construct::{Node, Stack};
use crate::error::SynthError;
use crate::reference::{FunctionRef, Reference, ResourceHandle, RoleRef};
use crate::resources::iam::{Policy, PolicyDocument, Role, Statement};

/// The inline policy of a role that grants go to.
pub const INLINE_POLICY: &str = "permissions";
/// The `PolicyName` of a function's own policy (statements naming the function itself).
pub const OWN_POLICY: &str = "own-executions";

/// Something permissions can be granted to: a role, or what runs as one (a function).
pub trait Grantee {
    /// The role that gets the permissions.
    fn role(&self) -> &RoleRef;

    /// The function running as the role, whose own ARN a statement may name.
    fn own_function(&self) -> Option<&FunctionRef> {
        None
    }
}

impl Grantee for RoleRef {
    fn role(&self) -> &RoleRef {
        self
    }
}

impl Stack {
    /// Gives `grantee` the permissions of `statement` (an `Allow` naming its actions and resources), as CDK's
    /// `addToPrincipalPolicy`: in the role's inline policy, or in the function's own policy when the statement names
    /// the function itself.
    pub fn add_to_policy(&mut self, grantee: &impl Grantee, statement: Statement) -> Result<(), SynthError> {
        let role = grantee.role().handle().clone();
        let role_index = self.own_index(&role)?;
        let own = grantee.own_function().filter(|f| statement.mentions(f.handle())).cloned();
        match own {
            None => {
                let node = self.node_mut(role_index)?;
                statement.validate(&node.path, 0)?;
                downcast::<Role>(node)?.add_statement(INLINE_POLICY, statement);
            }
            Some(function) => {
                let path = format!("{}Policy", function.handle().path());
                let policy = if let Some(index) = self.nodes.iter().position(|n| n.path == path) {
                    let node = self.node_mut(index)?;
                    statement.validate(&node.path, 0)?;
                    downcast::<Policy>(node)?.add_statement(statement);
                    index
                } else {
                    let mut prefix = self.node_mut(self.own_index(function.handle())?)?.components.clone();
                    let id = format!("{}Policy", prefix.pop().unwrap_or_default());
                    let policy = Policy::new(OWN_POLICY, PolicyDocument::new().statement(statement));
                    self.add_at(&prefix, &id, policy.role(grantee.role()))?.handle().index()
                };
                let policy = self.handle_at(policy);
                let versions: Vec<ResourceHandle> = (0..self.nodes.len())
                    .filter(|i| self.nodes.get(*i).and_then(|n| n.resource.hashed_from()) == Some(function.handle()))
                    .map(|i| self.handle_at(i))
                    .collect();
                for version in versions {
                    self.depend(&version, &policy);
                }
            }
        }
        Ok(())
    }

    /// Makes the versions published later wait for the function's own policy, when it has one.
    pub(crate) fn order_after_own_policy(&mut self, version: &ResourceHandle, function: &FunctionRef) {
        let path = format!("{}Policy", function.handle().path());
        if let Some(index) = self.nodes.iter().position(|n| n.path == path) {
            let policy = self.handle_at(index);
            self.depend(version, &policy);
        }
    }

    fn own_index(&self, handle: &ResourceHandle) -> Result<usize, SynthError> {
        if handle.stack() == self.id && handle.index() < self.nodes.len() {
            Ok(handle.index())
        } else {
            Err(SynthError::UnresolvedReference {
                path: self.id.clone(),
                target: handle.path().to_owned(),
                stack: self.id.clone(),
            })
        }
    }

    fn node_mut(&mut self, index: usize) -> Result<&mut Node, SynthError> {
        let id = self.id.clone();
        self.nodes.get_mut(index).ok_or_else(|| SynthError::invalid(&id, "a resource of the stack is missing"))
    }

    fn handle_at(&self, index: usize) -> ResourceHandle {
        let path = self.nodes.get(index).map(|n| n.path.clone()).unwrap_or_default();
        ResourceHandle::new(&self.id, index, path)
    }

    fn depend(&mut self, dependent: &ResourceHandle, dependency: &ResourceHandle) {
        if let Some(node) = self.nodes.get_mut(dependent.index())
            && !node.depends_on.contains(dependency)
        {
            node.depends_on.push(dependency.clone());
        }
    }
}

fn downcast<T: Any>(node: &mut Node) -> Result<&mut T, SynthError> {
    let path = node.path.clone();
    let any: &mut dyn Any = node.resource.as_mut();
    any.downcast_mut::<T>().ok_or_else(|| SynthError::invalid(&path, "grants go to a role; this is not one"))
}

/// A statement id naming what a grant allows and on what: `verb` followed by the letters and digits of the
/// construct id of `target` (`SendIncoming`, `WriteDataOrders`), so a policy reads as the grants that made it.
pub(crate) fn sid(verb: &str, target: &ResourceHandle) -> String {
    let id = target.path().rsplit('/').next().unwrap_or_default();
    std::iter::once(verb).chain(std::iter::once(id)).flat_map(str::chars).filter(char::is_ascii_alphanumeric).collect()
}
