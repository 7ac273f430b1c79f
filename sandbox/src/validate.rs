//! Request validation against the catalogue, before any state is looked at (as
//! WeChat Pay validates): path parameters, required query parameters, and the body —
//! required members at every depth, JSON types, `enum` membership, `maxLength`,
//! `minimum`/`maximum`, `minItems`/`maxItems`.
//!
//! The schemas are the catalogue's own parsed structs (parsed once per process);
//! a request only walks them.

use std::collections::HashMap;

use http::StatusCode;
use serde_json::{json, Map, Number, Value};
use wechatpay_chain_catalogue::schema::{JsonType, Location, OperationSchema, Schema};

use crate::catalogue::Matched;
use crate::media::Part;
use crate::routes::Reply;

/// Why a request is refused: WeChat's `detail` of a `PARAM_ERROR` (boxed where
/// returned: the happy path stays small).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid {
    /// `body`, `query`, `path` or `form` (a multipart part).
    pub(crate) location: &'static str,
    /// A JSON pointer into the body (`/amount/total`), or a parameter's name.
    pub(crate) field: String,
    /// The value given; `""` when missing, as WeChat writes it.
    pub(crate) value: Value,
    /// What is wrong, in a sentence fragment (`is required but missing`).
    pub(crate) issue: String,
}

impl Invalid {
    fn missing(location: &'static str, field: String) -> Box<Invalid> {
        Box::new(Invalid {
            location,
            field,
            value: Value::String(String::new()),
            issue: "is required but missing".into(),
        })
    }

    /// `/amount/total is required but missing (body)`
    pub(crate) fn message(&self) -> String {
        format!("{} {} ({})", self.field, self.issue, self.location)
    }

    /// The 400 `PARAM_ERROR` answer, in WeChat's error JSON.
    pub(crate) fn reply(&self) -> Reply {
        (
            StatusCode::BAD_REQUEST,
            json!({
                "code": "PARAM_ERROR",
                "message": self.message(),
                "detail": {
                    "field": self.field,
                    "value": self.value,
                    "issue": self.issue,
                    "location": self.location,
                },
            }),
        )
    }
}

