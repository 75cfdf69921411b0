//! The processor: a plain Lambda function computing statistics over a list
//! of numbers, output-identical to the Python function it ports.
//!
//! - [`handler`] is the pure function the Lambda runtime calls: event text
//!   in, Python-`json.dumps`-formatted result text out.
//! - [`error`] maps malformed events to stable `errorType` strings.
//! - [`pynum`] holds the Python number semantics (`sum`, `max`, `min`,
//!   true division) the statistics depend on.
//!
//! ```
//! use serde_json::value::RawValue;
//!
//! let event = RawValue::from_string(r#"{"values": [10, 20, 30, 40, 50]}"#.to_owned())?;
//! let result = processor::handler::handle(&event)?;
//! assert_eq!(
//!     result.get(),
//!     r#"{"operation": "sum_and_average", "count": 5, "sum": 150, "average": 30.0, "max": 50, "min": 10}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod handler;
pub mod pynum;
