//! Logical IDs from construct paths, with the AWS CDK's algorithm (`makeUniqueId` in `core/lib/private/uniqueid.ts`).
//!
//! The path is the list of construct ids below the stack. A single component is used as-is (non-alphanumerics
//! stripped), so hand-written templates migrate without renames. Longer paths give a readable part (components
//! joined, `Default` dropped, `Resource` hidden, a component that the previous one ends with skipped,
//! non-alphanumerics stripped, at most 240 characters) followed by the first 8 uppercase hex digits of the MD5 of
//! the `/`-joined path (without `Default` components), so distinct paths never collide.

use md5::{Digest, Md5};

use crate::error::SynthError;

/// A component dropped from both the readable part and the hash, so wrappers can be refactored.
pub const HIDDEN_ID: &str = "Default";
/// A component dropped from the readable part only (it still feeds the hash).
pub const HIDDEN_FROM_HUMAN_ID: &str = "Resource";
/// Longest logical ID CloudFormation accepts.
pub const MAX_ID_LEN: usize = 255;
/// Longest readable part of a hashed logical ID.
pub const MAX_HUMAN_LEN: usize = 240;
/// Number of hex digits of the path hash.
pub const HASH_LEN: usize = 8;

/// Computes the logical ID of a construct from its path components below the stack.
///
/// # Examples
///
/// ```
/// use constructs::logical_id::logical_id;
/// assert_eq!(logical_id(&["Processor"])?, "Processor");
/// assert_eq!(logical_id(&["MyStack", "Foo", "Resource"])?, "MyStackFoo0F2933AC");
/// # Ok::<(), constructs::SynthError>(())
/// ```
pub fn logical_id<S: AsRef<str>>(components: &[S]) -> Result<String, SynthError> {
    let components: Vec<&str> = components.iter().map(AsRef::as_ref).filter(|c| *c != HIDDEN_ID).collect();
    let path = components.join("/");
    let invalid = |reason| SynthError::InvalidLogicalId { path: path.clone(), reason };
    if components.is_empty() {
        return Err(invalid("the path is empty once `Default` components are dropped"));
    }
    if let [single] = components.as_slice() {
        let id = alphanumeric(single);
        if id.is_empty() {
            return Err(invalid("the id has no alphanumeric character"));
        }
        if id.len() <= MAX_ID_LEN {
            return Ok(id);
        }
    }
    let mut human: String =
        remove_dupes(&components).into_iter().filter(|c| *c != HIDDEN_FROM_HUMAN_ID).map(alphanumeric).collect();
    human.truncate(MAX_HUMAN_LEN);
    Ok(human + &path_hash(&path))
}

/// First [`HASH_LEN`] uppercase hex digits of the MD5 of the joined path.
fn path_hash(path: &str) -> String {
    let digest = Md5::digest(path.as_bytes());
    let mut hex = hex::encode_upper(digest);
    hex.truncate(HASH_LEN);
    hex
}

/// Keeps ASCII letters and digits only (the characters CloudFormation allows in a logical ID).
fn alphanumeric(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Drops a component when the previous kept one ends with it (`["FooBar", "Bar"]` reads as `FooBar`).
fn remove_dupes<'a>(components: &[&'a str]) -> Vec<&'a str> {
    let mut kept: Vec<&'a str> = Vec::with_capacity(components.len());
    for component in components {
        if kept.last().is_none_or(|last| !last.ends_with(component)) {
            kept.push(component);
        }
    }
    kept
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // Vectors derived from the CDK algorithm: readable part as described above, hash = first 8 hex digits of
    // md5("<joined path>") in upper case (e.g. `printf 'MyStack/Foo/Resource' | md5sum` starts with 0f2933ac).
    // `log-retention/Resource` and `LogRetention/Resource` are also what the CDK itself emits for those paths.
    #[test]
    fn cdk_vectors() {
        let cases: &[(&[&str], &str)] = &[
            (&["MyStack", "Foo", "Resource"], "MyStackFoo0F2933AC"),
            (&["log-retention", "Resource"], "logretentionB69DFB48"),
            (&["LogRetention", "Resource"], "LogRetentionDD0A1FA1"),
            (&["FooBar", "Bar", "Resource"], "FooBarD9686DCD"),
            (&["A", "B"], "ABE649FC2C"),
            (&["Processor"], "Processor"),
            (&["my-stack_v2"], "mystackv2"),
        ];
        for (path, expected) in cases {
            assert_eq!(logical_id(path).unwrap(), *expected, "path {path:?}");
        }
    }

    #[test]
    fn default_is_dropped_from_readable_part_and_hash() {
        assert_eq!(logical_id(&["A", "Default", "B"]).unwrap(), logical_id(&["A", "B"]).unwrap());
        assert_eq!(logical_id(&["Bucket", "Default"]).unwrap(), "Bucket");
    }

    #[test]
    fn resource_is_hidden_but_hashed() {
        let with = logical_id(&["Stack", "Foo", "Resource"]).unwrap();
        let without = logical_id(&["Stack", "Foo"]).unwrap();
        assert!(with.starts_with("StackFoo") && without.starts_with("StackFoo"));
        assert_ne!(with, without);
    }

    #[test]
    fn long_ids_are_truncated_and_hashed() {
        let long = "a".repeat(300);
        let id = logical_id(&[long.as_str()]).unwrap();
        assert_eq!(id.len(), MAX_HUMAN_LEN + HASH_LEN);
        assert!(id.starts_with(&"a".repeat(MAX_HUMAN_LEN)));
        assert!(id[MAX_HUMAN_LEN..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }

    #[test]
    fn empty_paths_are_rejected() {
        let none: &[&str] = &[];
        assert!(logical_id(none).is_err());
        let err = logical_id(&["Default"]).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        assert!(logical_id(&["---"]).is_err());
    }
}
