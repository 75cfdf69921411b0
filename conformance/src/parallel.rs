//! The parallel suite (8-x): branches run as child contexts (or flat), with concurrency limits, completion
//! configurations, batch results, serdes, replay and nesting.
//!
//! The Rust SDK gives every branch a name (`Branch::new(name, ..)`); where a requirement's branches are
//! anonymous, the name is empty, which the SDK leaves off the wire (`build_child_update` in its
//! `map_parallel.rs`) and treats as no name on replay, as for an unnamed operation.

use std::time::Duration;

use aws_durable_execution_sdk::builders::map_parallel::{CompletionConfig, NestingMode};
use aws_durable_execution_sdk::{BoxError, Branch, DurableContext};
use serde_json::{Value, json};

use crate::batch::{self, COUNTS, FULL, SUCCESSES};
use crate::serdes::WrappedJson;
use crate::support::{Entry, durable, fail};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("8-1", durable!(basic)),
    ("8-2", durable!(without_name)),
    ("8-3", durable!(named_branches)),
    ("8-4", durable!(heterogeneous_results)),
    ("8-5", durable!(empty)),
    ("8-6", durable!(fail_fast)),
    ("8-7", durable!(rethrow)),
    ("8-8", durable!(min_successful)),
    ("8-9", durable!(tolerated_failure_count)),
    ("8-10", durable!(tolerated_failure_count_exceeded)),
    ("8-11", durable!(concurrent)),
    ("8-12", durable!(flat)),
    ("8-13", durable!(tolerated_failure_percentage_exceeded)),
    ("8-14", durable!(replay_after_wait)),
    ("8-15", durable!(item_serdes)),
    ("8-16", durable!(all_fail_within_tolerance)),
    ("8-17", durable!(min_successful_not_reached)),
    ("8-18", durable!(failure_tolerance_before_min_successful)),
    ("8-19", durable!(zero_concurrency)),
    ("8-20", durable!(accessors)),
    ("8-21", durable!(nested)),
    ("8-22", durable!(failure_percentage_at_boundary)),
];

/// The name of an anonymous branch.
const ANONYMOUS: String = String::new();

/// An anonymous branch that returns `value` directly, without any durable operation.
fn returns(value: Value) -> Branch<Value> {
    Branch::new(ANONYMOUS, move |_ctx: DurableContext| async move { Ok(value) })
}

/// An anonymous branch that fails directly.
fn fails(index: usize) -> Branch<Value> {
    Branch::new(ANONYMOUS, move |_ctx: DurableContext| async move { Err(fail(format!("branch {index} failed"))) })
}

/// An anonymous branch whose single step returns `value`.
fn step_returning(value: &'static str) -> Branch<Value> {
    Branch::new(ANONYMOUS, move |ctx: DurableContext| async move {
        let value: String = ctx.step(move |_| async move { Ok(value.to_owned()) }).await?;
        Ok(Value::String(value))
    })
}

/// Branches from a pattern: `true` succeeds with `ok-<i>`, `false` fails.
fn outcomes(pattern: &[bool]) -> Vec<Branch<Value>> {
    pattern
        .iter()
        .enumerate()
        .map(|(i, succeeds)| if *succeeds { returns(json!(format!("ok-{i}"))) } else { fails(i) })
        .collect()
}

/// 8-1: `parallel`, two branches with one step each, one at a time.
pub async fn basic(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let results = ctx
        .parallel(vec![step_returning("task-1"), step_returning("task-2")])
        .name("parallel")
        .max_concurrency(1)
        .await?;
    Ok(json!(results))
}

/// 8-2: the form without an operation name; branches return directly.
pub async fn without_name(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let results = ctx.parallel(vec![returns(json!("alpha")), returns(json!("beta"))]).max_concurrency(1).await?;
    Ok(json!(results))
}

/// 8-3: branches named `first` and `second`.
pub async fn named_branches(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        Branch::new("first", |_ctx: DurableContext| async { Ok(json!("one")) }),
        Branch::new("second", |_ctx: DurableContext| async { Ok(json!("two")) }),
    ];
    let results = ctx.parallel(branches).name("named").max_concurrency(1).await?;
    Ok(json!(results))
}

/// 8-4: a string, a number and an object from three branches, each keeping its type.
pub async fn heterogeneous_results(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![returns(json!("hello")), returns(json!(42)), returns(json!({ "k": "v" }))];
    let results = ctx.parallel(branches).name("hetero").max_concurrency(1).await?;
    Ok(json!(results))
}

/// 8-5: no branches at all.
pub async fn empty(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let results = ctx.parallel(Vec::<Branch<Value>>::new()).name("empty").await?;
    Ok(json!(results))
}

/// 8-6: fail-fast (no failure tolerated): the second branch fails and the third never starts.
pub async fn fail_fast(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![returns(json!("ok")), fails(1), returns(json!("never"))];
    let batch = ctx
        .parallel(branches)
        .name("failfast")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, FULL))
}

