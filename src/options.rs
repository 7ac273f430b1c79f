//! The untyped request option map (Guzzle's request options, as wechatpay-php takes
//! them): parsed once per call into typed [`RequestOptions`], every key accounted for.

use std::time::Duration;

use bytes::Bytes;
use http::header::{
    HeaderName, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING,
};
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};

use crate::encoding::{is_sendable_query, percent_encode_into};
use crate::error::Error;
use crate::php_text;
use crate::template::{Template, OPTION_KEYS};
use crate::uri::BaseUri;

/// The body of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// Serialised from the `json` option.
    Json(Bytes),
    /// The `body` option, sent as is, typed only by the caller's `headers`.
    Raw(Bytes),
}

/// The typed form of an option map, placeholders removed.
#[derive(Debug, Default)]
pub(crate) struct RequestOptions {
    pub(crate) body: Option<Body>,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) base_uri: Option<BaseUri>,
    /// APIv2: the payload.
    pub(crate) xml: Option<Map<String, Value>>,
    /// APIv2: do not add a `nonce_str`.
    pub(crate) nonceless: bool,
    /// APIv2: present the merchant's client certificate.
    pub(crate) security: bool,
}

/// Per-request timeouts, carried to the transport in the request's extensions
/// (`None`: the client's default), and the client's defaults.
///
/// `timeout` bounds a whole API call (connecting, sending, the answer's head and
/// body). A streamed download ([`Client::download_to`](crate::Client::download_to))
/// may take longer than any fixed deadline, so for it the same duration bounds
/// each wait instead: for the answer's head, and between two chunks of its body
/// (an idle timeout).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// The whole request's deadline (the `timeout` option).
    pub timeout: Option<Duration>,
    /// The connection's deadline (the `connect_timeout` option).
    pub connect_timeout: Option<Duration>,
}

impl Timeouts {
    /// The client's default deadline for a whole API call: 30 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The client's default deadline for connecting: 5 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    /// These timeouts, with the defaults where none is set: no call waits forever.
    pub fn or_defaults(self) -> Timeouts {
        Timeouts {
            timeout: Some(self.timeout.unwrap_or(Self::DEFAULT_TIMEOUT)),
            connect_timeout: Some(
                self.connect_timeout
                    .unwrap_or(Self::DEFAULT_CONNECT_TIMEOUT),
            ),
        }
    }
}

/// Borrows the option map of a call. `Value::Null` means no options.
pub(crate) fn as_map(options: &Value) -> Result<Option<&Map<String, Value>>, Error> {
    match options {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(Error::option(
            "(options)",
            format!(
                "the options must be a JSON object (or null), not {}",
                kind_of(other)
            ),
        )),
    }
}

