//! wechatpay-php's property normalisation: the one definition shared by the library's
//! `Chain::seg` and the `chain!` macro, so a path checked at compile time is the path
//! sent at run time.

/// Normalises one property name the way wechatpay-php does.
///
/// 1. A leading ASCII capital is lowered (`WeChat` -> `weChat`).
/// 2. Every other ASCII capital `X` becomes `-x` (`discountCard` -> `discount-card`).
/// 3. A whole segment `_name_` (starts and ends with `_`, at least three characters)
///    becomes the placeholder `{name}` (`_outOrderNo_` -> `{out-order-no}`).
///
/// Digits, `_` inside words, lower case and non-ASCII characters pass through.
///
/// ```
/// use wechatpay_chain_catalogue::normalize_segment;
/// assert_eq!(normalize_segment("discountCard"), "discount-card");
/// assert_eq!(normalize_segment("complaintsV2"), "complaints-v2");
/// assert_eq!(normalize_segment("_out_order_no_"), "{out_order_no}");
/// ```
pub fn normalize_segment(segment: &str) -> String {
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

/// The PHP property name that normalises to `segment`, if one exists: the inverse of
/// [`normalize_segment`], used to show a catalogue path in `chain!` spelling.
///
/// `discount-card` -> `discountCard`, `{out_order_no}` -> `_out_order_no_`,
/// `pay_bank` -> `pay_bank`. `None` when no Rust identifier spells it (an upper-case
/// letter, a leading digit, a `-` that no capital can produce, an empty segment): such
/// a segment is written as a string literal, `->"modifyInstitutionsub"`.
///
/// ```
/// use wechatpay_chain_catalogue::{identifier_for, normalize_segment};
/// assert_eq!(identifier_for("discount-card").as_deref(), Some("discountCard"));
/// assert_eq!(identifier_for("{out_order_no}").as_deref(), Some("_out_order_no_"));
/// assert_eq!(identifier_for("modifyInstitutionsub"), None);
/// assert_eq!(normalize_segment("discountCard"), "discount-card");
/// ```
pub fn identifier_for(segment: &str) -> Option<String> {
    let (inner, placeholder) = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(name) => (name, true),
        None => (segment, false),
    };
    let mut out = String::with_capacity(inner.len() + 2);
    if placeholder {
        out.push('_');
    }
    let mut capital_next = false;
    for c in inner.chars() {
        match c {
            '-' if !out.is_empty() && !capital_next => capital_next = true,
            'a'..='z' if capital_next => {
                out.push(c.to_ascii_uppercase());
                capital_next = false;
            }
            'a'..='z' | '0'..='9' | '_' if !capital_next => out.push(c),
            _ => return None,
        }
    }
    if capital_next {
        return None;
    }
    if placeholder {
        out.push('_');
    }
    let first = out.chars().next()?;
    if first.is_ascii_digit() || is_keyword(&out) {
        return None;
    }
    // Only what normalises back to the segment is an answer (`_x` inside a placeholder
    // name, `__`, and the like are ruled out here rather than case by case above).
    (normalize_segment(&out) == segment).then_some(out)
}

/// Words a Rust identifier cannot be (the macro takes them as raw identifiers, `r#type`,
/// but the plain spelling is what a user writes, so `identifier_for` leaves them out).
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "Self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "_"
    )
}

#[cfg(test)]
mod tests {
    use super::{identifier_for, normalize_segment};

    #[test]
    fn normalisation_table() {
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
            ("ABC", "a-b-c"),
            ("_id_", "{id}"),
            ("___", "{_}"),
            ("__", "__"),
            ("_", "_"),
            ("_leading", "_leading"),
            ("trailing_", "trailing_"),
            ("", ""),
            ("café", "café"),
            ("x9Y", "x9-y"),
        ];
        for (input, expected) in table {
            assert_eq!(normalize_segment(input), expected, "normalize({input:?})");
        }
    }

    #[test]
    fn identifiers_for_segments() {
        let table = [
            ("discount-card", Some("discountCard")),
            ("complaints-v2", Some("complaintsV2")),
            ("a-1", None),
            ("{out_order_no}", Some("_out_order_no_")),
            ("{out-order-no}", Some("_outOrderNo_")),
            ("applyment4sub", Some("applyment4sub")),
            ("applyment_id", Some("applyment_id")),
            ("modifyInstitutionsub", None),
            ("a--b", None),
            ("-a", None),
            ("a-", None),
            ("9a", None),
            ("type", None),
            ("", None),
        ];
        for (segment, want) in table {
            let got = identifier_for(segment);
            assert_eq!(got.as_deref(), want, "identifier_for({segment:?})");
        }
    }
}
