//! Python-compatible JSON text for the Lambda functions of this workspace.
//!
//! The functions port a Python pattern whose callers diff the output
//! against the original, so the bytes must be the ones Python's `json`
//! module produces, not the ones `serde_json` produces:
//!
//! - [`loads`] reads JSON the way `json.loads` does: a number without a
//!   fraction or exponent is an exact integer (up to 128 bits here, a clear
//!   error beyond), anything else is a float; object key order is kept and a
//!   repeated key keeps its first position with its last value.
//! - [`dumps`] writes the way `json.dumps` does with its defaults: `", "`
//!   and `": "` separators, floats as Python's `repr` (`30.0`, `1e+16`,
//!   `1.5e-05`), integers exact, strings with `ensure_ascii` escaping.
//! - [`to_raw_value`] wraps that text in a [`serde_json::value::RawValue`] so
//!   a handler can hand the exact bytes to `lambda_runtime` or to the
//!   durable SDK, which serialize a `RawValue` verbatim.
//!
//! ```
//! let value = pyjson::loads(r#"{"sum":150,"average":30.0,"name":"é"}"#)?;
//! assert_eq!(pyjson::dumps(&value), r#"{"sum": 150, "average": 30.0, "name": "\u00e9"}"#);
//! # Ok::<(), pyjson::ParseError>(())
//! ```

mod parse;
mod value;
mod write;

pub use parse::{MAX_DEPTH, ParseError, loads};
pub use value::Value;
pub use write::{NotStandardJson, dumps, float_repr, to_raw_value};
