//! One operation (a method on a path) and one endpoint (a path and its operations).

use std::fmt;

use crate::method::Method;

/// One WeChat Pay API operation: a method on a path template, with the facts the
/// catalogue keeps about it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    method: Method,
    path: &'static str,
    name: &'static str,
    doc_url: &'static str,
    deprecated: bool,
    cert_required: bool,
    base_uri: &'static str,
    consumes: &'static [&'static str],
    produces: &'static [&'static str],
}

impl Operation {
    /// A row of the generated table; empty strings stand for "none".
    #[allow(clippy::too_many_arguments)] // one call site: the generated table
    pub(crate) const fn row(
        method: Method,
        path: &'static str,
        name: &'static str,
        doc_url: &'static str,
        deprecated: bool,
        cert_required: bool,
        base_uri: &'static str,
        consumes: &'static [&'static str],
        produces: &'static [&'static str],
    ) -> Operation {
        Operation {
            method,
            path,
            name,
            doc_url,
            deprecated,
            cert_required,
            base_uri,
            consumes,
            produces,
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The path template, relative to the host, placeholders as `{name}`:
    /// `v3/discount-card/orders/{out_order_no}`. Two paths keep the trailing slash
    /// WeChat requires (`v3/applyment4sub/applyment/`, `v3/ecommerce/applyments/`).
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The API's short official name, in Chinese as WeChat Pay's documentation names it
    /// (`更新先享卡订单API`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The official documentation page, when the catalogue links one (the newest
    /// documentation centre's page where both it and the old wiki are linked).
    pub fn doc_url(&self) -> Option<&'static str> {
        non_empty(self.doc_url)
    }

    /// Whether WeChat Pay marks the operation deprecated.
    pub fn deprecated(&self) -> bool {
        self.deprecated
    }

    /// Whether the call needs the merchant's API client certificate (APIv2 mTLS, the
    /// `security: true` option).
    pub fn cert_required(&self) -> bool {
        self.cert_required
    }

    /// The host the operation lives on when it is not the default
    /// `https://api.mch.weixin.qq.com/` (`https://fraud.mch.weixin.qq.com/`, …).
    pub fn base_uri(&self) -> Option<&'static str> {
        non_empty(self.base_uri)
    }

    /// The request content types (`application/json`, `application/xml`,
    /// `multipart/form-data`).
    pub fn consumes(&self) -> &'static [&'static str] {
        self.consumes
    }

    /// The response content types (`application/json`, `application/xml`, downloads
    /// such as `application/x-gzip`).
    pub fn produces(&self) -> &'static [&'static str] {
        self.produces
    }

    /// Whether the path is an APIv2 (XML) one.
    pub fn is_v2(&self) -> bool {
        self.path.starts_with("v2/")
    }
}

impl fmt::Debug for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("name", &self.name)
            .field("doc_url", &self.doc_url())
            .field("deprecated", &self.deprecated)
            .field("cert_required", &self.cert_required)
            .field("base_uri", &self.base_uri())
            .field("consumes", &self.consumes)
            .field("produces", &self.produces)
            .finish()
    }
}

impl fmt::Display for Operation {
    /// `PATCH v3/discount-card/orders/{out_order_no}`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

fn non_empty(s: &'static str) -> Option<&'static str> {
    (!s.is_empty()).then_some(s)
}

/// One catalogue entry: a path and the operations on it (one per method).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    operations: &'static [Operation],
}

impl Entry {
    /// Wraps a non-empty run of operations that share one path.
    pub(crate) const fn new(operations: &'static [Operation]) -> Entry {
        Entry { operations }
    }

    /// The path template (see [`Operation::path`]).
    pub fn path(&self) -> &'static str {
        // Generated runs are never empty; the fallback keeps this total anyway.
        self.operations.first().map_or("", Operation::path)
    }

    /// The operations on this path, ordered by method (GET, POST, PUT, PATCH, DELETE).
    pub fn operations(&self) -> &'static [Operation] {
        self.operations
    }

    /// The methods this path answers, in the same order.
    pub fn methods(&self) -> impl Iterator<Item = Method> + '_ {
        self.operations.iter().map(Operation::method)
    }

    /// The operation for `method`, if the path has it.
    pub fn operation(&self, method: Method) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.method == method)
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("path", &self.path())
            .field("operations", &self.operations)
            .finish()
    }
}
