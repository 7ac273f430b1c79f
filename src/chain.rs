//! `Chain`: a path template bound to a client, and the verbs that send it.
//!
//! Every verb hands its client, template, method and options to the `pipeline`
//! module. Blocking verbs use the client's blocking transport; `*_async` verbs
//! return a `Send + 'static` future that owns what it needs.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http::{Method, Request};
use serde_json::Value;

use crate::client::{Client, Inner};
use crate::error::Error;
use crate::pipeline;
use crate::response::Response;
use crate::template::{normalize_segment, Template};

/// A path template bound to a [`Client`]; the verbs send it.
///
/// Made by [`Client::chain`], [`Client::seg`], `client["…"]` or the
/// [`chain!`](crate::chain!) macro. Cheap to clone. A malformed template is reported
/// by the first verb called, before anything is sent.
///
/// ```
/// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
/// let a = client.seg("v3").seg("discountCard").seg("orders").seg("_out_order_no_");
/// let b = client.chain("v3/discount-card/orders/{out_order_no}");
/// let c = &client["v3/discount-card/orders/<out_order_no>"];
/// assert_eq!(a.template(), "v3/discount-card/orders/{out_order_no}");
/// assert_eq!(a.template(), b.template());
/// assert_eq!(c.to_string(), b.to_string());
/// ```
pub struct Chain {
    client: ClientRef,
    template: Result<Arc<Template>, Arc<Error>>,
    raw: Arc<str>,
    /// Marked by [`Chain::idempotent`]: the retry policy applies to every verb.
    idempotent: bool,
}

/// Chains interned in their own client hold it weakly (no reference cycle); every
/// clone holds it strongly.
enum ClientRef {
    Strong(Client),
    Weak(Weak<Inner>),
}

impl ClientRef {
    fn get(&self) -> Result<Client, Error> {
        match self {
            ClientRef::Strong(c) => Ok(c.clone()),
            ClientRef::Weak(w) => w
                .upgrade()
                .map(|inner| Client { inner })
                .ok_or_else(|| Error::Config("the client of this chain has been dropped".into())),
        }
    }
}

impl Clone for Chain {
    fn clone(&self) -> Self {
        Chain {
            client: self.client_ref(),
            template: self.template.clone(),
            raw: self.raw.clone(),
            idempotent: self.idempotent,
        }
    }
}

macro_rules! verbs {
    ($($(#[$doc:meta])* $name:ident, $name_async:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// Blocking: it holds the calling thread until the answer is checked. It
        /// works from any thread, inside an async runtime too, but there it holds a
        /// runtime thread:
        #[doc = concat!("in async code use [`", stringify!($name_async), "`](Self::", stringify!($name_async), ").")]
        pub fn $name(&self, options: Value) -> Result<Response, Error> {
            self.send(Method::$method, options)
        }

        #[doc = concat!("The async twin of [`", stringify!($name), "`](Self::", stringify!($name), ").")]
        pub fn $name_async(&self, options: Value) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
            self.send_async(Method::$method, options)
        }
    )*};
}

impl Chain {
    pub(crate) fn new(client: Client, template: Result<Template, Arc<Error>>, raw: &str) -> Chain {
        Chain {
            client: ClientRef::Strong(client),
            template: template.map(Arc::new),
            raw: raw.into(),
            idempotent: false,
        }
    }

    pub(crate) fn interned(
        client: Weak<Inner>,
        template: Result<Template, Arc<Error>>,
        raw: &str,
    ) -> Chain {
        Chain {
            client: ClientRef::Weak(client),
            template: template.map(Arc::new),
            raw: raw.into(),
            idempotent: false,
        }
    }

    /// The normalised template (`"v3/discount-card/orders/{out_order_no}"`), or the
    /// text as written when it does not parse.
    pub fn template(&self) -> &str {
        match &self.template {
            Ok(t) => t.as_str(),
            Err(_) => &self.raw,
        }
    }

