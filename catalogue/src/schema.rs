//! Parameters and resolved request/response schemas of every operation (feature
//! `schemas`): what the sandbox validates requests against and builds answers from.
//!
//! The data is `data/schemas.json`, embedded in the binary and parsed once, on first use.
//! Every `$ref` and `allOf` is resolved: each schema is self-contained. Facts only
//! (types, formats, `enum`, lengths, `required` at every depth, examples, XML and
//! WeChat's `x-` markers); no descriptions.
//!
//! ```
//! use wechatpay_chain_catalogue::{lookup, schema, Method};
//!
//! let op = lookup(Method::Patch, "v3/discount-card/orders/{out_order_no}").unwrap();
//! let detail = schema::of(op).unwrap();
//! assert_eq!(detail.path_parameters().next().unwrap().name, "out_order_no");
//! let body = detail.body.as_ref().unwrap();
//! assert_eq!(body.required, ["out_order_no"]);
//! ```

use std::sync::OnceLock;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use crate::method::Method;
use crate::operation::Operation;

const DATA: &str = include_str!("../data/schemas.json");

/// The full description of one operation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OperationSchema {
    /// The method.
    pub method: Method,
    /// The path template, as [`Operation::path`].
    pub path: String,
    /// Path, query, header and form-data parameters, in the catalogue's order.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// The request body's schema (JSON, or the `<xml>` document of APIv2).
    #[serde(default)]
    pub body: Option<Schema>,
    /// The documented answers, by status.
    #[serde(default)]
    pub responses: Vec<Response>,
}

impl OperationSchema {
    /// The parameters in one location.
    pub fn parameters_in(&self, location: Location) -> impl Iterator<Item = &Parameter> {
        self.parameters
            .iter()
            .filter(move |p| p.location == location)
    }

    /// The path parameters (`{out_order_no}`).
    pub fn path_parameters(&self) -> impl Iterator<Item = &Parameter> {
        self.parameters_in(Location::Path)
    }

    /// The first documented 2xx answer.
    pub fn success(&self) -> Option<&Response> {
        self.responses
            .iter()
            .find(|r| (200..300).contains(&r.status))
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum Location {
    /// A `{placeholder}` of the path.
    #[serde(rename = "path")]
    Path,
    /// The query string.
    #[serde(rename = "query")]
    Query,
    /// A request header (`Wechatpay-Serial`, …).
    #[serde(rename = "header")]
    Header,
    /// A part of a `multipart/form-data` body (media uploads: `file`, `meta`).
    #[serde(rename = "formData")]
    FormData,
}

/// One non-body parameter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// Where it goes.
    #[serde(rename = "in")]
    pub location: Location,
    /// Whether a request must carry it.
    #[serde(default)]
    pub required: bool,
    /// Its type and constraints.
    pub schema: Schema,
}

/// One documented answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Response {
    /// The HTTP status (200, 202, 204, …).
    pub status: u16,
    /// The body's schema; `None` for an empty body (204) or an undocumented one.
    #[serde(default)]
    pub schema: Option<Schema>,
    /// Documented answer headers (`Wechatpay-Statement-Sha1` on statements).
    #[serde(default)]
    pub headers: IndexMap<String, Schema>,
}

/// A JSON type, as Swagger 2.0 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum JsonType {
    /// A string.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An object.
    Object,
    /// An array.
    Array,
    /// An uploaded file (form-data parameters only).
    File,
}

