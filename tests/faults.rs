//! Faults on loopback, each a clear error and no hang, and the retry policy that
//! rides over the transient ones.
//!
//! Already pinned in `tests/pipeline.rs`: a refused connection, a silent server past the
//! request timeout (sync and async), an answer over the body limit, redirects. Here:
//! a server that closes mid-answer, connect timeouts, a 5xx HTML page, a signed 200 that
//! is not JSON, and retries (off by default; fresh nonce per attempt; `POST` only when
//! marked idempotent).
//!
//! Servers are raw `TcpListener`s (or mockito) on 127.0.0.1; every loop is bounded in
//! count and time.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use wechatpay_chain::{Error, RetryPolicy, TransportKind};

/// No fault may take longer than this to surface.
const BOUND: Duration = Duration::from_secs(10);

/// What the raw server answers on one connection.
#[derive(Clone)]
enum Reply {
    /// Writes these bytes, then closes the connection.
    Raw(Vec<u8>),
    /// A 200 signed by the platform key.
    Signed(&'static str),
}

/// A request as the raw server received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    authorization: String,
    body: Vec<u8>,
}

/// A one-request-per-connection HTTP/1.1 server on loopback. Connection `i` gets
/// `script[i]` (the last entry repeats). Stops when told, or after 30 s.
struct RawServer {
    base: String,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<Seen>>,
}

impl RawServer {
    fn start(script: Vec<Reply>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut seen = Vec::new();
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let reply = script[seen.len().min(script.len() - 1)].clone();
                        if let Some(request) = serve(stream, reply) {
                            seen.push(request);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            seen
        });
        RawServer { base, stop, handle }
    }

    /// Stops the server and returns what it received.
    fn finish(self) -> Vec<Seen> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap()
    }
}

fn serve(mut stream: TcpStream, reply: Reply) -> Option<Seen> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let seen = Seen {
        method,
        target,
        authorization: header("authorization"),
        body: buf[head_end..].to_vec(),
    };
    let bytes = match reply {
        Reply::Raw(bytes) => bytes,
        Reply::Signed(body) => {
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in signed_headers(body, now()) {
                if k != "Content-Type" {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
            }
            out.push_str("Content-Type: application/json\r\n\r\n");
            out.push_str(body);
            out.into_bytes()
        }
    };
    let _ = stream.write_all(&bytes);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
    Some(seen)
}

fn status(code: u16, reason: &str, body: &str) -> Reply {
    Reply::Raw(
        format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

const GATEWAY_HTML: &str =
    "<html><head><title>502 Bad Gateway</title></head><body><center>502 Bad Gateway</center></body></html>";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn assert_transport(err: &Error, what: &str) {
    assert!(
        matches!(err, Error::Transport { .. }),
        "{what}: expected a transport error, got {err:?}"
    );
    assert!(!err.is_before_send(), "{what}");
    assert!(
        err.to_string().starts_with("transport error"),
        "{what}: {err}"
    );
}

#[test]
fn a_server_closing_mid_answer_is_a_transport_error_sync_and_async() {
    let cuts: [(&str, &[u8]); 3] = [
        ("no answer at all", b""),
        ("headers cut", b"HTTP/1.1 200 OK\r\nContent-Le"),
        (
            "body cut",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"out_order_no\":\"233b",
        ),
    ];
    let rt = runtime();
    for (what, bytes) in cuts {
        let server = RawServer::start(vec![Reply::Raw(bytes.to_vec())]);
        let client = client(&server.base);
        let started = Instant::now();
        let err = client
            .chain("v3/discount-card/orders/{id}")
            .get(json!({"id": "x"}))
            .unwrap_err();
        assert_transport(&err, what);
        let err = rt
            .block_on(
                client
                    .chain("v3/discount-card/orders/{id}")
                    .get_async(json!({"id": "x"})),
            )
            .unwrap_err();
        assert_transport(&err, what);
        assert!(
            started.elapsed() < BOUND,
            "{what}: took {:?}",
            started.elapsed()
        );
        // Off by default: one attempt per call.
        assert_eq!(server.finish().len(), 2, "{what}");
    }
}

/// Fills a listener's accept queue so that further connection attempts get no
/// answer (the kernel drops their SYN), which is how an unreachable host looks to a
/// client, on loopback.
fn saturated_listener() -> (TcpListener, Vec<TcpStream>, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4096 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => fillers.push(s),
            Err(_) => break,
        }
    }
    (listener, fillers, addr)
}

