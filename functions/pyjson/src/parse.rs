//! The reader: JSON text to [`Value`] with `json.loads` number semantics.

use std::collections::HashMap;

use crate::Value;

/// How deeply arrays and objects may nest before [`loads`] gives up
/// (Python's own limit is its recursion limit, about 1000).
pub const MAX_DEPTH: usize = 512;

/// Why [`loads`] rejected a text, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {offset}: {reason}")]
pub struct ParseError {
    offset: usize,
    reason: &'static str,
}

impl ParseError {
    /// Byte offset in the input where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong, in a few words.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// Parses one JSON document the way Python's `json.loads` does.
///
/// Numbers without a fraction or exponent become [`Value::Int`] (exact;
/// beyond the 128-bit range this is an error rather than a rounded
/// float), others [`Value::Float`] (an overflowing literal such as `1e400`
/// becomes infinity, as in Python). Objects keep their key order; a
/// repeated key keeps its first position and takes its last value.
///
/// # Errors
///
/// [`ParseError`] for text that is not exactly one JSON value, an integer
/// beyond 128 bits, a lone UTF-16 surrogate escape, or nesting deeper than
/// [`MAX_DEPTH`].
pub fn loads(text: &str) -> Result<Value, ParseError> {
    let mut parser = Parser { text, bytes: text.as_bytes(), pos: 0, depth: 0 };
    parser.skip_ws();
    let value = parser.value()?;
    parser.skip_ws();
    if parser.pos == parser.bytes.len() { Ok(value) } else { Err(parser.error("unexpected text after the JSON value")) }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> ParseError {
        ParseError { offset: self.pos, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Value, ParseError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("arrays and objects nest too deeply"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::List(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => break,
                _ => return Err(self.error("expected ',' or ']' in an array")),
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(Value::List(items))
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        let mut entries: Vec<(String, Value)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Dict(entries));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key in an object"));
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':', "expected ':' after an object key")?;
            self.skip_ws();
            let value = self.value()?;
            if let Some(slot) = index.get(&key).and_then(|&i| entries.get_mut(i)) {
                slot.1 = value;
            } else {
                index.insert(key.clone(), entries.len());
                entries.push((key, value));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => return Err(self.error("expected ',' or '}' in an object")),
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(Value::Dict(entries))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // The run stops at an ASCII byte or the end: both are char boundaries.
            let run = self.text.get(start..self.pos).ok_or_else(|| self.error("invalid UTF-8 boundary"))?;
            out.push_str(run);
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let ch = self.escape()?;
                    out.push(ch);
                }
                Some(_) => return Err(self.error("control character inside a string")),
            }
        }
    }

    fn escape(&mut self) -> Result<char, ParseError> {
        let Some(code) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.pos += 1;
        Ok(match code {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape in a string"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
        let unit = u32::from_str_radix(digits, 16).map_err(|_| self.error("expected four hex digits after \\u"))?;
        self.pos += 4;
        Ok(unit)
    }

    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u".as_slice()) {
                    return Err(self.error("lone UTF-16 surrogate in a \\u escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone UTF-16 surrogate in a \\u escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone UTF-16 surrogate in a \\u escape")),
            _ => first,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("expected digits after the decimal point"));
            }
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected digits in the exponent"));
            }
            is_float = true;
        }
        let literal = self.text.get(start..self.pos).ok_or_else(|| self.error("invalid number"))?;
        if is_float {
            literal.parse::<f64>().map(Value::Float).map_err(|_| self.error("invalid number"))
        } else {
            literal
                .parse::<i128>()
                .map(Value::Int)
                .map_err(|_| ParseError { offset: start, reason: "integer beyond the supported 128-bit range" })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_DEPTH, loads};
    use crate::{Value, dumps};

    fn roundtrip(text: &str) -> String {
        loads(text).map_or_else(|e| format!("error: {e}"), |v| dumps(&v))
    }

    #[test]
    fn numbers_follow_python_int_float_split() {
        assert_eq!(loads("150"), Ok(Value::Int(150)));
        assert_eq!(loads("-0"), Ok(Value::Int(0)));
        assert_eq!(loads("30.0"), Ok(Value::Float(30.0)));
        assert_eq!(loads("1E2"), Ok(Value::Float(100.0)));
        assert_eq!(loads("123456789012345678901234567890"), Ok(Value::Int(123_456_789_012_345_678_901_234_567_890)));
        assert_eq!(roundtrip("[1.50, 1e400, -1e400, 2.5e-5]"), "[1.5, Infinity, -Infinity, 2.5e-05]");
        let too_big = loads("1701411834604692317316873037158841057280");
        assert_eq!(too_big.map_err(|e| e.reason()), Err("integer beyond the supported 128-bit range"));
    }

    #[test]
    fn objects_keep_order_and_python_duplicate_semantics() {
        assert_eq!(roundtrip(r#"{"b":1,"a":2,"b":3}"#), r#"{"b": 3, "a": 2}"#);
        assert_eq!(roundtrip(" { } "), "{}");
        assert_eq!(roundtrip("[ [ ] , { \"k\" : [ true , false , null ] } ]"), r#"[[], {"k": [true, false, null]}]"#);
    }

    #[test]
    fn strings_decode_escapes_and_surrogate_pairs() {
        assert_eq!(
            loads(r#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é""#),
            Ok(Value::from("a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1f600}\u{e9}"))
        );
        assert!(loads(r#""\ud83d""#).is_err());
        assert!(loads(r#""\ude00""#).is_err());
        assert!(loads("\"a\u{1}\"").is_err());
        assert!(loads(r#""\x""#).is_err());
    }

    #[test]
    fn rejects_malformed_text_with_offset() {
        for bad in ["", "[1,]", "{\"a\" 1}", "01", "1.", "1e", "-", "tru", "[1] x", "{1: 2}", "\"open", "NaN"] {
            assert!(loads(bad).is_err(), "{bad:?} must be rejected");
        }
        let err = loads("[1, 2 x]").err();
        assert_eq!(err.map(|e| e.offset()), Some(6));
    }

    #[test]
    fn limits_nesting_depth() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(loads(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(loads(&deep).is_err());
    }
}