    /// The catalogue entry this chain calls: its path, and per method the official
    /// name, documentation link and deprecation; `None` for a path the catalogue does
    /// not know (a typo, or an endpoint newer than it) or a template that does not parse.
    /// Placeholder names need not match the catalogue's (`{id}` finds
    /// `{transaction_id}`). A base URI with a path prefix counts: on
    /// `https://apihk.mch.weixin.qq.com/hk/`, `v3/refunds` is the catalogue's
    /// `hk/v3/refunds`.
    ///
    /// ```
    /// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    /// use wechatpay_chain::catalogue::Method;
    /// let entry = client.chain("v3/discount-card/orders/{out_order_no}").endpoint().unwrap();
    /// assert_eq!(entry.operation(Method::Patch).unwrap().name(), "更新先享卡订单API");
    /// assert!(client.chain("v3/discount-cards/orders/{x}").endpoint().is_none());
    /// ```
    pub fn endpoint(&self) -> Option<crate::catalogue::Entry> {
        let template = self.template.as_ref().ok()?.as_str();
        match self.client.get() {
            Ok(client) => client.catalogue_entry(template),
            Err(_) => crate::catalogue::find(template),
        }
    }

    /// Appends one segment, normalised as wechatpay-php normalises property names.
    /// A last `seg("_empty_")` ([`EMPTY_SEGMENT`](crate::EMPTY_SEGMENT)) ends the
    /// path with a slash, as PHP's `->_empty_` does.
    ///
    /// ```
    /// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    /// let c = client.seg("v3").seg("applyment4sub").seg("applyment").seg("_empty_");
    /// assert_eq!(c.template(), "v3/applyment4sub/applyment/");
    /// ```
    ///
    /// The argument is normalised whole, as PHP normalises a property name, so
    /// `seg("a/B")` appends `a/-b`. A chain that is already broken stays broken:
    /// its verbs report the first error.
    pub fn seg(&self, segment: &str) -> Chain {
        if segment.is_empty() && self.template.is_ok() {
            return self.broken(
                format!("{}/", self.template()),
                "seg(\"\") adds an empty segment; end a path with a slash by seg(\"_empty_\")",
            );
        }
        self.chain(&normalize_segment(segment))
    }

    /// A chain that reports `message` about `raw` from its first verb.
    pub(crate) fn broken(&self, raw: String, message: &str) -> Chain {
        let error = Error::Template {
            template: raw.clone(),
            message: message.to_owned(),
        };
        Chain {
            client: self.client_ref(),
            template: Err(Arc::new(error)),
            raw: raw.into(),
            idempotent: self.idempotent,
        }
    }

    fn client_ref(&self) -> ClientRef {
        match &self.client {
            ClientRef::Strong(c) => ClientRef::Strong(c.clone()),
            ClientRef::Weak(w) => match w.upgrade() {
                Some(inner) => ClientRef::Strong(Client { inner }),
                None => ClientRef::Weak(w.clone()),
            },
        }
    }

    /// Appends a template taken as written.
    ///
    /// On a broken chain (a template that does not parse, an empty `seg`), the
    /// result is broken too, with the first error.
    pub fn chain(&self, rest: &str) -> Chain {
        let joined = format!("{}/{}", self.template(), rest.trim_start_matches('/'));
        if let Err(first) = &self.template {
            // Extending must not heal the path: later text may parse, the whole does not.
            return Chain {
                client: self.client_ref(),
                template: Err(first.clone()),
                raw: joined.into(),
                idempotent: self.idempotent,
            };
        }
        let mut chain = match self.client.get() {
            Ok(client) => client.chain(&joined),
            Err(e) => Chain {
                client: ClientRef::Weak(Weak::new()),
                template: Err(Arc::new(e)),
                raw: joined.into(),
                idempotent: false,
            },
        };
        chain.idempotent = self.idempotent;
        chain
    }

    /// Marks every call of this chain as safe to repeat, so the client's
    /// [`RetryPolicy`](crate::RetryPolicy) applies to `POST`, `PUT` and `PATCH` too
    /// (`GET` and `DELETE` are retried without it), and a failure after sending may
    /// move the call to the backup host
    /// ([`ClientBuilder::backup_base_uri`](crate::ClientBuilder::backup_base_uri)).
    /// Mark only calls that WeChat Pay deduplicates, e.g. by `out_trade_no` or
    /// `out_refund_no`: a retried call whose first attempt did reach the server is
    /// sent again. Segments appended later keep the mark.
    ///
    /// ```
    /// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    /// let refund = client.chain("v3/refund/domestic/refunds").idempotent();
    /// assert!(refund.is_idempotent());
    /// assert!(!client.chain("v3/refund/domestic/refunds").is_idempotent());
    /// ```
    pub fn idempotent(&self) -> Chain {
        let mut chain = self.clone();
        chain.idempotent = true;
        chain
    }

