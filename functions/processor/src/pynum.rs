//! Python number semantics the statistics need: `sum()`, `max()`/`min()`
//! over mixed `int`/`float`, and `int / int` true division.
//!
//! The original function runs on `CPython` 3.14, so the results here follow
//! `CPython`'s own algorithms rather than naive Rust arithmetic:
//!
//! - `sum()` keeps a machine-word integer fast path, switches to
//!   Neumaier-compensated float summation at the first float, and falls back
//!   to plain pairwise `+` once an integer leaves the 64-bit range
//!   (`builtin_sum_impl` in `Python/bltinmodule.c`). Integers are exact up
//!   to 128 bits here; beyond that the caller gets an error, never a wrapped
//!   value.
//! - comparisons between an `int` and a `float` are exact, not done by
//!   converting the integer to a float.
//! - `int / int` is correctly rounded (`long_true_divide`), which a
//!   conversion of a large integer followed by a float division is not.

use std::cmp::Ordering;

/// A JSON number as Python sees it: an `int` or a `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A Python `int` (exact; limited to 128 bits here).
    Int(i128),
    /// A Python `float`.
    Float(f64),
}

impl From<Number> for pyjson::Value {
    fn from(n: Number) -> Self {
        match n {
            Number::Int(i) => Self::Int(i),
            Number::Float(f) => Self::Float(f),
        }
    }
}

/// An integer result left the 128-bit range (Python would keep going with
/// arbitrary precision; this port stops with an error instead of wrapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntOverflow;

/// Python's `sum(items)` (start value `0`), as `CPython` 3.14 computes it.
///
/// # Errors
///
/// [`IntOverflow`] when an exact integer sum leaves the 128-bit range.
pub fn sum(items: &[Number]) -> Result<Number, IntOverflow> {
    enum Acc {
        /// `CPython`'s `Py_ssize_t` fast path.
        Word(i64),
        /// `CPython`'s float fast path: Neumaier sum and compensation.
        Compensated(f64, f64),
        /// `CPython`'s generic `result = result + item` loop.
        Generic(Number),
    }

    let mut acc = Acc::Word(0);
    for &item in items {
        acc = match acc {
            Acc::Word(total) => {
                let fast = match item {
                    Number::Int(i) => i64::try_from(i).ok().and_then(|i| total.checked_add(i)),
                    Number::Float(_) => None,
                };
                if let Some(total) = fast {
                    Acc::Word(total)
                } else {
                    match add(Number::Int(i128::from(total)), item)? {
                        Number::Float(f) => Acc::Compensated(f, 0.0),
                        int @ Number::Int(_) => Acc::Generic(int),
                    }
                }
            }
            Acc::Compensated(hi, lo) => {
                let x = match item {
                    Number::Int(i) => int_to_f64(i),
                    Number::Float(f) => f,
                };
                let (hi, lo) = neumaier_add(hi, lo, x);
                Acc::Compensated(hi, lo)
            }
            Acc::Generic(total) => Acc::Generic(add(total, item)?),
        };
    }
    Ok(match acc {
        Acc::Word(total) => Number::Int(i128::from(total)),
        Acc::Compensated(hi, lo) => Number::Float(compensated_total(hi, lo)),
        Acc::Generic(total) => total,
    })
}

/// `CPython`'s `cs_add`: one step of Neumaier's improved Kahan–Babuška sum.
fn neumaier_add(hi: f64, lo: f64, x: f64) -> (f64, f64) {
    let t = hi + x;
    let lo = if hi.abs() >= x.abs() { lo + ((hi - t) + x) } else { lo + ((x - t) + hi) };
    (t, lo)
}

/// `CPython`'s `cs_to_double`: add the compensation unless it is zero or
/// not finite (which keeps `-0.0` and infinite sums intact).
fn compensated_total(hi: f64, lo: f64) -> f64 {
    if lo != 0.0 && lo.is_finite() { hi + lo } else { hi }
}

