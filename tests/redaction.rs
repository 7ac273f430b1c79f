//! Secrets stay secret: `tracing` output at TRACE level (the crate's events and the
//! HTTP stack's `log` records alike), `Debug` and `Display` of the client, keys,
//! chains, errors and signed requests never show the merchant private key, the APIv3
//! key or an Authorization signature.
//!
//! The signatures searched for are the real ones: the servers here record every
//! Authorization header they receive. (`tests/hostile.rs` already checks `Debug` of
//! the client, a key and the builder for the private key.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use common::*;
use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, Layer};
use wechatpay_chain::crypto::ApiV3Key;
use wechatpay_chain::signer::Signer;
use wechatpay_chain::{Error, RetryPolicy};
use wechatpay_chain_sandbox::Sandbox;

const APIV3_KEY: &str = "Zq3t6w9zCFJaNdRgUkXp2s5v8yBEHMbQ";
const APIV2_SECRET: &str = "v2SecretQ7mN4kP1xW9zR3tY6uB8cD0e";

/// Everything the global subscriber has written.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        // Global, so the HTTP stack's threads and the async runtime's workers report
        // here too; `try_init` also routes `log` records (reqwest, rustls, hyper-util)
        // into it.
        // mockito, the test's server, logs every request it receives in full (it is
        // the receiving end, like WeChat); its records are left out. Everything else,
        // from every crate, is kept at TRACE.
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .with_filter(filter::filter_fn(|meta| {
                !meta.target().starts_with("mockito")
            }))
            .with_filter(filter::LevelFilter::TRACE);
        let _ = tracing_subscriber::registry().with(layer).try_init();
        buf
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> String {
    String::from_utf8_lossy(&log().lock().unwrap()).into_owned()
}

/// The body lines of a PEM key, each a run of key material.
fn pem_lines(name: &str) -> Vec<String> {
    fixture(name)
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_owned)
        .collect()
}

/// The secret pieces of an Authorization header: the signature and a prefix of it.
fn signature_of(header: &str) -> Vec<String> {
    let sig = authorization_fields(header)
        .into_iter()
        .find(|(k, _)| k == "signature")
        .map(|(_, v)| v)
        .unwrap_or_default();
    assert!(sig.len() > 300, "not a signature: {header}");
    vec![
        sig.clone(),
        sig[..24].to_owned(),
        sig[sig.len() - 24..].to_owned(),
    ]
}

/// Asserts that `text` holds none of the secrets.
fn assert_clean(what: &str, text: &str, signatures: &[String]) {
    for line in pem_lines("keys/merchant_private.pem")
        .iter()
        .chain(&pem_lines("keys/platform_private.pem"))
    {
        assert!(
            !text.contains(&line[..16]),
            "{what} shows private key material"
        );
    }
    assert!(!text.contains("PRIVATE KEY-----"), "{what} shows a PEM key");
    assert!(!text.contains(APIV3_KEY), "{what} shows the APIv3 key");
    assert!(
        !text.contains(APIV2_SECRET),
        "{what} shows the APIv2 secret"
    );
    let hex: String = APIV3_KEY.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&hex), "{what} shows the APIv3 key in hex");
    for sig in signatures {
        if let Some(at) = text.find(sig.as_str()) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(300)
                .map_or(0, |(i, _)| i);
            panic!("{what} shows a request signature: …{}", &text[from..at]);
        }
    }
    assert!(
        !text.contains("WECHATPAY2-SHA256-RSA2048 mchid="),
        "{what} shows an Authorization header"
    );
}

/// Records every Authorization header a mockito server receives.
fn recording(server: &mut mockito::ServerGuard, seen: &Arc<Mutex<Vec<String>>>) -> mockito::Mock {
    let seen = seen.clone();
    let body = r#"{"code":"PARAM_ERROR","message":"bad"}"#;
    server
        .mock("POST", "/v3/refund/domestic/refunds")
        .match_request(move |req| {
            for v in req.header("authorization") {
                seen.lock()
                    .unwrap()
                    .push(v.to_str().unwrap_or_default().to_owned());
            }
            true
        })
        .with_status(503)
        .with_body(body)
        .create()
}