    /// Whether [`idempotent`](Self::idempotent) marked this chain.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    verbs! {
        /// `GET` this endpoint.
        get, get_async => GET;
        /// `POST` this endpoint.
        post, post_async => POST;
        /// `PUT` this endpoint.
        put, put_async => PUT;
        /// `PATCH` this endpoint.
        patch, patch_async => PATCH;
        /// `DELETE` this endpoint.
        delete, delete_async => DELETE;
    }

    /// Any method, by name (`"GET"`, `"patch"`, or an [`http::Method`]).
    ///
    /// Blocking, like [`get`](Self::get): in async code use
    /// [`request_async`](Self::request_async).
    pub fn request(&self, method: impl AsRef<str>, options: Value) -> Result<Response, Error> {
        let method = parse_method(method.as_ref())?;
        self.send(method, options)
    }

    /// The async twin of [`request`](Self::request).
    pub fn request_async(
        &self,
        method: impl AsRef<str>,
        options: Value,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
        let method = parse_method(method.as_ref());
        let this = self.clone();
        async move { this.send_async(method?, options).await }
    }

    /// The request a verb would send, before hooks and signing: template expansion,
    /// option parsing, URI and headers (benchmarks and debugging).
    #[doc(hidden)]
    pub fn build_unsigned(
        &self,
        method: Method,
        options: &Value,
    ) -> Result<http::Request<bytes::Bytes>, Error> {
        let (client, template) = self.parts()?;
        pipeline::build_unsigned(&client, method, &template, options)
    }

    pub(crate) fn parts(&self) -> Result<(Client, Arc<Template>), Error> {
        let template = match &self.template {
            Ok(t) => t.clone(),
            Err(e) => return Err(replay(e)),
        };
        Ok((self.client.get()?, template))
    }

    fn send(&self, method: Method, options: Value) -> Result<Response, Error> {
        self.send_shaped(method, options, &|_| Ok(()))
    }

    fn send_async(
        &self,
        method: Method,
        options: Value,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
        self.send_shaped_async(method, options, |_| Ok(()))
    }

    /// Sends through the pipeline, `shape` adjusting each attempt's request
    /// between building and signing (media uploads put their multipart body there).
    pub(crate) fn send_shaped(
        &self,
        method: Method,
        options: Value,
        shape: pipeline::Shape<'_>,
    ) -> Result<Response, Error> {
        let (client, template) = self.parts()?;
        pipeline::send_blocking(&client, &template, method, &options, self.idempotent, shape)
    }

    /// The async twin of [`send_shaped`](Self::send_shaped).
    pub(crate) fn send_shaped_async<S>(
        &self,
        method: Method,
        options: Value,
        shape: S,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'static
    where
        S: Fn(&mut Request<Bytes>) -> Result<(), Error> + Send + Sync + 'static,
    {
        let parts = self.parts();
        let idempotent = self.idempotent;
        async move {
            let (client, template) = parts?;
            pipeline::send_async(client, template, method, options, idempotent, shape).await
        }
    }
}

fn parse_method(name: &str) -> Result<Method, Error> {
    Method::from_bytes(name.to_ascii_uppercase().as_bytes())
        .map_err(|_| Error::option("(method)", format!("`{name}` is not an HTTP method")))
}

/// Stored template errors are reported afresh by every verb.
fn replay(e: &Error) -> Error {
    match e {
        Error::Template { template, message } => Error::Template {
            template: template.clone(),
            message: message.clone(),
        },
        Error::Config(m) => Error::Config(m.clone()),
        other => Error::Config(other.to_string()),
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.template())
    }
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("template", &self.template())
            .field("valid", &self.template.is_ok())
            .finish()
    }
}
