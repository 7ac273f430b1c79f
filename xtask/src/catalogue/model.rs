//! From one path's YAML to its operations: the index facts and the cleaned schemas.
//!
//! Facts only: descriptions, titles, tags and editorial extensions (`x-role`,
//! `x-last-updated-at`) are dropped; every other key a schema uses is either kept or
//! counted in the [`Report`], so a new upstream keyword is noticed, not lost silently.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::resolve::Resolver;
use super::yaml;

/// The methods, in the order the catalogue lists them (the catalogue crate's `Method`).
pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Schema keywords kept as they are (after their values are cleaned where they hold
/// schemas): the JSON facts validation and example answers need.
const SCHEMA_KEYS: [&str; 26] = [
    "type",
    "format",
    "enum",
    "maxLength",
    "minLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "maxItems",
    "minItems",
    "uniqueItems",
    "example",
    "default",
    "nullable",
    "required",
    "properties",
    "items",
    "additionalProperties",
    "xml",
    "x-json",
    "x-urlencode",
    "x-key",
    "oneOf",
];

/// Extensions kept as flags (`true` only).
const FLAG_KEYS: [&str; 3] = ["x-cdata", "x-is-sensitive", "x-prop-one-of"];

/// Keys dropped on purpose: prose and editorial metadata.
const DROPPED_KEYS: [&str; 8] = [
    "description",
    "title",
    "tags",
    "summary",
    "x-role",
    "x-last-updated-at",
    "x-version",
    "x-verison",
];

/// The swagger.yaml defaults an operation inherits.
pub struct Defaults {
    consumes: Vec<String>,
    produces: Vec<String>,
}

impl Defaults {
    pub fn read(swagger: &Path) -> Result<Defaults, String> {
        let root = yaml::load(swagger)?;
        Ok(Defaults {
            consumes: strings(root.get("consumes")),
            produces: strings(root.get("produces")),
        })
    }
}

/// Keys met that are neither kept nor dropped on purpose, with where first seen.
#[derive(Default)]
pub struct Report {
    unknown: BTreeMap<String, (usize, String)>,
}

impl Report {
    fn note(&mut self, key: &str, path: &str) {
        let entry = self
            .unknown
            .entry(key.to_owned())
            .or_insert_with(|| (0, path.to_owned()));
        entry.0 += 1;
    }

    pub fn print(&self) {
        for (key, (count, first)) in &self.unknown {
            eprintln!("note: dropped unknown key `{key}` x{count} (first in {first})");
        }
    }
}

/// One operation, ready to emit.
pub struct Operation {
    /// Index into [`METHODS`].
    pub method: usize,
    pub path: String,
    pub name: String,
    pub doc_url: String,
    pub deprecated: bool,
    pub cert_required: bool,
    pub base_uri: String,
    pub consumes: Vec<String>,
    pub produces: Vec<String>,
    /// `{method, path, parameters?, body?, responses}` for `schemas.json`.
    pub schema: Value,
}

/// The operations of the path item in `file`.
pub fn operations(
    path: &str,
    file: &Path,
    defaults: &Defaults,
    resolver: &mut Resolver,
    report: &mut Report,
) -> Result<Vec<Operation>, String> {
    let raw = yaml::load(file)?;
    let item = resolver.resolve(&raw, file)?;
    let Value::Object(item) = item else {
        return Err(format!("{}: not a path item", file.display()));
    };
    let shared = item
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (key, op) in &item {
        let Some(method) = METHODS.iter().position(|m| m == key) else {
            if key != "parameters" {
                report.note(&format!("path item: {key}"), path);
            }
            continue;
        };
        out.push(operation(method, path, op, &shared, defaults, report)?);
    }
    if out.is_empty() {
        return Err(format!("{}: no operation", file.display()));
    }
    Ok(out)
}

fn operation(
    method: usize,
    path: &str,
    op: &Value,
    shared: &[Value],
    defaults: &Defaults,
    report: &mut Report,
) -> Result<Operation, String> {
    let text = |key: &str| {
        op.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    for key in op.as_object().map(Map::keys).into_iter().flatten() {
        let known = [
            "summary",
            "description",
            "tags",
            "tag",
            "x-is-sensitive",
            "deprecated",
            "x-api-cert-required",
            "x-base-uri",
            "x-baseuri",
            "consumes",
            "produces",
            "parameters",
            "responses",
            "x-role",
            "x-last-updated-at",
            "x-version",
            "x-verison",
        ];
        if !known.contains(&key.as_str()) {
            report.note(&format!("operation: {key}"), path);
        }
    }
    // `x-baseuri` is the catalogue's one misspelling of `x-base-uri`.
    let base_uri = match text("x-base-uri") {
        uri if uri.is_empty() => text("x-baseuri"),
        uri => uri,
    };
    let consumes = match strings(op.get("consumes")) {
        list if list.is_empty() => defaults.consumes.clone(),
        list => list,
    };
    let produces = match strings(op.get("produces")) {
        list if list.is_empty() => defaults.produces.clone(),
        list => list,
    };

    let own = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut parameters = Vec::new();
    let mut body = None;
    // Operation parameters override path-level ones of the same name and location.
    let mut all: Vec<&Value> = own.iter().collect();
    for p in shared {
        let same = |q: &&Value| q.get("name") == p.get("name") && q.get("in") == p.get("in");
        if !all.iter().any(same) {
            all.push(p);
        }
    }
    for p in all {
        let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
        if location == "body" {
            body = Some(clean(p.get("schema").unwrap_or(&Value::Null), path, report));
            continue;
        }
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{path}: a parameter without a name"))?;
        let mut schema = p.clone();
        if let Some(map) = schema.as_object_mut() {
            for key in ["name", "in", "required", "require"] {
                map.remove(key);
            }
            // A form-data `meta` part documents its JSON text with a `schema`: that is
            // what `x-json` says of a string elsewhere.
            if let Some(inner) = map.remove("schema") {
                map.entry("x-json").or_insert(inner);
            }
        }
        let mut entry = Map::new();
        entry.insert("name".into(), json!(name));
        entry.insert("in".into(), json!(location));
        // `require: true` is the catalogue's misspelling on a few hk/ parameters.
        let required = |key: &str| p.get(key).and_then(Value::as_bool) == Some(true);
        if required("required") || required("require") {
            entry.insert("required".into(), json!(true));
        }
        entry.insert("schema".into(), clean(&schema, path, report));
        parameters.push(Value::Object(entry));
    }

    let mut responses = Vec::new();
    if let Some(Value::Object(map)) = op.get("responses") {
        let mut codes: Vec<(u16, &Value)> = Vec::new();
        for (code, response) in map {
            let status = code
                .parse::<u16>()
                .map_err(|_| format!("{path}: response code {code:?} is not a status"))?;
            codes.push((status, response));
        }
        codes.sort_by_key(|(status, _)| *status);
        for (status, response) in codes {
            let mut entry = Map::new();
            entry.insert("status".into(), json!(status));
            for key in response.as_object().map(Map::keys).into_iter().flatten() {
                if !["schema", "headers", "description"].contains(&key.as_str()) {
                    report.note(&format!("response: {key}"), path);
                }
            }
            if let Some(schema) = response.get("schema") {
                entry.insert("schema".into(), clean(schema, path, report));
            }
            if let Some(Value::Object(headers)) = response.get("headers") {
                let headers = headers
                    .iter()
                    .map(|(name, s)| (name.clone(), clean(s, path, report)))
                    .collect();
                entry.insert("headers".into(), Value::Object(headers));
            }
            responses.push(Value::Object(entry));
        }
    }

    let mut schema = Map::new();
    schema.insert("method".into(), json!(METHODS[method].to_ascii_uppercase()));
    schema.insert("path".into(), json!(path));
    if !parameters.is_empty() {
        schema.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = body {
        schema.insert("body".into(), body);
    }
    schema.insert("responses".into(), Value::Array(responses));

    Ok(Operation {
        method,
        path: path.to_owned(),
        name: text("summary"),
        doc_url: doc_url(&text("description")),
        deprecated: op.get("deprecated").and_then(Value::as_bool) == Some(true),
        cert_required: op.get("x-api-cert-required").and_then(Value::as_bool) == Some(true),
        base_uri,
        consumes,
        produces,
        schema: Value::Object(schema),
    })
}

/// A schema with only the facts kept.
fn clean(schema: &Value, path: &str, report: &mut Report) -> Value {
    let Value::Object(map) = schema else {
        // `additionalProperties: true` and the like.
        return schema.clone();
    };
    let mut out = Map::new();
    // `required: true` on a property (a Swagger 2.0 slip upstream makes) means the
    // parent requires it: lifted into the parent's list.
    let mut lifted = Vec::new();
    for (key, value) in map {
        let key = key.as_str();
        if key == "required" && !value.is_array() {
            continue;
        }
        if key == "properties" {
            for (name, property) in value.as_object().into_iter().flatten() {
                if property.get("required") == Some(&json!(true)) {
                    lifted.push(json!(name));
                }
            }
        }
        if value.is_null() {
            // `properties:` or `example:` left empty upstream says nothing.
            continue;
        }
        if SCHEMA_KEYS.contains(&key) {
            let value = match key {
                "type" => match json_type(value) {
                    Some(name) => json!(name),
                    None => {
                        report.note(&format!("type: {value}"), path);
                        continue;
                    }
                },
                "items" | "additionalProperties" | "x-json" | "x-urlencode" => {
                    clean(value, path, report)
                }
                "oneOf" => match value {
                    Value::Array(parts) => {
                        Value::Array(parts.iter().map(|s| clean(s, path, report)).collect())
                    }
                    other => other.clone(),
                },
                "properties" => match value {
                    Value::Object(props) => Value::Object(
                        props
                            .iter()
                            .map(|(name, s)| (name.clone(), clean(s, path, report)))
                            .collect(),
                    ),
                    other => other.clone(),
                },
                "nullable" | "uniqueItems" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    if value == &json!(false) {
                        continue;
                    }
                    value.clone()
                }
                _ => value.clone(),
            };
            out.insert(key.to_owned(), value);
        } else if FLAG_KEYS.contains(&key) {
            if value == &json!(true) {
                out.insert(key.to_owned(), json!(true));
            }
        } else if !DROPPED_KEYS.contains(&key) {
            report.note(key, path);
        }
    }
    if !lifted.is_empty() {
        let required = out.entry("required").or_insert_with(|| json!([]));
        if let Value::Array(names) = required {
            for name in lifted {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    Value::Object(out)
}

/// A Swagger type name; upstream's few slips (`int`, `uint64`, `stringde`) are read
/// as what they plainly mean.
fn json_type(value: &Value) -> Option<&'static str> {
    Some(match value.as_str()?.trim() {
        "string" | "stringde" => "string",
        "integer" | "int" | "uint64" => "integer",
        "number" => "number",
        "boolean" => "boolean",
        "object" => "object",
        "array" => "array",
        "file" => "file",
        _ => return None,
    })
}

/// The official documentation link of an operation: the last `[官方文档](…)` link of
/// its description, preferring the newer documentation centre (`/doc/`) over the wiki.
fn doc_url(description: &str) -> String {
    const LABEL: &str = "[官方文档](";
    let mut links = Vec::new();
    let mut rest = description;
    while let Some(start) = rest.find(LABEL) {
        rest = &rest[start + LABEL.len()..];
        let end = rest.find(')').unwrap_or(rest.len());
        links.push(rest[..end].trim());
        rest = &rest[end..];
    }
    let newest = links
        .iter()
        .rev()
        .find(|url| url.contains("pay.weixin.qq.com/doc/"));
    newest
        .or(links.last())
        .map(|url| (*url).to_owned())
        .unwrap_or_default()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