/// Python's binary `a + b` for `int`/`float` operands.
fn add(a: Number, b: Number) -> Result<Number, IntOverflow> {
    Ok(match (a, b) {
        (Number::Int(x), Number::Int(y)) => Number::Int(x.checked_add(y).ok_or(IntOverflow)?),
        (Number::Int(x), Number::Float(y)) => Number::Float(int_to_f64(x) + y),
        (Number::Float(x), Number::Int(y)) => Number::Float(x + int_to_f64(y)),
        (Number::Float(x), Number::Float(y)) => Number::Float(x + y),
    })
}

/// Python's `float(i)`: the nearest double, ties to even (what `as` does).
#[expect(
    clippy::cast_precision_loss,
    reason = "Python rounds int to float to nearest, ties to even, exactly as `as` does"
)]
fn int_to_f64(i: i128) -> f64 {
    i as f64
}

/// Python's ordering of two numbers: exact across `int` and `float`;
/// `None` only when a NaN is involved.
pub fn compare(a: Number, b: Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => Some(x.cmp(&y)),
        (Number::Float(x), Number::Float(y)) => x.partial_cmp(&y),
        (Number::Int(x), Number::Float(y)) => compare_int_float(x, y),
        (Number::Float(x), Number::Int(y)) => compare_int_float(y, x).map(Ordering::reverse),
    }
}

fn compare_int_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    // Rounding is monotonic, so a strict order between the rounded integer
    // and `f` is the order of the exact values. On a tie, `f` is an
    // integral double and the comparison is redone on integers.
    match int_to_f64(i).partial_cmp(&f)? {
        Ordering::Equal => {
            // 2**127 is the one tie candidate beyond i128::MAX.
            if f >= 170_141_183_460_469_231_731_687_303_715_884_105_728.0 {
                Some(Ordering::Less)
            } else {
                Some(i.cmp(&integral_to_i128(f)))
            }
        }
        order => Some(order),
    }
}

#[expect(clippy::cast_possible_truncation, reason = "only called with an integral double inside the i128 range")]
fn integral_to_i128(f: f64) -> i128 {
    f as i128
}

/// Python's `max(items)`: the first item no other item is greater than.
pub fn max(items: &[Number]) -> Option<Number> {
    pick(items, Ordering::Greater)
}

/// Python's `min(items)`: the first item no other item is smaller than.
pub fn min(items: &[Number]) -> Option<Number> {
    pick(items, Ordering::Less)
}

fn pick(items: &[Number], wanted: Ordering) -> Option<Number> {
    let (&first, rest) = items.split_first()?;
    Some(rest.iter().fold(first, |best, &item| if compare(item, best) == Some(wanted) { item } else { best }))
}

/// Python's `total / count` (true division; `count` is `len(values)`).
pub fn divide(total: Number, count: usize) -> f64 {
    match total {
        Number::Float(f) => f / usize_to_f64(count),
        Number::Int(i) => {
            let magnitude = ratio_to_f64(i.unsigned_abs(), count as u128);
            if i < 0 { -magnitude } else { magnitude }
        }
    }
}

#[expect(clippy::cast_precision_loss, reason = "Python converts the int count to the nearest double, as `as` does")]
fn usize_to_f64(n: usize) -> f64 {
    n as f64
}

/// `n / d` correctly rounded to the nearest double, ties to even
/// (`CPython`'s `long_true_divide` guarantee). `d` must be non-zero and fit
/// in 64 bits.
fn ratio_to_f64(n: u128, d: u128) -> f64 {
    if n == 0 || d == 0 {
        return 0.0;
    }
    // Long division producing at least 55 significant quotient bits, plus a
    // sticky bit for whatever remains: enough to round exactly once.
    let mut quotient = n / d;
    let mut remainder = n % d;
    let mut fraction_bits = 0_i32;
    while quotient >> 54 == 0 {
        remainder <<= 1;
        quotient <<= 1;
        if remainder >= d {
            remainder -= d;
            quotient |= 1;
        }
        fraction_bits += 1;
    }
    let sticky = remainder != 0;
    let shift = 128 - quotient.leading_zeros() - 53;
    let mut mantissa = quotient >> shift;
    let dropped = quotient & ((1_u128 << shift) - 1);
    let half = 1_u128 << (shift - 1);
    if dropped > half || (dropped == half && (sticky || mantissa & 1 == 1)) {
        mantissa += 1;
    }
    let exponent = i32::try_from(shift).unwrap_or(i32::MAX) - fraction_bits;
    // `mantissa` has at most 54 bits, so the conversion is exact, and the
    // power-of-two scaling is exact too.
    int_to_f64(i128::try_from(mantissa).unwrap_or(i128::MAX)) * 2_f64.powi(exponent)
}

