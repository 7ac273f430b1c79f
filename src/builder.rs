//! `ClientBuilder`: every setting of a [`Client`], checked at once by `build`.

use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderMap, HeaderValue, Request};

use crate::client::{Client, Clock, Inner, NonceSource, DEFAULT_BASE_URI};
use crate::crypto::{nonce, ApiV3Key, PrivateKey, PublicKey};
use crate::error::Error;
use crate::failover::FailoverSettings;
use crate::middleware::{AfterVerifying, BeforeSigning, Middleware};
use crate::options::Timeouts;
use crate::request::Endpoint;
use crate::response::Response;
use crate::retry::RetryPolicy;
use crate::signer::Signer;
use crate::transport::{AsyncHttpClient, ReqwestTransport, SyncHttpClient};
use crate::uri::BaseUri;
use crate::verifier::Verifier;

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
    /// chains marked [`Chain::idempotent`](crate::Chain::idempotent)) with exponential backoff and jitter; each
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