#[test]
fn a_connect_timeout_is_a_timeout_sync_and_async() {
    let (listener, fillers, addr) = saturated_listener();
    let client = builder(&format!("http://{addr}/"))
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let rt = runtime();
    let started = Instant::now();
    transport_error(
        client.chain("v3/certificates").get(Value::Null),
        TransportKind::Timeout,
    );
    transport_error(
        rt.block_on(client.chain("v3/certificates").get_async(Value::Null)),
        TransportKind::Timeout,
    );
    // The per-request option overrides the client's default, async too.
    transport_error(
        rt.block_on(
            client
                .chain("v3/certificates")
                .get_async(json!({"connect_timeout": 0.2})),
        ),
        TransportKind::Timeout,
    );
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    drop(fillers);
    drop(listener);
}

#[test]
fn a_5xx_html_page_is_an_api_error_with_no_code_and_the_raw_body() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", "/v3/pay/transactions/id/4200000001")
        .with_status(502)
        .with_header("Content-Type", "text/html")
        .with_body(GATEWAY_HTML)
        .expect(2)
        .create();
    let client = client(&server.url());
    let rt = runtime();
    let chain = client.chain("v3/pay/transactions/id/{transaction_id}");
    let sync = chain
        .get(json!({"transaction_id": "4200000001"}))
        .unwrap_err();
    let not_sync = rt
        .block_on(chain.get_async(json!({"transaction_id": "4200000001"})))
        .unwrap_err();
    for err in [sync, not_sync] {
        let Error::Api(api) = &err else {
            panic!("expected an API error, got {err:?}")
        };
        assert_eq!(api.status, 502);
        assert_eq!(api.code, None);
        assert_eq!(api.message, None);
        assert_eq!(api.detail, None);
        assert!(!api.verified);
        assert_eq!(api.response.body, GATEWAY_HTML.as_bytes());
        assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
        let text = err.to_string();
        assert!(
            text.contains("502") && text.contains("[unverified]"),
            "{text}"
        );
    }
    mock.assert();
}

#[test]
fn a_signed_answer_that_is_not_json_is_a_decode_error_keeping_the_bytes() {
    let mut server = mockito::Server::new();
    let cases = [
        ("truncated", r#"{"out_order_no":"233b"#),
        ("html", "<html>ok</html>"),
        ("trailing", r#"{"a":1} {"b":2}"#),
    ];
    let mut mocks = Vec::new();
    for (name, body) in cases {
        let mut mock = server
            .mock("GET", format!("/v3/odd/{name}").as_str())
            .with_body(body)
            .expect(1);
        for (k, v) in signed_headers(body, now()) {
            mock = mock.with_header(k, &v);
        }
        mocks.push(mock.create());
    }
    let client = client(&server.url());
    for (name, body) in cases {
        let res = client
            .chain("v3/odd/{name}")
            .get(json!({"name": name}))
            .unwrap();
        assert!(res.is_verified(), "{name}: the signature covers the bytes");
        assert_eq!(res.text(), body);
        let err = res.json::<Value>().unwrap_err();
        let Error::Decode { body: kept, .. } = &err else {
            panic!("{name}: expected a decode error, got {err:?}")
        };
        assert_eq!(kept.as_ref(), body.as_bytes(), "{name}");
        assert!(err.to_string().contains("cannot decode"), "{err}");
    }
    mocks.iter().for_each(mockito::Mock::assert);
}

#[test]
fn valid_json_of_the_wrong_shape_is_a_decode_error_too() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        out_order_no: String,
        total_amount: u64,
    }
    let mut server = mockito::Server::new();
    let body = r#"{"out_order_no":42}"#;
    let mut mock = server.mock("GET", "/v3/orders/1").with_body(body);
    for (k, v) in signed_headers(body, now()) {
        mock = mock.with_header(k, &v);
    }
    let _mock = mock.create();
    let res = client(&server.url())
        .chain("v3/orders/1")
        .get(Value::Null)
        .unwrap();
    let err = res.json::<Order>().unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("invalid type"), "{err}");
}

