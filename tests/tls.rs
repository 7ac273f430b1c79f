//! TLS for real: the sandbox on HTTPS with its own CA, APIv2 calls that need the
//! merchant's client certificate proven in the handshake, and every way it fails.

mod common;

use std::path::PathBuf;

use serde_json::{json, Value};
use wechatpay_chain::{Client, Error, TransportKind};
use wechatpay_chain_sandbox::{Sandbox, SandboxKeys, SEED_ORDER};

use common::fixture;

const ORDER: &str = "v3/discount-card/orders/{out_order_no}";

fn tls_sandbox() -> Sandbox {
    Sandbox::builder().tls(true).start().unwrap()
}

/// The sandbox's merchant, trusting its CA, presenting no client certificate.
fn without_certificate(sandbox: &Sandbox) -> Client {
    let tls = sandbox.tls().expect("a TLS sandbox");
    sandbox
        .keys()
        .client_builder()
        .base_uri(sandbox.url())
        .root_certificate(tls.ca_pem())
        .build()
        .unwrap()
}

/// Pays a micropay order of 888 fen (no certificate needed) named `out_trade_no`.
fn pay(client: &Client, mchid: &str, out_trade_no: &str) {
    let paid: Value = client
        .chain("v2/pay/micropay")
        .post(json!({"xml": {
            "appid": "wx8888888888888888",
            "mch_id": mchid,
            "body": "sandbox",
            "out_trade_no": out_trade_no,
            "total_fee": 888,
            "spbill_create_ip": "127.0.0.1",
            "auth_code": "120061098828009406",
        }}))
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(paid["result_code"], "SUCCESS", "{paid}");
}

/// A refund of 100 fen of `out_trade_no`, with or without `security: true`.
fn refund_options(mchid: &str, out_trade_no: &str, security: bool) -> Value {
    json!({
        "security": security,
        "xml": {
            "appid": "wx8888888888888888",
            "mch_id": mchid,
            "out_trade_no": out_trade_no,
            "out_refund_no": format!("R{out_trade_no}"),
            "total_fee": 888,
            "refund_fee": 100,
        },
    })
}

/// The error and all its sources, one string.
fn chain_of(err: &Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(" / {s}"));
        source = s.source();
    }
    text
}

#[test]
fn a_v2_refund_with_the_certificate_succeeds_over_tls() {
    let sandbox = tls_sandbox();
    assert!(
        sandbox.url().starts_with("https://127.0.0.1:"),
        "{}",
        sandbox.url()
    );
    let client = sandbox.client();
    pay(&client, sandbox.mchid(), "TLS-REFUND-1");
    let refunded: Value = client
        .chain("v2/secapi/pay/refund")
        .post(refund_options(sandbox.mchid(), "TLS-REFUND-1", true))
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(refunded["result_code"], "SUCCESS", "{refunded}");
    assert_eq!(refunded["out_refund_no"], "RTLS-REFUND-1");
    assert_eq!(refunded["refund_fee"], "100");

    // The same through the async verb.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let refunded: Value = runtime
        .block_on(
            client
                .chain("v2/secapi/pay/refund")
                .post_async(refund_options(sandbox.mchid(), "TLS-REFUND-1", true)),
        )
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(refunded["result_code"], "SUCCESS", "{refunded}");
}

#[test]
fn a_v2_refund_without_the_certificate_gets_wechats_answer() {
    let sandbox = tls_sandbox();
    pay(&sandbox.client(), sandbox.mchid(), "TLS-REFUND-2");
    // A client with no certificate, and one that has it but does not mark the
    // call `security: true` (so the connection presents none).
    for (client, what) in [
        (without_certificate(&sandbox), "no certificate configured"),
        (sandbox.client(), "certificate not asked for"),
    ] {
        let err = client
            .chain("v2/secapi/pay/refund")
            .post(refund_options(sandbox.mchid(), "TLS-REFUND-2", false))
            .unwrap_err();
        let Error::Api(api) = &err else {
            panic!("{what}: expected WeChat's FAIL answer, got {err:?}");
        };
        assert!(
            err.to_string()
                .contains("presented no merchant API client certificate"),
            "{what}: {err}"
        );
        assert_eq!(api.response.status, 200, "{what}");
    }
    // Endpoints that need no certificate are served without one.
    pay(
        &without_certificate(&sandbox),
        sandbox.mchid(),
        "TLS-REFUND-3",
    );
}

#[test]
fn a_client_certificate_from_another_ca_fails_the_handshake() {
    let sandbox = tls_sandbox();
    pay(&sandbox.client(), sandbox.mchid(), "TLS-REFUND-4");
    // The merchant's own key, certified by itself rather than the merchant CA.
    let client = sandbox
        .keys()
        .client_builder()
        .base_uri(sandbox.url())
        .root_certificate(sandbox.tls().unwrap().ca_pem())
        .merchant_certificate(
            fixture("keys/merchant_cert.pem"),
            sandbox.keys().merchant_private_pem(),
        )
        .build()
        .unwrap();
    let before = sandbox.stats().requests;
    let err = client
        .chain("v2/secapi/pay/refund")
        .post(refund_options(sandbox.mchid(), "TLS-REFUND-4", true))
        .unwrap_err();
    // The server's alert names the failure: it does not accept the certificate.
    let text = chain_of(&err);
    assert!(matches!(err, Error::Transport { .. }), "{text}");
    assert!(!err.is_before_send());
    assert!(text.contains("received fatal alert: Certificate"), "{text}");
    assert_eq!(sandbox.stats().requests, before, "a request was answered");
}

