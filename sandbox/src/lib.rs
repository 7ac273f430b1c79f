//! A local WeChat Pay on loopback, in the spirit of Stripe's
//! stripe-mock: examples, tests and the `wxpay` command line run against it when no
//! merchant account is at hand.
//!
//! The sandbox
//! - checks every request's `Authorization` as WeChat Pay does (scheme, `mchid`,
//!   merchant `serial_no`, a timestamp within 300 s, a nonce, and the signature over
//!   the request target and body bytes received) and answers 401 `SIGN_ERROR`
//!   otherwise, saying what failed;
//! - signs every answer, errors included, with the platform key
//!   (`Wechatpay-Timestamp`, `-Nonce`, `-Serial` = the platform public key id,
//!   `-Signature`, `-Signature-Type`) and adds a unique `Request-ID`;
//! - keeps the payment loop's state: transactions (`POST
//!   v3/pay/transactions/{jsapi,app,h5,native}` and the `v3/pay/partner/…` twins
//!   answer `prepay_id`, `code_url` or `h5_url`; the same `out_trade_no` with another
//!   body is refused with `INVALID_REQUEST` "201 商户订单号重复"; queries by
//!   `out-trade-no/{out_trade_no}?mchid=` (partner: `sp_mchid`, `sub_mchid`) or
//!   `id/{transaction_id}` answer `NOTPAY` until paid, then `SUCCESS`; `…/close`
//!   answers 204 and `CLOSED`; a paid or closed order refuses closing and paying with
//!   `ORDERPAID` / `ORDER_CLOSED`) and refunds (`POST v3/refund/domestic/refunds`
//!   against a paid order, never above what was paid in total, `PROCESSING` and then
//!   `SUCCESS`; `GET v3/refund/domestic/refunds/{out_refund_no}`). Bad fields are 400
//!   `PARAM_ERROR` naming the field (`/amount/total`) with WeChat's `detail`;
//! - pays orders ([`Sandbox::pay`]) and POSTs the notifications WeChat would to the
//!   order's (or refund's) `notify_url`: `TRANSACTION.SUCCESS` and `REFUND.SUCCESS`,
//!   signed with the platform key, `resource` encrypted with [`APIV3_KEY`]. A non-2xx
//!   answer, a timeout or a connection failure is retried on WeChat's schedule
//!   compressed ([`SandboxBuilder::notify_schedule`]); [`Sandbox::deliveries`] lists
//!   every attempt;
//! - serves the discount-card orders statefully (`PATCH` and `GET
//!   v3/discount-card/orders/{out_order_no}`), starting with the seed's order
//!   [`SEED_ORDER`];
//! - serves the helpers' endpoints: `v3/certificates` (the platform certificate,
//!   encrypted with [`APIV3_KEY`]), the media uploads (checking the signature over
//!   the `meta` part and the file's sha256), `v3/bill/tradebill` and
//!   `v3/bill/fundflowbill` with an unsigned `v3/billdownload/file`, and builds signed,
//!   encrypted notifications ([`Sandbox::notification`]);
//! - serves HTTPS with its own CA when asked ([`SandboxBuilder::tls`]), and then
//!   requires the merchant API client certificate it issued on the APIv2 endpoints
//!   WeChat serves only with it ([`CERT_REQUIRED`]), `secapi/pay/refund` among them;
//! - answers routes a test registers with [`Sandbox::route`] first, as the test
//!   wrote them;
//! - answers every other operation of the catalogue (`wechatpay-chain-catalogue`:
//!   APIv3, `hk/`, `global/`, and APIv2 in XML). The request is validated first, as
//!   WeChat validates before it looks at any state, and before the built-in handlers
//!   above run: path parameters, required query parameters, and the body (required
//!   members at every depth, JSON types, `enum`, `maxLength`, `minimum`/`maximum`,
//!   `minItems`/`maxItems`; the parts of an
//!   upload; APIv2's `sign` with [`APIV2_SECRET`] and its fields). A refusal is a
//!   400 `PARAM_ERROR` whose message names the field by its JSON pointer
//!   (`/amount/total is required but missing (body)`) and whose `detail` holds
//!   `field`, `value`, `issue` and `location`; APIv2 answers `return_code=FAIL` (a
//!   bad `sign`) or `result_code=FAIL` with `err_code=PARAM_ERROR`. An operation
//!   without a handler gets its documented 2xx (204 empty), the body built from the
//!   response schema: every required member, examples, members named like a request
//!   field or path parameter echo it, ids unique per call, a `download_url` served
//!   by the sandbox with the hash announced beside it;
//! - answers a path the catalogue does not know 404 `NOT_FOUND`, in WeChat's error
//!   JSON `{"code": …, "message": …}`.
//!
//! # The control plane
//!
//! Tests in other languages drive the sandbox over HTTP, each request signed with
//! the merchant key like any other call (e.g. with `wxpay request … --sandbox-dir
//! DIR`, or the SDK under test):
//!
//! | Request | Does |
//! | --- | --- |
//! | `POST /sandbox/routes` `{"method", "template", "status", "json"}` | registers a route answering `status` (default 200) with `json` (default: no body); a later route wins |
//! | `POST /sandbox/faults` `{"method", "template", "fault", "times", …}` | injects a fault, as [`Sandbox::inject`] |
//! | `POST /sandbox/pay` `{"out_trade_no"}` | pays an order and notifies, as [`Sandbox::pay`]; answers the order |
//! | `GET /sandbox/deliveries` | `{"total_count", "data": [{"notification_id", "event_type", "subject", "url", "attempt", "status", "error", "delivered", "sent_at"}]}` |
//! | `GET /sandbox/stats` | connections, requests and signatures, as [`Sandbox::stats`] |
//! | `POST /sandbox/reset` | 204; forgets orders, refunds, deliveries, faults and these routes, as [`Sandbox::reset`] |
//!
//! It runs on its own thread with its own multi-thread tokio runtime, so it serves
//! blocking and async clients alike, and stops (gracefully) when dropped.
//!
//! ```
//! use serde_json::json;
//! use wechatpay_chain_sandbox::Sandbox;
//!
//! let sandbox = Sandbox::start()?;
//! let client = sandbox.client();
//! let order: serde_json::Value = client
//!     .chain("v3/discount-card/orders/{out_order_no}")
//!     .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }))?
//!     .json()?;
//! assert_eq!(order["out_order_no"], "233bcbf407e87789b8e471f251774f95");
//!
//! // Any other endpoint, simulated by the test itself:
//! use wechatpay_chain_sandbox::StatusCode;
//! sandbox.route("POST", "v3/marketing/favor/users/{openid}/coupons", |req| {
//!     let stock = req.json["stock_id"].clone();
//!     (StatusCode::OK, json!({ "coupon_id": "9867041", "stock_id": stock }))
//! });
//! let answer: serde_json::Value = client
//!     .chain("v3/marketing/favor/users/{openid}/coupons")
//!     .post(json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "json": { "stock_id": "9856000" } }))?
//!     .json()?;
//! assert_eq!(answer["stock_id"], "9856000");
//! # Ok::<_, wechatpay_chain::Error>(())
//! ```

