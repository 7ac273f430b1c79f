//! The transport: the only stage that differs between blocking and async verbs.
//!
//! Both traits move `http` types, so any HTTP stack (or a closure, in tests) can
//! carry the signed request. The default is [`ReqwestTransport`]: one connection pool
//! per flavour, keep-alive on, redirects never followed (the Authorization header
//! must not travel to another host), every call bounded in time (see
//! [`Timeouts`]: a whole-call deadline for API calls, an idle timeout for streamed
//! downloads). Blocking calls run reqwest's async client on a
//! current-thread runtime driven by the calling thread itself: no hand-off to a
//! background thread and back (context switches) per request, except on a thread
//! where a tokio runtime is current, where the `blocking` module hands the call to a
//! helper thread.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};

use crate::error::{Error, TransportKind};
use crate::options::Timeouts;

/// Sends a signed request and waits for the answer (blocking verbs).
///
/// Implemented for closures `Fn(Request<Bytes>) -> Result<Response<Bytes>, Error>`.
pub trait SyncHttpClient: Send + Sync + 'static {
    /// Sends `request` and returns the raw answer.
    fn call(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error>;

    /// Sends `request` and hands a 2xx answer's body to `sink` chunk by chunk as
    /// it arrives (downloads too large to hold); the returned answer then has an
    /// empty body. Any other answer comes back whole, for its error to be read.
    /// The default reads the body with [`call`](Self::call), then hands it over.
    fn call_into(
        &self,
        request: Request<Bytes>,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<Response<Bytes>, Error> {
        let response = self.call(request)?;
        if !response.status().is_success() {
            return Ok(response);
        }
        let (parts, body) = response.into_parts();
        sink(&body)?;
        Ok(Response::from_parts(parts, Bytes::new()))
    }
}

/// A body read as it arrives, for [`AsyncHttpClient::call_stream`].
pub type BodyStream = futures::stream::BoxStream<'static, Result<Bytes, Error>>;

impl<F> SyncHttpClient for F
where
    F: Fn(Request<Bytes>) -> Result<Response<Bytes>, Error> + Send + Sync + 'static,
{
    fn call(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        self(request)
    }
}

/// Sends a signed request and resolves to the answer (`*_async` verbs).
///
/// Implemented for closures returning a `Send + 'static` future.
pub trait AsyncHttpClient: Send + Sync + 'static {
    /// Sends `request` and resolves to the raw answer.
    fn call(&self, request: Request<Bytes>) -> BoxFuture<'static, Result<Response<Bytes>, Error>>;

    /// Sends `request` and resolves to the answer with its body as a stream of
    /// chunks (downloads too large to hold). The default reads the body with
    /// [`call`](Self::call) and streams it as one chunk.
    fn call_stream(
        &self,
        request: Request<Bytes>,
    ) -> BoxFuture<'static, Result<Response<BodyStream>, Error>> {
        let call = self.call(request);
        Box::pin(async move {
            let (parts, body) = call.await?.into_parts();
            let stream: BodyStream = Box::pin(futures::stream::once(async move { Ok(body) }));
            Ok(Response::from_parts(parts, stream))
        })
    }
}

impl<F, Fut> AsyncHttpClient for F
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Bytes>, Error>> + Send + 'static,
{
    fn call(&self, request: Request<Bytes>) -> BoxFuture<'static, Result<Response<Bytes>, Error>> {
        Box::pin(self(request))
    }
}

/// The default transport: reqwest (rustls) for both flavours.
///
/// Pools are created on first use; a request whose `connect_timeout` option differs
/// from the client's gets its own pool (reqwest sets connect timeouts per pool).
#[derive(Debug)]
pub struct ReqwestTransport {
    defaults: Timeouts,
    max_body: usize,
    identity: Option<ClientIdentity>,
    proxy: Option<Proxy>,
    /// Trusted on top of the system roots (`ClientBuilder::root_certificate`).
    roots: Vec<reqwest::Certificate>,
    async_pools: Mutex<HashMap<PoolKey, reqwest::Client>>,
    /// Used only under `blocking_runtime`: their connections' tasks live there.
    blocking_pools: Mutex<HashMap<PoolKey, reqwest::Client>>,
    blocking_runtime: OnceLock<Result<BlockingRuntime, String>>,
}