/// Checks an APIv3 request (`v3/`, `hk/`, `global/`): path, query, then body.
/// `json` is the parsed body (`Null` when empty or not JSON); `parts` the parts of a
/// multipart body, when it is one.
pub(crate) fn request(
    matched: &Matched,
    query: &HashMap<String, String>,
    json: &Value,
    parts: Option<&[Part<'_>]>,
) -> Result<(), Box<Invalid>> {
    let schema = matched.op.schema;
    // A path that matched has every placeholder; a documented parameter the
    // template names otherwise (a catalogue slip) has nothing to check.
    for p in schema.parameters_in(Location::Path) {
        if let Some(value) = matched.params.get(&p.name) {
            text(&p.schema, value, "path", &p.name)?;
        }
    }
    for p in schema.parameters_in(Location::Query) {
        match query.get(&p.name) {
            Some(value) => text(&p.schema, value, "query", &p.name)?,
            None if p.required => return Err(Invalid::missing("query", p.name.clone())),
            None => {}
        }
    }
    if let Some(parts) = parts {
        return form(schema, parts);
    }
    let Some(body) = &schema.body else {
        return Ok(());
    };
    // A member the path already carries (`out_order_no` of a discount-card PATCH)
    // need not be repeated in the body.
    let from_path = |name: &str| matched.params.contains_key(name);
    match json {
        Value::Null => match body.required.iter().find(|r| !from_path(r)) {
            Some(first) => Err(Invalid::missing(
                "body",
                At::Member(&At::Root, first).pointer(),
            )),
            None => Ok(()),
        },
        value => check(body, value, At::Root, &from_path),
    }
}

/// A multipart upload: each required part present. A non-file field may also come
/// inside the `meta` JSON, and a required file may come as the part named `file`,
/// the one name the SDKs' media helpers give it.
fn form(schema: &OperationSchema, parts: &[Part<'_>]) -> Result<(), Box<Invalid>> {
    let meta: Option<Map<String, Value>> = parts
        .iter()
        .find(|p| p.name == "meta")
        .and_then(|p| serde_json::from_slice(p.data).ok());
    for p in schema.parameters_in(Location::FormData) {
        let is_file = p.schema.json_type == Some(JsonType::File);
        let present = parts
            .iter()
            .any(|part| part.name == p.name || (is_file && part.name == "file"))
            || (!is_file && meta.as_ref().is_some_and(|m| m.contains_key(&p.name)));
        if p.required && !present {
            return Err(Invalid::missing("form", p.name.clone()));
        }
    }
    Ok(())
}

/// APIv2 ids of which WeChat wants one, though the tables mark each required
/// ("二选一": an order by `transaction_id` or `out_trade_no`, a refund by
/// `refund_id` or `out_refund_no`).
pub(crate) const V2_ALTERNATIVES: [&[&str]; 2] = [
    &["transaction_id", "out_trade_no"],
    &["refund_id", "out_refund_no"],
];

/// Checks APIv2 fields (XML elements, or the query of a GET) against the body
/// schema or the query parameters. Every value arrives as text.
pub(crate) fn v2_fields(
    schema: &OperationSchema,
    fields: &Map<String, Value>,
) -> Result<(), Box<Invalid>> {
    let given = |name: &str| {
        fields
            .get(name)
            .map(scalar_text)
            .filter(|text| !text.is_empty())
    };
    let alternative_given = |name: &str| {
        V2_ALTERNATIVES
            .iter()
            .find(|group| group.contains(&name))
            .is_some_and(|group| group.iter().any(|other| given(other).is_some()))
    };
    if let Some(body) = &schema.body {
        for (name, member) in &body.properties {
            match given(name) {
                // The signature is checked by computing it; HMAC-SHA256's is longer
                // than the tables' `maxLength` of 32.
                Some(_) if name == "sign" => {}
                Some(value) => text(member, &value, "body", name)?,
                // WeChat takes an absent `sign_type` as MD5, whatever the tables say.
                None if name == "sign_type" || alternative_given(name) => {}
                None if body.requires(name) => return Err(Invalid::missing("body", name.clone())),
                None => {}
            }
        }
        for name in &body.required {
            if !body.properties.contains_key(name)
                && given(name).is_none()
                && !alternative_given(name)
            {
                return Err(Invalid::missing("body", name.clone()));
            }
        }
    }
    for p in schema.parameters_in(Location::Query) {
        match given(&p.name) {
            Some(value) => text(&p.schema, &value, "query", &p.name)?,
            None if p.required => return Err(Invalid::missing("query", p.name.clone())),
            None => {}
        }
    }
    Ok(())
}

/// The text of a scalar field (numbers and booleans as written).
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value that arrives as text (a path segment, a query parameter, an XML element).
fn text(
    schema: &Schema,
    value: &str,
    location: &'static str,
    name: &str,
) -> Result<(), Box<Invalid>> {
    let bad = |issue: String| {
        Box::new(Invalid {
            location,
            field: name.to_owned(),
            value: Value::String(value.to_owned()),
            issue,
        })
    };
    let parsed = match schema.json_type {
        Some(JsonType::Integer) => match value.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => return Err(bad("must be an integer".into())),
        },
        Some(JsonType::Number) => match value.parse::<f64>() {
            Ok(n) => Value::from(n),
            Err(_) => return Err(bad("must be a number".into())),
        },
        Some(JsonType::Boolean) => match value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("must be `true` or `false`".into())),
        },
        _ => Value::String(value.to_owned()),
    };
    constraints(schema, &parsed).map_err(bad)
}

/// `enum`, `maxLength`, `minimum`/`maximum` and `minItems`/`maxItems`: the
/// constraints shared by text and JSON values. (`minLength` and `pattern` are not
/// checked: the catalogue has slips there, such as a `minLength` of 128 on
/// `out_trade_no`, that would refuse what WeChat takes.)
fn constraints(schema: &Schema, value: &Value) -> Result<(), String> {
    if !schema.allowed.is_empty() && !schema.allowed.iter().any(|a| same(a, value)) {
        let allowed: Vec<String> = schema.allowed.iter().map(scalar_text).collect();
        return Err(format!(
            "must be one of {}, not {value}",
            allowed.join(", ")
        ));
    }
    if let (Some(max), Value::String(s)) = (schema.max_length, value) {
        let length = s.chars().count() as u64;
        if length > max {
            return Err(format!(
                "is {length} characters long, more than the {max} allowed"
            ));
        }
    }
    if let Value::Number(n) = value {
        let below = |bound: &Number| n.as_f64() < bound.as_f64();
        if let Some(min) = schema.minimum.as_ref().filter(|min| below(min)) {
            return Err(format!("is {n}, less than the minimum {min}"));
        }
        let above = |bound: &Number| n.as_f64() > bound.as_f64();
        if let Some(max) = schema.maximum.as_ref().filter(|max| above(max)) {
            return Err(format!("is {n}, more than the maximum {max}"));
        }
    }
    if let Value::Array(items) = value {
        let count = items.len() as u64;
        if let Some(min) = schema.min_items.filter(|min| count < *min) {
            return Err(format!("has {count} items, fewer than the {min} required"));
        }
        if let Some(max) = schema.max_items.filter(|max| count > *max) {
            return Err(format!("has {count} items, more than the {max} allowed"));
        }
    }
    Ok(())
}

