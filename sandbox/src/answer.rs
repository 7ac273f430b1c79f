//! The generic answer of a catalogue operation no handler serves: the documented
//! 2xx with a body built from the response schema.
//!
//! - Every required member is present and of its type, at every depth; arrays hold
//!   one item.
//! - A member named like a path parameter, a query parameter or a request body
//!   member echoes the request's value (`out_trade_no`, `appid`, `mchid`, …).
//! - Otherwise the documented example is used (or the first `enum` value, or a value
//!   of the type); ids (`…_id`, `id`) get a per-call serial so they are unique.
//! - A `download_url` points at the sandbox's `v3/billdownload/file`, and its
//!   `hash_type`/`hash_value` siblings are the hash of the file served there.

use std::collections::HashMap;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use wechatpay_chain_catalogue::schema::{JsonType, Schema};

use crate::catalogue::Compiled;
use crate::certificates::rfc3339_beijing;
use crate::hex;
use crate::routes::Reply;

/// How deep answers are built; the catalogue's deepest schemas are far shallower.
const MAX_DEPTH: usize = 12;

/// What an answer may echo: the request's named scalars.
pub(crate) struct Echo<'a> {
    values: HashMap<&'a str, Value>,
}

impl<'a> Echo<'a> {
    /// The path and query parameters, and every scalar member of the body at any
    /// depth (the shallowest wins when a name repeats).
    pub(crate) fn new(
        params: &'a HashMap<String, String>,
        query: &'a HashMap<String, String>,
        body: &'a Value,
    ) -> Echo<'a> {
        let mut values = HashMap::new();
        // The path's values win over a query parameter of the same name.
        for (k, v) in query.iter().chain(params) {
            values.insert(k.as_str(), Value::String(v.clone()));
        }
        let mut level: Vec<&'a Value> = vec![body];
        while !level.is_empty() {
            let mut next = Vec::new();
            for value in level {
                match value {
                    Value::Object(members) => {
                        for (k, v) in members {
                            match v {
                                Value::Object(_) | Value::Array(_) => next.push(v),
                                Value::Null => {}
                                scalar => {
                                    values.entry(k.as_str()).or_insert_with(|| scalar.clone());
                                }
                            }
                        }
                    }
                    Value::Array(items) => next.extend(items),
                    _ => {}
                }
            }
            level = next;
        }
        Echo { values }
    }

    /// From APIv2 fields (all text).
    pub(crate) fn from_fields(fields: &'a Map<String, Value>) -> Echo<'a> {
        let values = fields
            .iter()
            .filter(|(_, v)| !matches!(v, Value::Object(_) | Value::Array(_)))
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        Echo { values }
    }

    /// The echoed value for a member `name` of `schema`'s type, converted from text
    /// where the request carried it as text.
    fn get(&self, name: &str, schema: &Schema) -> Option<Value> {
        let value = self.values.get(name)?;
        match (schema.json_type, value) {
            (Some(JsonType::Integer), Value::String(s)) => s.parse::<i64>().ok().map(Value::from),
            (Some(JsonType::Number), Value::String(s)) => s.parse::<f64>().ok().map(Value::from),
            (Some(JsonType::String), Value::String(_)) => Some(value.clone()),
            (Some(JsonType::String), Value::Number(n)) => Some(Value::String(n.to_string())),
            (Some(JsonType::Integer), Value::Number(n)) if n.is_i64() || n.is_u64() => {
                Some(value.clone())
            }
            (Some(JsonType::Number), Value::Number(_)) => Some(value.clone()),
            (Some(JsonType::Boolean), Value::Bool(_)) => Some(value.clone()),
            (None, v) => Some(v.clone()),
            _ => None,
        }
    }
}

/// Where answers come from: the request, a serial unique to the call, and the host
/// downloads are served on.
pub(crate) struct Builder<'a> {
    pub(crate) echo: Echo<'a>,
    pub(crate) serial: u64,
    pub(crate) host: &'a str,
}

/// The JSON answer of an APIv3 operation.
pub(crate) fn json(op: &Compiled, builder: &Builder<'_>) -> Reply {
    let Some(success) = op.schema.success() else {
        return (StatusCode::OK, Value::Object(Map::new()));
    };
    let status = StatusCode::from_u16(success.status).unwrap_or(StatusCode::OK);
    match &success.schema {
        _ if status == StatusCode::NO_CONTENT => (status, Value::Null),
        Some(schema) => (status, builder.value(schema, None, 0)),
        None => (status, Value::Null),
    }
}