/// The runtime blocking calls run on, created on first use. Dropping it never
/// blocks (a client may be dropped inside async code).
#[derive(Debug)]
struct BlockingRuntime(Option<tokio::runtime::Runtime>);

impl Drop for BlockingRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Pools differ by connect timeout and by whether they present the client
/// certificate (APIv2 `security: true`).
type PoolKey = (Option<Duration>, bool);

/// The merchant's client certificate and key, checked to belong together.
#[derive(Clone)]
pub struct ClientIdentity(reqwest::Identity);

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity(redacted)")
    }
}

/// An HTTP proxy for every pool; its URL may hold credentials, so it is never shown.
#[derive(Clone)]
pub struct Proxy(reqwest::Proxy);

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Proxy(redacted)")
    }
}

/// Parses a proxy URL (`http://[user:password@]host:port`). The error does not
/// repeat the URL, which may hold a password.
pub fn proxy(url: &str) -> Result<Proxy, Error> {
    let parsed = reqwest::Url::parse(url).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    });
    let proxy = parsed.and_then(|u| reqwest::Proxy::all(u).ok());
    proxy.map(Proxy).ok_or_else(|| {
        Error::Config(
            "proxy: not an HTTP proxy URL; expected http://host:port (or http://user:password@host:port)"
                .into(),
        )
    })
}

/// Loads the merchant's client certificate and key (PEM), refusing a pair that does
/// not match.
pub fn client_identity(cert_pem: &str, key_pem: &str) -> Result<ClientIdentity, Error> {
    let cert = crate::crypto::PublicKey::from_pem(cert_pem)
        .map_err(|e| Error::key("merchant client certificate", e.to_string()))?;
    if cert.serial().is_none() {
        return Err(Error::key(
            "merchant client certificate",
            "is not an X.509 certificate (`BEGIN CERTIFICATE`)",
        ));
    }
    let key = crate::crypto::PrivateKey::from_pem(key_pem)
        .map_err(|e| Error::key("merchant client certificate key", e.to_string()))?;
    let probe = b"wechatpay-chain client identity";
    let signature = key.sign_base64(probe)?;
    if !cert.verify_base64(probe, &signature) {
        return Err(Error::key(
            "merchant client certificate",
            "does not match the private key given with it",
        ));
    }
    let pem = format!("{}\n{}\n", cert_pem.trim(), key_pem.trim());
    reqwest::Identity::from_pem(pem.as_bytes())
        .map(ClientIdentity)
        .map_err(|e| {
            Error::key(
                "merchant client certificate",
                format!("rejected by TLS ({e})"),
            )
        })
}

/// Extra trusted CA certificates, checked to be X.509 when given.
#[derive(Debug, Clone, Default)]
pub struct RootCertificates(Vec<reqwest::Certificate>);

/// Reads the CA certificates of `pems` (each one or more `BEGIN CERTIFICATE`
/// blocks); the error names the one that is not (counting from 1).
pub fn root_certificates<S: AsRef<str>>(pems: &[S]) -> Result<RootCertificates, Error> {
    use x509_cert::der::Encode as _;
    let mut roots = Vec::new();
    for (i, pem) in pems.iter().enumerate() {
        let what = format!("root certificate #{}", i + 1);
        let certs = x509_cert::Certificate::load_pem_chain(pem.as_ref().as_bytes())
            .ok()
            .filter(|certs| !certs.is_empty())
            .ok_or_else(|| {
                Error::key(
                    &what,
                    "is not a PEM X.509 certificate (`-----BEGIN CERTIFICATE-----`)",
                )
            })?;
        for cert in certs {
            let der = cert
                .to_der()
                .map_err(|e| Error::key(&what, format!("cannot be re-encoded ({e})")))?;
            let cert = reqwest::Certificate::from_der(&der)
                .map_err(|e| Error::key(&what, format!("rejected by TLS ({e})")))?;
            roots.push(cert);
        }
    }
    Ok(RootCertificates(roots))
}

impl ReqwestTransport {
    /// The default largest answer body held in memory: 4 MiB.
    pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

