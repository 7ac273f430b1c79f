//! The client: its configuration and accessors, and the chains it interns
//! (`client.chain(…)`, `client.seg(…)`, `client["…"]`). Built by
//! [`ClientBuilder`](crate::ClientBuilder); calls go through the `pipeline` module.

use std::fmt;
use std::ops::Index;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use http::HeaderMap;

use crate::chain::Chain;
use crate::crypto::ApiV3Key;
use crate::error::Error;
use crate::failover::Failover;
use crate::middleware::Middleware;
use crate::options::Timeouts;
use crate::retry::RetryPolicy;
use crate::signer::Signer;
use crate::template::Template;
use crate::transport::{AsyncHttpClient, SyncHttpClient};
use crate::uri::BaseUri;
use crate::verifier::Verifier;

/// WeChat Pay's production API host.
pub const DEFAULT_BASE_URI: &str = "https://api.mch.weixin.qq.com/";

/// How many templates a client interns (templates are code; a template built from
/// data would otherwise grow the cache without bound). Past it, [`Client::chain`]
/// parses each further template per call, and `client[…]`, which must hand out a
/// reference, gives a chain whose verbs report the limit.
const INTERN_LIMIT: usize = 4096;

pub(crate) type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;
pub(crate) type NonceSource = Arc<dyn Fn() -> String + Send + Sync>;

/// A WeChat Pay APIv3 client: cheap to clone, `Send + Sync`.
///
/// Start every call from it: [`Client::chain`], [`Client::seg`], or `client["…"]`.
///
/// ```no_run
/// use serde_json::json;
/// use wechatpay_chain::{Client, PrivateKey, PublicKey};
///
/// let client = Client::builder()
///     .mchid("1900000001")
///     .serial("3775B6A45ACD588826D15E583A95F5DD00000001")
///     .private_key(PrivateKey::from_file("/path/to/apiclient_key.pem")?)
///     .platform_key("PUB_KEY_ID_0112345678902024000000000000", PublicKey::from_file("/path/to/pub_key.pem")?)
///     .build()?;
/// let order: serde_json::Value = client
///     .chain("v3/discount-card/orders/{out_order_no}")
///     .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }))?
///     .json()?;
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) signer: Signer,
    pub(crate) apiv3_key: Option<ApiV3Key>,
    pub(crate) apiv2_secret: Option<crate::v2::Secret>,
    pub(crate) has_client_certificate: bool,
    /// Swapped whole by a certificate refresh; read by cloning the `Arc` once per
    /// verification, so requests in flight keep the keys they started with.
    pub(crate) verifier: std::sync::RwLock<Arc<Verifier>>,
    pub(crate) base: BaseUri,
    pub(crate) failover: Failover,
    pub(crate) default_headers: HeaderMap,
    pub(crate) sync_transport: Arc<dyn SyncHttpClient>,
    pub(crate) async_transport: Arc<dyn AsyncHttpClient>,
    pub(crate) clock: Clock,
    pub(crate) nonce: NonceSource,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) retry: RetryPolicy,
    pub(crate) interned: elsa::sync::FrozenMap<String, Box<Chain>>,
    pub(crate) interned_count: AtomicUsize,
    /// What `client[…]` returns past [`INTERN_LIMIT`].
    pub(crate) over_limit: std::sync::OnceLock<Chain>,
    /// The serial [`Client::encrypt`] encrypts to, chosen among the configured
    /// keys at build time; installed certificates never replace it.
    pub(crate) encryption_serial: Option<String>,
    /// The default transport's timeouts (shown by `Debug`).
    pub(crate) timeouts: Timeouts,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> crate::ClientBuilder {
        crate::ClientBuilder::default()
    }

    /// A chain on a template taken as written: `{name}` and `<name>` placeholders,
    /// `{+name}` for reserved expansion, no case change. Put values in
    /// placeholders, not into the template: the first 4,096 distinct templates are
    /// kept (parsed once), later ones are parsed on every call.
    pub fn chain(&self, template: &str) -> Chain {
        if let Some(chain) = self.inner.interned.get(template) {
            return chain.clone();
        }
        if self.inner.interned_count.load(Ordering::Relaxed) < INTERN_LIMIT {
            let chain = &self[template];
            // Another thread may have reached the limit in between.
            if !self
                .inner
                .over_limit
                .get()
                .is_some_and(|over| std::ptr::eq(over, chain))
            {
                return chain.clone();
            }
        }
        Chain::new(
            self.clone(),
            Template::parse(template).map_err(Arc::new),
            template,
        )
    }

    /// A chain with one segment, normalised as wechatpay-php normalises property
    /// names (`discountCard` -> `discount-card`, `_out_order_no_` -> `{out_order_no}`).
    /// The argument is normalised whole, as PHP does (`seg("a/B")` is `a/-b`).
    pub fn seg(&self, segment: &str) -> Chain {
        if segment.is_empty() {
            let chain = Chain::new(
                self.clone(),
                Err(Arc::new(Error::Template {
                    template: String::new(),
                    message: "seg(\"\") adds an empty segment".into(),
                })),
                "",
            );
            return chain;
        }
        // Normalised whole, as PHP does: `seg("a/B")` is `a/-b`.
        self.chain(&crate::template::normalize_segment(segment))
    }

    /// The merchant id this client signs for.
    pub fn mchid(&self) -> &str {
        self.inner.signer.mchid()
    }

    /// The APIv3 key, when configured (notifications and certificate downloads
    /// need it).
    pub(crate) fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.apiv3_key.as_ref()
    }

    /// The merchant signer (its key signs requests and pay signs).
    pub(crate) fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    /// The base URI requests go to by default.
    pub fn base_uri(&self) -> String {
        self.inner.base.to_string()
    }

    /// The base URI, parsed.
    pub(crate) fn base(&self) -> &BaseUri {
        &self.inner.base
    }

    /// The catalogue entry `template` calls through this client: looked up under the
    /// base URI's path prefix first (`v3/refunds` on `https://apihk.mch.weixin.qq.com/hk/`
    /// is `hk/v3/refunds`), then as written (a prefix the catalogue does not know,
    /// such as a proxy's).
    pub(crate) fn catalogue_entry(&self, template: &str) -> Option<crate::catalogue::Entry> {
        let prefix = self.inner.base.prefix().trim_start_matches('/');
        if !prefix.is_empty() {
            if let Some(entry) = crate::catalogue::find(&format!("{prefix}/{template}")) {
                return Some(entry);
            }
        }
        crate::catalogue::find(template)
    }

    /// The primary/backup state shared by the clones.
    pub(crate) fn failover(&self) -> &Failover {
        &self.inner.failover
    }

    /// The configured platform key serials.
    pub fn platform_serials(&self) -> Vec<String> {
        self.verifier().serials()
    }

    /// The serial [`Client::encrypt`] encrypts to (chosen at build time).
    pub(crate) fn encryption_serial(&self) -> Option<&str> {
        self.inner.encryption_serial.as_deref()
    }

    /// The platform keys now in use (a snapshot: a refresh swaps in a new set).
    pub(crate) fn verifier(&self) -> Arc<Verifier> {
        self.inner
            .verifier
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the platform keys by `update(current)`; calls in flight finish with
    /// the keys they started with.
    pub(crate) fn update_verifier(&self, update: impl FnOnce(&Verifier) -> Verifier) {
        let mut slot = self
            .inner
            .verifier
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = update(&slot);
        *slot = Arc::new(next);
    }

    /// The client's clock (unix seconds), as used for signing and verification.
    pub(crate) fn now(&self) -> i64 {
        (self.inner.clock)()
    }

    /// A fresh nonce from the client's nonce source.
    pub(crate) fn fresh_nonce(&self) -> String {
        (self.inner.nonce)()
    }

    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn sync_transport(&self) -> &dyn SyncHttpClient {
        self.inner.sync_transport.as_ref()
    }

    pub(crate) fn async_transport(&self) -> &dyn AsyncHttpClient {
        self.inner.async_transport.as_ref()
    }

    /// The retry policy (default: none).
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }
}

