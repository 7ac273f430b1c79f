//! Routes: a method, a path template and a handler that answers JSON.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use crate::percent_decode_lenient;

/// What a route handler returns: the status and the JSON body (`Value::Null` for
/// an empty body, e.g. with `204 No Content`).
pub type Reply = (StatusCode, Value);

pub(crate) type Handler = Arc<dyn Fn(&SandboxRequest) -> Reply + Send + Sync + 'static>;

/// A request that passed the signature check, as a route handler sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SandboxRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path as received, without the leading `/` and the query
    /// (`v3/discount-card/orders/233bcbf4…`).
    pub path: String,
    /// The placeholder values of the route's template, percent-decoded
    /// (`out_order_no` -> `233bcbf4…`).
    pub params: HashMap<String, String>,
    /// The query parameters, percent-decoded (the last value of a repeated name).
    pub query: HashMap<String, String>,
    /// The query string as received, without `?`.
    pub raw_query: Option<String>,
    /// The request headers.
    pub headers: HeaderMap,
    /// The body parsed as JSON; `Value::Null` when the body is empty or not JSON
    /// (a non-JSON `Content-Type`, e.g. a media upload).
    pub json: Value,
    /// The body bytes as received.
    pub body: Bytes,
}

impl SandboxRequest {
    /// A placeholder value by name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A header value by name, when it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// WeChat Pay's error JSON: `{"code": …, "message": …}`.
pub(crate) fn error(status: StatusCode, code: &str, message: impl fmt::Display) -> Reply {
    (
        status,
        json!({ "code": code, "message": message.to_string() }),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Param(String),
}

/// A method and a path template bound to an action: a route's handler, or an
/// injected fault. The template accepts `{name}` and `<name>` placeholders, each
/// matching one path segment; the method `*` matches any.
pub(crate) struct Route<T = Handler> {
    method: String,
    template: Vec<Piece>,
    pub(crate) action: T,
    /// Registered over the control plane: a reset removes it.
    pub(crate) removable: bool,
}

impl<T> Route<T> {
    pub(crate) fn new(method: &str, template: &str, action: T) -> Route<T> {
        // A trailing slash is part of the path (`v3/applyment4sub/applyment/`), as
        // clients send it: it stays an empty last segment.
        let template = template
            .trim_start_matches('/')
            .split('/')
            .map(|seg| {
                let name = seg
                    .strip_prefix('{')
                    .and_then(|s| s.strip_suffix('}'))
                    .or_else(|| seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')));
                match name {
                    Some(name) => Piece::Param(name.trim_start_matches('+').to_owned()),
                    None => Piece::Literal(seg.to_owned()),
                }
            })
            .collect();
        Route {
            method: method.to_ascii_uppercase(),
            template,
            action,
            removable: false,
        }
    }

    /// Whether `path` (no leading `/`) fits the template, whatever the method.
    pub(crate) fn matches_path(&self, segments: &[&str]) -> Option<HashMap<String, String>> {
        if segments.len() != self.template.len() {
            return None;
        }
        let mut params = HashMap::new();
        for (piece, seg) in self.template.iter().zip(segments) {
            match piece {
                Piece::Literal(lit) if lit == seg => {}
                Piece::Literal(_) => return None,
                Piece::Param(_) if seg.is_empty() => return None,
                Piece::Param(name) => {
                    params.insert(name.clone(), percent_decode_lenient(seg));
                }
            }
        }
        Some(params)
    }

    pub(crate) fn allows(&self, method: &Method) -> bool {
        self.method == "*" || self.method == method.as_str()
    }
}

/// Splits a query string into decoded pairs (`+` is a space, as forms encode it).
pub(crate) fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode_lenient(&k.replace('+', " ")),
                percent_decode_lenient(&v.replace('+', " ")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(template: &str) -> Route {
        Route::new("get", template, Arc::new(|_| (StatusCode::OK, Value::Null)))
    }

    #[test]
    fn templates_match_one_segment_per_placeholder() {
        let r = route("/v3/discount-card/orders/{out_order_no}");
        let params = r
            .matches_path(&["v3", "discount-card", "orders", "a%2Fb"])
            .unwrap();
        assert_eq!(params["out_order_no"], "a/b");
        assert!(r.matches_path(&["v3", "discount-card", "orders"]).is_none());
        assert!(r
            .matches_path(&["v3", "discount-card", "orders", ""])
            .is_none());
        let r = route("v3/x/<id>/y");
        assert_eq!(r.matches_path(&["v3", "x", "7", "y"]).unwrap()["id"], "7");
        assert!(r.allows(&Method::GET) && !r.allows(&Method::POST));
        let r = route("v3/applyment4sub/applyment/");
        assert!(r
            .matches_path(&["v3", "applyment4sub", "applyment", ""])
            .is_some());
        assert!(r
            .matches_path(&["v3", "applyment4sub", "applyment"])
            .is_none());
    }

    #[test]
    fn decodes_queries_and_escapes() {
        let q = parse_query("a=1&b=x%20y+z&c");
        assert_eq!(
            (q["a"].as_str(), q["b"].as_str(), q["c"].as_str()),
            ("1", "x y z", "")
        );
        assert_eq!(percent_decode_lenient("%E5%BE%AE%zz%4"), "微%zz%4");
    }
}