#[cfg(test)]
#[allow(clippy::float_cmp, reason = "the tests compare exact Python results")]
mod tests {
    use super::{Number, compare, divide, max, min, ratio_to_f64, sum};
    use std::cmp::Ordering;

    use Number::{Float, Int};

    #[test]
    fn integer_sums_stay_exact_past_64_bits() {
        let items = [Int(i128::from(i64::MAX)), Int(i128::from(i64::MAX)), Int(2)];
        assert_eq!(sum(&items), Ok(Int(18_446_744_073_709_551_616)));
        assert_eq!(sum(&[Int(i128::MAX), Int(1)]), Err(super::IntOverflow));
        assert_eq!(sum(&[]), Ok(Int(0)));
    }

    #[test]
    fn float_sums_use_neumaier_compensation() {
        // `CPython` >= 3.12: sum([0.1] * 10) == 1.0 (naive addition gives 0.9999999999999999).
        assert_eq!(sum(&[Float(0.1); 10]), Ok(Float(1.0)));
        // sum([1e100, 1.0, -1e100, 1.0]) == 2.0 with compensation.
        assert_eq!(sum(&[Float(1e100), Float(1.0), Float(-1e100), Float(1.0)]), Ok(Float(2.0)));
        // An int before the first float is added exactly first.
        assert_eq!(sum(&[Int(1), Int(2), Float(0.5)]), Ok(Float(3.5)));
        assert_eq!(sum(&[Float(-0.0)]), Ok(Float(0.0)));
    }

    #[test]
    fn comparisons_are_exact_across_int_and_float() {
        let big = 9_007_199_254_740_993_i128; // 2**53 + 1, not a double
        assert_eq!(compare(Int(big), Float(9_007_199_254_740_992.0)), Some(Ordering::Greater));
        assert_eq!(compare(Float(9_007_199_254_740_992.0), Int(big)), Some(Ordering::Less));
        assert_eq!(compare(Int(3), Float(3.0)), Some(Ordering::Equal));
        assert_eq!(compare(Int(i128::MAX), Float(1.701_411_834_604_692_3e38)), Some(Ordering::Less));
        assert_eq!(compare(Int(i128::MIN), Float(f64::NEG_INFINITY)), Some(Ordering::Greater));
        // Ties keep the first item, as Python's max/min do.
        assert_eq!(max(&[Int(1), Float(1.0)]), Some(Int(1)));
        assert_eq!(max(&[Float(1.0), Int(1)]), Some(Float(1.0)));
        assert_eq!(min(&[Int(5), Float(-2.5), Int(-2)]), Some(Float(-2.5)));
        assert_eq!(max(&[]), None);
    }

    #[test]
    fn integer_division_is_correctly_rounded() {
        assert_eq!(divide(Int(150), 5), 30.0);
        assert_eq!(divide(Int(-7), 2), -3.5);
        assert_eq!(divide(Int(1), 3), 1.0 / 3.0);
        // Python: 128126638239851599041 / 7 == 1.8303805462835943e+19, while
        // float(128126638239851599041) / 7 == 1.8303805462835941e+19.
        assert_eq!(divide(Int(128_126_638_239_851_599_041), 7), 1.830_380_546_283_594_3e19);
        assert_eq!(divide(Int(480_020_768_245_937_048_025), 3), 1.600_069_227_486_456_7e20);
        // (2**54 + 3) / 4 = 2**52 + 0.75: exact tie-breaking needs the sticky bit.
        assert_eq!(ratio_to_f64(18_014_398_509_481_987, 4), 4_503_599_627_370_497.0);
        assert_eq!(divide(Float(4.0), 2), 2.0);
        assert_eq!(divide(Int(i128::MIN), 1), -1.701_411_834_604_692_3e38);
    }
}