#![deny(missing_docs)]

mod answer;
mod auth;
mod bills;
mod cache;
mod catalogue;
mod certificates;
mod control;
mod delivery;
mod faults;
mod fields;
mod keys;
mod media;
mod notify;
mod orders;
mod refunds;
mod routes;
mod server;
mod tls;
mod transactions;
mod v2;
mod validate;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use cache::SandboxStats;
pub use certificates::APIV3_KEY;
pub use control::Refusal;
pub use delivery::{compressed_schedule, Delivery, WECHAT_NOTIFY_SCHEDULE};
pub use faults::Fault;
pub use http::{Method, StatusCode};
pub use keys::{
    SandboxKeys, CERT_FILE, FIXTURE_MCHID, FIXTURE_MERCHANT_SERIAL, FIXTURE_PLATFORM_SERIAL,
    INFO_FILE, KEY_FILES,
};
pub use orders::SEED_ORDER;
pub use routes::{Reply, SandboxRequest};
pub use tls::{
    certificate_required, SandboxTls, CA_FILE, CERT_REQUIRED, CLIENT_CERT_FILE, CLIENT_KEY_FILE,
    CLIENT_P12_FILE,
};
pub use v2::APIV2_SECRET;

use routes::{Handler, Route};
use server::{App, Running};
use wechatpay_chain::Error;
use wechatpay_chain::{Client, ClientBuilder};

