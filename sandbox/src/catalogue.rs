//! Which catalogue operation a request calls: a segment trie over every path of
//! `wechatpay-chain-catalogue`, built once on first use, so each request costs one
//! walk down the trie instead of a scan of 1,155 templates.

use std::collections::HashMap;
use std::sync::OnceLock;

use wechatpay_chain_catalogue::schema::{self, OperationSchema};
use wechatpay_chain_catalogue::{operations, Method, Operation};

use crate::percent_decode_lenient;

/// One operation, ready to serve: its index row, its schemas and where its
/// placeholders sit.
pub(crate) struct Compiled {
    pub(crate) operation: &'static Operation,
    pub(crate) schema: &'static OperationSchema,
    /// `(segment index, name)` of each `{placeholder}` of the template.
    placeholders: Vec<(usize, &'static str)>,
}

/// A request matched to an operation, with its path parameters decoded.
pub(crate) struct Matched {
    pub(crate) op: &'static Compiled,
    pub(crate) params: HashMap<String, String>,
}

#[derive(Default)]
struct Node {
    literal: HashMap<&'static str, Node>,
    placeholder: Option<Box<Node>>,
    /// The operations whose template ends here, by method.
    ops: Vec<(Method, usize)>,
}

struct Index {
    compiled: Vec<Compiled>,
    root: Node,
}

/// The template's segments: no slashes at the ends (`v3/applyment4sub/applyment/`
/// is sent with its trailing slash; the slash is not a segment).
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

fn is_placeholder(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Parses and indexes the catalogue now, so no request pays for it (a debug build
/// takes most of a second; a client's first request may have a short timeout).
pub(crate) fn warm() {
    index();
}

fn index() -> Option<&'static Index> {
    static INDEX: OnceLock<Option<Index>> = OnceLock::new();
    INDEX.get_or_init(build).as_ref()
}

fn build() -> Option<Index> {
    // `schema::all()` lists the operations in the index's order; pairing them by
    // method and path (rather than by position alone) keeps a mismatch harmless.
    let schemas = schema::all().ok()?;
    let mut index = Index {
        compiled: Vec::with_capacity(schemas.len()),
        root: Node::default(),
    };
    for operation in operations() {
        let Some(schema) = schema::of(operation) else {
            continue;
        };
        let mut node = &mut index.root;
        let mut placeholders = Vec::new();
        for (i, segment) in segments(operation.path()).enumerate() {
            node = if is_placeholder(segment) {
                placeholders.push((i, segment.trim_matches(['{', '}', '+'])));
                node.placeholder.get_or_insert_with(Box::default)
            } else {
                node.literal.entry(segment).or_default()
            };
        }
        node.ops.push((operation.method(), index.compiled.len()));
        index.compiled.push(Compiled {
            operation,
            schema,
            placeholders,
        });
    }
    Some(index)
}

/// Literal segments first, then placeholders: `…/id/{transaction_id}` wins over a
/// `…/{kind}/{value}` for `…/id/42`, as WeChat routes.
/// `method` `None` takes any method.
fn walk(node: &Node, rest: &[&str], method: Option<Method>) -> Option<usize> {
    let Some((first, tail)) = rest.split_first() else {
        return node
            .ops
            .iter()
            .find(|(m, _)| method.is_none_or(|method| *m == method))
            .map(|&(_, i)| i);
    };
    if let Some(child) = node.literal.get(first) {
        if let Some(found) = walk(child, tail, method) {
            return Some(found);
        }
    }
    match &node.placeholder {
        Some(child) if !first.is_empty() => walk(child, tail, method),
        _ => None,
    }
}

/// The catalogue operation `method` on `path` (as received: no leading slash, no
/// query, percent-encoded), if the catalogue has one. `v2` looks the path up
/// under `v2/`, where APIv2 paths are catalogued (they are sent without it); an
/// APIv2 path is found whatever the method, as WeChat's v2 gateway takes a GET with
/// the fields in the query as well as the documented POST.
pub(crate) fn find(method: &http::Method, path: &str, v2: bool) -> Option<Matched> {
    let method = Method::parse(method.as_str());
    if method.is_none() && !v2 {
        return None;
    }
    let index = index()?;
    let mut parts: Vec<&str> = Vec::with_capacity(12);
    if v2 {
        parts.push("v2");
    }
    parts.extend(segments(path));
    let found = walk(&index.root, &parts, method)
        .or_else(|| v2.then(|| walk(&index.root, &parts, None)).flatten())?;
    let op = index.compiled.get(found)?;
    let params = op
        .placeholders
        .iter()
        .filter_map(|&(i, name)| {
            let raw = parts.get(i)?;
            Some((name.to_owned(), percent_decode_lenient(raw)))
        })
        .collect();
    Some(Matched { op, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_templates_literal_first_and_decodes_parameters() {
        let m = find(
            &http::Method::GET,
            "v3/pay/transactions/out-trade-no/a%2Fb",
            false,
        )
        .unwrap();
        assert_eq!(
            m.op.operation.path(),
            "v3/pay/transactions/out-trade-no/{out_trade_no}"
        );
        assert_eq!(m.params["out_trade_no"], "a/b");
        let m = find(&http::Method::GET, "v3/pay/transactions/id/42", false).unwrap();
        assert_eq!(
            m.op.operation.path(),
            "v3/pay/transactions/id/{transaction_id}"
        );
        assert!(find(&http::Method::DELETE, "v3/pay/transactions/id/42", false).is_none());
        assert!(find(&http::Method::GET, "v3/pay/transactions/id/", false).is_none());
        // A trailing slash is sent, not a segment.
        let m = find(&http::Method::POST, "v3/applyment4sub/applyment/", false).unwrap();
        assert_eq!(m.op.operation.path(), "v3/applyment4sub/applyment/");
        let m = find(&http::Method::POST, "pay/micropay", true).unwrap();
        assert_eq!(m.op.operation.path(), "v2/pay/micropay");
        assert!(find(&http::Method::POST, "pay/micropay", false).is_none());
        let m = find(&http::Method::GET, "pay/orderquery", true).unwrap();
        assert_eq!(m.op.operation.path(), "v2/pay/orderquery");
    }
}
