//! `down`: delete the app stack; with `--all` also empty the asset bucket and delete the bootstrap stack.

use crate::cfn::destroy::{EMPTY_BUCKET_LIMIT, destroy_stack, empty_bucket};
use crate::cfn::monitor::WATCH_LIMIT;
use crate::cfn::stack;
use crate::cli::DownArgs;
use crate::error::Result;
use crate::io::Event;
use crate::publish::AssetBucket;

use super::Context;

/// Runs `down`.
pub async fn run(ctx: &Context, args: &DownArgs) -> Result<()> {
    if ctx.global.local {
        return super::local::down(ctx).await;
    }
    // Region and credentials first: a configuration error is the same whoever else is deploying, and checking it
    // takes no lock another run would then have to wait for.
    let aws = ctx.aws().await?;
    let _lock = crate::lock::acquire(&ctx.workspace.lock_dir(), &ctx.global.stack_name)?;
    let host = ctx.host.as_ref();
    host.notify(Event::Stage { stage: "destroy".into(), message: format!("stack {}", ctx.global.stack_name) });
    destroy_stack(&aws.cfn, &ctx.global.stack_name, WATCH_LIMIT, host).await?;
    if args.all {
        let name = stacks::bootstrap::STACK_NAME;
        if let Some(name) = stack::physical_id(&aws.cfn, name, stacks::bootstrap::BUCKET_LOGICAL_ID).await? {
            let bucket = AssetBucket { name, owner: aws.account_id().await? };
            let removed = empty_bucket(&aws.s3, &bucket, EMPTY_BUCKET_LIMIT).await?;
            host.notify(Event::Info { message: format!("emptied s3://{} ({removed} object version(s))", bucket.name) });
        }
        destroy_stack(&aws.cfn, name, WATCH_LIMIT, host).await?;
    }
    Ok(())
}