impl RequestOptions {
    /// Parses the option map of a call on `template`. Placeholder keys are skipped
    /// (the template consumes them); any other unknown key is an error. `apiv2`
    /// selects which protocol's options are accepted.
    pub(crate) fn parse(
        template: &Template,
        map: Option<&Map<String, Value>>,
        apiv2: bool,
    ) -> Result<Self, Error> {
        let mut out = RequestOptions::default();
        let Some(map) = map else {
            return Ok(out);
        };
        for (key, value) in map {
            match key.as_str() {
                "json" | "body" if apiv2 => {
                    return Err(Error::option(
                        key.clone(),
                        "this path is APIv2, which sends the `xml` option",
                    ))
                }
                "xml" if apiv2 => match value {
                    Value::Object(m) => out.xml = Some(m.clone()),
                    other => {
                        return Err(Error::option(
                            "xml",
                            format!("must be an object of fields, not {}", kind_of(other)),
                        ))
                    }
                },
                "nonceless" if apiv2 => out.nonceless = parse_flag("nonceless", value)?,
                "security" if apiv2 => out.security = parse_flag("security", value)?,
                "json" => {
                    let bytes = serde_json::to_vec(value)
                        .map_err(|e| Error::option("json", e.to_string()))?;
                    out.set_body("json", Body::Json(bytes.into()))?;
                }
                "body" => match value {
                    Value::String(s) => {
                        out.set_body("body", Body::Raw(Bytes::copy_from_slice(s.as_bytes())))?
                    }
                    other => {
                        return Err(Error::option(
                            "body",
                            format!(
                            "must be a string sent as is, not {}; use `json` for structured data",
                            kind_of(other)
                        ),
                        ))
                    }
                },
                "query" => out.query = parse_query(value)?,
                "headers" => out.headers = parse_headers(value)?,
                "timeout" => out.timeout = Some(parse_seconds("timeout", value)?),
                "connect_timeout" => {
                    out.connect_timeout = Some(parse_seconds("connect_timeout", value)?)
                }
                "base_uri" => match value {
                    Value::String(s) => {
                        out.base_uri =
                            Some(BaseUri::parse(s).map_err(|m| Error::option("base_uri", m))?)
                    }
                    other => {
                        return Err(Error::option(
                            "base_uri",
                            format!("must be a string, not {}", kind_of(other)),
                        ))
                    }
                },
                "xml" | "nonceless" | "security" => {
                    return Err(Error::option(
                        key.clone(),
                        "is an APIv2 option; this path is APIv3 (APIv2 paths start with `v2/`)",
                    ))
                }
                _ if template.has_placeholder(key) => {}
                _ => return Err(unknown_key(key, template)),
            }
        }
        Ok(out)
    }

    fn set_body(&mut self, key: &str, body: Body) -> Result<(), Error> {
        if self.body.is_some() {
            return Err(Error::option(
                key,
                "`json` and `body` are exclusive: give one of them",
            ));
        }
        self.body = Some(body);
        Ok(())
    }

    /// Lays the `headers` option over `headers`: each name given replaces what was
    /// there, with every value given for it (as Guzzle merges its header option).
    pub(crate) fn apply_headers(&self, headers: &mut HeaderMap) {
        for name in self.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        Timeouts {
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
        }
    }
}

fn unknown_key(key: &str, template: &Template) -> Error {
    let mut accepted: Vec<&str> = OPTION_KEYS[..7].to_vec();
    let placeholders = template.placeholders();
    accepted.extend(placeholders.iter().map(String::as_str));
    Error::option(
        key,
        format!(
            "unknown option (a typo?); accepted keys are {} for template `{}`",
            accepted.join(", "),
            template
        ),
    )
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Appends `key=value` pairs for `value` as PHP's `http_build_query` (RFC 3986, as
/// Guzzle calls it) writes them: `true`/`false` as `1`/`0`, `null` left out, arrays
/// and objects in bracket form (`arr%5B0%5D=a`, `m%5Bk%5D=v`), at any depth.
fn build_query_pair(key: &str, value: &Value, out: &mut String) {
    let mut pair = |text: &str| {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        percent_encode_into(text.as_bytes(), out);
    };
    match value {
        Value::Null => {}
        Value::Bool(b) => pair(if *b { "1" } else { "0" }),
        Value::Number(n) => pair(&php_text::number(n)),
        Value::String(s) => pair(s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                build_query_pair(&format!("{key}%5B{i}%5D"), item, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let mut nested = format!("{key}%5B");
                percent_encode_into(k.as_bytes(), &mut nested);
                nested.push_str("%5D");
                build_query_pair(&nested, item, out);
            }
        }
    }
}

/// Encodes the `query` option once: the string returned is what is signed and sent.
fn parse_query(value: &Value) -> Result<Option<String>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let s = s.strip_prefix('?').unwrap_or(s);
            if s.is_empty() {
                return Ok(None);
            }
            if !is_sendable_query(s) {
                return Err(Error::option(
                    "query",
                    "the query string holds characters that must be percent-encoded (space, non-ASCII, quotes, `#`…); pass an object to have it encoded",
                ));
            }
            Ok(Some(s.to_owned()))
        }
        Value::Object(map) => {
            let mut out = String::new();
            for (k, v) in map {
                let mut key = String::new();
                percent_encode_into(k.as_bytes(), &mut key);
                build_query_pair(&key, v, &mut out);
            }
            Ok((!out.is_empty()).then_some(out))
        }
        other => Err(Error::option(
            "query",
            format!(
                "must be an object (values as PHP's http_build_query writes them) or a query string, not {}",
                kind_of(other)
            ),
        )),
    }
}

