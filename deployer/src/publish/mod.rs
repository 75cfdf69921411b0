//! Publish: puts packaged assets into the bootstrap stack's bucket, keyed by content hash, uploading only what is
//! not there yet.

pub(crate) mod s3;

pub(crate) use s3::{AssetBucket, PublishOutcome, publish_asset};