    /// A transport whose pools use these default timeouts and which refuses answer
    /// bodies over `max_body` bytes (without reading them whole).
    pub fn new(defaults: Timeouts, max_body: usize) -> Self {
        ReqwestTransport {
            defaults,
            max_body,
            identity: None,
            proxy: None,
            roots: Vec::new(),
            async_pools: Mutex::new(HashMap::new()),
            blocking_pools: Mutex::new(HashMap::new()),
            blocking_runtime: OnceLock::new(),
        }
    }

    /// The runtime blocking calls drive, created on first use. Driven only off
    /// other runtimes' threads ([`crate::blocking`]).
    fn blocking_runtime(&self) -> Result<&tokio::runtime::Runtime, Error> {
        let runtime = self.blocking_runtime.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| BlockingRuntime(Some(rt)))
                .map_err(|e| format!("cannot start the blocking transport's runtime ({e})"))
        });
        match runtime {
            Ok(BlockingRuntime(Some(rt))) => Ok(rt),
            Ok(BlockingRuntime(None)) => Err(transport_error(
                "the blocking transport has shut down",
                TransportKind::Other,
            )),
            Err(m) => Err(transport_error(m.clone(), TransportKind::Other)),
        }
    }

    /// Sends every request through `proxy` instead of the one the environment names.
    pub fn with_proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Trusts these CAs on top of the system roots in every pool; verification
    /// itself stays on (there is no way to turn it off).
    pub fn with_root_certificates(mut self, roots: RootCertificates) -> Self {
        self.roots.extend(roots.0);
        self
    }

    /// Presents `identity` on requests marked for it (APIv2 `security: true`).
    pub fn with_identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    fn pool_key(
        &self,
        request: &Request<Bytes>,
        connect: Option<Duration>,
    ) -> Result<PoolKey, Error> {
        let wants = request
            .extensions()
            .get::<crate::v2::ClientCertificate>()
            .is_some();
        if wants && self.identity.is_none() {
            return Err(Error::Config(
                "this request needs the merchant's client certificate: ClientBuilder::merchant_certificate".into(),
            ));
        }
        Ok((connect, wants))
    }

    fn timeouts(&self, request: &Request<Bytes>) -> (Option<Duration>, Option<Duration>) {
        let t = request
            .extensions()
            .get::<Timeouts>()
            .copied()
            .unwrap_or_default();
        (
            t.timeout.or(self.defaults.timeout),
            t.connect_timeout.or(self.defaults.connect_timeout),
        )
    }

    fn pool(
        &self,
        pools: &Mutex<HashMap<PoolKey, reqwest::Client>>,
        key: PoolKey,
    ) -> Result<reqwest::Client, Error> {
        let (connect, with_identity) = key;
        let mut pools = pools.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = pools.get(&key) {
            return Ok(c.clone());
        }
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Our own retry policy re-signs each attempt; reqwest's would clone every
            // request's headers in case an HTTP/2 stream is refused (we speak HTTP/1.1).
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(t) = connect {
            b = b.connect_timeout(t);
        }
        if let (true, Some(identity)) = (with_identity, &self.identity) {
            b = b.identity(identity.0.clone());
        }
        if let Some(proxy) = &self.proxy {
            b = b.proxy(proxy.0.clone());
        }
        if !self.roots.is_empty() {
            b = b.tls_certs_merge(self.roots.iter().cloned());
        }
        let client = b
            .build()
            .map_err(|e| transport_error(e, TransportKind::Other))?;
        pools.insert(key, client.clone());
        Ok(client)
    }
}

impl SyncHttpClient for ReqwestTransport {
    fn call(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        let (pool, req) = self.prepare(request, &self.blocking_pools)?;
        crate::blocking::off_runtime(|| {
            let runtime = self.blocking_runtime()?;
            runtime.block_on(execute(pool, req, self.max_body))
        })
    }