/// Headers that say where and how the request travels: given by hand they could
/// make the bytes on the wire differ from the bytes signed.
const FRAMING: [HeaderName; 4] = [HOST, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION];

fn parse_headers(value: &Value) -> Result<HeaderMap, Error> {
    let Value::Object(map) = value else {
        return Err(Error::option(
            "headers",
            format!(
                "must be an object of header name to string, not {}",
                kind_of(value)
            ),
        ));
    };
    let mut headers = HeaderMap::with_capacity(map.len());
    for (name, v) in map {
        let key = format!("headers.{name}");
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::option(key.clone(), "is not a valid header name"))?;
        if header == AUTHORIZATION {
            return Err(Error::option(
                key,
                "is set by the signer and cannot be given",
            ));
        }
        if FRAMING.contains(&header) {
            return Err(Error::option(
                key,
                "is set by the HTTP stack from what is sent (what is signed is what is sent) and cannot be given",
            ));
        }
        // Guzzle casts each value as PHP does and sends a list as one line per item.
        let (items, in_list) = match v {
            Value::Array(items) => (items.as_slice(), true),
            single => (std::slice::from_ref(single), false),
        };
        for item in items {
            let Some(text) = php_text::scalar(item) else {
                let kind = if in_list {
                    "a list holding a list or an object"
                } else {
                    kind_of(item)
                };
                return Err(Error::option(
                    key,
                    format!("must be a string or a list of strings, not {kind}"),
                ));
            };
            let hv = HeaderValue::from_str(&text).map_err(|_| {
                Error::option(
                    key.clone(),
                    "holds characters not allowed in a header value (newline, control or non-ASCII)",
                )
            })?;
            headers.append(header.clone(), hv);
        }
    }
    Ok(headers)
}

fn parse_flag(key: &str, value: &Value) -> Result<bool, Error> {
    value.as_bool().ok_or_else(|| {
        Error::option(
            key,
            format!("must be true or false, not {}", kind_of(value)),
        )
    })
}