#[test]
fn trace_output_never_shows_keys_or_signatures() {
    log();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut server = mockito::Server::new();
    let _refunds = recording(&mut server, &seen);
    let ok_body = r#"{"out_order_no":"233bcbf407e87789b8e471f251774f95"}"#;
    let mut ok = server.mock(
        "GET",
        "/v3/discount-card/orders/233bcbf407e87789b8e471f251774f95",
    );
    for (k, v) in signed_headers(ok_body, now()) {
        ok = ok.with_header(k, &v);
    }
    let seen_ok = seen.clone();
    let _ok = ok
        .match_request(move |req| {
            for v in req.header("authorization") {
                seen_ok
                    .lock()
                    .unwrap()
                    .push(v.to_str().unwrap_or_default().to_owned());
            }
            true
        })
        .with_body(ok_body)
        .create();

    let client = builder(&server.url())
        .apiv3_key(APIV3_KEY)
        .retry(RetryPolicy::exponential(2).base_delay(std::time::Duration::from_millis(5)))
        // A user hook that logs the signed request in full, as a debugging session
        // would: the Authorization value must print as `Sensitive`.
        .middleware(LogEverything)
        .build()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();

    // A verified answer, sync and async.
    client
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .unwrap();
    rt.block_on(
        client
            .chain("v3/discount-card/orders/{out_order_no}")
            .get_async(seed_get_options()),
    )
    .unwrap();
    // A 5xx on an idempotent POST with a body: retried, then an API error.
    let refund = client.chain("v3/refund/domestic/refunds").idempotent();
    let err = refund
        .post(json!({"json": {"out_refund_no": "R1"}}))
        .unwrap_err();
    tracing::info!(error = ?err, "the test logs the error it got");
    // A refused connection.
    let dead = builder("http://127.0.0.1:9/")
        .apiv3_key(APIV3_KEY)
        .build()
        .unwrap();
    let err = dead.chain("v3/certificates").get(Value::Null).unwrap_err();
    tracing::info!(error = ?err, "the test logs the error it got");
    // The sandbox verifies and answers on the same keys.
    let sandbox = Sandbox::start().unwrap();
    let sb = sandbox.client();
    sb.chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .unwrap();
    sb.chain("v3/discount-card/orders/{out_order_no}")
        .get(json!({"out_order_no": "missing"}))
        .unwrap_err();
    sandbox.shutdown();

    let headers = seen.lock().unwrap().clone();
    assert!(
        headers.len() >= 4,
        "the servers recorded {} requests",
        headers.len()
    );
    let signatures: Vec<String> = headers.iter().flat_map(|h| signature_of(h)).collect();
    let text = captured();
    if let Ok(path) = std::env::var("WECHATPAY_REDACTION_LOG") {
        // For a look by hand (docs/security.md quotes its size); CI never sets it.
        std::fs::write(path, &text).unwrap();
    }
    // The capture works: the crate's own events and the user's hook are in it.
    assert!(
        text.contains("wechatpay request"),
        "no crate events captured:\n{text}"
    );
    assert!(text.contains("signed request"), "the hook did not log");
    assert!(
        text.contains("Sensitive"),
        "the Authorization value was not marked"
    );
    assert_clean("tracing output", &text, &signatures);
}

/// A middleware that logs everything it is shown.
struct LogEverything;

impl wechatpay_chain::Middleware for LogEverything {
    fn after_signing(&self, request: &http::Request<Bytes>) {
        tracing::trace!(?request, headers = ?request.headers(), "signed request");
    }
    fn after_verifying(
        &self,
        call: &wechatpay_chain::Endpoint,
        outcome: Result<&wechatpay_chain::Response, &Error>,
    ) {
        tracing::trace!(?call, ?outcome, "outcome");
    }
}

