//! PHP's property normalisation, applied at compile time to every identifier segment.
//!
//! This must agree, byte for byte, with the runtime normalisation of the library
//! (`Chain::seg`), which applies the same rule to the same strings.

/// The library's `EMPTY_SEGMENT`: the property name of an empty last segment.
pub(crate) const EMPTY_SEGMENT: &str = "_empty_";

/// Normalises one property name the way wechatpay-php does.
///
/// 1. A leading ASCII capital is lowered (`WeChat` -> `weChat`).
/// 2. Every other ASCII capital `X` becomes `-x` (`discountCard` -> `discount-card`).
/// 3. A whole segment `_name_` (starts and ends with `_`, at least three characters)
///    becomes the placeholder `{name}` (`_outOrderNo_` -> `{out-order-no}`).
///
/// Digits, `_` inside words, lower case and non-ASCII characters pass through.
/// `_empty_` becomes the empty string (a trailing slash once joined), as PHP expands
/// its `{empty}` to nothing.
pub(crate) fn normalize(segment: &str) -> String {
    if segment == EMPTY_SEGMENT {
        return String::new();
    }
    let mut out = String::with_capacity(segment.len() + 4);
    for (i, c) in segment.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i != 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    if out.len() >= 3 && out.starts_with('_') && out.ends_with('_') {
        // Both ends are the one-byte `_`, so these byte offsets are char boundaries.
        let name = &out[1..out.len() - 1];
        return format!("{{{name}}}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn table() {
        let table = [
            ("v3", "v3"),
            ("v2", "v2"),
            ("discountCard", "discount-card"),
            ("complaintsV2", "complaints-v2"),
            ("WeChatPay", "we-chat-pay"),
            ("Orders", "orders"),
            ("_outOrderNo_", "{out-order-no}"),
            ("_out_order_no_", "{out_order_no}"),
            ("_OutOrderNo_", "{-out-order-no}"),
            ("applyment4sub", "applyment4sub"),
            ("pay_bank", "pay_bank"),
            ("payScore", "pay-score"),
            ("merchantService", "merchant-service"),
            ("combineTransactions", "combine-transactions"),
            ("outTradeNo", "out-trade-no"),
            ("ABC", "a-b-c"),
            ("_id_", "{id}"),
            ("___", "{_}"),
            ("__", "__"),
            ("_", "_"),
            ("_leading", "_leading"),
            ("trailing_", "trailing_"),
            ("type", "type"),
            ("", ""),
            ("café", "café"),
            ("x9Y", "x9-y"),
            ("_empty_", ""),
            ("_Empty_", "{-empty}"),
        ];
        for (input, expected) in table {
            assert_eq!(normalize(input), expected, "normalize({input:?})");
        }
    }
}