    fn call_into(
        &self,
        request: Request<Bytes>,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<Response<Bytes>, Error> {
        let (pool, req) = self.prepare(request, &self.blocking_pools)?;
        let (req, idle) = streamed(req);
        let max_body = self.max_body;
        crate::blocking::off_runtime_into(
            |sink| {
                let runtime = self.blocking_runtime()?;
                runtime.block_on(async move {
                    let mut res = within(idle, pool.execute(req)).await?;
                    if !res.status().is_success() {
                        return within(idle, read_whole(res, max_body)).await;
                    }
                    while let Some(chunk) = within(idle, res.chunk()).await? {
                        sink(&chunk)?;
                    }
                    head_of(res, Bytes::new())
                })
            },
            sink,
        )
    }
}

impl AsyncHttpClient for ReqwestTransport {
    fn call(&self, request: Request<Bytes>) -> BoxFuture<'static, Result<Response<Bytes>, Error>> {
        let prepared = self.prepare(request, &self.async_pools);
        let max_body = self.max_body;
        Box::pin(async move {
            let (pool, req) = prepared?;
            execute(pool, req, max_body).await
        })
    }

    fn call_stream(
        &self,
        request: Request<Bytes>,
    ) -> BoxFuture<'static, Result<Response<BodyStream>, Error>> {
        let prepared = self.prepare(request, &self.async_pools);
        let max_body = self.max_body;
        Box::pin(async move {
            let (pool, req) = prepared?;
            let (req, idle) = streamed(req);
            let res = within(idle, pool.execute(req)).await?;
            if !res.status().is_success() {
                let (parts, body) = within(idle, read_whole(res, max_body)).await?.into_parts();
                let stream: BodyStream = Box::pin(futures::stream::once(async move { Ok(body) }));
                return Ok(Response::from_parts(parts, stream));
            }
            let head = head_of(&res, ())?;
            let stream = futures::stream::try_unfold(res, move |mut res| async move {
                Ok(within(idle, res.chunk()).await?.map(|chunk| (chunk, res)))
            });
            let (parts, ()) = head.into_parts();
            Ok(Response::from_parts(parts, Box::pin(stream) as BodyStream))
        })
    }
}

impl ReqwestTransport {
    /// Picks the pool and turns the signed request into reqwest's, refusing a URL
    /// the URL layer would rewrite.
    fn prepare(
        &self,
        request: Request<Bytes>,
        pools: &Mutex<HashMap<PoolKey, reqwest::Client>>,
    ) -> Result<(reqwest::Client, reqwest::Request), Error> {
        let (timeout, connect) = self.timeouts(&request);
        let pool = self.pool(pools, self.pool_key(&request, connect)?)?;
        let signed = request.uri().clone();
        let mut req = reqwest::Request::try_from(request)
            .map_err(|e| transport_error(e, TransportKind::Url))?;
        check_url(req.url(), &signed)?;
        *req.timeout_mut() = timeout;
        Ok((pool, req))
    }
}

/// A streamed download's request: no deadline for the whole transfer (a large file
/// may take longer than any), its timeout returned to bound each wait instead.
fn streamed(mut req: reqwest::Request) -> (reqwest::Request, Option<Duration>) {
    let idle = req.timeout_mut().take();
    (req, idle)
}

