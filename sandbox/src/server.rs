//! The HTTP server: its own thread and multi-thread tokio runtime, so a sandbox
//! works the same from blocking code, from any async runtime and from tests.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use serde_json::Value;
use tokio::sync::oneshot;

use super::auth::verify_request;
use super::cache::{sign_answer, Counters, SignatureCache};
use super::delivery::Notifier;
use super::faults::{unsign, Fault, Faults, STALE_BY};
use super::keys::SandboxKeys;
use super::orders::Orders;
use super::refunds::Refunds;
use super::routes::{error, parse_query, Reply, Route, SandboxRequest};
use super::tls::{PeerCertificate, SandboxTls};
use super::transactions::Transactions;
use super::{answer, catalogue, validate};
use crate::REQUEST_ID;
use wechatpay_chain::Error;

/// Larger bodies are refused; WeChat's largest (media uploads) are a few MB.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long shutdown waits for requests in flight before dropping them.
const GRACE: Duration = Duration::from_secs(2);
/// How long a connection may take over its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// What every connection shares: keys, routes, the order book.
pub(crate) struct App {
    pub(crate) keys: SandboxKeys,
    /// Searched newest first, so a later route overrides an earlier one (and the
    /// built-in ones).
    pub(crate) routes: RwLock<Vec<Route>>,
    /// How many of `routes` (the first ones) are the sandbox's own handlers, added
    /// at start-up; requests to them are validated against the catalogue first.
    /// The rest are the test's routes, answered as registered.
    pub(crate) builtin_routes: usize,
    pub(crate) orders: Arc<Orders>,
    pub(crate) v2_orders: super::v2::V2Orders,
    /// Direct and partner transactions (`transactions.rs`).
    pub(crate) transactions: Arc<Transactions>,
    /// Refunds of paid transactions (`refunds.rs`).
    pub(crate) refunds: Arc<Refunds>,
    /// Notification deliveries, and the runtime background work runs on.
    pub(crate) notifier: Arc<Notifier>,
    pub(crate) log: bool,
    sequence: AtomicU64,
    started: u64,
    /// Reused answer signatures (`SandboxBuilder::cache_signatures`).
    pub(crate) signature_cache: Option<SignatureCache>,
    pub(crate) counters: Arc<Counters>,
    /// Sign every answer under the platform certificate's serial
    /// (`SandboxBuilder::sign_with_certificate`).
    pub(crate) sign_with_certificate: bool,
    /// Misbehaviours waiting for requests (`Sandbox::inject`).
    pub(crate) faults: Arc<Faults>,
    /// HTTPS and the merchant client certificate (`SandboxBuilder::tls`).
    pub(crate) tls: Option<SandboxTls>,
}

impl App {
    pub(crate) fn new(keys: SandboxKeys, log: bool, notifier: Notifier) -> App {
        App {
            transactions: Arc::new(Transactions::new(keys.mchid())),
            refunds: Arc::default(),
            notifier: Arc::new(notifier),
            keys,
            routes: RwLock::new(Vec::new()),
            builtin_routes: 0,
            orders: Arc::new(Orders::with_seed()),
            v2_orders: Default::default(),
            log,
            sequence: AtomicU64::new(0),
            started: unix_now() as u64,
            signature_cache: None,
            counters: Arc::default(),
            sign_with_certificate: false,
            faults: Arc::default(),
            tls: None,
        }
    }

    pub(crate) fn add_route(&self, route: Route) {
        self.routes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(route);
    }

    /// Authenticates, routes and answers one request (everything but the I/O).
    fn answer(&self, parts: http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
        let now = unix_now();
        let line = self.log.then(|| format!("{} {}", parts.method, parts.uri));
        let path = parts.uri.path().trim_start_matches('/');
        let refused = self
            .tls
            .as_ref()
            .and_then(|tls| tls.refuse(path, parts.extensions.get::<PeerCertificate>()));
        if let Some(message) = refused {
            if let Some(line) = line {
                eprintln!("{line} -> APIv2 refused: {message}");
            }
            return super::v2::fail(&message);
        }
        // APIv2 carries no Authorization: its `sign` is checked with the catalogue.
        if let Some(matched) = catalogue::find(&parts.method, path, true) {
            if let Some(line) = line {
                eprintln!("{line} -> APIv2");
            }
            let serial = self.sequence.fetch_add(1, Ordering::Relaxed);
            return super::v2::answer(
                &self.v2_orders,
                self.keys.mchid(),
                &matched,
                &parts,
                &body,
                serial,
            );
        }
        // A media upload is signed over its `meta` part, not the multipart body.
        let checked = verify_request(
            &self.keys,
            &parts,
            &super::media::signed_bytes(&parts.headers, &body),
            now,
        );
        // Bill files are served unsigned, as WeChat serves them.
        if checked.is_ok() {
            if let Some(file) = super::bills::serve_file(path, parts.uri.query()) {
                return file;
            }
        }
        let reply = match checked {
            Err(message) => error(StatusCode::UNAUTHORIZED, "SIGN_ERROR", message),
            Ok(()) => match self.dispatch(parts, body) {
                Dispatched::Json(reply) => reply,
                Dispatched::File(file) => return file,
            },
        };
        if let Some(line) = line {
            eprintln!(
                "{line} -> {} {}",
                reply.0,
                reply.1.get("code").and_then(Value::as_str).unwrap_or("")
            );
        }
        let mut response = self.signed(reply, now);
        if self.sign_with_certificate {
            // The signature covers timestamp, nonce and body, not the serial: the
            // same key answers under its certificate serial.
            if let Some(serial) = self.keys.platform_certificate_serial() {
                if let Ok(serial) = HeaderValue::from_str(serial) {
                    response
                        .headers_mut()
                        .insert(wechatpay_chain::verifier::SERIAL, serial);
                }
            }
        }
        response
    }

