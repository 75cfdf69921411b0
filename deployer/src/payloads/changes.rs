//! Changes to a stack, as the output reports them: the template diff's and CloudFormation's change set's.

/// One resource-level difference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub(crate) enum ResourceChange {
    /// A resource only in the new template.
    Added {
        /// Logical id.
        id: String,
        /// Resource type.
        kind: String,
    },
    /// A resource only in the old template.
    Removed {
        /// Logical id.
        id: String,
        /// Resource type.
        kind: String,
    },
    /// A resource in both with different definitions.
    Modified {
        /// Logical id.
        id: String,
        /// Resource type.
        kind: String,
        /// Top-level property paths that differ (`Properties.Code`, `DependsOn`).
        paths: Vec<String>,
    },
}

impl std::fmt::Display for ResourceChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Added { id, kind } => write!(f, "[+] {kind} {id}"),
            Self::Removed { id, kind } => write!(f, "[-] {kind} {id}"),
            Self::Modified { id, kind, paths } => write!(f, "[~] {kind} {id} ({})", paths.join(", ")),
        }
    }
}

/// One resource change of a change set, as CloudFormation computed it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct PlannedChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// Resource type.
    pub resource_type: String,
    /// Logical id.
    pub logical_id: String,
    /// For `Modify`: `True`, `False` or `Conditional`.
    pub replacement: Option<String>,
}

impl PlannedChange {
    /// A change with these fields.
    pub(crate) fn new(action: &str, resource_type: &str, logical_id: &str, replacement: Option<&str>) -> Self {
        Self {
            action: action.to_owned(),
            resource_type: resource_type.to_owned(),
            logical_id: logical_id.to_owned(),
            replacement: replacement.map(str::to_owned),
        }
    }
}

impl std::fmt::Display for PlannedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let replacement = match self.replacement.as_deref() {
            Some("True") => " (replacement)",
            Some("Conditional") => " (may be replaced)",
            _ => "",
        };
        write!(f, "{} {} {}{replacement}", self.action, self.resource_type, self.logical_id)
    }
}
