//! The JSON value model: Python's view of a decoded JSON document.

/// A decoded JSON value, typed the way Python's `json.loads` types it.
///
/// Integers and floats are distinct (Python's `int` and `float`), and an
/// object is an ordered list of entries (Python's insertion-ordered `dict`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null` (Python `None`).
    Null,
    /// JSON `true` / `false`.
    Bool(bool),
    /// A number written without fraction or exponent (Python `int`).
    Int(i128),
    /// A number written with a fraction or an exponent (Python `float`).
    Float(f64),
    /// A string.
    Str(String),
    /// An array (Python `list`).
    List(Vec<Value>),
    /// An object with its keys in document order (Python `dict`).
    Dict(Vec<(String, Value)>),
}

impl Value {
    /// Looks `key` up in an object; `None` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Self::Dict(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short description of the value's JSON type, for error messages:
    /// `null`, `a boolean`, `an integer`, `a float`, `a string`, `an array`
    /// or `an object`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Int(_) => "an integer",
            Self::Float(_) => "a float",
            Self::Str(_) => "a string",
            Self::List(_) => "an array",
            Self::Dict(_) => "an object",
        }
    }

    /// Returns `true` for [`Value::Int`] and [`Value::Float`] (JSON numbers;
    /// booleans are not numbers in JSON).
    pub fn is_number(&self) -> bool {
        matches!(self, Self::Int(_) | Self::Float(_))
    }

    /// Describes the value for an error message: its kind followed by its
    /// JSON text, shortened to about `max_chars` characters.
    pub fn describe(&self, max_chars: usize) -> String {
        let text = crate::dumps(self);
        if text.chars().count() <= max_chars {
            format!("{} ({text})", self.kind())
        } else {
            let head: String = text.chars().take(max_chars).collect();
            format!("{} ({head}...)", self.kind())
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl From<i128> for Value {
    fn from(i: i128) -> Self {
        Self::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Self::Float(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Value;

    #[test]
    fn get_finds_keys_only_in_objects() {
        let dict = Value::Dict(vec![("a".into(), Value::Int(1))]);
        assert_eq!(dict.get("a"), Some(&Value::Int(1)));
        assert_eq!(dict.get("b"), None);
        assert_eq!(Value::List(vec![]).get("a"), None);
    }

    #[test]
    fn describe_names_kind_and_shortens_text() {
        assert_eq!(Value::from("abc").describe(40), r#"a string ("abc")"#);
        let long = Value::List((0..100).map(Value::Int).collect());
        assert_eq!(long.describe(10), "an array ([0, 1, 2, ...)");
        assert!(Value::Float(1.0).is_number());
        assert!(!Value::Bool(true).is_number());
    }
}
