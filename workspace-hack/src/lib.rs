//! No code: this crate's dependency list unifies features across the workspace's builds (see its `Cargo.toml`).