// ---- retries ----------------------------------------------------------------

fn fields(seen: &Seen) -> Vec<(String, String)> {
    authorization_fields(&seen.authorization)
}

fn field(seen: &Seen, name: &str) -> String {
    fields(seen)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// A clock that ticks one second per reading, so every signature has its own
/// timestamp (verification reads it too; it stays well inside the 300 s window).
fn ticking_clock() -> impl Fn() -> i64 + Send + Sync + 'static {
    let start = now();
    let ticks = AtomicI64::new(0);
    move || start + ticks.fetch_add(1, Ordering::SeqCst)
}

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::exponential(attempts)
        .base_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(80))
}

/// A client that retries three times, each attempt signed at its own timestamp.
fn retrying_client(base: &str) -> wechatpay_chain::Client {
    builder(base)
        .retry(fast_retries(3))
        .clock(ticking_clock())
        .build()
        .unwrap()
}

fn assert_freshly_signed(seen: &[Seen]) {
    let nonces: std::collections::HashSet<String> =
        seen.iter().map(|s| field(s, "nonce_str")).collect();
    let stamps: std::collections::HashSet<String> =
        seen.iter().map(|s| field(s, "timestamp")).collect();
    let signatures: std::collections::HashSet<String> =
        seen.iter().map(|s| field(s, "signature")).collect();
    assert_eq!(nonces.len(), seen.len(), "a nonce was reused: {nonces:?}");
    assert_eq!(
        stamps.len(),
        seen.len(),
        "a timestamp was reused: {stamps:?}"
    );
    assert_eq!(signatures.len(), seen.len(), "a signature was reused");
    for s in seen {
        assert!(
            authorization_is_valid(&s.method, &s.target, &s.body, &s.authorization),
            "attempt not validly signed: {s:?}"
        );
    }
}

#[test]
fn a_get_failing_twice_then_answering_is_retried_with_fresh_signatures_sync_and_async() {
    let body = r#"{"out_order_no":"233bcbf407e87789b8e471f251774f95","state":"ONGOING"}"#;
    let script = vec![
        status(503, "Service Unavailable", GATEWAY_HTML),
        Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"cut".to_vec()),
        Reply::Signed(body),
    ];
    let rt = runtime();
    for flavour in ["sync", "async"] {
        let server = RawServer::start(script.clone());
        let client = retrying_client(&server.base);
        let chain = client.chain("v3/discount-card/orders/{out_order_no}");
        let options = json!({"out_order_no": SEED_ORDER});
        let started = Instant::now();
        let res = if flavour == "sync" {
            chain.get(options).unwrap()
        } else {
            rt.block_on(chain.get_async(options)).unwrap()
        };
        assert!(started.elapsed() < BOUND);
        assert!(res.is_verified());
        assert_eq!(res.json::<Value>().unwrap()["state"], "ONGOING");
        let seen = server.finish();
        assert_eq!(seen.len(), 3, "{flavour}: two failures and the answer");
        assert_freshly_signed(&seen);
    }
}

#[test]
fn retries_give_up_after_max_attempts_with_the_last_error() {
    let server = RawServer::start(vec![status(503, "Service Unavailable", GATEWAY_HTML)]);
    let client = builder(&server.base)
        .retry(fast_retries(4))
        .build()
        .unwrap();
    let err = client
        .chain("v3/certificates")
        .get(Value::Null)
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(server.finish().len(), 4);
}

#[test]
fn retries_are_off_by_default() {
    let server = RawServer::start(vec![status(503, "Service Unavailable", GATEWAY_HTML)]);
    let err = client(&server.base)
        .chain("v3/certificates")
        .get(Value::Null)
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(server.finish().len(), 1);
}

