//! Publish: puts packaged assets into the bootstrap stack's bucket, keyed by content hash, uploading only what is
//! not there yet.

pub mod s3;

pub use s3::{AssetBucket, PublishOutcome, publish_asset};