    /// Routes a request that passed the signature check. In order: a route the test
    /// registered; else the catalogue's validation, then a built-in handler, then the
    /// catalogue's generic answer; else 404 `NOT_FOUND`. Validating before the
    /// built-in handlers is WeChat's order (parameters before state), and every
    /// handler registered at start-up gets it.
    fn dispatch(&self, parts: http::request::Parts, body: Bytes) -> Dispatched {
        let path = parts.uri.path().trim_start_matches('/').to_owned();
        if super::control::serves(&path) {
            return Dispatched::Json(match request(parts, body, path, HashMap::new()) {
                Ok(request) => super::control::answer(self, &request),
                Err(reply) => reply,
            });
        }
        let segments: Vec<&str> = path.split('/').collect();
        let (user, builtin, path_known) = {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            let split = self.builtin_routes.min(routes.len());
            let mut path_known = false;
            let mut pick = |routes: &[Route]| {
                routes.iter().rev().find_map(|route| {
                    let params = route.matches_path(&segments)?;
                    path_known = true;
                    route
                        .allows(&parts.method)
                        .then(|| (route.action.clone(), params))
                })
            };
            let user = pick(&routes[split..]);
            let builtin = if user.is_none() {
                pick(&routes[..split])
            } else {
                None
            };
            (user, builtin, path_known)
        };
        let matched = match user {
            Some(_) => None,
            None => catalogue::find(&parts.method, &path, false),
        };
        if user.is_none() && builtin.is_none() && matched.is_none() {
            let why = if path_known {
                "does not accept"
            } else {
                "has no route for"
            };
            return Dispatched::Json(error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("the sandbox {why} {} /{path}", parts.method),
            ));
        }
        let mut request = match request(parts, body, path, HashMap::new()) {
            Ok(request) => request,
            Err(reply) => return Dispatched::Json(reply),
        };
        if let Some(matched) = &matched {
            let multipart = matched
                .op
                .operation
                .consumes()
                .contains(&"multipart/form-data");
            let form = match super::media::parts(&request.headers, &request.body) {
                Some(Ok(form)) => Some(form),
                Some(Err(e)) => {
                    return Dispatched::Json(error(
                        StatusCode::BAD_REQUEST,
                        "PARAM_ERROR",
                        format!("malformed multipart body: {e}"),
                    ))
                }
                None if multipart => {
                    return Dispatched::Json(error(
                        StatusCode::BAD_REQUEST,
                        "PARAM_ERROR",
                        "expected a multipart/form-data body with a boundary",
                    ))
                }
                None => None,
            };
            let checked =
                validate::request(matched, &request.query, &request.json, form.as_deref());
            if let Err(invalid) = checked {
                return Dispatched::Json(invalid.reply());
            }
        }
        let handler = match user.or(builtin) {
            Some((handler, params)) => {
                request.params = params;
                handler
            }
            None => {
                let Some(matched) = matched else {
                    // Unreachable: checked above; answered as the 404 it would be.
                    return Dispatched::Json(error(
                        StatusCode::NOT_FOUND,
                        "NOT_FOUND",
                        request.path,
                    ));
                };
                return self.generic(&matched, &request.headers, &request.query, &request.json);
            }
        };
        // A panicking test handler must not take the connection (or the test's
        // other requests) down with it: it becomes a 500 the test can see.
        let reply =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&request))) {
                Ok(reply) => reply,
                Err(_) => error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    format!(
                        "the handler of {} /{} panicked",
                        request.method, request.path
                    ),
                ),
            };
        Dispatched::Json(reply)
    }

    /// The catalogue's answer for an operation no handler serves.
    fn generic(
        &self,
        matched: &catalogue::Matched,
        headers: &http::HeaderMap,
        query: &HashMap<String, String>,
        json: &Value,
    ) -> Dispatched {
        if answer::is_download(matched.op) {
            let token = query.get("token").map_or("", String::as_str);
            return Dispatched::File(answer::file(matched.op, token));
        }
        let builder = answer::Builder {
            echo: answer::Echo::new(&matched.params, query, json),
            serial: self.sequence.fetch_add(1, Ordering::Relaxed),
            host: headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1"),
        };
        Dispatched::Json(answer::json(matched.op, &builder))
    }

    /// Serialises and signs a reply, adding a unique `Request-ID`.
    fn signed(&self, (status, json): Reply, now: i64) -> Response<Full<Bytes>> {
        let body = match json {
            Value::Null => Bytes::new(),
            json => Bytes::from(json.to_string()),
        };
        let mut response = Response::new(Full::new(body.clone()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if !body.is_empty() {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "08{:010X}{:010X}{:012X}",
            self.started,
            std::process::id(),
            seq
        );
        if let Ok(id) = HeaderValue::from_str(&id) {
            headers.insert(REQUEST_ID, id);
        }
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        sign_answer(
            &self.keys,
            self.signature_cache.as_ref(),
            &self.counters,
            headers,
            &body,
            now,
        );
        response
    }
}

/// The request as handlers see it; a body that claims JSON and is not is refused.
fn request(
    parts: http::request::Parts,
    body: Bytes,
    path: String,
    params: HashMap<String, String>,
) -> Result<SandboxRequest, Reply> {
    let json = parse_json(&parts.headers, &body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            format!("the body is not valid JSON ({e})"),
        )
    })?;
    let raw_query = parts.uri.query().map(str::to_owned);
    Ok(SandboxRequest {
        method: parts.method,
        query: raw_query.as_deref().map(parse_query).unwrap_or_default(),
        raw_query,
        path,
        params,
        headers: parts.headers,
        json,
        body,
    })
}