#[test]
fn post_is_not_retried_unless_the_chain_is_marked_idempotent() {
    let rt = runtime();
    let options = || json!({"json": {"out_refund_no": "R1", "amount": {"refund": 1}}});
    for (marked, want) in [(false, 1), (true, 3)] {
        let server = RawServer::start(vec![status(500, "Internal Server Error", GATEWAY_HTML)]);
        let client = retrying_client(&server.base);
        let mut chain = client
            .seg("v3")
            .seg("refund")
            .seg("domestic")
            .seg("refunds");
        if marked {
            chain = chain.idempotent();
        }
        let err = chain.post(options()).unwrap_err();
        assert_eq!(err.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
        let err = rt.block_on(chain.post_async(options())).unwrap_err();
        assert_eq!(err.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
        let seen = server.finish();
        assert_eq!(seen.len(), 2 * want, "marked idempotent: {marked}");
        assert_freshly_signed(&seen);
    }
}

/// The `meta` part of a media upload's multipart body: the bytes its signature covers.
fn meta_of(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let start = text.find("\r\n\r\n").expect("a part head") + 4;
    let end = start + text[start..].find("\r\n--").expect("the part's end");
    text[start..end].as_bytes().to_vec()
}

#[test]
fn uploads_follow_the_retry_policy_like_any_post_each_attempt_signed_over_its_meta() {
    let rt = runtime();
    let media = wechatpay_chain::media::Media::from_bytes("r.jpg", vec![0xFF, 0xD8, 0xFF]).unwrap();
    let body = r#"{"media_id":"M1"}"#;
    for (marked, want) in [(false, 1), (true, 3)] {
        let script = vec![
            status(503, "Service Unavailable", GATEWAY_HTML),
            status(502, "Bad Gateway", GATEWAY_HTML),
            Reply::Signed(body),
        ];
        for flavour in ["sync", "async"] {
            let server = RawServer::start(script.clone());
            let client = retrying_client(&server.base);
            let mut chain = client.chain("v3/merchant/media/upload");
            if marked {
                chain = chain.idempotent();
            }
            let result = if flavour == "sync" {
                chain.upload(&media, Value::Null)
            } else {
                rt.block_on(chain.upload_async(media.clone(), Value::Null))
            };
            let seen = server.finish();
            assert_eq!(seen.len(), want, "{flavour}, marked idempotent: {marked}");
            if marked {
                let res = result.unwrap();
                assert_eq!(res.json::<Value>().unwrap()["media_id"], "M1");
            } else {
                let err = result.unwrap_err();
                assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
            }
            let fresh: std::collections::HashSet<String> =
                seen.iter().map(|s| field(s, "nonce_str")).collect();
            assert_eq!(fresh.len(), seen.len(), "a nonce was reused");
            for s in &seen {
                assert_eq!(
                    (s.method.as_str(), s.target.as_str()),
                    ("POST", "/v3/merchant/media/upload")
                );
                let meta = meta_of(&s.body);
                assert!(
                    meta.starts_with(br#"{"filename":"r.jpg""#),
                    "{:?}",
                    String::from_utf8_lossy(&meta)
                );
                assert!(
                    authorization_is_valid(&s.method, &s.target, &meta, &s.authorization),
                    "{flavour}: an attempt not signed over its meta"
                );
            }
        }
    }
}

#[test]
fn client_errors_and_forged_answers_are_not_retried() {
    // Forged, not stale: a current timestamp and a known serial, signed by the
    // merchant key instead of the platform's.
    let ts = now().to_string();
    let signature = merchant_key()
        .sign_base64(format!("{ts}\nn\n{{}}\n").as_bytes())
        .unwrap();
    let forged = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nWechatpay-Timestamp: {ts}\r\nWechatpay-Nonce: n\r\nWechatpay-Serial: {PUB_KEY_ID}\r\nWechatpay-Signature: {signature}\r\nConnection: close\r\n\r\n{{}}");
    for (reply, what, reason) in [
        (
            status(400, "Bad Request", r#"{"code":"PARAM_ERROR"}"#),
            "a 4xx",
            "PARAM_ERROR",
        ),
        (
            Reply::Raw(forged.into_bytes()),
            "a forged 200",
            "the signature does not match the body (platform key PUB_KEY_ID_",
        ),
    ] {
        let server = RawServer::start(vec![reply]);
        let client = builder(&server.base)
            .retry(fast_retries(3))
            .build()
            .unwrap();
        let err = client
            .chain("v3/certificates")
            .get(Value::Null)
            .unwrap_err();
        assert!(!RetryPolicy::is_retryable(&err), "{what}: {err:?}");
        assert!(err.to_string().contains(reason), "{what}: {err}");
        assert_eq!(server.finish().len(), 1, "{what} was retried");
    }
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = attempts.clone();
    let client = builder(&format!("http://127.0.0.1:{port}/"))
        .retry(fast_retries(3))
        .before_signing(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .build()
        .unwrap();
    let started = Instant::now();
    transport_error(
        client.chain("v3/certificates").get(Value::Null),
        TransportKind::Connect,
    );
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "built and signed thrice"
    );
    assert!(started.elapsed() < BOUND);
}

// ---- TLS ----------------------------------------------------------------------

/// A TLS server on loopback presenting the fixture's self-signed certificate. The
/// client verifies certificates (rustls, the platform's roots) and there is no option
/// to stop it, so the handshake must fail and nothing be sent.
#[test]
fn an_untrusted_certificate_is_refused() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs =
        vec![CertificateDer::from_pem_slice(fixture("keys/platform_cert.pem").as_bytes()).unwrap()];
    let key =
        PrivateKeyDer::from_pem_slice(fixture("keys/platform_private.pem").as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let got_request = Arc::new(AtomicBool::new(false));
    let flag = got_request.clone();
    let server = std::thread::spawn(move || {
        // Two handshakes: the blocking and the async verb.
        for stream in listener.incoming().take(2) {
            let stream = stream.unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut buf = [0u8; 1024];
            if matches!(tls.read(&mut buf), Ok(n) if n > 0) {
                flag.store(true, Ordering::SeqCst);
            }
        }
    });
    let client = client(&format!("https://{addr}/"));
    let rt = runtime();
    let started = Instant::now();
    let sync = client
        .chain("v3/certificates")
        .get(Value::Null)
        .unwrap_err();
    let not_sync = rt
        .block_on(client.chain("v3/certificates").get_async(Value::Null))
        .unwrap_err();
    for err in [sync, not_sync] {
        assert_transport(&err, "untrusted certificate");
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            chain.push_str(&format!(" / {s}"));
            source = s.source();
        }
        assert!(
            chain.to_ascii_lowercase().contains("certificate"),
            "not a certificate failure: {chain}"
        );
    }
    assert!(started.elapsed() < BOUND);
    server.join().unwrap();
    assert!(
        !got_request.load(Ordering::SeqCst),
        "a request crossed an untrusted TLS session"
    );
}

/// The async verbs retry on any executor: a current-thread Tokio runtime built
/// without its timer (where `tokio::time::sleep` would panic), transport failures
/// from a closure transport.
#[test]
fn async_retries_need_no_tokio_timer() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let body = r#"{"ok":true}"#;
    let client = builder("https://api.mch.weixin.qq.com/")
        .retry(fast_retries(3))
        .async_http_client(move |req: http::Request<bytes::Bytes>| {
            let mut log = log.lock().unwrap();
            log.push(req.headers()["authorization"].to_str().unwrap().to_owned());
            let attempt = log.len();
            async move {
                if attempt < 3 {
                    return Err(Error::Transport {
                        kind: TransportKind::Connect,
                        source: "refused".into(),
                    });
                }
                let mut res = http::Response::builder();
                for (k, v) in signed_headers(body, now()) {
                    res = res.header(k, v);
                }
                Ok(res.body(bytes::Bytes::from(body)).unwrap())
            }
        })
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let res = rt
        .block_on(client.chain("v3/x").get_async(Value::Null))
        .unwrap();
    assert!(res.is_verified());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let nonces: std::collections::HashSet<String> = seen
        .iter()
        .map(|h| {
            authorization_fields(h)
                .into_iter()
                .find(|(k, _)| k == "nonce_str")
                .unwrap()
                .1
        })
        .collect();
    assert_eq!(nonces.len(), 3, "fresh nonce per attempt");
}