/// 8-7: fail-fast, the first branch fails, and the handler rethrows the batch's first failure.
pub async fn rethrow(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(vec![fails(0), returns(json!("never"))])
        .name("throwing")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await_batch()
        .await?;
    batch::rethrow_first_failure(&batch)?;
    Ok(json!(batch.success_count()))
}

/// 8-8: two successes are enough; the last two of four branches never start.
pub async fn min_successful(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[true, true, true, true]))
        .name("min-successful")
        .max_concurrency(1)
        .completion(CompletionConfig::with_min_successful(2))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, SUCCESSES))
}

/// 8-9: one failure tolerated: success, failure, success all run.
pub async fn tolerated_failure_count(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[true, false, true]))
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, FULL))
}

/// 8-10: one failure tolerated, two happen: the third branch never starts.
pub async fn tolerated_failure_count_exceeded(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[false, false, true]))
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, COUNTS))
}

/// 8-11: three branches, two at a time: results in branch order whatever order they finish in.
pub async fn concurrent(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![returns(json!("r0")), returns(json!("r1")), returns(json!("r2"))];
    let results = ctx.parallel(branches).name("concurrent").max_concurrency(2).await?;
    Ok(json!(results))
}

/// 8-12: flat nesting: the branches' steps are recorded directly under the parallel operation.
pub async fn flat(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let results = ctx
        .parallel(vec![step_returning("fa"), step_returning("fb")])
        .name("flat")
        .max_concurrency(1)
        .nesting(NestingMode::Flat)
        .await?;
    Ok(json!(results))
}

/// 8-13: 25 % of four branches tolerated; the second failure (50 %) stops the batch.
pub async fn tolerated_failure_percentage_exceeded(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[false, false, true, true]))
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_percentage(25))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, COUNTS))
}

/// 8-14: the second branch waits two seconds; the replay after the wait skips the finished first branch.
pub async fn replay_after_wait(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let waiting = Branch::new(ANONYMOUS, |ctx: DurableContext| async move {
        ctx.wait(Duration::from_secs(2)).await?;
        Ok(json!("b1"))
    });
    let results = ctx.parallel(vec![step_returning("b0"), waiting]).name("replay").max_concurrency(1).await?;
    Ok(json!(results))
}

/// 8-15: each branch result is stored as `{"wrapped": <value>}` by a custom serdes and read back unwrapped.
pub async fn item_serdes(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let results = ctx
        .parallel(vec![returns(json!("x")), returns(json!("y"))])
        .name("serde")
        .max_concurrency(1)
        .serdes(WrappedJson)
        .await?;
    Ok(json!(results))
}

/// 8-16: three failures, three tolerated: every branch runs and the batch reports `FAILED`.
pub async fn all_fail_within_tolerance(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[false, false, false]))
        .name("all-fail")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(3))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, FULL))
}

/// 8-17: three successes wanted, only two happen; failures are not limited, so all branches run.
pub async fn min_successful_not_reached(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[true, false, true]))
        .name("min-not-reached")
        .max_concurrency(1)
        .completion(CompletionConfig::with_min_successful(3))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, FULL))
}

/// 8-18: three successes wanted and one failure tolerated; two failures come first and stop the batch.
pub async fn failure_tolerance_before_min_successful(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let completion = CompletionConfig::builder().min_successful(3).tolerated_failure_count(1).build()?;
    let batch = ctx
        .parallel(outcomes(&[false, false, true, true]))
        .name("combined")
        .max_concurrency(1)
        .completion(completion)
        .await_batch()
        .await?;
    Ok(batch::project(&batch, COUNTS))
}

/// 8-19: a concurrency of zero is invalid: the SDK refuses it before starting anything.
pub async fn zero_concurrency(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let results =
        ctx.parallel(vec![returns(json!("a")), returns(json!("b"))]).name("bad-concurrency").max_concurrency(0).await?;
    Ok(json!(results))
}

/// 8-20: the batch accessors: whether anything failed, and how many successes, failures and errors there are.
pub async fn accessors(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[true, false, true]))
        .name("accessors")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(json!({
        "hasFailure": batch.has_failure(),
        "successCount": batch.results().len(),
        "failureCount": batch.failure_count(),
        "errorCount": batch.errors().len(),
    }))
}

/// 8-21: one outer branch runs an inner parallel of two one-step branches.
pub async fn nested(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let outer = Branch::new(ANONYMOUS, |ctx: DurableContext| async move {
        let inner =
            ctx.parallel(vec![step_returning("i1"), step_returning("i2")]).name("inner").max_concurrency(1).await?;
        Ok(inner)
    });
    let results = ctx.parallel(vec![outer]).name("outer").max_concurrency(1).await?;
    Ok(json!(results))
}

/// 8-22: 25 % tolerated and exactly 25 % fail (one of four): the batch is not stopped.
pub async fn failure_percentage_at_boundary(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .parallel(outcomes(&[false, true, true, true]))
        .name("pct-boundary")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_percentage(25))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, FULL))
}
