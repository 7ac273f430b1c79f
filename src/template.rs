//! Path templates: PHP's segment normalisation, parsing, and RFC 6570 expansion.
//!
//! A template is parsed once (chains intern it) and expanded per request. Expansion
//! is the only place a caller's data enters the path, so it encodes every byte outside
//! RFC 3986 unreserved and refuses anything that would leave the template's own
//! segments (an empty, `.` or `..` segment).

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::encoding::{is_unreserved, percent_encode_into};
use crate::error::Error;

/// Option keys that cannot double as placeholder names.
pub(crate) const OPTION_KEYS: &[&str] = &[
    "json",
    "body",
    "query",
    "headers",
    "timeout",
    "connect_timeout",
    "base_uri",
    "xml",
    "nonceless",
    "security",
];

/// The property name that stands for an empty last segment, i.e. a trailing slash
/// (`$instance->v3->applyment4sub->applyment->_empty_` in PHP calls
/// `v3/applyment4sub/applyment/`).
pub const EMPTY_SEGMENT: &str = wechatpay_chain_catalogue::EMPTY_SEGMENT;

/// Applies wechatpay-php's property normalisation to one segment.
///
/// A leading ASCII capital is lowered; every other ASCII capital `X` becomes `-x`;
/// then a whole segment `_name_` becomes the placeholder `{name}`. The one exception
/// is [`EMPTY_SEGMENT`] (`_empty_`), which becomes the empty string: PHP expands its
/// `{empty}` to nothing, so `->applyment->_empty_` ends the path with a slash.
///
/// ```
/// use wechatpay_chain::normalize_segment;
/// assert_eq!(normalize_segment("discountCard"), "discount-card");
/// assert_eq!(normalize_segment("complaintsV2"), "complaints-v2");
/// assert_eq!(normalize_segment("WeChatPay"), "we-chat-pay");
/// assert_eq!(normalize_segment("_outOrderNo_"), "{out-order-no}");
/// assert_eq!(normalize_segment("pay_bank"), "pay_bank");
/// assert_eq!(normalize_segment("_empty_"), "");
/// ```
pub fn normalize_segment(segment: &str) -> String {
    // One definition, shared with `chain!`: what the macro checks is what is sent.
    wechatpay_chain_catalogue::normalize_segment(segment)
}

/// One piece of a segment: literal text or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var { name: String, reserved: bool },
}

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// The normalised text, `{name}` form for every placeholder.
    text: String,
    segments: Vec<Vec<Part>>,
    /// Placeholder names, in order of first appearance, without duplicates.
    names: Vec<String>,
    /// Whether the path ends with `/` (an empty last segment, sent as written).
    trailing_slash: bool,
}

impl Template {
    /// Parses a template as written (no case change). Leading slashes are trimmed;
    /// one trailing slash is kept, as PHP sends it (`v3/applyment4sub/applyment/` is
    /// a real endpoint).
    pub(crate) fn parse(raw: &str) -> Result<Template, Error> {
        let unrooted = raw.trim_start_matches('/');
        let err = |message: String| Error::Template {
            template: raw.to_owned(),
            message,
        };
        if unrooted.is_empty() {
            return Err(err("the template is empty".into()));
        }
        let (trimmed, trailing_slash) = match unrooted.strip_suffix('/') {
            Some(rest) => (rest, true),
            None => (unrooted, false),
        };
        let mut segments = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (index, seg) in trimmed.split('/').enumerate() {
            if seg.is_empty() {
                return Err(err(format!(
                    "segment {} is empty (`//`); remove the extra slash",
                    index + 1
                )));
            }
            let parts = parse_segment(seg).map_err(err)?;
            if let [Part::Literal(lit)] = parts.as_slice() {
                if lit == "." || lit == ".." {
                    return Err(err(format!("segment `{lit}` is not allowed")));
                }
            }
            for part in &parts {
                if let Part::Var { name, .. } = part {
                    if OPTION_KEYS.contains(&name.as_str()) {
                        return Err(err(format!(
                            "placeholder `{{{name}}}` has the name of an option key; rename it"
                        )));
                    }
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
            }
            segments.push(parts);
        }
        let mut text = render(&segments);
        if trailing_slash {
            text.push('/');
        }
        Ok(Template {
            text,
            segments,
            names,
            trailing_slash,
        })
    }

    /// The normalised template text.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The placeholder names, in order of first appearance.
    pub(crate) fn placeholders(&self) -> &[String] {
        &self.names
    }

    /// Whether `name` is one of this template's placeholders.
    pub(crate) fn has_placeholder(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Expands the template with values from the option map, returning the path
    /// without a leading slash.
    pub(crate) fn expand(&self, options: &serde_json::Map<String, Value>) -> Result<String, Error> {
        let mut path = String::with_capacity(self.text.len() + 32);
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                path.push('/');
            }
            let start = path.len();
            for part in seg {
                match part {
                    Part::Literal(lit) => path.push_str(lit),
                    Part::Var { name, reserved } => {
                        let value = self.value_of(name, options)?;
                        if *reserved {
                            encode_reserved_into(&value, &mut path);
                        } else {
                            percent_encode_into(value.as_bytes(), &mut path);
                        }
                    }
                }
            }
            self.check_expanded(&path[start..], seg)?;
        }
        if self.trailing_slash {
            path.push('/');
        }
        Ok(path)
    }

