//! The client: configuration, the template cache, and the pipeline that every verb
//! of every chain goes through.

use std::fmt;
use std::ops::Index;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::Value;

use crate::chain::Chain;
use crate::crypto::{nonce, ApiV3Key, PrivateKey, PublicKey};
use crate::error::{ApiError, Error, RawResponse};
use crate::failover::{Failover, FailoverSettings, Host};
use crate::middleware::{AfterVerifying, BeforeSigning, Middleware};
use crate::options::Timeouts;
use crate::request::{build, Endpoint};
use crate::response::{Response, REQUEST_ID};
use crate::retry::RetryPolicy;
use crate::signer::Signer;
use crate::template::Template;
use crate::transport::{AsyncHttpClient, ReqwestTransport, SyncHttpClient};
use crate::uri::BaseUri;
use crate::verifier::{self, is_unsigned_download, Verifier};

/// WeChat Pay's production API host.
pub const DEFAULT_BASE_URI: &str = "https://api.mch.weixin.qq.com/";

/// How many templates a client interns (templates are code; a template built from
/// data would otherwise grow the cache without bound). Past it, [`Client::chain`]
/// parses each further template per call, and `client[…]`, which must hand out a
/// reference, gives a chain whose verbs report the limit.
const INTERN_LIMIT: usize = 4096;

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;
type NonceSource = Arc<dyn Fn() -> String + Send + Sync>;

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
    signer: Signer,
    apiv3_key: Option<ApiV3Key>,
    apiv2_secret: Option<crate::v2::Secret>,
    has_client_certificate: bool,
    /// Swapped whole by a certificate refresh; read by cloning the `Arc` once per
    /// verification, so requests in flight keep the keys they started with.
    verifier: std::sync::RwLock<Arc<Verifier>>,
    base: BaseUri,
    failover: Failover,
    default_headers: HeaderMap,
    sync_transport: Arc<dyn SyncHttpClient>,
    async_transport: Arc<dyn AsyncHttpClient>,
    clock: Clock,
    nonce: NonceSource,
    middleware: Vec<Arc<dyn Middleware>>,
    retry: RetryPolicy,
    interned: elsa::sync::FrozenMap<String, Box<Chain>>,
    interned_count: AtomicUsize,
    /// What `client[…]` returns past [`INTERN_LIMIT`].
    over_limit: std::sync::OnceLock<Chain>,
    /// The serial [`Client::encrypt`] encrypts to, chosen among the configured
    /// keys at build time; installed certificates never replace it.
    encryption_serial: Option<String>,
    /// The default transport's timeouts (shown by `Debug`).
    timeouts: Timeouts,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
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
        self.chain(&crate::chain::checked_segment(segment))
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

    /// Stage 1 alone: the request as built from the template and options, before
    /// hooks and signing (also what `Chain::build_unsigned` benchmarks).
    pub(crate) fn build_unsigned(
        &self,
        method: Method,
        template: &Template,
        options: &Value,
    ) -> Result<Request<Bytes>, Error> {
        self.build_on(Host::Primary, method, template, options)
    }

    /// Stage 1 for an attempt on `host`.
    fn build_on(
        &self,
        host: Host,
        method: Method,
        template: &Template,
        options: &Value,
    ) -> Result<Request<Bytes>, Error> {
        let inner = &self.inner;
        let v2 = crate::v2::Context {
            mchid: inner.signer.mchid(),
            secret: inner.apiv2_secret.as_ref(),
            has_client_certificate: inner.has_client_certificate,
            nonce: inner.nonce.as_ref(),
        };
        let backup = inner.failover.base(Host::Backup).unwrap_or(&inner.base);
        build(
            method,
            template,
            options,
            inner.failover.base(host).unwrap_or(&inner.base),
            &[&inner.base, backup],
            host,
            &inner.default_headers,
            &v2,
            std::time::Instant::now(),
        )
    }

    /// Stages 1 and 2 for an attempt on `host`: build, `shape` (media uploads put
    /// their multipart body there, downloads their label), `before_signing` hooks,
    /// sign, `after_signing` hooks.
    pub(crate) fn prepare_with(
        &self,
        host: Host,
        method: Method,
        template: &Template,
        options: &Value,
        shape: &dyn Fn(&mut Request<Bytes>) -> Result<(), Error>,
    ) -> Result<Request<Bytes>, Error> {
        let inner = &self.inner;
        let mut request = self.build_on(host, method, template, options)?;
        shape(&mut request)?;
        for m in &inner.middleware {
            m.before_signing(&mut request)?;
        }
        // APIv2 carries its `sign` in the payload, made at build time.
        let apiv2 = request
            .extensions()
            .get::<Endpoint>()
            .is_some_and(|e| e.apiv2);
        if !apiv2 {
            let timestamp = (inner.clock)().to_string();
            let nonce = (inner.nonce)();
            inner.signer.sign(&mut request, &timestamp, &nonce)?;
        }
        for m in &inner.middleware {
            m.after_signing(&request);
        }
        tracing::debug!(method = %request.method(), uri = %request.uri(), "wechatpay request");
        Ok(request)
    }

    /// Stage 4: verify the answer and turn it into a [`Response`] or an [`Error`].
    pub(crate) fn finish(
        &self,
        endpoint: &Endpoint,
        raw: http::Response<Bytes>,
    ) -> Result<Response, Error> {
        let outcome = self.verify(endpoint, raw);
        match &outcome {
            Ok(res) => {
                tracing::debug!(status = %res.status(), request_id = res.request_id(), "wechatpay response")
            }
            Err(e) => tracing::debug!(error = %e, "wechatpay response refused"),
        }
        for m in &self.inner.middleware {
            m.after_verifying(endpoint, outcome.as_ref());
        }
        outcome
    }

    /// Stage 4 when no answer came: the middleware sees the transport error.
    pub(crate) fn transport_failed(&self, endpoint: &Endpoint, error: Error) -> Error {
        tracing::debug!(error = %error, "wechatpay transport failed");
        for m in &self.inner.middleware {
            m.after_verifying(endpoint, Err(&error));
        }
        error
    }

    fn verify(&self, endpoint: &Endpoint, raw: http::Response<Bytes>) -> Result<Response, Error> {
        if endpoint.apiv2 {
            let secret = self
                .inner
                .apiv2_secret
                .as_ref()
                .map(|s| s.as_str())
                .unwrap_or_default();
            return crate::v2::verify(&endpoint.path, raw, secret);
        }
        let now = (self.inner.clock)();
        let keys = self.verifier();
        let statement = verifier::is_statement(endpoint.full_path.trim_start_matches('/'));
        let checked = match raw.headers().get(verifier::STATEMENT_SHA1) {
            Some(sha1) if statement => verifier::verify_statement(&keys, &raw, sha1, now),
            _ => keys.verify(raw.headers(), raw.body(), now),
        };
        let status = raw.status();
        if status.is_success() {
            return match checked {
                Ok(()) => Ok(Response::new(raw, true)),
                Err(_) if is_unsigned_download(&endpoint.path) => Ok(Response::new(raw, false)),
                Err(reason) => Err(Error::Verification {
                    reason: reason.to_string(),
                    response: Box::new(raw_parts(raw)),
                }),
            };
        }
        let response = raw_parts(raw);
        let json: Option<Value> = serde_json::from_slice(&response.body).ok();
        let field = |name: &str| {
            json.as_ref()
                .and_then(|j| j.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Err(Error::Api(Box::new(ApiError {
            status,
            code: field("code"),
            message: field("message"),
            detail: json.as_ref().and_then(|j| j.get("detail")).cloned(),
            request_id: response
                .headers
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            verified: checked.is_ok(),
            response,
        })))
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

fn raw_parts(raw: http::Response<Bytes>) -> RawResponse {
    let (parts, body) = raw.into_parts();
    RawResponse {
        status: parts.status,
        headers: parts.headers,
        body,
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

/// Configures a [`Client`]; [`ClientBuilder::build`] checks everything at once.
#[must_use]
#[derive(Default)]
pub struct ClientBuilder {
    mchid: Option<String>,
    serial: Option<String>,
    private_key: Option<Result<PrivateKey, Error>>,
    apiv3_key: Option<Result<ApiV3Key, Error>>,
    apiv2_secret: Option<Result<crate::v2::Secret, Error>>,
    client_certificate: Option<(String, String)>,
    root_certificates: Vec<String>,
    platform_keys: Vec<Result<(String, PublicKey), Error>>,
    base_uri: Option<String>,
    pub(crate) failover: FailoverSettings,
    timeouts: Timeouts,
    max_body: Option<usize>,
    user_agent: Option<String>,
    proxy: Option<String>,
    sync_transport: Option<Arc<dyn SyncHttpClient>>,
    async_transport: Option<Arc<dyn AsyncHttpClient>>,
    clock: Option<Clock>,
    nonce: Option<NonceSource>,
    middleware: Vec<Arc<dyn Middleware>>,
    retry: RetryPolicy,
    no_platform_keys_yet: bool,
}

impl ClientBuilder {
    /// The merchant id (`mchid`). Required.
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = Some(mchid.into());
        self
    }

    /// The merchant API certificate serial number. Required.
    pub fn serial(mut self, serial: impl Into<String>) -> Self {
        self.serial = Some(serial.into());
        self
    }

    /// The merchant API private key. Required.
    pub fn private_key(mut self, key: PrivateKey) -> Self {
        self.private_key = Some(Ok(key));
        self
    }

    /// Loads the merchant private key from a file path or PHP's `file://` form;
    /// a failure is reported by [`build`](Self::build).
    pub fn private_key_file(mut self, path: impl AsRef<std::path::Path>) -> Self {
        self.private_key = Some(PrivateKey::from_file(path));
        self
    }

    /// The APIv3 key (32 bytes), needed to decrypt notifications and platform
    /// certificates; a wrong length is reported by [`build`](Self::build).
    pub fn apiv3_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.apiv3_key = Some(ApiV3Key::new(key));
        self
    }

    /// The APIv2 secret (32 bytes), for `v2/…` paths; a wrong length is reported
    /// by [`build`](Self::build).
    pub fn apiv2_secret(mut self, secret: impl Into<String>) -> Self {
        self.apiv2_secret = Some(crate::v2::Secret::new(secret));
        self
    }

    /// The merchant's API client certificate and its private key (PEM), presented
    /// by APIv2 calls made with `security: true` (refunds, red packets, transfers).
    /// Use the `apiclient_cert.pem` / `apiclient_key.pem` pair from WeChat's
    /// download, or convert `apiclient_cert.p12` with the two `openssl pkcs12`
    /// lines in `docs/security.md` ("From `.p12` to PEM").
    pub fn merchant_certificate(
        mut self,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.client_certificate = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// Trusts this CA (PEM, one or more `BEGIN CERTIFICATE` blocks) for the
    /// server's TLS certificate, on top of the system roots, which stay trusted:
    /// for private deployments, TLS-inspecting proxies and the sandbox's `ca.pem`.
    /// Repeatable. Certificate verification itself cannot be turned off. Applies to
    /// the default transport; a bad certificate is reported by [`build`](Self::build).
    pub fn root_certificate(mut self, pem: impl Into<String>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Adds a platform key under its certificate serial or its `PUB_KEY_ID_…`.
    /// Several may be configured side by side (e.g. during a migration from
    /// platform certificates to public-key ids). At least one is required.
    pub fn platform_key(mut self, serial: impl Into<String>, key: PublicKey) -> Self {
        self.platform_keys.push(Ok((serial.into(), key)));
        self
    }

    /// Builds without any platform key, for a first download of the platform
    /// certificates ([`Client::download_certificates`](crate::Client::download_certificates)
    /// verifies that download with the certificate it brings: bootstrap, the only
    /// case where a listing vouches for itself). Until keys are added (a download
    /// with `install`, or a refresh), every answer is refused as signed by an
    /// unknown key; once any key is installed, later listings must be signed by a
    /// trusted one. Such a client has no default encryption key:
    /// [`Client::encrypt`](crate::Client::encrypt) needs a configured key, so name
    /// the downloaded one with [`Client::encrypt_with`](crate::Client::encrypt_with).
    pub fn without_platform_keys(mut self) -> Self {
        self.no_platform_keys_yet = true;
        self
    }

    /// Adds a platform certificate under the serial it carries.
    pub fn platform_certificate(mut self, certificate: PublicKey) -> Self {
        let entry = match certificate.serial() {
            Some(serial) => Ok((serial.to_owned(), certificate)),
            None => Err(Error::Config(
                "platform_certificate() needs an X.509 certificate; for a bare public key use platform_key(serial_or_id, key)".into(),
            )),
        };
        self.platform_keys.push(entry);
        self
    }

    /// The base URI (default `https://api.mch.weixin.qq.com/`). A path prefix
    /// (`https://host/hk/`) is kept. `http://` is accepted only for loopback hosts.
    /// With the default, `https://api2.mch.weixin.qq.com/` is the backup host
    /// ([`backup_base_uri`](Self::backup_base_uri)).
    pub fn base_uri(mut self, base_uri: impl Into<String>) -> Self {
        self.base_uri = Some(base_uri.into());
        self
    }

    /// The deadline of each whole API call (default 30 s,
    /// [`Timeouts::DEFAULT_TIMEOUT`]); the `timeout` option overrides it per call.
    /// Streamed downloads ([`Client::download_to`](crate::Client::download_to)) use
    /// it as an idle timeout instead: the longest wait for the answer's head and
    /// between two chunks of the file, however long the whole transfer takes. The
    /// default transport's async verbs need a tokio runtime with its time driver
    /// (as `#[tokio::main]` builds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.timeout = Some(timeout);
        self
    }

    /// The deadline for connecting (default 5 s,
    /// [`Timeouts::DEFAULT_CONNECT_TIMEOUT`]); the `connect_timeout` option
    /// overrides it per call.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect_timeout = Some(timeout);
        self
    }

    /// The largest answer body the default transport holds in memory (default
    /// 4 MiB); a larger answer is an error, detected without reading it whole.
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// Replaces the `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sends every request of the default transport through this HTTP proxy
    /// (`http://host:port`, credentials as `http://user:password@host:port`; they
    /// never appear in errors or `Debug`), like Guzzle's `proxy` option. HTTPS goes
    /// through a `CONNECT` tunnel, so the proxy sees neither the Authorization
    /// header nor the bodies. Without it the `HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY` and `NO_PROXY` environment variables apply, as for curl.
    ///
    /// ```
    /// # let builder = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder();
    /// let client = builder.proxy("http://proxy.internal:3128").build()?;
    /// let refused = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder().proxy("not a proxy").build();
    /// assert!(refused.unwrap_err().to_string().contains("proxy"));
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Adds a middleware; hooks run in the order middleware were added.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Adds a hook that runs on each built request before it is signed.
    pub fn before_signing<F>(self, hook: F) -> Self
    where
        F: Fn(&mut Request<Bytes>) -> Result<(), Error> + Send + Sync + 'static,
    {
        self.middleware(BeforeSigning(hook))
    }

    /// Adds a hook that observes each attempt's outcome, with the call it belongs
    /// to ([`Middleware::after_verifying`]).
    pub fn after_verifying<F>(self, hook: F) -> Self
    where
        F: Fn(&Endpoint, Result<&Response, &Error>) + Send + Sync + 'static,
    {
        self.middleware(AfterVerifying(hook))
    }

    /// Retries transport failures and 5xx answers of `GET`/`DELETE` calls (and of
    /// chains marked [`Chain::idempotent`]) with exponential backoff and jitter; each
    /// attempt is signed afresh. Off by default ([`RetryPolicy::none`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Replaces the blocking transport (default: reqwest).
    pub fn sync_http_client(mut self, transport: impl SyncHttpClient) -> Self {
        self.sync_transport = Some(Arc::new(transport));
        self
    }

    /// Replaces the async transport (default: reqwest).
    pub fn async_http_client(mut self, transport: impl AsyncHttpClient) -> Self {
        self.async_transport = Some(Arc::new(transport));
        self
    }

    /// Replaces the clock (unix seconds) used for signing and for the 300 s window
    /// of verification. For tests and conformance vectors.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Replaces the nonce source. For tests and conformance vectors.
    pub fn nonce_source(mut self, nonce: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.nonce = Some(Arc::new(nonce));
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let mchid = required(self.mchid, "mchid", ".mchid(\"1900000001\")")?;
        let serial = required(self.serial, "merchant serial", ".serial(\"3775B6A4…\")")?;
        let key = self.private_key.ok_or_else(|| {
            Error::Config("the merchant private key is required: .private_key(PrivateKey::from_file(\"apiclient_key.pem\")?)".into())
        })??;
        let apiv3_key = self.apiv3_key.transpose()?;
        let apiv2_secret = self.apiv2_secret.transpose()?;
        let identity = match &self.client_certificate {
            Some((cert, key)) => Some(crate::transport::client_identity(cert, key)?),
            None => None,
        };
        let mut verifier = Verifier::new();
        for entry in self.platform_keys {
            let (id, key) = entry?;
            if id.trim().is_empty() {
                return Err(Error::Config(
                    "a platform key was given an empty serial".into(),
                ));
            }
            verifier.add(id, key);
        }
        if verifier.serials().is_empty() && !self.no_platform_keys_yet {
            return Err(Error::Config(
                "at least one platform key is required: .platform_key(\"PUB_KEY_ID_…\", PublicKey::from_file(\"pub_key.pem\")?) or .platform_certificate(cert)".into(),
            ));
        }
        if verifier.contains(&serial) {
            return Err(Error::Config(format!(
                "the merchant serial {serial} is configured as a platform key; platform keys are WeChat Pay's (certificate serials or PUB_KEY_ID_…), not the merchant's"
            )));
        }
        let encryption_serial =
            crate::sensitive::encryption_key(&verifier).map(|(serial, _)| serial.to_owned());
        let base = BaseUri::parse(self.base_uri.as_deref().unwrap_or(DEFAULT_BASE_URI))
            .map_err(|m| Error::Config(format!("base_uri: {m}")))?;
        let failover = self.failover.build(&base)?;

        let mut default_headers = HeaderMap::new();
        default_headers.insert(ACCEPT, HeaderValue::from_static(crate::request::ACCEPT_V3));
        let agent = self.user_agent.unwrap_or_else(default_user_agent);
        let agent = HeaderValue::from_str(&agent).map_err(|_| {
            Error::Config("the User-Agent holds characters not allowed in a header".into())
        })?;
        default_headers.insert(USER_AGENT, agent);

        let has_client_certificate = identity.is_some();
        let timeouts = self.timeouts.or_defaults();
        let mut reqwest = ReqwestTransport::new(
            timeouts,
            self.max_body.unwrap_or(ReqwestTransport::DEFAULT_MAX_BODY),
        );
        if let Some(identity) = identity {
            reqwest = reqwest.with_identity(identity);
        }
        reqwest = reqwest.with_root_certificates(crate::transport::root_certificates(
            &self.root_certificates,
        )?);
        if let Some(url) = &self.proxy {
            reqwest = reqwest.with_proxy(crate::transport::proxy(url)?);
        }
        let reqwest = Arc::new(reqwest);
        let sync_transport = self.sync_transport.unwrap_or_else(|| reqwest.clone());
        let async_transport = self.async_transport.unwrap_or(reqwest);
        let signer = Signer::new(mchid, serial, key);
        // The signer puts both into a header; fail here rather than per request.
        HeaderValue::from_str(&format!("{}{}", signer.mchid(), signer.serial())).map_err(|_| {
            Error::Config(
                "the mchid or merchant serial holds characters not allowed in a header".into(),
            )
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                signer,
                apiv3_key,
                apiv2_secret,
                has_client_certificate,
                verifier: std::sync::RwLock::new(Arc::new(verifier)),
                base,
                failover,
                default_headers,
                sync_transport,
                async_transport,
                clock: self.clock.unwrap_or_else(|| Arc::new(unix_now)),
                nonce: self.nonce.unwrap_or_else(|| Arc::new(nonce::generate)),
                middleware: self.middleware,
                retry: self.retry,
                interned: elsa::sync::FrozenMap::new(),
                interned_count: AtomicUsize::new(0),
                over_limit: std::sync::OnceLock::new(),
                encryption_serial,
                timeouts,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("mchid", &self.mchid)
            .field("serial", &self.serial)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "redacted"),
            )
            .field("platform_keys", &self.platform_keys.len())
            .field(
                "base_uri",
                &self.base_uri.as_deref().map(crate::uri::without_userinfo),
            )
            .field("failover", &self.failover)
            .field("proxy", &self.proxy.as_ref().map(|_| "redacted"))
            .finish_non_exhaustive()
    }
}

fn required(value: Option<String>, what: &str, example: &str) -> Result<String, Error> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        Some(_) => Err(Error::Config(format!(
            "the {what} is empty; set it with {example}"
        ))),
        None => Err(Error::Config(format!(
            "the {what} is required; set it with {example}"
        ))),
    }
}

fn default_user_agent() -> String {
    format!(
        "wechatpay-chain/{} ({}/{}) reqwest/0.13",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