/// The header WeChat Pay names each answer with.
const REQUEST_ID: &str = "Request-ID";

/// Lower-case hex, as WeChat Pay writes digests.
fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// Decodes `%XX` escapes, keeping a malformed one as written (a server's leniency).
fn percent_decode_lenient(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A running sandbox. Dropping it stops the server: no new connections, requests in
/// flight finish (within two seconds), and the server thread ends.
pub struct Sandbox {
    addr: SocketAddr,
    url: String,
    app: Arc<App>,
    client: Client,
    running: Running,
}

impl Sandbox {
    /// Options: port, keys directory, routes, logging.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Starts a sandbox on an ephemeral loopback port with the crate's test keys and
    /// returns once it accepts connections. Blocking; from async code prefer
    /// [`start_async`](Self::start_async).
    pub fn start() -> Result<Sandbox, Error> {
        Self::builder().start()
    }

    /// The async twin of [`start`](Self::start): the set-up runs on the server's
    /// thread and this future awaits it, so the executor is never blocked. It needs
    /// no particular runtime.
    pub async fn start_async() -> Result<Sandbox, Error> {
        Self::builder().start_async().await
    }

    /// The base URI, e.g. `http://127.0.0.1:41234/` (`https://…` with
    /// [`SandboxBuilder::tls`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The socket address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A [`Client`] configured for this sandbox: its mchid, merchant serial and
    /// private key, its platform key under the platform key id, and its URL as the
    /// base URI; with TLS also its CA as a root certificate and the merchant
    /// client certificate it issued.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The same configuration as [`client`](Self::client), not yet built, so a test
    /// can change it (a clock, a timeout, middleware, another key).
    pub fn client_builder(&self) -> ClientBuilder {
        configured(client_builder(&self.app.keys, &self.url), &self.app)
    }

    /// The APIv3 key the sandbox encrypts notifications and certificates with
    /// ([`APIV3_KEY`]); [`client`](Self::client) is configured with it.
    pub fn apiv3_key(&self) -> &str {
        APIV3_KEY
    }

    /// The serial the sandbox signs answers and notifications under: the platform
    /// public key id, or the certificate serial with
    /// [`SandboxBuilder::sign_with_certificate`].
    pub fn signing_serial(&self) -> &str {
        match self.app.keys.platform_certificate_serial() {
            Some(serial) if self.app.sign_with_certificate => serial,
            _ => self.app.keys.platform_serial(),
        }
    }

    /// The CA, merchant client certificate and key of a sandbox started with
    /// [`SandboxBuilder::tls`]; `None` on plain HTTP.
    pub fn tls(&self) -> Option<&SandboxTls> {
        self.app.tls.as_ref()
    }

    /// The keys and ids the sandbox plays WeChat Pay with.
    pub fn keys(&self) -> &SandboxKeys {
        &self.app.keys
    }

    /// The merchant id the sandbox expects.
    pub fn mchid(&self) -> &str {
        self.app.keys.mchid()
    }

    /// The merchant certificate serial the sandbox expects in `serial_no`.
    pub fn merchant_serial(&self) -> &str {
        self.app.keys.merchant_serial()
    }

    /// The platform public key id (`PUB_KEY_ID_…`) the sandbox signs answers under.
    pub fn platform_serial(&self) -> &str {
        self.app.keys.platform_serial()
    }

    /// Registers a route: `method` (any case, e.g. `"POST"`) and a template with
    /// `{name}` or `<name>` placeholders, each matching one path segment. The handler
    /// runs only for requests that pass the signature check; its answer is signed
    /// like every other. A later route overrides an earlier one for the same request,
    /// the built-in ones (orders, transactions, refunds) and the catalogue's answers
    /// included; the request is not validated against the catalogue (the route is
    /// the test's own WeChat). A panicking handler answers 500 `SYSTEM_ERROR`.
    pub fn route<F>(&self, method: impl AsRef<str>, template: &str, handler: F) -> &Self
    where
        F: Fn(&SandboxRequest) -> Reply + Send + Sync + 'static,
    {
        self.app
            .add_route(Route::new(method.as_ref(), template, Arc::new(handler)));
        self
    }

    /// Makes the next `times` requests that match `method` (any case, or `"*"` for
    /// any) and `template` (as for [`route`](Self::route)) meet `fault`, before the
    /// signature check: a gateway error, a delay, an unsigned, tampered or stale
    /// answer, or a dropped connection. Faults injected later are met first.
    ///
    /// Other processes inject the same faults with a signed `POST /sandbox/faults`,
    /// e.g. `wxpay request POST sandbox/faults --json '{"method": "GET", "template":
    /// "v3/certificates", "fault": "status", "status": 503, "code": "SYSTEM_ERROR",
    /// "times": 2}'` (`fault`: `status` with `status` and `code`, `delay` with
    /// `delay_ms`, `unsigned`, `tampered`, `stale`, `disconnect`, or `gateway` with
    /// `status`; `times`
    /// defaults to 1).
    ///
    /// ```
    /// use std::time::Duration;
    /// use serde_json::json;
    /// use wechatpay_chain_sandbox::{Fault, Sandbox, StatusCode, SEED_ORDER};
    /// use wechatpay_chain::{Error, RetryPolicy};
    ///
    /// let sandbox = Sandbox::start()?;
    /// let order = "v3/discount-card/orders/{out_order_no}";
    /// sandbox.inject("GET", order, Fault::status(StatusCode::SERVICE_UNAVAILABLE, "SYSTEM_ERROR"), 1);
    /// let client = sandbox
    ///     .client_builder()
    ///     .retry(RetryPolicy::exponential(2).base_delay(Duration::from_millis(10)))
    ///     .build()?;
    /// // The 503 is retried, re-signed; the second attempt is served.
    /// let res = client.chain(order).get(json!({ "out_order_no": SEED_ORDER }))?;
    /// assert_eq!(res.status(), 200);
    ///
    /// sandbox.inject("*", order, Fault::Unsigned, 1);
    /// let err = client.chain(order).get(json!({ "out_order_no": SEED_ORDER })).unwrap_err();
    /// assert!(matches!(err, Error::Verification { .. }));
    /// # Ok::<_, Error>(())
    /// ```
    pub fn inject(
        &self,
        method: impl AsRef<str>,
        template: &str,
        fault: Fault,
        times: usize,
    ) -> &Self {
        self.app
            .faults
            .inject(method.as_ref(), template, fault, times);
        self
    }

    /// Marks the order `out_trade_no` paid (it answers `SUCCESS` with a
    /// `transaction_id` from now on) and POSTs `TRANSACTION.SUCCESS` to its
    /// `notify_url` in the background, retried on the notification schedule
    /// ([`SandboxBuilder::notify_schedule`]); [`deliveries`](Self::deliveries) lists
    /// the attempts. Answers the order as a query would. An unknown order is
    /// refused with `ORDER_NOT_EXIST`, a paid one with `ORDERPAID`, a closed one
    /// with `ORDER_CLOSED`. The HTTP twin is a signed `POST /sandbox/pay` with
    /// `{"out_trade_no": …}`. It does not wait for the delivery, so it is fine in
    /// async code too.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay_chain_sandbox::Sandbox;
    ///
    /// let sandbox = Sandbox::start()?;
    /// let client = sandbox.client();
    /// client.chain("v3/pay/transactions/native").post(json!({ "json": {
    ///     "appid": "wxd678efh567hg6787", "mchid": sandbox.mchid(),
    ///     "description": "Image形象店-深圳腾大-QQ公仔", "out_trade_no": "1217752501201407033233368018",
    ///     "notify_url": "http://127.0.0.1:9/notify", "amount": { "total": 100 },
    /// }}))?;
    /// let order = sandbox.pay("1217752501201407033233368018")?;
    /// assert_eq!(order["trade_state"], "SUCCESS");
    /// let again = sandbox.pay("1217752501201407033233368018").unwrap_err();
    /// assert_eq!(again.code, "ORDERPAID");
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn pay(&self, out_trade_no: &str) -> Result<serde_json::Value, Refusal> {
        control::pay(&self.app, out_trade_no).map_err(Refusal::from_reply)
    }

    /// Every notification delivery attempt so far, oldest first: the
    /// notification id, event type, order, URL, attempt number and outcome (also
    /// served, signed, at `GET /sandbox/deliveries`).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.app.notifier.deliveries()
    }

    /// Forgets the state: transactions, refunds, notification deliveries (retries
    /// still to come are abandoned), injected faults, APIv2 orders, the routes
    /// registered over HTTP, and the discount-card orders (back to the seed's).
    /// Routes registered with [`route`](Self::route) stay. The HTTP twin is a
    /// signed `POST /sandbox/reset`.
    pub fn reset(&self) {
        control::reset(&self.app);
    }

    /// Connections accepted, requests received and answered, and signatures made so far (also
    /// served, signed, at `GET /sandbox/stats`).
    pub fn stats(&self) -> SandboxStats {
        self.app.counters.snapshot()
    }

    /// Stops the sandbox now (what dropping it does).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.running.stop();
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("url", &self.url)
            .field("keys", &self.app.keys)
            .finish_non_exhaustive()
    }
}