/// Equality of an `enum` value and a given one: `1` and `1.0` are the same number,
/// and a number and its text are the same (the catalogue lists some string enums
/// as numbers; text-borne values arrive as text).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            n.to_string() == *s
        }
        _ => a == b,
    }
}

/// Where a value sits in the body. Written out as a JSON pointer only when a
/// refusal names it, so the walk down a valid body allocates nothing.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Member(&'a At<'a>, &'a str),
    Item(&'a At<'a>, usize),
}

impl At<'_> {
    /// `/amount/total`, escaped as RFC 6901 says; `/` for the body itself.
    fn pointer(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            At::Root => {}
            At::Member(parent, name) => {
                parent.write(out);
                out.push('/');
                out.push_str(&name.replace('~', "~0").replace('/', "~1"));
            }
            At::Item(parent, index) => {
                parent.write(out);
                out.push('/');
                out.push_str(&index.to_string());
            }
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `value` has the schema's JSON type (an untyped schema with members is an
/// object; any other untyped schema accepts anything).
fn has_type(schema: &Schema, value: &Value) -> Result<(), &'static str> {
    let ok = match schema.json_type {
        Some(JsonType::String) => value.is_string(),
        Some(JsonType::Integer) => value.is_i64() || value.is_u64(),
        Some(JsonType::Number) => value.is_number(),
        Some(JsonType::Boolean) => value.is_boolean(),
        Some(JsonType::Object) => value.is_object(),
        Some(JsonType::Array) => value.is_array(),
        Some(JsonType::File) => true,
        None if !schema.properties.is_empty() => value.is_object(),
        None => true,
        // A type added to the catalogue later: not ours to refuse.
        Some(_) => true,
    };
    if ok {
        return Ok(());
    }
    Err(match schema.json_type {
        Some(JsonType::String) => "a string",
        Some(JsonType::Integer) => "an integer",
        Some(JsonType::Number) => "a number",
        Some(JsonType::Boolean) => "a boolean",
        Some(JsonType::Array) => "an array",
        _ => "an object",
    })
}

