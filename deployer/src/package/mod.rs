//! Packaging: each function binary becomes a deterministic zip, named by its content hash.

pub mod zip;

pub use self::zip::{PackagedAsset, package_bootstrap};
