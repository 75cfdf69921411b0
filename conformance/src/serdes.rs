//! The custom serializers the requirements configure (`serdes`, `payloadSerdes`, `itemSerdes`, ...), each a real,
//! non-identity transformation so that a requirement can only pass if the SDK actually calls it.

use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{BoxError, Serdes};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::support::UnexpectedInput;

fn unexpected(expected: &'static str, got: &str) -> BoxError {
    Box::new(UnexpectedInput { expected, got: got.chars().take(200).collect() })
}

/// Stores a string as the JSON text of its uppercase form; reads the JSON string back (1-6).
#[derive(Debug, Clone, Copy, Default)]
pub struct UppercaseJson;

impl Serdes<String> for UppercaseJson {
    async fn serialize(&self, value: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(serde_json::to_string(&value.to_uppercase())?)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(serde_json::from_str(&wire)?)
    }
}

/// Stores a string as its uppercase form, as raw text rather than JSON; reads the raw text back (3-14).
#[derive(Debug, Clone, Copy, Default)]
pub struct UppercaseText;

impl Serdes<String> for UppercaseText {
    async fn serialize(&self, value: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(value.to_uppercase())
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(wire)
    }
}

/// Uppercases every string inside a JSON value (keys are left alone).
pub fn uppercase_strings(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_uppercase()),
        Value::Array(items) => Value::Array(items.into_iter().map(uppercase_strings).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, uppercase_strings(v))).collect()),
        other => other,
    }
}

/// Writes a JSON value with every string uppercased; reads JSON back unchanged (5-15's outgoing payload).
#[derive(Debug, Clone, Copy, Default)]
pub struct UppercasePayload;

impl Serdes<Value> for UppercasePayload {
    async fn serialize(&self, value: Value, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(serde_json::to_string(&uppercase_strings(value))?)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<Value, BoxError> {
        Ok(serde_json::from_str(&wire)?)
    }
}

/// Reads a result as its raw wire text uppercased, without parsing it (5-16: `"hello"` becomes the string
/// `"HELLO"`, quotes included); writes a string unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct UppercaseRawResult;

impl Serdes<String> for UppercaseRawResult {
    async fn serialize(&self, value: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(value)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(wire.to_uppercase())
    }
}

/// The callback payload of 4-15 as the handler reads it: the ISO-8601 timestamp becomes epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StampedMessage {
    /// The sender's id.
    pub id: String,
    /// The message.
    pub message: String,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
}

/// The wire form of [`StampedMessage`]: the timestamp as RFC 3339 text.
#[derive(serde::Serialize, serde::Deserialize)]
struct StampedMessageWire {
    id: String,
    message: String,
    timestamp: String,
}

/// Parses a callback payload `{id, message, timestamp: "<RFC 3339>"}` into a [`StampedMessage`] (4-15).
#[derive(Debug, Clone, Copy, Default)]
pub struct StampedMessageSerdes;