/// `client["v3/discount-card/orders/{out_order_no}"]`: the chain for a template,
/// interned in the client (the PHP SDK's `$instance['…']`).
///
/// Each distinct template is kept for the client's lifetime, so write values as
/// placeholders (`client["v3/pay/transactions/id/{transaction_id}"]` with the id in
/// the options), never into the template (`client[&format!(…)]`). Past 4,096
/// distinct templates, a new one gives a chain whose verbs return
/// [`Error::Template`] saying so, and nothing is sent; [`Client::chain`] has no
/// such limit.
impl Index<&str> for Client {
    type Output = Chain;

    fn index(&self, template: &str) -> &Chain {
        if let Some(chain) = self.inner.interned.get(template) {
            return chain;
        }
        if self.inner.interned_count.fetch_add(1, Ordering::Relaxed) >= INTERN_LIMIT {
            self.inner.interned_count.fetch_sub(1, Ordering::Relaxed);
            return self.inner.over_limit.get_or_init(|| {
                Chain::interned(
                    self.downgrade(),
                    Err(Arc::new(Error::Template {
                        template: "(a template indexed past the limit)".into(),
                        message: format!(
                            "client[…] keeps every distinct template and already holds {INTERN_LIMIT}: put values in placeholders ({{name}}) and the options, not into the template, or use client.chain(…)"
                        ),
                    })),
                    "(a template indexed past the limit)",
                )
            });
        }
        let chain = Chain::interned(
            self.downgrade(),
            Template::parse(template).map_err(Arc::new),
            template,
        );
        self.inner
            .interned
            .insert(template.to_owned(), Box::new(chain))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.inner.signer.mchid())
            .field("serial", &self.inner.signer.serial())
            .field("private_key", &"redacted")
            .field("platform_keys", &self.verifier().serials())
            .field("base_uri", &self.inner.base)
            .field("failover", &self.inner.failover)
            .field("timeouts", &self.inner.timeouts)
            .finish_non_exhaustive()
    }
}
