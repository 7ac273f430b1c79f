//! How PHP casts a scalar to text, where wechatpay-php's bytes on the wire (a query
//! value, a header value, an APIv2 XML field and its `sign`) come from a string cast.
//!
//! A string is itself; `true` is `1`, `false` and `null` are empty. An integer is
//! written as is. A float is written as PHP's `(string)` cast writes
//! it (the `precision` setting, 14 by default): 14 significant digits, correctly
//! rounded, trailing zeros dropped, and the exponent form `1.0E+15` from 10^14 up
//! and below 10^-4. So `2.0` is `2`, `0.1 + 0.2` is `0.3`, `1e14` is `1.0E+14`.

use serde_json::{Number, Value};

/// PHP's `precision` default: the significant digits of a float cast to string.
const PRECISION: usize = 14;

/// A scalar as PHP's `(string)` cast writes it; `None` for an array or an object.
pub(crate) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null | Value::Bool(false) => Some(String::new()),
        Value::Bool(true) => Some("1".to_owned()),
        Value::Number(n) => Some(number(n)),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// `n` as PHP casts it to a string.
pub(crate) fn number(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => float(f),
        _ => n.to_string(),
    }
}

/// A float as PHP's `(string)` cast writes it. JSON holds no NaN or infinity, so
/// neither reaches here; they are written as Rust writes them.
fn float(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    // PHP keeps the sign of a negative zero too.
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0");
    }
    // `d.ddddddddddddde±x`: the digits correctly rounded to PRECISION, as PHP's
    // zend_dtoa gives them.
    let scientific = format!("{:.*e}", PRECISION - 1, f.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };

    let mut out = String::with_capacity(24);
    out.push_str(sign);
    if exponent < -4 || exponent >= PRECISION as i32 {
        // One digit, the point, at least one more digit (PHP writes `1.0E+15`).
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push_str(&format!("E{exponent:+}"));
    } else if exponent < 0 {
        out.push_str("0.");
        for _ in 1..exponent.unsigned_abs() {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let whole = exponent as usize + 1;
        if digits.len() <= whole {
            out.push_str(digits);
            for _ in digits.len()..whole {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..whole]);
            out.push('.');
            out.push_str(&digits[whole..]);
        }
    }
    out
}
