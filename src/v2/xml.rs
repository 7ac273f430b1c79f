//! The XML of APIv2: `<xml><k>v</k>…</xml>` out, a flat (or nested) map in.
//!
//! The reader refuses DTDs and every entity but the five predefined ones and
//! character references, so no XXE or entity expansion can happen. It reads
//! untrusted bytes (answers and notifications before their `sign` is checked), so it
//! is iterative and bounded: at most [`MAX_DEPTH`] levels of elements and
//! [`MAX_ELEMENTS`] elements. WeChat's APIv2 payloads are flat (`<xml>` and one
//! level of fields), so the limits only ever stop hostile input, and the values it
//! builds are shallow enough that dropping them cannot exhaust a thread's stack.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

use crate::php_text;

/// Writes `<xml>` with one element per entry, CDATA where a value holds markup, as
/// PHP's `Transformer::toXml`: `true` as `1`, `false` and `null` as an empty
/// element, objects nested, lists as `<item>` elements.
///
/// ```
/// use serde_json::json;
/// let xml = wechatpay_chain::v2::to_xml(json!({"a": "1", "b": "x<y"}).as_object().unwrap());
/// assert_eq!(xml, "<xml><a>1</a><b><![CDATA[x<y]]></b></xml>");
/// ```
pub fn to_xml(data: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(64 + data.len() * 32);
    out.push_str("<xml>");
    write_entries(data, &mut out);
    out.push_str("</xml>");
    out
}

fn write_entries(data: &Map<String, Value>, out: &mut String) {
    for (key, value) in data {
        // Keys come from code; one that is not an XML name becomes `item`, as PHP does.
        let tag = if is_element_name(key) {
            key.as_str()
        } else {
            "item"
        };
        out.push('<');
        out.push_str(tag);
        out.push('>');
        match value {
            Value::Object(map) => write_entries(map, out),
            Value::Array(items) => write_items(items, out),
            other => write_text(&scalar_text(other), out),
        }
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    }
}

/// A list as PHP's `Transformer::toXml` writes one: each entry an `<item>`,
/// objects and lists inside it written out in turn.
fn write_items(items: &[Value], out: &mut String) {
    for item in items {
        out.push_str("<item>");
        match item {
            Value::Object(map) => write_entries(map, out),
            Value::Array(inner) => write_items(inner, out),
            other => write_text(&scalar_text(other), out),
        }
        out.push_str("</item>");
    }
}

/// A scalar's text as written, as PHP casts it: booleans as `1`, and `false` as
/// empty (so `<f></f>`), `null` as empty, numbers as PHP's string cast.
pub(crate) fn scalar_text(value: &Value) -> String {
    php_text::scalar(value).unwrap_or_else(|| value.to_string())
}

/// What an entry's element holds as sent: a scalar's text, or for an object or a
/// list the markup written inside the element. The `sign` is computed over this,
/// so it covers exactly what is sent.
pub(crate) fn sent_text(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) => write_entries(map, &mut out),
        Value::Array(items) => write_items(items, &mut out),
        other => return scalar_text(other),
    }
    out
}

/// Adds `value` under `name`; a repeated element becomes a list, as PHP's
/// `Transformer::toArray` reads it (`<a>1</a><a>2</a>` -> `{"a": ["1", "2"]}`).
fn insert_child(children: &mut Map<String, Value>, name: String, value: Value) {
    match children.get_mut(&name) {
        Some(Value::Array(list)) => list.push(value),
        Some(first) => {
            let first = std::mem::take(first);
            children.insert(name, Value::Array(vec![first, value]));
        }
        None => {
            children.insert(name, value);
        }
    }
}

fn write_text(text: &str, out: &mut String) {
    if text.contains(['<', '>', '&', '"']) {
        // `]]>` cannot appear inside CDATA: split it across two sections.
        out.push_str("<![CDATA[");
        out.push_str(&text.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]>");
    } else {
        out.push_str(text);
    }
}

fn is_element_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

/// How deep elements may nest, the root element included (`<xml><a>` is 2).
pub const MAX_DEPTH: usize = 8;

/// How many elements one document may hold.
pub const MAX_ELEMENTS: usize = 10_000;