impl Builder<'_> {
    /// A value of `schema`, for the member `name` when it has one.
    pub(crate) fn value(&self, schema: &Schema, name: Option<&str>, depth: usize) -> Value {
        if let Some(echoed) = name.and_then(|n| self.echo.get(n, schema)) {
            if is_scalar(&echoed) {
                return echoed;
            }
        }
        if let Some(first) = schema.one_of.first() {
            return self.value(first, name, depth);
        }
        let is_object = schema.json_type == Some(JsonType::Object)
            || (schema.json_type.is_none() && !schema.properties.is_empty());
        if is_object {
            return Value::Object(self.object(schema, depth));
        }
        match schema.json_type {
            Some(JsonType::Array) => {
                let item = match &schema.items {
                    Some(items) if depth < MAX_DEPTH => self.value(items, None, depth + 1),
                    _ => Value::String("sandbox".into()),
                };
                Value::Array(vec![item])
            }
            Some(JsonType::Integer) => self.number(schema, true),
            Some(JsonType::Number) => self.number(schema, false),
            Some(JsonType::Boolean) => schema
                .example
                .as_ref()
                .filter(|e| e.is_boolean())
                .cloned()
                .unwrap_or(Value::Bool(false)),
            _ => Value::String(self.string(schema, name.unwrap_or(""))),
        }
    }

    /// The required members, and the optional ones the request names.
    fn object(&self, schema: &Schema, depth: usize) -> Map<String, Value> {
        let mut out = Map::new();
        if depth >= MAX_DEPTH {
            return out;
        }
        // A download's link and hash come together or not at all.
        let download = schema.properties.contains_key("download_url");
        for (name, member) in &schema.properties {
            let echoed = self.echo.get(name, member).is_some_and(|v| is_scalar(&v));
            let of_download =
                download && matches!(name.as_str(), "download_url" | "hash_type" | "hash_value");
            if schema.requires(name) || echoed || of_download {
                out.insert(name.clone(), self.value(member, Some(name), depth + 1));
            }
        }
        // A few schemas require members they do not describe.
        for name in &schema.required {
            if !out.contains_key(name) {
                out.insert(name.clone(), undescribed(name, self.serial));
            }
        }
        if let Some(Value::String(_)) = out.get("download_url") {
            self.download(schema, &mut out);
        }
        out
    }

    /// Points a `download_url` at the sandbox and hashes what it serves there.
    fn download(&self, schema: &Schema, out: &mut Map<String, Value>) {
        let token = format!("SANDBOX{:012}", self.serial);
        out.insert(
            "download_url".into(),
            Value::String(format!(
                "http://{}/{}?token={token}",
                self.host,
                crate::bills::FILE
            )),
        );
        if !out.contains_key("hash_value") {
            return;
        }
        let content = download_content(&token);
        let documented = |k: &str| {
            schema.properties.get("hash_type").is_some_and(|s| {
                s.example.as_ref().and_then(Value::as_str) == Some(k)
                    || s.allowed.iter().any(|a| a.as_str() == Some(k))
            })
        };
        let (kind, digest) = if documented("SHA1") {
            ("SHA1", hex(&Sha1::digest(&content)))
        } else {
            ("SHA256", hex(&Sha256::digest(&content)))
        };
        out.insert("hash_type".into(), Value::String(kind.into()));
        out.insert("hash_value".into(), Value::String(digest));
    }

    fn number(&self, schema: &Schema, integer: bool) -> Value {
        let fits = |v: &Value| {
            if integer {
                v.is_i64() || v.is_u64()
            } else {
                v.is_number()
            }
        };
        if let Some(first) = schema.allowed.iter().find(|v| fits(v)) {
            return first.clone();
        }
        if let Some(example) = schema.example.as_ref().filter(|v| fits(v)) {
            return example.clone();
        }
        // A text example of a number (`"100"`) is still the documented value.
        if let Some(Value::String(s)) = &schema.example {
            if let Ok(n) = s.parse::<i64>() {
                return Value::from(n);
            }
        }
        match &schema.minimum {
            Some(min) => Value::Number(min.clone()),
            None => Value::from(1),
        }
    }

    fn string(&self, schema: &Schema, name: &str) -> String {
        let example = match &schema.example {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
            _ => None,
        };
        let allowed: Vec<&str> = schema.allowed.iter().filter_map(Value::as_str).collect();
        if !allowed.is_empty() {
            return match &example {
                Some(e) if allowed.contains(&e.as_str()) => e.clone(),
                _ => allowed[0].to_owned(),
            };
        }
        let is_id = name == "id" || name.ends_with("_id");
        let text = match example {
            Some(e) if is_id => unique(&e, self.serial),
            Some(e) => e,
            None if is_id => format!("sandbox{:012}", self.serial),
            None if schema.format.as_deref() == Some("date-time") || name.ends_with("_time") => {
                rfc3339_beijing(SystemTime::now())
            }
            None => "sandbox".into(),
        };
        match schema.max_length {
            Some(max) => text.chars().take(max as usize).collect(),
            None => text,
        }
    }
}