fn parse_seconds(key: &str, value: &Value) -> Result<Duration, Error> {
    let secs = value
        .as_f64()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9);
    secs.map(Duration::from_secs_f64).ok_or_else(|| {
        Error::option(
            key,
            format!("must be a positive number of seconds, not {value}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(tpl: &str, v: Value) -> Result<RequestOptions, Error> {
        let t = Template::parse(tpl).unwrap();
        RequestOptions::parse(&t, as_map(&v)?, false)
    }

    #[test]
    fn apiv2_options_are_refused_on_apiv3_paths_by_name() {
        let t = Template::parse("v3/x").unwrap();
        for (key, value) in [
            ("xml", json!({})),
            ("nonceless", json!(true)),
            ("security", json!(true)),
        ] {
            let options = json!({ key: value });
            let e = RequestOptions::parse(&t, as_map(&options).unwrap(), false)
                .err()
                .unwrap_or_else(|| panic!("`{key}` accepted on an APIv3 path"))
                .to_string();
            assert!(e.contains(key) && e.contains("is an APIv2 option"), "{e}");
            // The same option is taken on an APIv2 path.
            let v2 = RequestOptions::parse(&t, as_map(&options).unwrap(), true).unwrap();
            match key {
                "xml" => assert_eq!(v2.xml, Some(serde_json::Map::new())),
                "nonceless" => assert!(v2.nonceless),
                _ => assert!(v2.security),
            }
        }
    }

    #[test]
    fn query_object_is_encoded_in_order() {
        let o = parse(
            "v3/x",
            json!({"query": {"b": "先享卡 测试", "a": 1, "c": true}}),
        )
        .unwrap();
        assert_eq!(
            o.query.as_deref(),
            Some("b=%E5%85%88%E4%BA%AB%E5%8D%A1%20%E6%B5%8B%E8%AF%95&a=1&c=1")
        );
    }

    #[test]
    fn ready_query_is_kept_or_refused() {
        let o = parse("v3/x", json!({"query": "?limit=10&offset=0"})).unwrap();
        assert_eq!(o.query.as_deref(), Some("limit=10&offset=0"));
        let e = parse("v3/x", json!({"query": "a=b c"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("option `query`"), "{e}");
    }

    #[test]
    fn unknown_keys_are_named_with_the_accepted_list() {
        let e = parse("v3/orders/{id}", json!({"jsno": {}, "id": "1"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("option `jsno`"), "{e}");
        assert!(
            e.contains("json, body, query, headers, timeout, connect_timeout, base_uri, id"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_kind_of_value_given() {
        for (v, needle) in [
            (json!([1]), "not an array"),
            (json!({"query": [1]}), "not an array"),
            (json!({"query": 5}), "not a number"),
            (json!({"body": {"a": 1}}), "not an object"),
            (json!({"body": true}), "not a boolean"),
            (json!({"body": null}), "not null"),
            (json!({"headers": "X-A: b"}), "not a string"),
            (json!({"headers": {"X-A": {"k": "v"}}}), "not an object"),
            (
                json!({"headers": {"X-A": ["a", ["b"]]}}),
                "not a list holding a list or an object",
            ),
            (json!({"base_uri": 1}), "not a number"),
        ] {
            let e = parse("v3/x", v.clone()).unwrap_err().to_string();
            assert!(e.contains(needle), "{v}: {e}");
        }
    }

    #[test]
    fn seconds_are_positive_and_below_a_billion() {
        let timeout = |v: Value| parse("v3/x", json!({ "timeout": v })).map(|o| o.timeout);
        assert_eq!(
            timeout(json!(0.25)).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            timeout(json!(999_999_999)).unwrap(),
            Some(Duration::from_secs(999_999_999))
        );
        for refused in [json!(0), json!(-1), json!(-0.5), json!(1e9), json!(2e9)] {
            let e = timeout(refused.clone()).unwrap_err().to_string();
            assert!(
                e.contains("must be a positive number of seconds"),
                "{refused}: {e}"
            );
        }
    }

    #[test]
    fn shape_errors_name_the_key() {
        for (v, needle) in [
            (json!({"json": {}, "body": "x"}), "exclusive"),
            (json!({"body": {"a": 1}}), "option `body`"),
            (
                json!({"headers": {"Authorization": "x"}}),
                "headers.Authorization",
            ),
            (json!({"headers": {"X-A": "a\nb"}}), "headers.X-A"),
            (json!({"headers": {"host": "evil"}}), "headers.host"),
            (
                json!({"headers": {"Transfer-Encoding": "chunked"}}),
                "HTTP stack",
            ),
            (json!({"headers": {"bad name": "x"}}), "headers.bad name"),
            (json!({"timeout": 0}), "option `timeout`"),
            (json!({"connect_timeout": "5"}), "option `connect_timeout`"),
            (json!({"xml": {}}), "APIv2"),
            (json!({"base_uri": "ftp://x"}), "option `base_uri`"),
            (json!([1]), "must be a JSON object"),
        ] {
            let e = parse("v3/x", v.clone()).unwrap_err().to_string();
            assert!(e.contains(needle), "{v}: {e}");
        }
    }

    #[test]
    fn json_is_compact_and_in_insertion_order() {
        let o = parse("v3/x", json!({"json": {"z": 1, "a": "先"}})).unwrap();
        assert_eq!(
            o.body,
            Some(Body::Json(Bytes::from("{\"z\":1,\"a\":\"先\"}")))
        );
    }
}
