//! The processor's handler against the Python original: exact output bytes
//! for integers, floats, mixed and edge inputs, the `No values provided`
//! result, and a precise typed error for each kind of malformed event.
//!
//! Expected outputs are what Python 3.14 prints for the same event with the
//! original function (`json.dumps` of its result dict).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use lambda_runtime::Diagnostic;
use processor::error::ProcessorError;
use processor::handler::handle;
use serde_json::value::RawValue;

fn run(event: &str) -> Result<String, ProcessorError> {
    let event = RawValue::from_string(event.to_owned()).expect("test events are valid JSON");
    handle(&event).map(|raw| raw.get().to_owned())
}

fn ok(event: &str) -> String {
    run(event).unwrap_or_else(|e| panic!("{event}: unexpected error {e}"))
}

/// The error type and message a Lambda caller would see.
fn failure(event: &str) -> (String, String) {
    match run(event) {
        Ok(out) => panic!("{event}: expected an error, got {out}"),
        Err(e) => {
            let diagnostic = Diagnostic::from(e);
            (diagnostic.error_type, diagnostic.error_message)
        }
    }
}

#[test]
fn integers_match_the_pattern_output() {
    assert_eq!(
        ok(r#"{"values": [10, 20, 30, 40, 50]}"#),
        r#"{"operation": "sum_and_average", "count": 5, "sum": 150, "average": 30.0, "max": 50, "min": 10}"#
    );
    assert_eq!(
        ok(r#"{"values":[2,4]}"#),
        r#"{"operation": "sum_and_average", "count": 2, "sum": 6, "average": 3.0, "max": 4, "min": 2}"#
    );
}

#[test]
fn floats_stay_floats() {
    assert_eq!(
        ok(r#"{"values": [1.5, 2.5, 3.0]}"#),
        r#"{"operation": "sum_and_average", "count": 3, "sum": 7.0, "average": 2.3333333333333335, "max": 3.0, "min": 1.5}"#
    );
}

#[test]
fn mixed_values_make_the_sum_a_float_and_keep_each_extreme_as_written() {
    assert_eq!(
        ok(r#"{"values": [1, 2.5, 3]}"#),
        r#"{"operation": "sum_and_average", "count": 3, "sum": 6.5, "average": 2.1666666666666665, "max": 3, "min": 1}"#
    );
    // Equal values: max/min keep the first one seen, with its own type.
    assert_eq!(
        ok(r#"{"values": [3, 3.0, 2.0, 2]}"#),
        r#"{"operation": "sum_and_average", "count": 4, "sum": 10.0, "average": 2.5, "max": 3, "min": 2.0}"#
    );
}

#[test]
fn negative_values() {
    assert_eq!(
        ok(r#"{"values": [-5, -10, 3]}"#),
        r#"{"operation": "sum_and_average", "count": 3, "sum": -12, "average": -4.0, "max": 3, "min": -10}"#
    );
}

#[test]
fn one_value() {
    assert_eq!(
        ok(r#"{"values": [42]}"#),
        r#"{"operation": "sum_and_average", "count": 1, "sum": 42, "average": 42.0, "max": 42, "min": 42}"#
    );
}

#[test]
fn empty_or_missing_values_return_the_error_result() {
    for event in
        [r#"{"values": []}"#, "{}", r#"{"values": null}"#, r#"{"values": [], "operation": "max"}"#, r#"{"other": 1}"#]
    {
        assert_eq!(ok(event), r#"{"error": "No values provided"}"#, "{event}");
    }
}

#[test]
fn the_operation_is_echoed() {
    assert_eq!(
        ok(r#"{"values": [1], "operation": "stats ü"}"#),
        r#"{"operation": "stats \u00fc", "count": 1, "sum": 1, "average": 1.0, "max": 1, "min": 1}"#
    );
}

#[test]
fn an_event_that_is_not_an_object_is_invalid() {
    let cases = [
        ("[1, 2]", "the event must be a JSON object, got an array ([1, 2])"),
        ("\"values\"", "the event must be a JSON object, got a string (\"values\")"),
        ("7", "the event must be a JSON object, got an integer (7)"),
        ("null", "the event must be a JSON object, got null (null)"),
    ];
    for (event, message) in cases {
        assert_eq!(failure(event), ("InvalidEvent".to_owned(), message.to_owned()));
    }
}

#[test]
fn values_that_are_not_an_array_are_invalid() {
    let cases = [
        (r#"{"values": "1,2"}"#, r#""values" must be an array of numbers, got a string ("1,2")"#),
        (r#"{"values": 5}"#, r#""values" must be an array of numbers, got an integer (5)"#),
        (r#"{"values": {"a": 1}}"#, r#""values" must be an array of numbers, got an object ({"a": 1})"#),
        (r#"{"values": false}"#, r#""values" must be an array of numbers, got a boolean (false)"#),
    ];
    for (event, message) in cases {
        assert_eq!(failure(event), ("InvalidValues".to_owned(), message.to_owned()));
    }
}

#[test]
fn each_element_must_be_a_number() {
    let cases = [
        (r#"{"values": [1, "2", 3]}"#, r#""values"[1] must be a number, got a string ("2")"#),
        (r#"{"values": [true]}"#, r#""values"[0] must be a number, got a boolean (true)"#),
        (r#"{"values": [1, 2, null]}"#, r#""values"[2] must be a number, got null (null)"#),
        (r#"{"values": [[1]]}"#, r#""values"[0] must be a number, got an array ([1])"#),
        (r#"{"values": [0, {"n": 1}]}"#, r#""values"[1] must be a number, got an object ({"n": 1})"#),
    ];
    for (event, message) in cases {
        assert_eq!(failure(event), ("InvalidValues".to_owned(), message.to_owned()));
    }
    // Long offending values are quoted shortened.
    let long = format!(r#"{{"values": ["{}"]}}"#, "x".repeat(200));
    let (_, message) = failure(&long);
    assert!(message.len() < 120 && message.ends_with("...)"), "{message}");
}

#[test]
fn an_operation_that_is_not_a_string_is_invalid() {
    let cases = [
        (r#"{"values": [1], "operation": 5}"#, r#""operation" must be a string, got an integer (5)"#),
        (r#"{"values": [1], "operation": null}"#, r#""operation" must be a string, got null (null)"#),
        (r#"{"values": [1], "operation": ["sum"]}"#, r#""operation" must be a string, got an array (["sum"])"#),
    ];
    for (event, message) in cases {
        assert_eq!(failure(event), ("InvalidOperation".to_owned(), message.to_owned()));
    }
}

#[test]
fn unsigned_64_bit_inputs_stay_exact() {
    assert_eq!(
        ok(r#"{"values": [18446744073709551615, 1]}"#),
        r#"{"operation": "sum_and_average", "count": 2, "sum": 18446744073709551616, "average": 9.223372036854776e+18, "max": 18446744073709551615, "min": 1}"#
    );
}

#[test]
fn sums_beyond_i64_stay_exact() {
    assert_eq!(
        ok(r#"{"values": [9223372036854775807, 9223372036854775807, 9223372036854775807]}"#),
        r#"{"operation": "sum_and_average", "count": 3, "sum": 27670116110564327421, "average": 9.223372036854776e+18, "max": 9223372036854775807, "min": 9223372036854775807}"#
    );
    assert_eq!(
        ok(r#"{"values": [-9223372036854775808, -1]}"#),
        r#"{"operation": "sum_and_average", "count": 2, "sum": -9223372036854775809, "average": -4.611686018427388e+18, "max": -1, "min": -9223372036854775808}"#
    );
}

#[test]
fn integers_beyond_64_bits_in_the_event_stay_exact() {
    assert_eq!(
        ok(r#"{"values": [1000000000000000000000000000000, -1]}"#),
        r#"{"operation": "sum_and_average", "count": 2, "sum": 999999999999999999999999999999, "average": 5e+29, "max": 1000000000000000000000000000000, "min": -1}"#
    );
}

#[test]
fn integers_beyond_128_bits_are_a_clear_error_not_a_wrapped_value() {
    let (error_type, message) = failure(r#"{"values": [170141183460469231731687303715884105727, 1]}"#);
    assert_eq!(error_type, "IntegerOverflow");
    assert_eq!(message, "the sum of the integer values exceeds the supported 128-bit range");

    let (error_type, message) = failure(r#"{"values": [1701411834604692317316873037158841057280]}"#);
    assert_eq!(error_type, "UnreadableEvent");
    assert_eq!(
        message,
        "the event cannot be read: invalid JSON at byte 12: integer beyond the supported 128-bit range"
    );
}

#[test]
fn float_sums_that_overflow_are_a_clear_error() {
    for (event, sum) in [
        (r#"{"values": [1e308, 1e308]}"#, "Infinity"),
        (r#"{"values": [-1e400]}"#, "-Infinity"),
        (r#"{"values": [1e400, -1e400]}"#, "NaN"),
    ] {
        let (error_type, message) = failure(event);
        assert_eq!(error_type, "NonFiniteResult", "{event}");
        assert_eq!(message, format!("the sum of the values is {sum}, which JSON cannot represent"));
    }
}

#[test]
fn floats_follow_python_summation_and_repr() {
    // CPython >= 3.12 sums floats with Neumaier compensation: sum([0.1] * 10) == 1.0.
    let tenths = format!(r#"{{"values": [{}]}}"#, ["0.1"; 10].join(", "));
    assert_eq!(
        ok(&tenths),
        r#"{"operation": "sum_and_average", "count": 10, "sum": 1.0, "average": 0.1, "max": 0.1, "min": 0.1}"#
    );
    // repr switches to exponent notation at 1e16 and below 1e-4.
    assert_eq!(
        ok(r#"{"values": [1.5e-05, 2e16, -0.0]}"#),
        r#"{"operation": "sum_and_average", "count": 3, "sum": 2e+16, "average": 6666666666666667.0, "max": 2e+16, "min": -0.0}"#
    );
}

#[test]
fn lambda_runtime_decoding_keeps_the_raw_event_text() {
    // lambda_runtime 1.x decodes every event with serde_path_to_error over
    // serde_json; a Box<RawValue> payload must come through verbatim.
    let body = br#"{"values": [18446744073709551616, 1.50]}"#;
    let mut decoder = serde_json::Deserializer::from_slice(body);
    let raw: Box<RawValue> = serde_path_to_error::deserialize(&mut decoder).unwrap();
    assert_eq!(raw.get().as_bytes(), body);
    assert_eq!(
        handle(&raw).unwrap().get(),
        r#"{"operation": "sum_and_average", "count": 2, "sum": 1.8446744073709552e+19, "average": 9.223372036854776e+18, "max": 18446744073709551616, "min": 1.5}"#
    );
}
