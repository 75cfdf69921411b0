//! Synthesis: resolves logical IDs, renders each stack's template and collects them in a [`CloudAssembly`].

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::asset::{AssetManifest, AssetSpec, ResolvedAsset};
use crate::construct::{Node, Stack};
use crate::error::SynthError;
use crate::logical_id::logical_id;
use crate::reference::{Resolve, ResourceHandle};
use crate::template::{OutputEntry, ResourceEntry, Template, to_pretty_json};

/// Metadata key holding a resource's construct path.
pub const PATH_METADATA_KEY: &str = "stacks:path";
/// Metadata key holding the asset id a resource's code comes from.
pub const ASSET_METADATA_KEY: &str = "stacks:asset";

/// What kind of stack a template is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StackKind {
    /// The toolkit stack holding the asset bucket (like `cdk bootstrap`); deployed first.
    Bootstrap,
    /// A stack of the application.
    App,
}

/// The synthesized app: every stack's template, bootstrap stack first.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudAssembly {
    /// The stacks, bootstrap stack first, then the app's stacks in the order they were defined.
    pub stacks: Vec<SynthesizedStack>,
}

impl CloudAssembly {
    /// The stack called `name`.
    pub fn stack(&self, name: &str) -> Option<&SynthesizedStack> {
        self.stacks.iter().find(|s| s.stack_name == name)
    }

    /// The stack whose construct id is `id`.
    pub fn stack_by_id(&self, id: &str) -> Option<&SynthesizedStack> {
        self.stacks.iter().find(|s| s.id == id)
    }
}

/// One synthesized stack.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthesizedStack {
    /// The stack's construct id in the app (stable when the stack is deployed under another name).
    pub id: String,
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// Bootstrap or application stack.
    pub kind: StackKind,
    /// The template as JSON.
    pub template: Value,
    /// The template as deterministic pretty JSON with a trailing newline: the bytes to write and to deploy.
    pub template_body: String,
    /// The example event of each function that declares one, by the function's logical ID: what a caller sends
    /// when it names no payload. Kept out of the template, so changing an example never updates a stack.
    pub example_events: BTreeMap<String, Value>,
    /// The assets its resources declare, in the order the resources were added.
    pub assets: Vec<AssetSpec>,
}

impl SynthesizedStack {
    /// The file name to write the template to: `<stack name>.template.json`.
    pub fn file_name(&self) -> String {
        format!("{}.template.json", self.stack_name)
    }
}

/// Maps handles to logical IDs while one resource of one stack is rendered (opaque outside this crate).
pub struct RenderContext<'a> {
    stack: &'a Stack,
    ids: &'a [Option<String>],
    path: &'a str,
    assets: &'a AssetManifest,
}

impl RenderContext<'_> {
    /// Construct path of the resource being rendered.
    pub(crate) fn path(&self) -> &str {
        self.path
    }

    /// The bootstrap qualifier of the stack being rendered.
    pub(crate) fn qualifier(&self) -> &str {
        &self.stack.qualifier
    }

    /// Whether the stack being rendered is the bootstrap stack or one of the app's.
    pub(crate) fn kind(&self) -> StackKind {
        self.stack.kind
    }

    /// The published asset of the resource being rendered (the asset id is its path).
    pub(crate) fn asset(&self) -> Result<&ResolvedAsset, SynthError> {
        self.assets.resolve(self.path)
    }
}

impl Resolve for RenderContext<'_> {
    fn check_attribute(&self, handle: &ResourceHandle, attribute: &str) -> Result<(), SynthError> {
        match self.stack.nodes.get(handle.index()).filter(|_| handle.stack() == self.stack.id) {
            Some(node) => {
                crate::schema::check_attribute(self.path, node.resource.resource_type(), attribute).map_err(|e| match e
                {
                    SynthError::Schema { type_name, message, .. } => SynthError::Schema {
                        path: self.path.to_owned(),
                        type_name,
                        message: format!("{message} (reading {})", handle.path()),
                    },
                    other => other,
                })
            }
            None => Ok(()),
        }
    }

    fn logical_id(&self, handle: &ResourceHandle) -> Result<&str, SynthError> {
        let resolved = if handle.stack() == self.stack.id {
            self.ids.get(handle.index()).and_then(Option::as_deref)
        } else {
            None
        };
        resolved.ok_or_else(|| SynthError::UnresolvedReference {
            path: self.path.to_owned(),
            target: handle.path().to_owned(),
            stack: self.stack.id.clone(),
        })
    }
}