/// What a dispatched request answers: JSON to sign, or a file served as is.
enum Dispatched {
    Json(Reply),
    File(Response<Full<Bytes>>),
}

/// The JSON body, when there is one and the content type does not say otherwise.
fn parse_json(headers: &http::HeaderMap, body: &[u8]) -> Result<Value, serde_json::Error> {
    let json_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.to_ascii_lowercase().contains("json"));
    if body.is_empty() || !json_type {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
}

/// The service error that makes hyper close a connection unanswered
/// ([`Fault::Disconnect`]).
#[derive(Debug)]
struct Disconnect;

impl fmt::Display for Disconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed by an injected fault")
    }
}

impl std::error::Error for Disconnect {}

/// The unsigned page a gateway answers when WeChat Pay behind it is unreachable
/// ([`Fault::Gateway`]).
fn gateway_page(status: StatusCode) -> Response<Full<Bytes>> {
    let page = format!(
        "<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center><hr><center>stgw</center></body></html>"
    );
    let mut answer = Response::new(Full::new(Bytes::from(page)));
    *answer.status_mut() = status;
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    answer
}

async fn serve_one(
    app: Arc<App>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Disconnect> {
    app.counters.received.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let reply = error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                format!("cannot read the body ({e})"),
            );
            return Ok(app.signed(reply, unix_now()));
        }
    };
    let path = parts.uri.path().trim_start_matches('/');
    let fault = match app.faults.take(&parts.method, path) {
        None => return Ok(app.answer(parts, body)),
        Some(fault) => fault,
    };
    if app.log {
        eprintln!("{} {} -> injected {fault:?}", parts.method, parts.uri);
    }
    let answer = match fault {
        Fault::Disconnect => return Err(Disconnect),
        Fault::Gateway(status) => return Ok(gateway_page(status)),
        Fault::Status { status, code } => {
            let message = format!("the sandbox was told to answer {status} {code}");
            return Ok(app.signed(error(status, &code, message), unix_now()));
        }
        Fault::Delay(pause) => {
            tokio::time::sleep(pause).await;
            return Ok(app.answer(parts, body));
        }
        _ => app.answer(parts, body),
    };
    let (mut head, body) = answer.into_parts();
    let mut body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    match fault {
        Fault::Unsigned => unsign(&mut head.headers),
        // Still valid JSON; no longer the bytes signed.
        Fault::Tampered => body = Bytes::from([&body[..], b" "].concat()),
        Fault::Stale => sign_answer(
            &app.keys,
            None,
            &app.counters,
            &mut head.headers,
            &body,
            unix_now() - STALE_BY,
        ),
        _ => {}
    }
    Ok(Response::from_parts(head, Full::new(body)))
}

