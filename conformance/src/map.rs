//! The map suite (9-x): a function applied to each item in its own iteration context (or flat), with
//! concurrency limits, completion configurations, batch results, item names, serdes, replay and large results.

use std::time::Duration;

use aws_durable_execution_sdk::builders::map_parallel::{CompletionConfig, NestingMode};
use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::{Value, json};

use crate::batch::{self, COUNTS, FULL, SUCCESS_AND_TOTAL, SUCCESSES};
use crate::serdes::{OpSerde, WrappedText};
use crate::support::{Entry, array, durable, fail, greet, integer, strings};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("9-1", durable!(basic)),
    ("9-2", durable!(without_name)),
    ("9-3", durable!(item_and_index)),
    ("9-4", durable!(empty)),
    ("9-5", durable!(fail_fast)),
    ("9-6", durable!(rethrow)),
    ("9-7", durable!(min_successful)),
    ("9-8", durable!(tolerated_failure_count)),
    ("9-9", durable!(tolerated_failure_count_exceeded)),
    ("9-10", durable!(tolerated_failure_percentage_exceeded)),
    ("9-11", durable!(concurrent)),
    ("9-12", durable!(flat)),
    ("9-13", durable!(item_namer)),
    ("9-14", durable!(item_serdes)),
    ("9-15", durable!(wait_inside_iteration)),
    ("9-16", durable!(large_results)),
    ("9-17", durable!(wait_after_map)),
    ("9-18", durable!(wait_after_failed_item)),
    ("9-19", durable!(operation_serdes)),
    ("9-20", durable!(operation_serdes_replayed)),
];

/// Bytes of each item result in 9-16: four of them exceed the 256 KiB a checkpoint holds, one does not.
pub const LARGE_ITEM_BYTES: usize = 70 * 1024;

/// The map function of the completion-config requirements: items `"ok"` succeed with their text, any other item
/// fails.
async fn ok_or_fail(_ctx: DurableContext, item: String, index: usize) -> Result<String, BoxError> {
    if item == "ok" { Ok(item) } else { Err(fail(format!("item {index} ({item}) failed"))) }
}

/// Items for [`ok_or_fail`] from a pattern: `true` is `"ok"`, `false` is `"fail"`.
fn items(pattern: &[bool]) -> Vec<String> {
    pattern.iter().map(|ok| if *ok { "ok".to_owned() } else { "fail".to_owned() }).collect()
}

/// 9-1: `map` over the input names; each iteration's step greets its item.
pub async fn basic(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let results = ctx
        .map(strings(&event)?, |ctx: DurableContext, name: String, _| async move {
            let greeting: String = ctx.step(move |_| async move { Ok(greet(&name)) }).await?;
            Ok(greeting)
        })
        .name("map")
        .max_concurrency(1)
        .await?;
    Ok(json!(results))
}

/// 9-2: the form without an operation name; each iteration doubles its number directly.
pub async fn without_name(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let numbers: Vec<i64> = array(&event)?.iter().map(integer).collect::<Result<_, _>>()?;
    let results = ctx.map(numbers, |_, n: i64, _| async move { Ok(n * 2) }).max_concurrency(1).await?;
    Ok(json!(results))
}

/// 9-3: each iteration returns its item plus its index.
pub async fn item_and_index(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let numbers: Vec<i64> = array(&event)?.iter().map(integer).collect::<Result<_, _>>()?;
    let results = ctx
        .map(numbers, |_, n: i64, index: usize| async move { Ok(n + i64::try_from(index)?) })
        .name("indexed")
        .max_concurrency(1)
        .await?;
    Ok(json!(results))
}

/// 9-4: no items: the map completes at once with no iteration.
pub async fn empty(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = array(&event)?;
    let results = ctx.map(items, |_, item: Value, _| async move { Ok(item) }).name("empty").await?;
    Ok(json!(results))
}

/// 9-5: fail-fast (no failure tolerated): the second item fails and the third never starts.
pub async fn fail_fast(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(items(&[true, false, true]), ok_or_fail)
        .name("failfast")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, FULL))
}

/// 9-6: fail-fast, the first item fails, and the handler rethrows the batch's first failure.
pub async fn rethrow(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(items(&[false, true]), ok_or_fail)
        .name("throwing")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await_batch()
        .await?;
    batch::rethrow_first_failure(&batch)?;
    Ok(json!(batch.success_count()))
}

/// 9-7: two successes are enough; the last two of four items never start.
pub async fn min_successful(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(items(&[true, true, true, true]), ok_or_fail)
        .name("min-successful")
        .max_concurrency(1)
        .completion(CompletionConfig::with_min_successful(2))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, SUCCESSES))
}

/// 9-8: one failure tolerated: success, failure, success all run.
pub async fn tolerated_failure_count(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(items(&[true, false, true]), ok_or_fail)
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, FULL))
}

/// 9-9: one failure tolerated, two happen: the third item never starts.
pub async fn tolerated_failure_count_exceeded(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(items(&[false, false, true]), ok_or_fail)
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, COUNTS))
}