impl Serdes<StampedMessage> for StampedMessageSerdes {
    async fn serialize(&self, value: StampedMessage, _context: SerdesContext) -> Result<String, BoxError> {
        let at = time::OffsetDateTime::from_unix_timestamp(value.timestamp)?;
        let timestamp = at.format(&time::format_description::well_known::Rfc3339)?;
        Ok(serde_json::to_string(&StampedMessageWire { id: value.id, message: value.message, timestamp })?)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<StampedMessage, BoxError> {
        let raw: StampedMessageWire = serde_json::from_str(&wire)?;
        let at = time::OffsetDateTime::parse(&raw.timestamp, &time::format_description::well_known::Rfc3339)?;
        Ok(StampedMessage { id: raw.id, message: raw.message, timestamp: at.unix_timestamp() })
    }
}

/// Parses a callback payload's text as an integer (4-16: the payload `42` becomes the number 42).
#[derive(Debug, Clone, Copy, Default)]
pub struct IntegerText;

impl Serdes<i64> for IntegerText {
    async fn serialize(&self, value: i64, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(value.to_string())
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<i64, BoxError> {
        wire.trim().parse::<i64>().map_err(|_| unexpected("an integer payload", &wire))
    }
}

/// Stores a string state as the JSON string of its UTF-8 bytes in hex; decodes it back (6-11).
#[derive(Debug, Clone, Copy, Default)]
pub struct HexState;

impl Serdes<String> for HexState {
    async fn serialize(&self, value: String, _context: SerdesContext) -> Result<String, BoxError> {
        let hex = value.bytes().fold(String::with_capacity(value.len() * 2), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        });
        Ok(serde_json::to_string(&hex)?)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<String, BoxError> {
        let hex: String = serde_json::from_str(&wire)?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| unexpected("a hex-encoded state", &wire))?;
        Ok(String::from_utf8(bytes)?)
    }
}

/// Stores a value as `{"wrapped": <value>}` and unwraps it on read (8-15's per-branch serdes).
#[derive(Debug, Clone, Copy, Default)]
pub struct WrappedJson;

impl Serdes<Value> for WrappedJson {
    async fn serialize(&self, value: Value, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(serde_json::to_string(&json!({ "wrapped": value }))?)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<Value, BoxError> {
        let mut envelope: Value = serde_json::from_str(&wire)?;
        envelope.get_mut("wrapped").map(Value::take).ok_or_else(|| unexpected("a {\"wrapped\": ...} envelope", &wire))
    }
}

/// Stores a string as the raw text `wrapped:<value>` and strips the prefix on read (9-14's per-item serdes).
#[derive(Debug, Clone, Copy, Default)]
pub struct WrappedText;

/// The prefix [`WrappedText`] writes.
pub const WRAPPED_PREFIX: &str = "wrapped:";

impl Serdes<String> for WrappedText {
    async fn serialize(&self, value: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(format!("{WRAPPED_PREFIX}{value}"))
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<String, BoxError> {
        wire.strip_prefix(WRAPPED_PREFIX).map(str::to_owned).ok_or_else(|| unexpected("`wrapped:<value>`", &wire))
    }
}

/// The operation-level serdes of 9-19 and 9-20: the whole map result as `OPSERDE:` followed by the item results
/// joined with commas (`OPSERDE:X,Y`), and back.
///
/// The SDK hands an operation-level serdes its batch summary (`BatchSummary`, whose fields are private), so this
/// works on the summary's serde representation, as the SDK documents: `{"results": [{"index", "status",
/// "result": <the item's wire text>}...], "reason"}`. Only successful string items can be encoded this way;
/// anything else is an error rather than a silently lossy encoding.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpSerde;

/// The prefix [`OpSerde`] writes.
pub const OPSERDE_PREFIX: &str = "OPSERDE:";

impl<T> Serdes<T> for OpSerde
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    async fn serialize(&self, value: T, _context: SerdesContext) -> Result<String, BoxError> {
        let summary = serde_json::to_value(&value)?;
        let results = summary.get("results").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut items = Vec::with_capacity(results.len());
        for item in &results {
            let succeeded = item.get("status").and_then(Value::as_str) == Some("SUCCEEDED");
            let text = item
                .get("result")
                .and_then(Value::as_str)
                .and_then(|wire| serde_json::from_str::<String>(wire).ok())
                .filter(|text| succeeded && !text.contains(','));
            items.push(text.ok_or_else(|| unexpected("successful string items without commas", &item.to_string()))?);
        }
        Ok(format!("{OPSERDE_PREFIX}{}", items.join(",")))
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<T, BoxError> {
        let body = wire.strip_prefix(OPSERDE_PREFIX).ok_or_else(|| unexpected("`OPSERDE:<items>`", &wire))?;
        let texts: Vec<&str> = if body.is_empty() { Vec::new() } else { body.split(',').collect() };
        let mut results = Vec::with_capacity(texts.len());
        for (index, text) in texts.into_iter().enumerate() {
            results.push(json!({ "index": index, "status": "SUCCEEDED", "result": serde_json::to_string(text)? }));
        }
        Ok(serde_json::from_value(json!({ "results": results, "reason": "ALL_COMPLETED" }))?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn cx() -> SerdesContext {
        SerdesContext::new("op", "arn")
    }

    #[tokio::test]
    async fn each_serdes_round_trips_and_transforms() {
        assert_eq!(UppercaseJson.serialize("hi".into(), cx()).await.unwrap(), "\"HI\"");
        assert_eq!(UppercaseText.serialize("hello child".into(), cx()).await.unwrap(), "HELLO CHILD");
        assert_eq!(UppercaseRawResult.deserialize("\"hello\"".into(), cx()).await.unwrap(), "\"HELLO\"");
        let wire = HexState.serialize("xx".into(), cx()).await.unwrap();
        assert_eq!(wire, "\"7878\"");
        assert_eq!(HexState.deserialize(wire, cx()).await.unwrap(), "xx");
        let wrapped = WrappedJson.serialize(json!("x"), cx()).await.unwrap();
        assert_eq!(wrapped, r#"{"wrapped":"x"}"#);
        assert_eq!(WrappedJson.deserialize(wrapped, cx()).await.unwrap(), json!("x"));
        assert_eq!(WrappedText.deserialize("wrapped:X".into(), cx()).await.unwrap(), "X");
        assert_eq!(IntegerText.deserialize("42".into(), cx()).await.unwrap(), 42);
        let payload = UppercasePayload.serialize(json!({"data": "hello", "n": [1, "a"]}), cx()).await.unwrap();
        assert_eq!(payload, r#"{"data":"HELLO","n":[1,"A"]}"#);
    }

    #[tokio::test]
    async fn stamped_messages_convert_the_timestamp() {
        let wire = r#"{"id":"abc","message":"hello","timestamp":"2026-01-01T00:00:00.000Z"}"#;
        let message: StampedMessage = StampedMessageSerdes.deserialize(wire.into(), cx()).await.unwrap();
        assert_eq!(message.timestamp, 1_767_225_600);
        let back = StampedMessageSerdes.serialize(message.clone(), cx()).await.unwrap();
        assert_eq!(StampedMessageSerdes.deserialize(back, cx()).await.unwrap(), message);
    }

    #[tokio::test]
    async fn opserde_encodes_successful_string_items() {
        let summary = json!({"results": [
            {"index": 0, "status": "SUCCEEDED", "result": "\"X\""},
            {"index": 1, "status": "SUCCEEDED", "result": "\"Y\""},
        ], "reason": "ALL_COMPLETED"});
        let wire = Serdes::<Value>::serialize(&OpSerde, summary.clone(), cx()).await.unwrap();
        assert_eq!(wire, "OPSERDE:X,Y");
        let back: Value = OpSerde.deserialize(wire, cx()).await.unwrap();
        assert_eq!(back, summary);
        let failed = json!({"results": [{"index": 0, "status": "FAILED"}], "reason": "ALL_COMPLETED"});
        assert!(Serdes::<Value>::serialize(&OpSerde, failed, cx()).await.is_err());
    }
}