/// Options of a [`Sandbox`]; [`start`](Self::start) or
/// [`start_async`](Self::start_async) runs it.
///
/// ```
/// use wechatpay_chain_sandbox::{Sandbox, StatusCode};
/// let sandbox = Sandbox::builder()
///     .port(0) // ephemeral, the default
///     .route("GET", "v3/ping", |_| (StatusCode::OK, serde_json::json!({ "pong": true })))
///     .start()?;
/// assert!(sandbox.url().starts_with("http://127.0.0.1:"));
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
#[must_use]
#[derive(Default)]
pub struct SandboxBuilder {
    port: u16,
    keys_dir: Option<PathBuf>,
    keys: Option<SandboxKeys>,
    routes: Vec<(String, String, Handler)>,
    log: bool,
    signature_cache: Option<std::time::Duration>,
    sign_with_certificate: bool,
    tls: bool,
    notify_schedule: Option<Vec<Duration>>,
    notify_timeout: Option<Duration>,
    refund_after: Option<Duration>,
}

impl SandboxBuilder {
    /// The loopback port to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Loads the keys and ids from `dir` (`merchant_private.pem`,
    /// `merchant_public.pem`, `platform_private.pem`, `platform_public.pem`,
    /// `sandbox.json`, and `platform_cert.pem` when present) when they are there,
    /// else generates fresh RSA-2048 pairs and a self-signed platform certificate and
    /// writes them; `sandbox.json` is rewritten with the base URI on every start.
    /// Without it the sandbox uses the crate's test keys (instant).
    pub fn keys_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.keys_dir = Some(dir.into());
        self
    }

    /// Uses these keys (ignored when [`keys_dir`](Self::keys_dir) is set).
    pub fn keys(mut self, keys: SandboxKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Registers a route before start, as [`Sandbox::route`] does after.
    pub fn route<F>(mut self, method: impl AsRef<str>, template: &str, handler: F) -> Self
    where
        F: Fn(&SandboxRequest) -> Reply + Send + Sync + 'static,
    {
        self.routes.push((
            method.as_ref().to_owned(),
            template.to_owned(),
            Arc::new(handler),
        ));
        self
    }

    /// Prints one line per request (`METHOD target -> status`) on stderr.
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log = on;
        self
    }

    /// Reuses the signature of an answer whose body was signed less than `ttl` ago
    /// (at most 240 s, so the timestamp stays inside the clients' 300 s window), so
    /// a benchmark measures the client rather than the sandbox's RSA operations.
    /// Off by default: every answer is signed afresh.
    pub fn cache_signatures(mut self, ttl: std::time::Duration) -> Self {
        self.signature_cache = Some(ttl);
        self
    }

    /// Signs every answer under the platform certificate's serial, as WeChat does
    /// for merchants on platform certificates, instead of the public key id.
    /// [`Sandbox::client`] is then
    /// configured with the certificate too. Needs keys with a certificate (the
    /// fixture keys have one).
    pub fn sign_with_certificate(mut self, on: bool) -> Self {
        self.sign_with_certificate = on;
        self
    }

    /// Serves HTTPS (off by default). The sandbox makes a CA and a certificate for
    /// `127.0.0.1` and `localhost` signed by it, and a merchant CA that issues the
    /// merchant API client certificate ([`SandboxTls`]); with
    /// [`keys_dir`](Self::keys_dir) it writes `ca.pem`, `apiclient_cert.pem`,
    /// `apiclient_key.pem` and `apiclient_cert.p12` (password: the mchid) there on
    /// every start. [`Sandbox::client`] trusts the CA and presents the certificate.
    ///
    /// The handshake asks for a client certificate without requiring one; one that
    /// is presented must chain to the merchant CA, or the handshake fails. The
    /// APIv2 endpoints WeChat serves only with the certificate ([`CERT_REQUIRED`])
    /// answer `return_code` FAIL to a connection that presented none, or one issued
    /// to another merchant. (Plain HTTP cannot carry a certificate, so without TLS
    /// they are served without.)
    ///
    /// ```
    /// use wechatpay_chain_sandbox::Sandbox;
    /// let sandbox = Sandbox::builder().tls(true).start()?;
    /// assert!(sandbox.url().starts_with("https://127.0.0.1:"));
    /// let tls = sandbox.tls().expect("started with TLS");
    /// assert!(tls.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// The waits between notification attempts after the first (one retry per
    /// entry); by default WeChat's schedule ([`WECHAT_NOTIFY_SCHEDULE`]) compressed
    /// a thousandfold, see [`compressed_schedule`]. An empty schedule never retries.
    pub fn notify_schedule(mut self, waits: impl IntoIterator<Item = Duration>) -> Self {
        self.notify_schedule = Some(waits.into_iter().collect());
        self
    }

    /// How long a notification attempt waits for the merchant's answer before it
    /// counts as failed (default 5 s, as WeChat).
    pub fn notify_timeout(mut self, timeout: Duration) -> Self {
        self.notify_timeout = Some(timeout);
        self
    }

    /// How long a refund stays `PROCESSING` before it is `SUCCESS` and
    /// `REFUND.SUCCESS` is sent (default 200 ms).
    pub fn refund_after(mut self, delay: Duration) -> Self {
        self.refund_after = Some(delay);
        self
    }

    /// Starts the sandbox and returns once it accepts connections (blocking).
    pub fn start(self) -> Result<Sandbox, Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let running = server::spawn(
            Box::new(move || self.set_up()),
            Box::new(move |outcome| {
                let _ = tx.send(outcome);
            }),
        )?;
        let outcome = rx.recv().unwrap_or_else(|_| {
            Err(Error::Config(
                "the sandbox thread ended during start-up".into(),
            ))
        });
        finish(outcome, running)
    }

    /// Starts the sandbox and resolves once it accepts connections; the set-up (key
    /// loading or generation included) runs on the server's thread.
    pub async fn start_async(self) -> Result<Sandbox, Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let running = server::spawn(
            Box::new(move || self.set_up()),
            Box::new(move |outcome| {
                let _ = tx.send(outcome);
            }),
        )?;
        let outcome = rx.await.unwrap_or_else(|_| {
            Err(Error::Config(
                "the sandbox thread ended during start-up".into(),
            ))
        });
        finish(outcome, running)
    }

    /// Everything that can fail before serving: keys, the listening socket,
    /// `sandbox.json`. Runs on the server thread.
    fn set_up(self) -> Result<(TcpListener, Arc<App>), Error> {
        catalogue::warm();
        let keys = match (&self.keys_dir, self.keys) {
            (Some(dir), _) => SandboxKeys::load_or_generate(dir)?,
            (None, Some(keys)) => keys,
            (None, None) => SandboxKeys::fixture()?,
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).map_err(|e| {
            Error::Config(format!(
                "the sandbox cannot listen on 127.0.0.1:{} ({e})",
                self.port
            ))
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("the sandbox socket has no address ({e})")))?;
        let tls = match self.tls {
            true => Some(SandboxTls::new(&keys)?),
            false => None,
        };
        if let Some(dir) = &self.keys_dir {
            if let Some(tls) = &tls {
                tls.write(dir)?;
            }
            keys.write_info(dir, &server::base_uri(addr, tls.is_some()))?;
        }
        let serial = match keys.platform_certificate_serial() {
            Some(serial) if self.sign_with_certificate => serial.to_owned(),
            _ => keys.platform_serial().to_owned(),
        };
        let notifier = delivery::Notifier::new(
            keys.clone(),
            serial,
            self.notify_schedule
                .unwrap_or_else(|| compressed_schedule(delivery::DEFAULT_COMPRESSION)),
            self.notify_timeout.unwrap_or(delivery::DEFAULT_TIMEOUT),
            self.log,
        );
        let mut app = App::new(keys, self.log, notifier);
        app.tls = tls;
        app.signature_cache = self.signature_cache.map(cache::SignatureCache::new);
        if self.sign_with_certificate && app.keys.platform_certificate().is_none() {
            return Err(Error::Config(
                "sign_with_certificate needs keys with a platform certificate (platform_cert.pem)"
                    .into(),
            ));
        }
        app.sign_with_certificate = self.sign_with_certificate;
        let keys = app.keys.clone();
        app.add_route(Route::new(
            "GET",
            certificates::TEMPLATE,
            Arc::new(move |_| certificates::listing(&keys)),
        ));
        for template in media::TEMPLATES {
            app.add_route(Route::new("POST", template, Arc::new(media::upload)));
        }
        for template in bills::TEMPLATES {
            app.add_route(Route::new("GET", template, Arc::new(bills::bill)));
        }
        let orders = app.orders.clone();
        app.add_route(Route::new(
            "PATCH",
            orders::TEMPLATE,
            Arc::new(move |r| orders.patch(r)),
        ));
        let orders = app.orders.clone();
        app.add_route(Route::new(
            "GET",
            orders::TEMPLATE,
            Arc::new(move |r| orders.get(r)),
        ));
        transactions::register(&app);
        refunds::register(
            &app,
            self.refund_after.unwrap_or(refunds::DEFAULT_COMPLETION),
        );
        let counters = app.counters.clone();
        app.add_route(Route::new(
            "GET",
            cache::STATS_ROUTE,
            Arc::new(move |_| (StatusCode::OK, counters.snapshot().to_json())),
        ));
        let faults = app.faults.clone();
        app.add_route(Route::new(
            "POST",
            faults::ROUTE,
            Arc::new(move |r| faults::inject_over_http(&faults, r)),
        ));
        // Everything above is built in (validated against the catalogue before it
        // runs); the builder's routes below, and `Sandbox::route`'s later, are not.
        app.builtin_routes = app
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len();
        for (method, template, handler) in self.routes {
            app.add_route(Route::new(&method, &template, handler));
        }
        Ok((listener, Arc::new(app)))
    }
}

