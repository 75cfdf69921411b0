//! Packaging: each function binary becomes a deterministic zip, named by its content hash.

pub(crate) mod zip;

pub(crate) use self::zip::package_bootstrap;