/// Renders one stack.
pub(crate) fn synth_stack(stack: &Stack, assets: &AssetManifest) -> Result<SynthesizedStack, SynthError> {
    let ids = resolve_logical_ids(stack, assets)?;
    let mut template = Template::new(stack.description.clone());
    if stack.nodes.iter().any(|n| n.resource.asset().is_some()) {
        template.parameters.insert(
            crate::asset::BUCKET_PARAMETER.to_owned(),
            json!({
                "Type": "String",
                "Description": "The bootstrap's asset bucket, holding the functions' code (the deployer passes it)",
            }),
        );
    }
    let mut example_events = BTreeMap::new();
    for (node, id) in stack.nodes.iter().zip(&ids) {
        let cx = RenderContext { stack, ids: &ids, path: &node.path, assets };
        let id = id.clone().ok_or_else(|| SynthError::invalid(&node.path, "the logical id is unresolved"))?;
        if let Some(event) = node.resource.example_event() {
            example_events.insert(id.clone(), event.clone());
        }
        template.resources.insert(id, render_node(node, &cx)?);
    }
    for (name, output) in &stack.outputs {
        let path = format!("{}/{name}", stack.id);
        if let Some(index) = ids.iter().position(|i| i.as_deref() == Some(name)) {
            return Err(SynthError::DuplicateLogicalId {
                stack: stack.name.clone(),
                logical_id: name.clone(),
                first: stack.nodes.get(index).map_or_else(String::new, |n| n.path.clone()),
                second: path,
            });
        }
        let cx = RenderContext { stack, ids: &ids, path: &path, assets };
        template.outputs.insert(
            name.clone(),
            OutputEntry { description: output.description.clone(), value: output.value.render(&cx)? },
        );
    }
    let render = |source| SynthError::Render { stack: stack.name.clone(), source };
    let value = template.to_value().map_err(render)?;
    let body = to_pretty_json(&value).map_err(render)?;
    Ok(SynthesizedStack {
        id: stack.id.clone(),
        stack_name: stack.name.clone(),
        kind: stack.kind,
        template: value,
        template_body: body,
        example_events,
        assets: stack.assets(),
    })
}

/// Logical IDs in declaration order. A resource hashed from another (a version from its function) gets the
/// first 8 hex digits of the SHA-256 of that resource's rendered properties appended to its path-derived ID.
fn resolve_logical_ids(stack: &Stack, assets: &AssetManifest) -> Result<Vec<Option<String>>, SynthError> {
    let mut ids: Vec<Option<String>> = vec![None; stack.nodes.len()];
    let mut owners: BTreeMap<String, &str> = BTreeMap::new();
    for (index, node) in stack.nodes.iter().enumerate() {
        let mut id = logical_id(&node.components).map_err(|e| match e {
            SynthError::InvalidLogicalId { reason, .. } => {
                SynthError::InvalidLogicalId { path: node.path.clone(), reason }
            }
            other => other,
        })?;
        if let Some(source) = node.resource.hashed_from() {
            let cx = RenderContext { stack, ids: &ids, path: &node.path, assets };
            // Resolving the handle proves it is an earlier resource of this stack.
            cx.logical_id(source)?;
            let source_node = stack
                .nodes
                .get(source.index())
                .ok_or_else(|| SynthError::invalid(&node.path, "hash source is missing"))?;
            let source_cx = RenderContext { path: &source_node.path, ..cx };
            let mut properties = source_node.resource.properties(&source_cx)?;
            // The code a version holds is the zip's bytes, not the object's name: hashed by what Lambda will run
            // when that is known.
            let code = source_node.resource.asset().and_then(|_| assets.0.get(&source_node.path));
            if let (Some(sha256), Some(props)) = (code.and_then(|c| c.code_sha256.as_ref()), properties.as_object_mut())
            {
                props.insert("Code".to_owned(), json!({ "ZipSha256": sha256 }));
            }
            id.push_str(&content_hash(&properties, &stack.name)?);
        }
        if let Some(first) = owners.get(&id) {
            return Err(SynthError::DuplicateLogicalId {
                stack: stack.name.clone(),
                logical_id: id,
                first: (*first).to_owned(),
                second: node.path.clone(),
            });
        }
        owners.insert(id.clone(), &node.path);
        if let Some(slot) = ids.get_mut(index) {
            *slot = Some(id);
        }
    }
    Ok(ids)
}

/// First 8 uppercase hex digits of the SHA-256 of the compact JSON of `value`.
fn content_hash(value: &Value, stack: &str) -> Result<String, SynthError> {
    let bytes = serde_json::to_vec(value).map_err(|source| SynthError::Render { stack: stack.to_owned(), source })?;
    let mut hex = hex::encode_upper(Sha256::digest(&bytes));
    hex.truncate(8);
    Ok(hex)
}

fn render_node(node: &Node, cx: &RenderContext<'_>) -> Result<ResourceEntry, SynthError> {
    let properties = node.resource.properties(cx)?;
    crate::schema::validate(&node.path, node.resource.resource_type(), &properties)?;
    let mut depends_on =
        node.depends_on.iter().map(|h| cx.logical_id(h).map(str::to_owned)).collect::<Result<Vec<_>, _>>()?;
    depends_on.sort();
    depends_on.dedup();
    let mut metadata = BTreeMap::new();
    metadata.insert(PATH_METADATA_KEY.to_owned(), json!(node.path));
    if node.resource.asset().is_some() {
        metadata.insert(ASSET_METADATA_KEY.to_owned(), json!(node.path));
    }
    if !node.skips.is_empty() {
        let mut skips = node.skips.clone();
        skips.sort_by(|a, b| a.id.cmp(&b.id));
        let skip: Vec<Value> = skips.iter().map(|s| json!({ "id": s.id, "comment": s.comment })).collect();
        metadata.insert("checkov".to_owned(), json!({ "skip": skip }));
    }
    let policy = node.resource.removal_policy();
    Ok(ResourceEntry {
        resource_type: node.resource.resource_type().to_owned(),
        properties,
        depends_on,
        deletion_policy: policy,
        update_replace_policy: policy,
        metadata,
    })
}
