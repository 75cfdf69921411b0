//! The writer: `json.dumps` output with Python's default settings.

use serde_json::value::RawValue;

use crate::Value;

/// Writes `value` exactly as Python's `json.dumps(value)` does with its
/// defaults (`separators=(", ", ": ")`, `ensure_ascii=True`,
/// `allow_nan=True`).
///
/// Non-finite floats come out as `Infinity`, `-Infinity` and `NaN`, as in
/// Python; such text is not standard JSON (see [`to_raw_value`]).
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// The text of `value` from [`dumps`] as a [`RawValue`], whose bytes
/// `serde_json` (and so `lambda_runtime` and the durable SDK) writes
/// verbatim.
///
/// # Errors
///
/// [`NotStandardJson`] when `value` holds a non-finite float, which
/// standard JSON cannot carry.
pub fn to_raw_value(value: &Value) -> Result<Box<RawValue>, NotStandardJson> {
    RawValue::from_string(dumps(value)).map_err(|_| NotStandardJson)
}

/// The value holds a non-finite float (`Infinity`, `-Infinity` or `NaN`):
/// Python would print it, but it is not standard JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value holds a non-finite float (Infinity or NaN), which standard JSON cannot carry")]
pub struct NotStandardJson;

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::Str(s) => write_str(out, s),
        Value::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Dict(entries) => {
            out.push('{');
            for (n, (key, item)) in entries.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_str(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A float as `json.dumps` writes it: `repr` when finite, else the
/// JavaScript names.
fn json_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        float_repr(x)
    }
}

/// Python's `repr(x)` for a float: the shortest digits that round-trip,
/// in positional notation with at least one fractional digit (`30.0`), or
/// in exponent notation when the decimal exponent is below -4 or at least
/// 16 (`1.5e-05`, `1e+16`). Non-finite values give `inf`, `-inf`, `nan`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sci = shortest_scientific(x);
    let (sign, unsigned) = match sci.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", sci.as_str()),
    };
    let Some((mantissa, exponent)) = unsigned.split_once('e') else {
        return sci;
    };
    let Ok(exponent) = exponent.parse::<i64>() else {
        return sci;
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let n_digits = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    // Position of the decimal point relative to the digit string, as in
    // CPython's `format_float_short`: value = 0.DIGITS * 10**decpt.
    let decpt = exponent + 1;

    let mut out = String::from(sign);
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        out.push('e');
        out.push(exp_sign);
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push('0');
        }
        out.push_str(&magnitude.to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat(usize::try_from(-decpt).unwrap_or(0)));
        out.push_str(&digits);
    } else if decpt < n_digits {
        let (int_part, frac_part) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
        out.push_str(int_part);
        out.push('.');
        out.push_str(frac_part);
    } else {
        out.push_str(&digits);
        out.push_str(&"0".repeat(usize::try_from(decpt - n_digits).unwrap_or(0)));
        out.push_str(".0");
    }
    out
}

/// The shortest round-trip digits of a finite `x` as `d[.ddd]e<exp>` (for
/// example "3e1", "-1.5e-5", "0e0"), chosen the way Python's `repr` (David
/// Gay's `dtoa` mode 0) chooses them: the fewest digits that read back as
/// `x`, and among those the nearest to `x`, ties to an even last digit.
fn shortest_scientific(x: f64) -> String {
    // Rust's `{:e}` gives the fewest digits, but when two candidates of that
    // length are equally near it may pick the other one (…254.25 prints as
    // …254.3, Python prints …254.2).
    let shortest = format!("{x:e}");
    let n_digits = shortest.split('e').next().map_or(1, |m| m.bytes().filter(u8::is_ascii_digit).count());
    // Formatting to that many significant digits rounds the exact binary
    // value correctly (ties to even): the nearest candidate. It is used
    // when it reads back as `x`, which fails only next to a power of two,
    // where the rounding interval below `x` is half as wide.
    let nearest = format!("{x:.prec$e}", prec = n_digits.saturating_sub(1));
    if nearest.parse::<f64>().is_ok_and(|back| back.to_bits() == x.to_bits()) { nearest } else { shortest }
}

/// A string as `json.dumps` writes it with `ensure_ascii=True`: printable
/// ASCII as is, the usual short escapes, everything else as `\uXXXX`
/// (lowercase hex; characters beyond the BMP as a surrogate pair).
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            _ => {
                let mut units = [0_u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str("\\u");
                    for shift in [12, 8, 4, 0] {
                        let nibble = u32::from((*unit >> shift) & 0xf);
                        out.push(char::from_digit(nibble, 16).unwrap_or('0'));
                    }
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{dumps, float_repr, to_raw_value};
    use crate::Value;

    #[test]
    fn float_repr_matches_python() {
        // Expected strings are Python 3 `repr(float)` outputs.
        let cases: &[(f64, &str)] = &[
            (30.0, "30.0"),
            (2.5, "2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (9_999_999_999_999_998.0, "9999999999999998.0"),
            (1.234_567_890_123_456_8e17, "1.2345678901234568e+17"),
            (1e22, "1e+22"),
            (1.5e-5, "1.5e-05"),
            (1e-7, "1e-07"),
            (0.0001, "0.0001"),
            (0.001_234, "0.001234"),
            (-2.5e-300, "-2.5e-300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (123.456, "123.456"),
            (-1.0, "-1.0"),
            // Two shortest candidates equally near: Python keeps the even digit.
            (1_059_438_285_926_254.2, "1059438285926254.2"),
            (26_363_981_746_409.312, "26363981746409.312"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(*x), *want, "repr of {x:?}");
        }
        assert_eq!(float_repr(f64::INFINITY), "inf");
        assert_eq!(float_repr(f64::NAN), "nan");
    }

    #[test]
    fn dumps_uses_python_separators_and_key_order() {
        let value = Value::Dict(vec![
            ("z".into(), Value::Int(1)),
            ("a".into(), Value::List(vec![Value::Int(1), Value::Float(2.0), Value::Null])),
            ("e".into(), Value::Dict(vec![])),
            ("l".into(), Value::List(vec![])),
            ("b".into(), Value::Bool(false)),
        ]);
        assert_eq!(dumps(&value), r#"{"z": 1, "a": [1, 2.0, null], "e": {}, "l": [], "b": false}"#);
    }

    #[test]
    fn dumps_integers_exactly_beyond_64_bits() {
        assert_eq!(dumps(&Value::Int(i128::MAX)), i128::MAX.to_string());
        assert_eq!(dumps(&Value::Int(-36_893_488_147_419_103_232)), "-36893488147419103232");
    }

    #[test]
    fn dumps_escapes_like_ensure_ascii() {
        let s = Value::from("q\"b\\s/\n\r\t\u{8}\u{c}\u{1}\u{7f} é€😀");
        assert_eq!(dumps(&s), r#""q\"b\\s/\n\r\t\b\f\u0001\u007f \u00e9\u20ac\ud83d\ude00""#);
    }

    #[test]
    fn non_finite_floats_print_like_python_but_are_not_raw_json() {
        let v = Value::List(vec![Value::Float(f64::INFINITY), Value::Float(f64::NEG_INFINITY), Value::Float(f64::NAN)]);
        assert_eq!(dumps(&v), "[Infinity, -Infinity, NaN]");
        assert!(to_raw_value(&v).is_err());
        let raw = to_raw_value(&Value::Float(30.0)).map(|r| r.get().to_owned());
        assert_eq!(raw.as_deref(), Ok("30.0"));
    }
}