impl fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("port", &self.port)
            .field("keys_dir", &self.keys_dir)
            .field("routes", &self.routes.len())
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

fn finish(
    outcome: Result<(SocketAddr, Arc<App>), Error>,
    mut running: Running,
) -> Result<Sandbox, Error> {
    let (addr, app) = match outcome {
        Ok(started) => started,
        Err(e) => {
            running.stop();
            return Err(e);
        }
    };
    let url = server::base_uri(addr, app.tls.is_some());
    let client = match configured(client_builder(&app.keys, &url), &app).build() {
        Ok(client) => client,
        Err(e) => {
            running.stop();
            return Err(e);
        }
    };
    Ok(Sandbox {
        addr,
        url,
        app,
        client,
        running,
    })
}

fn client_builder(keys: &SandboxKeys, url: &str) -> ClientBuilder {
    keys.client_builder().base_uri(url)
}

/// Adds the platform certificate to a client of a sandbox that signs with it, and
/// the CA and client certificate of a sandbox on TLS.
fn configured(builder: ClientBuilder, app: &App) -> ClientBuilder {
    let builder = match app.keys.platform_certificate() {
        Some(cert) if app.sign_with_certificate => builder.platform_certificate(cert.clone()),
        _ => builder,
    };
    match &app.tls {
        Some(tls) => builder
            .root_certificate(tls.ca_pem())
            .merchant_certificate(tls.client_certificate_pem(), tls.client_key_pem()),
        None => builder,
    }
}