/// 9-10: 25 % of four items tolerated; the second failure (50 %) stops the batch.
pub async fn tolerated_failure_percentage_exceeded(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(items(&[false, false, true, true]), ok_or_fail)
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_percentage(25))
        .await_batch()
        .await?;
    Ok(batch::project(&batch, COUNTS))
}

/// 9-11: three items, two at a time: results in item order whatever order they finish in.
pub async fn concurrent(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = vec!["r0".to_owned(), "r1".to_owned(), "r2".to_owned()];
    let results =
        ctx.map(items, |_, item: String, _| async move { Ok(item) }).name("concurrent").max_concurrency(2).await?;
    Ok(json!(results))
}

/// 9-12: flat nesting: each item's step is recorded directly under the map operation.
pub async fn flat(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = vec!["fa".to_owned(), "fb".to_owned()];
    let results = ctx
        .map(items, |ctx: DurableContext, item: String, _| async move {
            let value: String = ctx.step(move |_| async move { Ok(item) }).await?;
            Ok(value)
        })
        .name("flat")
        .max_concurrency(1)
        .nesting(NestingMode::Flat)
        .await?;
    Ok(json!(results))
}

/// 9-13: each iteration is named from its item (`item-1`, `item-2`) and returns the item times ten.
///
/// The SDK's item namer receives only the index, so it looks the item up in its own copy of the input.
pub async fn item_namer(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let numbers: Vec<i64> = array(&event)?.iter().map(integer).collect::<Result<_, _>>()?;
    let names = numbers.clone();
    let results = ctx
        .map(numbers, |_, n: i64, _| async move { Ok(n * 10) })
        .name("named-items")
        .max_concurrency(1)
        .item_namer(move |index| names.get(index).map_or_else(|| format!("item-at-{index}"), |n| format!("item-{n}")))
        .await?;
    Ok(json!(results))
}

/// 9-14: each iteration uppercases its item; the per-item serdes stores it as `wrapped:<item>` and reads it back.
pub async fn item_serdes(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = vec!["x".to_owned(), "y".to_owned()];
    let results = ctx
        .map(items, |_, item: String, _| async move { Ok(item.to_uppercase()) })
        .name("serdes")
        .max_concurrency(1)
        .serdes(WrappedText)
        .await?;
    Ok(json!(results))
}

/// 9-15: the second iteration waits a second before its step; the replay skips the finished first iteration.
pub async fn wait_inside_iteration(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = vec!["r0".to_owned(), "r1".to_owned()];
    let results = ctx
        .map(items, |ctx: DurableContext, item: String, index: usize| async move {
            if index == 1 {
                ctx.wait(Duration::from_secs(1)).await?;
            }
            let value: String = ctx.step(move |_| async move { Ok(item) }).await?;
            Ok(value)
        })
        .name("suspend")
        .max_concurrency(1)
        .await?;
    Ok(json!(results))
}

/// 9-16: four iterations of about 70 KB each: the whole result is too large to checkpoint, so the map is stored
/// in replay-children mode; the handler returns counts only.
pub async fn large_results(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(vec![0_u8, 1, 2, 3], |_, seed: u8, _| async move {
            let letter = char::from(b'a' + seed);
            Ok(letter.to_string().repeat(LARGE_ITEM_BYTES))
        })
        .name("large")
        .max_concurrency(1)
        .await_batch()
        .await?;
    Ok(batch::project(&batch, SUCCESS_AND_TOTAL))
}

/// 9-17: the map uppercases two items, then a one-second wait; the replay takes the stored map result.
pub async fn wait_after_map(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = vec!["a".to_owned(), "b".to_owned()];
    let results = ctx
        .map(items, |_, item: String, _| async move { Ok(item.to_uppercase()) })
        .name("then-wait")
        .max_concurrency(1)
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(json!(results))
}

/// 9-18: one tolerated failure among two items, then a one-second wait; the replay takes the stored batch.
pub async fn wait_after_failed_item(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(items(&[true, false]), ok_or_fail)
        .name("fail-then-wait")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(batch::project(&batch, FULL))
}

/// 9-19: the whole map result goes through an operation-level serdes (`OPSERDE:X,Y`).
pub async fn operation_serdes(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = vec!["x".to_owned(), "y".to_owned()];
    let results = ctx
        .map(items, |_, item: String, _| async move { Ok(item.to_uppercase()) })
        .name("op-serde")
        .max_concurrency(1)
        .result_serdes(OpSerde)
        .await?;
    Ok(json!(results))
}

/// 9-20: as 9-19, then a one-second wait: the replay must rebuild the map result through the serdes.
pub async fn operation_serdes_replayed(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let items = vec!["x".to_owned(), "y".to_owned()];
    let results = ctx
        .map(items, |_, item: String, _| async move { Ok(item.to_uppercase()) })
        .name("op-serde-replay")
        .max_concurrency(1)
        .result_serdes(OpSerde)
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(json!(results))
}