    /// The value of a placeholder, borrowed when it is a string (no copy per call).
    fn value_of<'a>(
        &self,
        name: &str,
        options: &'a serde_json::Map<String, Value>,
    ) -> Result<Cow<'a, str>, Error> {
        let fail = |message: &str| Error::Placeholder {
            template: self.text.clone(),
            placeholder: name.to_owned(),
            message: message.to_owned(),
        };
        let value = match options.get(name) {
            None => {
                return Err(fail(&format!(
                    "has no value: pass it in the options, e.g. `\"{name}\": \"…\"`"
                )))
            }
            Some(Value::String(s)) => Cow::Borrowed(s.as_str()),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Cow::Owned(n.to_string()),
            Some(Value::Number(_)) => {
                return Err(fail("must be a string or an integer, not a fraction"))
            }
            Some(Value::Null) => return Err(fail("is null; give a string or an integer")),
            Some(Value::Bool(_)) => {
                return Err(fail("must be a string or an integer, not a boolean"))
            }
            Some(Value::Array(_)) => {
                return Err(fail("must be a string or an integer, not an array"))
            }
            Some(Value::Object(_)) => {
                return Err(fail("must be a string or an integer, not an object"))
            }
        };
        if value.is_empty() {
            return Err(fail("is empty; an empty value would call another endpoint"));
        }
        Ok(value)
    }

    /// Refuses an expanded segment that leaves the template's own segments.
    fn check_expanded(&self, expanded: &str, seg: &[Part]) -> Result<(), Error> {
        let culprit = || {
            seg.iter()
                .find_map(|p| match p {
                    Part::Var { name, .. } => Some(name.clone()),
                    Part::Literal(_) => None,
                })
                .unwrap_or_default()
        };
        let fail = |message: String| Error::Placeholder {
            template: self.text.clone(),
            placeholder: culprit(),
            message,
        };
        if expanded.contains('#') {
            return Err(fail(
                "expands to a `#` fragment, which is never sent".into(),
            ));
        }
        // `{+x}` may add slashes; every resulting piece must be a real segment.
        let path_part = expanded.split('?').next().unwrap_or_default();
        for piece in path_part.split('/') {
            if piece.is_empty() || piece == "." || piece == ".." {
                return Err(fail(format!(
                    "expands to the segment `{piece}`, which would leave the endpoint"
                )));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn render(segments: &[Vec<Part>]) -> String {
    let mut text = String::new();
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            text.push('/');
        }
        for part in seg {
            match part {
                Part::Literal(lit) => text.push_str(lit),
                Part::Var {
                    name,
                    reserved: false,
                } => {
                    text.push('{');
                    text.push_str(name);
                    text.push('}');
                }
                Part::Var {
                    name,
                    reserved: true,
                } => {
                    text.push_str("{+");
                    text.push_str(name);
                    text.push('}');
                }
            }
        }
    }
    text
}

fn parse_segment(seg: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = seg;
    while let Some(c) = rest.chars().next() {
        match c {
            '{' | '<' => {
                let close = if c == '{' { '}' } else { '>' };
                let end = rest
                    .find(close)
                    .ok_or_else(|| format!("`{c}` in `{seg}` is never closed by `{close}`"))?;
                let inner = &rest[1..end];
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(parse_var(inner, c)?);
                rest = &rest[end + 1..];
            }
            '}' | '>' => return Err(format!("stray `{c}` in `{seg}`")),
            '%' => {
                let hex = rest.get(1..3).unwrap_or_default();
                if hex.len() != 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!(
                        "`%` in `{seg}` is not followed by two hex digits"
                    ));
                }
                literal.push_str(&rest[..3]);
                rest = &rest[3..];
            }
            c if c.is_ascii() && (is_unreserved(c as u8) || "!$&'()*+,;=:@".contains(c)) => {
                literal.push(c);
                rest = &rest[1..];
            }
            '?' => {
                return Err(format!(
                    "`?` in `{seg}`: a template holds only the path; pass the query as the `query` option"
                ))
            }
            other => {
                return Err(format!(
                    "character `{}` in `{seg}` is not allowed in a path; percent-encode it or make it a placeholder",
                    other.escape_default()
                ))
            }
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

fn parse_var(inner: &str, open: char) -> Result<Part, String> {
    let (reserved, name) = match inner.strip_prefix('+') {
        Some(name) if open == '{' => (true, name),
        _ => (false, inner),
    };
    let close = if open == '{' { '}' } else { '>' };
    let shown = format!("{open}{inner}{close}");
    if let Some(op) = name.chars().next().filter(|c| "+#./;?&=,!@|".contains(*c)) {
        return Err(format!(
            "RFC 6570 operator `{op}` in `{shown}` is unsupported; use `{{name}}` or `{{+name}}`"
        ));
    }
    if name.is_empty() {
        return Err(format!("placeholder `{shown}` has no name"));
    }
    if name.contains(',') || name.contains('*') || name.contains(':') {
        return Err(format!(
            "placeholder `{shown}`: lists, explode (`*`) and prefix (`:n`) modifiers are unsupported"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "placeholder `{inner}` contains `{}`; names use letters, digits, `_`, `-` and `.`",
            bad.escape_default()
        ));
    }
    Ok(Part::Var {
        name: name.to_owned(),
        reserved,
    })
}

/// RFC 6570 reserved expansion as DESIGN.md pins it: unreserved and reserved
/// characters pass, everything else (including `%`) is percent-encoded.
fn encode_reserved_into(value: &str, out: &mut String) {
    for &b in value.as_bytes() {
        if is_unreserved(b) || b":/?#[]@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            percent_encode_into(&[b], out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }

    #[test]
    fn normalisation_follows_php() {
        for (input, want) in [
            ("v3", "v3"),
            ("discountCard", "discount-card"),
            ("complaintsV2", "complaints-v2"),
            ("WeChatPay", "we-chat-pay"),
            ("_outOrderNo_", "{out-order-no}"),
            ("_out_order_no_", "{out_order_no}"),
            ("applyment4sub", "applyment4sub"),
            ("pay_bank", "pay_bank"),
            ("Orders", "orders"),
            ("_", "_"),
            ("__", "__"),
            ("_x_", "{x}"),
            ("_empty_", ""),
            ("_Empty_", "{-empty}"),
        ] {
            assert_eq!(normalize_segment(input), want, "{input}");
        }
    }

    #[test]
    fn both_placeholder_forms_parse_alike() {
        let a = Template::parse("/v3/discount-card/orders/<out_order_no>").unwrap();
        let b = Template::parse("v3/discount-card/orders/{out_order_no}").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "v3/discount-card/orders/{out_order_no}");
    }

    #[test]
    fn one_trailing_slash_is_kept_and_sent() {
        let t = Template::parse("/v3/applyment4sub/applyment/").unwrap();
        assert_eq!(t.as_str(), "v3/applyment4sub/applyment/");
        assert_eq!(
            t.expand(&map(json!({}))).unwrap(),
            "v3/applyment4sub/applyment/"
        );
        let t = Template::parse("v3/orders/{id}/").unwrap();
        assert_eq!(
            t.expand(&map(json!({"id": "a b"}))).unwrap(),
            "v3/orders/a%20b/"
        );
        assert_ne!(t, Template::parse("v3/orders/{id}").unwrap());
        let err = Template::parse("v3/orders//").unwrap_err().to_string();
        assert!(err.contains("segment 3 is empty"), "{err}");
    }

    #[test]
    fn literal_case_is_kept() {
        let t = Template::parse("v3/payScore/Orders").unwrap();
        assert_eq!(t.as_str(), "v3/payScore/Orders");
    }

    #[test]
    fn malformed_templates_are_errors() {
        for (raw, needle) in [
            ("", "empty"),
            ("///", "empty"),
            ("v3//orders", "segment 2 is empty"),
            ("v3/{a", "never closed"),
            ("v3/a}", "stray"),
            ("v3/{#frag}", "operator `#` in `{#frag}`"),
            ("v3/{?q}", "operator `?` in `{?q}`"),
            ("v3/<.x>", "operator `.` in `<.x>`"),
            ("v3/{a,b}", "`{a,b}`: lists"),
            ("v3/{a*}", "explode"),
            ("v3/{}", "`{}` has no name"),
            ("v3/<>", "`<>` has no name"),
            ("v3/{json}", "option key"),
            ("v3/orders?x=1", "`query` option"),
            ("v3/a b", "not allowed"),
            ("v3/../x", "`..`"),
            ("v3/%zz", "hex"),
        ] {
            let err = Template::parse(raw).unwrap_err().to_string();
            assert!(err.contains(needle), "{raw}: {err}");
            assert!(
                err.contains(&format!("`{raw}`")),
                "names the template: {err}"
            );
        }
    }

    #[test]
    fn expansion_encodes_every_reserved_byte() {
        let t = Template::parse("v3/orders/{id}").unwrap();
        let path = t.expand(&map(json!({"id": "ord 2024/先享#1"}))).unwrap();
        assert_eq!(path, "v3/orders/ord%202024%2F%E5%85%88%E4%BA%AB%231");
        let path = t.expand(&map(json!({"id": 42}))).unwrap();
        assert_eq!(path, "v3/orders/42");
        let path = t.expand(&map(json!({"id": "a.b_c~d-e"}))).unwrap();
        assert_eq!(path, "v3/orders/a.b_c~d-e");
    }

    #[test]
    fn reserved_expansion_keeps_slashes_but_encodes_percent() {
        let t = Template::parse("v3/files/{+path}").unwrap();
        let path = t.expand(&map(json!({"path": "a/b c%"}))).unwrap();
        assert_eq!(path, "v3/files/a/b%20c%25");
        let err = t.expand(&map(json!({"path": "a/../b"}))).unwrap_err();
        assert!(err.to_string().contains("`..`"), "{err}");
        let err = t.expand(&map(json!({"path": "a//b"}))).unwrap_err();
        assert!(err.to_string().contains("placeholder `path`"), "{err}");
    }

    #[test]
    fn bad_values_name_the_placeholder_and_template() {
        let t = Template::parse("v3/orders/{out_order_no}").unwrap();
        for (value, needle) in [
            (json!({}), "has no value"),
            (json!({"out_order_no": ""}), "is empty"),
            (json!({"out_order_no": "."}), "segment `.`"),
            (json!({"out_order_no": ".."}), "segment `..`"),
            (json!({"out_order_no": null}), "null"),
            (json!({"out_order_no": true}), "boolean"),
            (json!({"out_order_no": 1.5}), "fraction"),
            (json!({"out_order_no": [1]}), "array"),
        ] {
            let err = t.expand(&map(value.clone())).unwrap_err().to_string();
            assert!(err.contains(needle), "{value}: {err}");
            assert!(err.contains("`out_order_no`"), "{err}");
            assert!(err.contains("`v3/orders/{out_order_no}`"), "{err}");
        }
    }

    #[test]
    fn inline_placeholders_share_a_segment() {
        let t = Template::parse("v3/bills/{date}.{ext}").unwrap();
        let path = t
            .expand(&map(json!({"date": "2024-01-01", "ext": "csv"})))
            .unwrap();
        assert_eq!(path, "v3/bills/2024-01-01.csv");
        assert!(t.has_placeholder("ext"));
    }
}