/// A running server thread; stopping it is graceful (no new connections, requests
/// in flight finish within a grace period).
pub(crate) struct Running {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    pub(crate) fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has been reported already; nothing to add.
            let _ = thread.join();
        }
    }
}

type SetUp = Box<dyn FnOnce() -> Result<(std::net::TcpListener, Arc<App>), Error> + Send>;
type Ready = Box<dyn FnOnce(Result<(SocketAddr, Arc<App>), Error>) + Send>;

/// Starts the server thread. It runs `set_up` (keys, socket), builds its runtime,
/// calls `ready` once with the outcome, then serves until stopped.
pub(crate) fn spawn(set_up: SetUp, ready: Ready) -> Result<Running, Error> {
    let (tx, rx) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("wechatpay-sandbox".into())
        .spawn(move || run(set_up, ready, rx))
        .map_err(|e| Error::Config(format!("cannot start the sandbox thread ({e})")))?;
    Ok(Running {
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

fn run(set_up: SetUp, ready: Ready, shutdown: oneshot::Receiver<()>) {
    let (listener, app) = match set_up() {
        Ok(parts) => parts,
        Err(e) => return ready(Err(e)),
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("wechatpay-sandbox-worker")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            return ready(Err(Error::Config(format!(
                "cannot start the sandbox runtime ({e})"
            ))))
        }
    };
    let listener = {
        let _entered = runtime.enter();
        listener.local_addr().and_then(|addr| {
            listener.set_nonblocking(true)?;
            Ok((addr, tokio::net::TcpListener::from_std(listener)?))
        })
    };
    let (addr, listener) = match listener {
        Ok(l) => l,
        Err(e) => {
            return ready(Err(Error::Config(format!(
                "the sandbox cannot listen ({e})"
            ))))
        }
    };
    app.notifier.set_runtime(runtime.handle().clone());
    ready(Ok((addr, app.clone())));
    runtime.block_on(accept_loop(listener, app, shutdown));
    runtime.shutdown_timeout(GRACE);
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let http = hyper::server::conn::http1::Builder::new();
    loop {
        let accepted = {
            let accept = std::pin::pin!(listener.accept());
            match futures::future::select(accept, &mut shutdown).await {
                futures::future::Either::Left((accepted, _)) => accepted,
                // Stop requested, or the Sandbox dropped without sending.
                futures::future::Either::Right(_) => break,
            }
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "sandbox accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        app.counters.connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let (app, http, watcher) = (app.clone(), http.clone(), graceful.watcher());
        tokio::spawn(async move {
            match app.tls.as_ref().map(|tls| tls.server.clone()) {
                None => serve(http, watcher, app, TokioIo::new(stream), None).await,
                Some(config) => {
                    let accept = tokio_rustls::TlsAcceptor::from(config)
                        .accept(stream)
                        .into_fallible();
                    let tls = match tokio::time::timeout(HANDSHAKE, accept).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err((e, stream))) => {
                            handshake_failed(&app, &e);
                            return close_gently(stream).await;
                        }
                        Err(_) => return handshake_failed(&app, &"timed out"),
                    };
                    // Any certificate here chains to the merchant CA: the
                    // verifier refused the handshake otherwise.
                    let peer = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .map(|cert| PeerCertificate(cert.clone().into_owned()));
                    serve(http, watcher, app, TokioIo::new(tls), peer).await
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
}

/// Serves one connection's requests, each carrying the client certificate the
/// connection presented, if any.
async fn serve<I>(
    http: hyper::server::conn::http1::Builder,
    watcher: Watcher,
    app: Arc<App>,
    io: I,
    peer: Option<PeerCertificate>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        if let Some(peer) = &peer {
            request.extensions_mut().insert(peer.clone());
        }
        serve_one(app.clone(), request)
    });
    if let Err(e) = watcher.watch(http.serve_connection(io, service)).await {
        tracing::debug!(error = %e, "sandbox connection ended with an error");
    }
}

/// Closes a connection whose handshake failed without resetting it. Over TLS 1.3
/// the client sends its request right after its certificate; closing with that
/// request unread would reset the connection, and the reset can destroy the alert
/// that tells the client why.
async fn close_gently(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}

fn handshake_failed(app: &App, error: &dyn fmt::Display) {
    if app.log {
        eprintln!("TLS handshake failed: {error}");
    }
    tracing::debug!(error = %error, "sandbox TLS handshake failed");
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The address a listener is bound to, as the base URI clients use.
pub(crate) fn base_uri(addr: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{addr}/")
}