#[test]
fn errors_carry_the_raw_answer_never_the_request() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut server = mockito::Server::new();
    let _refunds = recording(&mut server, &seen);
    let tampered = r#"{"amount":1}"#;
    let mut forged = server.mock("GET", "/v3/forged").with_body(tampered);
    for (k, v) in signed_headers(r#"{"amount":100}"#, now()) {
        forged = forged.with_header(k, &v);
    }
    let seen_forged = seen.clone();
    let _forged = forged
        .match_request(move |req| {
            for v in req.header("authorization") {
                seen_forged
                    .lock()
                    .unwrap()
                    .push(v.to_str().unwrap_or_default().to_owned());
            }
            true
        })
        .create();
    let client = builder(&server.url()).apiv3_key(APIV3_KEY).build().unwrap();

    let mut errors: Vec<Error> = vec![
        client
            .chain("v3/refund/domestic/refunds")
            .post(json!({"json": {"out_refund_no": "R1"}}))
            .unwrap_err(),
        client.chain("v3/forged").get(Value::Null).unwrap_err(),
        builder("http://127.0.0.1:9/")
            .build()
            .unwrap()
            .chain("v3/x")
            .get(Value::Null)
            .unwrap_err(),
        client.chain("v3/x").get(json!({"jsno": 1})).unwrap_err(),
        client
            .chain("v3/{id}")
            .get(json!({"id": ".."}))
            .unwrap_err(),
        wechatpay_chain::PrivateKey::from_pem(
            &fixture("keys/merchant_private.pem").replace("MII", "MIX"),
        )
        .unwrap_err(),
        ApiV3Key::new("short").unwrap_err(),
    ];
    let decoded = {
        let mut ok = server.mock("GET", "/v3/odd").with_body("not json");
        for (k, v) in signed_headers("not json", now()) {
            ok = ok.with_header(k, &v);
        }
        let _ok = ok.create();
        client.chain("v3/odd").get(Value::Null).unwrap()
    };
    errors.push(decoded.json::<Value>().unwrap_err());

    assert!(matches!(errors[0], Error::Api(_)), "{:?}", errors[0]);
    assert!(
        matches!(errors[1], Error::Verification { .. }),
        "{:?}",
        errors[1]
    );
    let headers = seen.lock().unwrap().clone();
    assert_eq!(headers.len(), 2);
    let signatures: Vec<String> = headers.iter().flat_map(|h| signature_of(h)).collect();
    for err in &errors {
        let mut text = format!("{err:?}\n{err}\n{err:#?}");
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            text.push_str(&format!("\n{s}\n{s:?}"));
            source = s.source();
        }
        assert_clean(&format!("error {err}"), &text, &signatures);
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "an error carries request headers: {text}"
        );
    }
    // What an answered error keeps is the answer, for diagnosis.
    let raw = errors[1].raw_response().unwrap();
    assert_eq!(raw.body, tampered.as_bytes());
}

#[test]
fn debug_and_display_of_configuration_show_no_secret() {
    let key = ApiV3Key::new(APIV3_KEY).unwrap();
    let builder_ = builder("https://api.mch.weixin.qq.com/")
        .apiv3_key(APIV3_KEY)
        .apiv2_secret(APIV2_SECRET)
        .proxy("http://user:s3cret@proxy.test:3128");
    let shown_builder = format!("{builder_:?}");
    let client = builder_.build().unwrap();
    let chain = client.chain("v3/discount-card/orders/{out_order_no}");
    let signer = Signer::new(MCHID, MERCHANT_SERIAL, merchant_key());
    let texts = [
        ("ApiV3Key", format!("{key:?}")),
        ("ClientBuilder", shown_builder),
        ("Client", format!("{client:?} {client:#?}")),
        ("Chain", format!("{chain:?} {chain}")),
        ("Signer", format!("{signer:?}")),
        (
            "PrivateKey",
            format!("{:?} {:#?}", merchant_key(), platform_private()),
        ),
        ("PublicKey", format!("{:?}", platform_public())),
        ("RetryPolicy", format!("{:?}", RetryPolicy::exponential(3))),
    ];
    for (what, text) in texts {
        assert_clean(what, &text, &[]);
        assert!(
            !text.contains("s3cret"),
            "{what} shows the proxy password: {text}"
        );
    }
}

#[test]
fn a_signed_request_prints_its_signature_as_sensitive_but_sends_it() {
    let signer = Signer::new(MCHID, MERCHANT_SERIAL, merchant_key());
    let mut request = http::Request::builder()
        .method("POST")
        .uri("https://api.mch.weixin.qq.com/v3/refund/domestic/refunds")
        .body(Bytes::from_static(b"{\"out_refund_no\":\"R1\"}"))
        .unwrap();
    signer
        .sign(
            &mut request,
            "1700000000",
            "NONCE0123456789ABCDEFGHIJKLMNOPQ",
        )
        .unwrap();
    let header = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(authorization_is_valid(
        "POST",
        "/v3/refund/domestic/refunds",
        b"{\"out_refund_no\":\"R1\"}",
        &header
    ));
    assert!(request.headers()["authorization"].is_sensitive());
    let shown = format!("{request:?} {:?}", request.headers());
    assert!(shown.contains("Sensitive"), "{shown}");
    assert_clean("a signed request", &shown, &signature_of(&header));
}