/// Checks a JSON value at `at`. At the top, `from_path` says which required members
/// the path carries.
fn check(
    schema: &Schema,
    value: &Value,
    at: At<'_>,
    from_path: &dyn Fn(&str) -> bool,
) -> Result<(), Box<Invalid>> {
    let bad = |issue: String| {
        Box::new(Invalid {
            location: "body",
            field: at.pointer(),
            value: value.clone(),
            issue,
        })
    };
    if value.is_null() {
        // Required-ness is the parent's question; an optional null is absent.
        return Ok(());
    }
    if !schema.one_of.is_empty() {
        let mut first = None;
        for variant in &schema.one_of {
            match check(variant, value, at, &|_| false) {
                Ok(()) => {
                    first = None;
                    break;
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first {
            return Err(e);
        }
    }
    if let Err(expected) = has_type(schema, value) {
        return Err(bad(format!("must be {expected}, not {}", kind(value))));
    }
    constraints(schema, value).map_err(bad)?;
    match value {
        Value::Object(members) => {
            let top = matches!(at, At::Root);
            let absent = |name: &str, nullable: bool| match members.get(name) {
                None => true,
                Some(Value::Null) => !nullable,
                Some(_) => false,
            };
            // Documentation order, so the first problem reported is the first a
            // reader of the docs meets.
            for (name, member) in &schema.properties {
                match members.get(name) {
                    Some(v) if !v.is_null() => check(member, v, At::Member(&at, name), &|_| false)?,
                    _ if schema.requires(name)
                        && absent(name, member.nullable)
                        && !(top && from_path(name)) =>
                    {
                        return Err(Invalid::missing("body", At::Member(&at, name).pointer()))
                    }
                    _ => {}
                }
            }
            for name in &schema.required {
                if !schema.properties.contains_key(name)
                    && absent(name, false)
                    && !(top && from_path(name))
                {
                    return Err(Invalid::missing("body", At::Member(&at, name).pointer()));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = &schema.items {
                for (i, v) in items.iter().enumerate() {
                    check(item, v, At::Item(&at, i), &|_| false)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(v: Value) -> Schema {
        serde_json::from_value(v).unwrap()
    }

    fn order() -> Schema {
        schema(json!({
            "type": "object",
            "required": ["amount", "trade_type"],
            "properties": {
                "trade_type": {"type": "string", "enum": ["JSAPI", "NATIVE"]},
                "description": {"type": "string", "maxLength": 4},
                "amount": {
                    "type": "object",
                    "required": ["total"],
                    "properties": {"total": {"type": "integer"}}
                },
                "goods": {"type": "array", "items": {
                    "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}
                }}
            }
        }))
    }

    fn error(value: Value) -> Box<Invalid> {
        check(&order(), &value, At::Root, &|_| false).unwrap_err()
    }

    #[test]
    fn names_the_field_by_its_pointer_and_says_what_is_wrong() {
        let e = error(json!({"trade_type": "JSAPI", "amount": {}}));
        assert_eq!((e.field.as_str(), e.location), ("/amount/total", "body"));
        assert_eq!(e.message(), "/amount/total is required but missing (body)");
        let e = error(json!({"trade_type": "JSAPI", "amount": {"total": "1"}}));
        assert_eq!(e.issue, "must be an integer, not a string");
        assert_eq!(e.value, json!("1"));
        let e = error(json!({"trade_type": "H5", "amount": {"total": 1}}));
        assert_eq!(e.field, "/trade_type");
        assert!(e.issue.contains("JSAPI, NATIVE"), "{}", e.issue);
        let e = error(
            json!({"trade_type": "JSAPI", "amount": {"total": 1}, "description": "五个汉字啊"}),
        );
        assert_eq!(e.issue, "is 5 characters long, more than the 4 allowed");
        let e = error(
            json!({"trade_type": "JSAPI", "amount": {"total": 1}, "goods": [{"id": "a"}, {}]}),
        );
        assert_eq!(e.field, "/goods/1/id");
        assert!(check(
            &order(),
            &json!({"trade_type": "JSAPI", "amount": {"total": 1}, "extra": 1}),
            At::Root,
            &|_| false
        )
        .is_ok());
    }

    #[test]
    fn numbers_and_lists_are_bounded() {
        let limit = schema(json!({"type": "integer", "minimum": 1, "maximum": 100}));
        for ok in ["1", "100", "50"] {
            assert!(text(&limit, ok, "query", "limit").is_ok(), "{ok}");
        }
        let e = text(&limit, "0", "query", "limit").unwrap_err();
        assert_eq!(e.issue, "is 0, less than the minimum 1");
        let e = text(&limit, "101", "query", "limit").unwrap_err();
        assert_eq!(e.issue, "is 101, more than the maximum 100");
        let list = schema(
            json!({"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}}),
        );
        assert!(check(&list, &json!(["a"]), At::Root, &|_| false).is_ok());
        assert!(check(&list, &json!(["a", "b"]), At::Root, &|_| false).is_ok());
        let e = check(&list, &json!([]), At::Root, &|_| false).unwrap_err();
        assert_eq!(e.issue, "has 0 items, fewer than the 1 required");
        let e = check(&list, &json!(["a", "b", "c"]), At::Root, &|_| false).unwrap_err();
        assert_eq!(e.issue, "has 3 items, more than the 2 allowed");
    }

    #[test]
    fn text_values_are_parsed_before_checking() {
        let s = schema(json!({"type": "integer"}));
        assert!(text(&s, "12", "query", "limit").is_ok());
        let e = text(&s, "1x", "query", "limit").unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.location, e.issue.as_str()),
            ("limit", "query", "must be an integer")
        );
    }
}