/// A resolved schema: the facts of one value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Schema {
    /// The JSON type, when stated.
    #[serde(rename = "type", default)]
    pub json_type: Option<JsonType>,
    /// The format (`int64`, `date-time`, `binary`, WeChat's `jsonObjectLike`, …).
    #[serde(default)]
    pub format: Option<String>,
    /// The allowed values, when restricted.
    #[serde(rename = "enum", default)]
    pub allowed: Vec<Value>,
    /// The longest allowed string, in characters.
    #[serde(rename = "maxLength", default)]
    pub max_length: Option<u64>,
    /// The shortest allowed string, in characters.
    #[serde(rename = "minLength", default)]
    pub min_length: Option<u64>,
    /// A regular expression the string must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The smallest allowed number.
    #[serde(default)]
    pub minimum: Option<serde_json::Number>,
    /// The largest allowed number.
    #[serde(default)]
    pub maximum: Option<serde_json::Number>,
    /// The most items an array may hold.
    #[serde(rename = "maxItems", default)]
    pub max_items: Option<u64>,
    /// The fewest items an array must hold.
    #[serde(rename = "minItems", default)]
    pub min_items: Option<u64>,
    /// An example value from the documentation.
    #[serde(default)]
    pub example: Option<Value>,
    /// The value assumed when absent.
    #[serde(default)]
    pub default: Option<Value>,
    /// Whether `null` is allowed (and, in answers, whether the field may be absent).
    #[serde(default)]
    pub nullable: bool,
    /// The members an object must have.
    #[serde(default)]
    pub required: Vec<String>,
    /// An object's members, in documentation order.
    #[serde(default)]
    pub properties: IndexMap<String, Schema>,
    /// An array's item schema.
    #[serde(default)]
    pub items: Option<Box<Schema>>,
    /// The schema of an object's members when they are free-form.
    #[serde(rename = "additionalProperties", default)]
    pub additional_properties: Option<Value>,
    /// APIv2 XML naming (`{"name": "xml"}` on a document root).
    #[serde(default)]
    pub xml: Option<Value>,
    /// APIv2: this string field holds a JSON document of this schema.
    #[serde(rename = "x-json", default)]
    pub json_string: Option<Box<Schema>>,
    /// APIv2: this string field holds a URL-encoded form of this schema.
    #[serde(rename = "x-urlencode", default)]
    pub urlencoded_string: Option<Box<Schema>>,
    /// APIv2: the XML element name of each item of this array.
    #[serde(rename = "x-key", default)]
    pub xml_item_name: Option<String>,
    /// APIv2: the value is written as CDATA.
    #[serde(rename = "x-cdata", default)]
    pub cdata: bool,
    /// The value is encrypted with the platform key (a sensitive field).
    #[serde(rename = "x-is-sensitive", default)]
    pub sensitive: bool,
    /// The value matches exactly one of these schemas.
    #[serde(rename = "oneOf", default)]
    pub one_of: Vec<Schema>,
    /// Exactly one of the object's properties is to be given.
    #[serde(rename = "x-prop-one-of", default)]
    pub one_property: bool,
}

impl Schema {
    /// Whether the object member `name` is required.
    pub fn requires(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }
}

/// Every operation's schema, in [`crate::operations`] order; parsed on first use.
///
/// # Errors
///
/// Only if the embedded data does not parse, which the crate's tests rule out; the
/// message names the JSON position.
pub fn all() -> Result<&'static [OperationSchema], &'static str> {
    static PARSED: OnceLock<Result<Vec<OperationSchema>, String>> = OnceLock::new();
    match PARSED.get_or_init(|| serde_json::from_str(DATA).map_err(|e| e.to_string())) {
        Ok(list) => Ok(list),
        Err(message) => Err(message),
    }
}

/// The schema of one operation.
pub fn of(operation: &Operation) -> Option<&'static OperationSchema> {
    find(operation.method(), operation.path())
}

/// The schema of the operation `method` on the catalogue path `path` (exactly as the
/// catalogue writes it).
pub fn find(method: Method, path: &str) -> Option<&'static OperationSchema> {
    let list = all().ok()?;
    let index = list
        .binary_search_by(|s| (s.path.as_str(), s.method).cmp(&(path, method)))
        .ok()?;
    list.get(index)
}

/// The size of the embedded JSON, in bytes (for size reports).
pub const EMBEDDED_BYTES: usize = DATA.len();