/// Reads an APIv2 answer: the root's children as a map of strings (nested
/// elements become nested maps, a repeated element a list, as PHP's
/// `Transformer::toArray`). DTDs, custom entities, nesting deeper than
/// [`MAX_DEPTH`] and more than [`MAX_ELEMENTS`] elements are refused.
///
/// ```
/// let map = wechatpay_chain::v2::from_xml("<xml><return_code><![CDATA[SUCCESS]]></return_code><n>1 &amp; 2</n></xml>")?;
/// assert_eq!(map["return_code"], "SUCCESS");
/// assert_eq!(map["n"], "1 & 2");
/// assert!(wechatpay_chain::v2::from_xml("<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><xml><a>&e;</a></xml>").is_err());
/// # Ok::<_, String>(())
/// ```
pub fn from_xml(xml: &str) -> Result<Map<String, Value>, String> {
    let mut reader = Reader::from_str(xml);
    // (element name, children so far, text so far)
    let mut stack: Vec<(String, Map<String, Value>, String)> = Vec::new();
    let mut root: Option<Map<String, Value>> = None;
    let mut elements = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::DocType(_) => return Err("DTDs are refused (XXE protection)".into()),
            Event::Start(e) => {
                count_element(&mut elements, stack.len() + 1)?;
                let name = e.name().as_ref().to_owned();
                stack.push((name, Map::new(), String::new()));
            }
            Event::Empty(e) => {
                count_element(&mut elements, stack.len() + 1)?;
                let name = e.name().as_ref().to_owned();
                match stack.last_mut() {
                    Some((_, children, _)) => {
                        insert_child(children, name, Value::String(String::new()));
                    }
                    None => root = Some(Map::new()),
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    _ => match r.xml10_content().as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => {
                            return Err(format!(
                            "entity `&{other};` is refused (only the predefined ones are allowed)"
                        ))
                        }
                    },
                };
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push(resolved);
                }
            }
            Event::End(_) => {
                let Some((name, children, text)) = stack.pop() else {
                    return Err("unbalanced end tag".into());
                };
                let value = if children.is_empty() {
                    Value::String(text)
                } else {
                    Value::Object(children)
                };
                match stack.last_mut() {
                    Some((_, parent, _)) => insert_child(parent, name, value),
                    None => {
                        root = Some(match value {
                            Value::Object(m) => m,
                            _ => Map::new(),
                        })
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the XML ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

/// Counts one more element, opened at `depth`, against the limits.
fn count_element(elements: &mut usize, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "elements nest deeper than {MAX_DEPTH} levels (APIv2 XML is flat)"
        ));
    }
    *elements += 1;
    if *elements > MAX_ELEMENTS {
        return Err(format!("more than {MAX_ELEMENTS} elements"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_escapes_cdata_ends() {
        let data = json!({"a": "1", "b": "x]]>y<", "n": 5, "nested": {"c": "d"}});
        let xml = to_xml(data.as_object().unwrap());
        let back = from_xml(&xml).unwrap();
        assert_eq!(back["a"], "1");
        assert_eq!(back["b"], "x]]>y<");
        assert_eq!(back["n"], "5");
        assert_eq!(back["nested"]["c"], "d");
    }

    #[test]
    fn hostile_xml_is_refused() {
        for xml in [
            "<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><xml><a>&lol;</a></xml>",
            "<xml><a>&custom;</a></xml>",
            "<xml><a>open",
            "<xml><a></b></xml>",
            "",
        ] {
            assert!(from_xml(xml).is_err(), "{xml}");
        }
    }

    #[test]
    fn depth_and_element_count_are_bounded() {
        let nested = |depth: usize| format!("{}x{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(from_xml(&nested(MAX_DEPTH)).is_ok());
        let e = from_xml(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.contains("deeper than"), "{e}");
        // Unclosed elements are refused by depth too, before the end is reached.
        assert!(from_xml(&"<a>".repeat(MAX_DEPTH + 1))
            .unwrap_err()
            .contains("deeper"));
        let wide = |n: usize| format!("<xml>{}</xml>", "<k/>".repeat(n));
        assert!(from_xml(&wide(MAX_ELEMENTS - 1)).is_ok());
        let e = from_xml(&wide(MAX_ELEMENTS)).unwrap_err();
        assert!(e.contains("more than"), "{e}");
    }
}