#[test]
fn a_certificate_issued_to_another_merchant_gets_wechats_answer() {
    let sandbox = tls_sandbox();
    pay(&sandbox.client(), sandbox.mchid(), "TLS-REFUND-5");
    // Another merchant's key pair, certified by the same merchant CA: the
    // handshake passes, the endpoint refuses.
    let other = Sandbox::builder()
        .keys(SandboxKeys::generate().unwrap())
        .tls(true)
        .start()
        .unwrap();
    let other_tls = other.tls().unwrap();
    assert_eq!(
        other_tls.merchant_ca_pem(),
        sandbox.tls().unwrap().merchant_ca_pem()
    );
    let client = sandbox
        .keys()
        .client_builder()
        .base_uri(sandbox.url())
        .root_certificate(sandbox.tls().unwrap().ca_pem())
        .merchant_certificate(
            other_tls.client_certificate_pem(),
            other_tls.client_key_pem(),
        )
        .build()
        .unwrap();
    let err = client
        .chain("v2/secapi/pay/refund")
        .post(refund_options(sandbox.mchid(), "TLS-REFUND-5", true))
        .unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("was not issued to mch_id 1900000001"),
        "{err}"
    );
}

#[test]
fn a_server_certificate_the_client_does_not_trust_fails_the_handshake() {
    let sandbox = tls_sandbox();
    let before = sandbox.stats().requests;
    let untrusting = sandbox
        .keys()
        .client_builder()
        .base_uri(sandbox.url())
        .build()
        .unwrap();
    // Trusting another CA does not help either.
    let other_ca = sandbox
        .keys()
        .client_builder()
        .base_uri(sandbox.url())
        .root_certificate(fixture("keys/platform_cert.pem"))
        .build()
        .unwrap();
    for client in [untrusting, other_ca] {
        let err = client
            .chain(ORDER)
            .get(json!({ "out_order_no": SEED_ORDER }))
            .unwrap_err();
        let text = chain_of(&err);
        assert_eq!(err.transport_kind(), Some(TransportKind::Connect), "{text}");
        assert!(
            text.contains("invalid peer certificate: UnknownIssuer"),
            "{text}"
        );
    }
    assert_eq!(sandbox.stats().requests, before, "a request was answered");
}

#[test]
fn apiv3_over_tls_works_as_over_http() {
    let plain = Sandbox::start().unwrap();
    let tls = tls_sandbox();
    assert!(plain.tls().is_none());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut answers = Vec::new();
    for sandbox in [&plain, &tls] {
        let client = sandbox.client();
        let order = client.chain(ORDER);
        let got = order.get(json!({ "out_order_no": SEED_ORDER })).unwrap();
        let got_async = runtime
            .block_on(order.get_async(json!({ "out_order_no": SEED_ORDER })))
            .unwrap();
        let listing = client.chain("v3/certificates").get(Value::Null).unwrap();
        let missing = order.get(json!({ "out_order_no": "nope" })).unwrap_err();
        answers.push((
            got.status(),
            got.json::<Value>().unwrap(),
            got_async.json::<Value>().unwrap(),
            listing.status(),
            missing.to_string(),
        ));
    }
    assert_eq!(answers[0], answers[1]);
}

#[test]
fn root_certificate_takes_a_bundle() {
    let sandbox = tls_sandbox();
    // Another CA first, the sandbox's second: every block is trusted.
    let bundle = format!(
        "{}\n{}",
        fixture("keys/platform_cert.pem").trim(),
        sandbox.tls().unwrap().ca_pem()
    );
    let client = sandbox
        .keys()
        .client_builder()
        .base_uri(sandbox.url())
        .root_certificate(bundle)
        .build()
        .unwrap();
    let res = client
        .chain(ORDER)
        .get(json!({ "out_order_no": SEED_ORDER }))
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[test]
fn root_certificate_takes_only_certificates() {
    let sandbox = Sandbox::start().unwrap();
    for (pem, what) in [
        ("not a certificate".to_owned(), "text"),
        (
            sandbox.keys().merchant_public_pem().to_owned(),
            "a public key",
        ),
    ] {
        let err = sandbox
            .client_builder()
            .root_certificate(fixture("keys/platform_cert.pem"))
            .root_certificate(pem)
            .build()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("root certificate #2: is not a PEM X.509 certificate"),
            "{what}: {err}"
        );
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wechatpay-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `.p12` conversion in `docs/security.md`, run line by line on the sandbox's
/// `.p12`; its output is what `merchant_certificate` takes.
#[test]
fn the_documented_p12_conversion_yields_a_working_certificate() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/security.md")).unwrap();
    let marker = docs
        .find("<!-- p12 conversion")
        .expect("docs/security.md keeps the p12 conversion");
    let block = &docs[marker..];
    let start = block
        .find("```sh\n")
        .expect("a sh block follows the marker")
        + 6;
    let end = start + block[start..].find("```").unwrap();
    let lines: Vec<&str> = block[start..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");

    let sandbox = tls_sandbox();
    let tls = sandbox.tls().unwrap();
    assert!(lines[0].contains(&format!("pass:{}", sandbox.mchid())));
    let dir = temp_dir("p12");
    std::fs::write(dir.join("apiclient_cert.p12"), tls.client_p12()).unwrap();
    for line in &lines {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{line}` failed (the documented conversion needs the openssl command): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let client = sandbox
        .keys()
        .client_builder()
        .base_uri(sandbox.url())
        .root_certificate(tls.ca_pem())
        .merchant_certificate(read("apiclient_cert.pem"), read("apiclient_key.pem"))
        .build()
        .unwrap();
    pay(&client, sandbox.mchid(), "TLS-P12-1");
    let refunded: Value = client
        .chain("v2/secapi/pay/refund")
        .post(refund_options(sandbox.mchid(), "TLS-P12-1", true))
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(refunded["result_code"], "SUCCESS", "{refunded}");
    let _ = std::fs::remove_dir_all(&dir);
}