/// A member a schema requires without describing it: a count by its name's look,
/// else text.
fn undescribed(name: &str, serial: u64) -> Value {
    let numeric = ["count", "limit", "offset", "num", "total", "amount", "size"];
    if numeric.iter().any(|n| name.ends_with(n)) {
        Value::from(0)
    } else if name == "id" || name.ends_with("_id") {
        Value::String(format!("sandbox{serial:012}"))
    } else {
        Value::String("sandbox".into())
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Object(_) | Value::Array(_) | Value::Null)
}

/// `example` with its tail replaced by `serial`, keeping its length (and so its
/// `maxLength`) where it is long enough.
fn unique(example: &str, serial: u64) -> String {
    let tail = serial.to_string();
    if example.is_ascii() && example.len() > tail.len() {
        format!("{}{tail}", &example[..example.len() - tail.len()])
    } else {
        format!("{example}{tail}")
    }
}

/// What a generic download token serves: the same bytes for the same token, so
/// the hash an answer announced matches the file fetched later.
pub(crate) fn download_content(token: &str) -> Bytes {
    Bytes::from(format!(
        "sandbox file\r\ntoken,`{token}\r\nthis file stands in for a WeChat Pay download\r\n"
    ))
}

/// The answer of a download operation (bills, electronic receipts): the file, as
/// is, unsigned as WeChat serves files. PDFs get a minimal PDF document.
pub(crate) fn file(op: &Compiled, token: &str) -> Response<Full<Bytes>> {
    let pdf = op.operation.produces().contains(&"application/pdf");
    let (content_type, body) = if pdf {
        (
            "application/pdf",
            Bytes::from(format!(
                "%PDF-1.4\n% sandbox receipt {token}\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
            )),
        )
    } else {
        ("text/plain; charset=utf-8", download_content(token))
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether the operation answers a file rather than JSON or XML.
pub(crate) fn is_download(op: &Compiled) -> bool {
    let produces = op.operation.produces();
    !produces.is_empty()
        && !produces
            .iter()
            .any(|t| t.contains("json") || t.contains("xml"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_stay_as_long_as_the_example() {
        assert_eq!(unique("4200000000", 17), "4200000017");
        assert_eq!(unique("ab", 1234), "ab1234");
    }

    #[test]
    fn builds_required_members_echoes_and_examples() {
        let schema: Schema = serde_json::from_value(json!({
            "type": "object",
            "required": ["transaction_id", "amount", "state"],
            "properties": {
                "out_trade_no": {"type": "string"},
                "transaction_id": {"type": "string", "example": "4200000000"},
                "state": {"type": "string", "enum": ["A", "B"], "example": "B"},
                "amount": {"type": "object", "required": ["total"], "properties": {"total": {"type": "integer"}}},
                "note": {"type": "string", "example": "not required"}
            }
        }))
        .unwrap();
        let params = HashMap::from([("out_trade_no".to_owned(), "T1".to_owned())]);
        let query = HashMap::new();
        let body = json!({"amount": {"total": 5}});
        let builder = Builder {
            echo: Echo::new(&params, &query, &body),
            serial: 3,
            host: "127.0.0.1:1",
        };
        let v = builder.value(&schema, None, 0);
        assert_eq!(
            v,
            json!({"out_trade_no": "T1", "transaction_id": "4200000003", "state": "B", "amount": {"total": 5}})
        );
    }
}