/// Awaits `step` (the answer's head, or the next chunk of its body) for at most
/// `idle`: the idle timeout of streamed downloads.
async fn within<T, E: IntoTransportError>(
    idle: Option<Duration>,
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, Error> {
    let Some(limit) = idle else {
        return step.await.map_err(E::into_transport_error);
    };
    match tokio::time::timeout(limit, step).await {
        Ok(outcome) => outcome.map_err(E::into_transport_error),
        Err(_) => Err(transport_error(
            format!("no data for {limit:?} (the idle timeout of a streamed download)"),
            TransportKind::Timeout,
        )),
    }
}

/// The errors a transport step may end with.
trait IntoTransportError {
    fn into_transport_error(self) -> Error;
}

impl IntoTransportError for reqwest::Error {
    fn into_transport_error(self) -> Error {
        classify(self)
    }
}

impl IntoTransportError for Error {
    fn into_transport_error(self) -> Error {
        self
    }
}

/// Status, version and headers of `res` around `body`.
fn head_of<B>(
    res: impl std::borrow::Borrow<reqwest::Response>,
    body: B,
) -> Result<Response<B>, Error> {
    let res = res.borrow();
    let mut out = Response::builder()
        .status(res.status())
        .version(res.version());
    if let Some(h) = out.headers_mut() {
        *h = res.headers().clone();
    }
    out.body(body)
        .map_err(|e| transport_error(e, TransportKind::Other))
}

/// Reads a whole (error) answer, bounded like every other.
async fn read_whole(res: reqwest::Response, max_body: usize) -> Result<Response<Bytes>, Error> {
    check_length(res.content_length(), max_body)?;
    let head = head_of(&res, ())?;
    let mut body = Vec::new();
    let mut res = res;
    while let Some(chunk) = res.chunk().await.map_err(classify)? {
        body.extend_from_slice(&chunk);
        check_length(Some(body.len() as u64), max_body)?;
    }
    let (parts, ()) = head.into_parts();
    Ok(Response::from_parts(parts, Bytes::from(body)))
}

/// Sends `req` on `pool` and reads the answer, refusing a body over `max_body`
/// (as soon as its length or what has arrived says so).
async fn execute(
    pool: reqwest::Client,
    req: reqwest::Request,
    max_body: usize,
) -> Result<Response<Bytes>, Error> {
    let mut res = pool.execute(req).await.map_err(classify)?;
    check_length(res.content_length(), max_body)?;
    let mut out = Response::builder()
        .status(res.status())
        .version(res.version());
    if let Some(h) = out.headers_mut() {
        *h = std::mem::take(res.headers_mut());
    }
    // A body in one chunk (the usual small answer) is kept as is, without a copy.
    let mut first: Option<Bytes> = None;
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(classify)? {
        if let Some(previous) = first.take() {
            body.extend_from_slice(&previous);
        }
        if body.is_empty() {
            first = Some(chunk);
        } else {
            body.extend_from_slice(&chunk);
        }
        let received = body.len() + first.as_ref().map_or(0, Bytes::len);
        check_length(Some(received as u64), max_body)?;
    }
    let body = first.unwrap_or_else(|| Bytes::from(body));
    out.body(body)
        .map_err(|e| transport_error(e, TransportKind::Other))
}

fn check_length(length: Option<u64>, max: usize) -> Result<(), Error> {
    match length {
        Some(n) if n > max as u64 => Err(transport_error(
            format!("the answer body exceeds the {max}-byte limit; raise it with ClientBuilder::max_body_size"),
            TransportKind::BodyTooLarge,
        )),
        _ => Ok(()),
    }
}

/// The signature covers the target as built; refuse to send if the URL layer would
/// rewrite it.
fn check_url(url: &reqwest::Url, signed: &http::Uri) -> Result<(), Error> {
    if url.path() == signed.path() && url.query() == signed.query() {
        return Ok(());
    }
    let shown = |path: &str, query: Option<&str>| match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    Err(transport_error(
        format!(
            "the URL layer would send `{}` but `{}` was signed",
            shown(url.path(), url.query()),
            shown(signed.path(), signed.query())
        ),
        TransportKind::Url,
    ))
}

fn classify(e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    };
    transport_error(e, kind)
}

fn transport_error(e: impl Into<crate::error::BoxError>, kind: TransportKind) -> Error {
    Error::Transport {
        kind,
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> http::Uri {
        s.parse().expect("test URI")
    }

    #[test]
    fn the_signed_target_must_be_the_target_sent() {
        let url = reqwest::Url::parse("https://h.test/v3/a?x=1").expect("test URL");
        assert!(check_url(&url, &uri("https://h.test/v3/a?x=1")).is_ok());
        // The URL layer turns `%2e%2e` into `..` and drops the segment before it.
        let rewritten = reqwest::Url::parse("https://h.test/v3/a/%2e%2e/b").expect("test URL");
        assert_eq!(rewritten.path(), "/v3/b");
        let err = check_url(&rewritten, &uri("https://h.test/v3/a/%2e%2e/b"))
            .expect_err("a rewritten target is refused");
        assert_eq!(err.transport_kind(), Some(TransportKind::Url));
        assert!(
            err.to_string().contains("`/v3/b` but `/v3/a/%2e%2e/b`"),
            "{err}"
        );
        // A query present on one side only is a difference too.
        let err = check_url(&url, &uri("https://h.test/v3/a")).expect_err("query differs");
        assert!(err.to_string().contains("`/v3/a?x=1` but `/v3/a`"), "{err}");
    }
}
