//! Every trust decision at its exact edge, over loopback HTTP (mockito): the
//! 300 s clock window (accepted at 300, refused at 301), the digits-only
//! timestamp, the unsigned-download exemptions and their near misses, and the
//! statement rule (only on statement paths). Each refusal is checked for its
//! reason; these are the tests that fail when a comparison is off by one.

mod common;

use common::*;
use serde_json::{json, Value};
use sha1::Digest;
use wechatpay_chain::{Error, PrivateKey};

fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).unwrap()
}

/// The conformance `valid` answer: headers and body signed by the fixture
/// platform key (the signature is the vector's, not one computed here).
fn valid_case() -> (Vec<(String, String)>, String, i64) {
    let v = vectors();
    let case = v["response_cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "valid")
        .cloned()
        .unwrap();
    let headers = case["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let ts = case["headers"]["Wechatpay-Timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (headers, case["body"].as_str().unwrap().to_owned(), ts)
}

fn verification_reason(outcome: Result<wechatpay_chain::Response, Error>) -> String {
    match outcome {
        Err(Error::Verification { rejection, .. }) => rejection.to_string(),
        other => panic!("expected a verification error, got {other:?}"),
    }
}

/// Rule: an answer is accepted up to exactly 300 s from the local clock, either
/// way, and refused from 301 s, naming the distance.
#[test]
fn the_clock_window_is_300_seconds_inclusive() {
    let (headers, body, ts) = valid_case();
    let mut server = mockito::Server::new();
    let mut mock = server.mock("GET", mockito::Matcher::Any).with_body(&body);
    for (k, v) in &headers {
        mock = mock.with_header(k.as_str(), v);
    }
    let _mock = mock.expect(4).create();
    for offset in [-301i64, -300, 300, 301] {
        let client = builder(&server.url())
            .clock(move || ts + offset)
            .build()
            .unwrap();
        let outcome = client
            .chain("v3/discount-card/orders/{out_order_no}")
            .get(seed_get_options());
        if offset.abs() == 300 {
            let order: Value = outcome.unwrap().json().unwrap();
            assert_eq!(order["total_amount"], 100, "at {offset}");
        } else {
            let reason = verification_reason(outcome);
            assert!(
                reason.contains(&format!(
                    "`Wechatpay-Timestamp` {ts} is 301s from the local clock"
                )),
                "at {offset}: {reason}"
            );
        }
    }
}

/// Headers signing `body` at the literal timestamp text `ts` (the string to verify
/// written out here, not by the crate).
fn headers_with_timestamp(ts: &str, body: &str) -> Vec<(&'static str, String)> {
    let nonce = "4E0C2F1A9B8D7C6E5F4A3B2C1D0E9F8A";
    let message = format!("{ts}\n{nonce}\n{body}\n");
    let signature = platform_private().sign_base64(message.as_bytes()).unwrap();
    vec![
        ("Wechatpay-Timestamp", ts.to_owned()),
        ("Wechatpay-Nonce", nonce.to_owned()),
        ("Wechatpay-Serial", PUB_KEY_ID.to_owned()),
        ("Wechatpay-Signature", signature),
    ]
}

/// Rule: `Wechatpay-Timestamp` is digits only; a signed `+…` (which Rust and PHP
/// would both parse as a number) is refused as not a timestamp, and the refusal
/// quotes at most 64 characters of it.
#[test]
fn a_timestamp_is_digits_only() {
    let mut server = mockito::Server::new();
    let body = r#"{"ok":true}"#;
    let now = now();
    let long = format!("{now}{}", "x".repeat(100));
    for (ts, quoted) in [
        (format!("+{now}"), format!("\"+{now}\"")),
        (format!("{now}.0"), format!("\"{now}.0\"")),
        // Quoted up to 64 characters, not more.
        (long.clone(), format!("{:?}", &long[..64])),
    ] {
        let path = format!("/v3/ts/{}", ts.len());
        let mut mock = server.mock("GET", path.as_str()).with_body(body);
        for (k, v) in headers_with_timestamp(&ts, body) {
            mock = mock.with_header(k, &v);
        }
        let _mock = mock.create();
        let reason = verification_reason(
            client(&server.url())
                .chain(path.trim_start_matches('/'))
                .get(Value::Null),
        );
        assert!(
            reason.ends_with(&format!("is not a unix timestamp: {quoted}")),
            "{ts}: {reason}"
        );
    }
    // The same signing with a plain timestamp is accepted (the test signs right).
    let ts = now.to_string();
    let mut mock = server.mock("GET", "/v3/ts/plain").with_body(body);
    for (k, v) in headers_with_timestamp(&ts, body) {
        mock = mock.with_header(k, &v);
    }
    let _mock = mock.create();
    let res = client(&server.url())
        .chain("v3/ts/plain")
        .get(Value::Null)
        .unwrap();
    assert!(res.is_verified());
}

/// Rule: an unknown serial is refused by name (with the configured ones listed),
/// even when the signature is genuine; a key is never tried under another serial.
#[test]
fn an_unknown_serial_is_named_and_never_falls_back() {
    let (mut headers, body, ts) = valid_case();
    for (k, v) in headers.iter_mut() {
        if k == "Wechatpay-Serial" {
            *v = "5157F09EFDC096DE15EBE81A47057A7200000000".into();
        }
    }
    let mut server = mockito::Server::new();
    let mut mock = server.mock("GET", mockito::Matcher::Any).with_body(&body);
    for (k, v) in &headers {
        mock = mock.with_header(k.as_str(), v);
    }
    let _mock = mock.create();
    let client = builder(&server.url()).clock(move || ts).build().unwrap();
    let reason = verification_reason(
        client
            .chain("v3/discount-card/orders/{out_order_no}")
            .get(seed_get_options()),
    );
    assert!(
        reason.contains(&format!(
            "\"5157F09EFDC096DE15EBE81A47057A7200000000\" names no configured platform key (configured: {PLATFORM_CERT_SERIAL}, {PUB_KEY_ID})"
        )),
        "{reason}"
    );
}

/// Rule: exactly the downloads WeChat serves unsigned may come back unsigned
/// (marked unverified); every near miss of an exempt path is verified and an
/// unsigned answer to it refused.
#[test]
fn only_the_exempt_downloads_may_be_unsigned() {
    let mut server = mockito::Server::new();
    let _any = server
        .mock("GET", mockito::Matcher::Any)
        .with_body("file bytes")
        .expect_at_least(1)
        .create();
    let client = client(&server.url());
    let exempt = [
        "v3/billdownload/file",
        "v3/merchant-service/images/abc",
        "v3/transferdownload/signfile",
        "v3/new-tax-control-fapiao/download",
        "v3/new-tax-control-fapiao/download/x",
    ];
    let near_misses = [
        "v3/billdownload/file2",
        "v3/billdownloadx",
        "v3/billdownload",
        "v3/billdownload/filex/y",
        "v3/transfer/batches",
        "v3/transferdownload",
        "v3/transferdownloadx/file",
        "v3/merchant-service/images/upload",
        "v3/merchant-service/images",
        "v3/merchant-service/imagesx",
        "v3/new-tax-control-fapiao/downloadx",
        "v3/bill/tradebill",
    ];
    let mut checked = 0;
    for path in exempt {
        let res = client
            .chain(path)
            .get(Value::Null)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(!res.is_verified(), "{path}");
        assert_eq!(res.body().as_ref(), b"file bytes", "{path}");
        checked += 1;
    }
    for path in near_misses {
        let reason = verification_reason(client.chain(path).get(Value::Null));
        assert!(reason.contains("header (unsigned)"), "{path}: {reason}");
        checked += 1;
    }
    assert_eq!(checked, exempt.len() + near_misses.len());
    assert_eq!(checked, 17);
}

fn sha1_hex(body: &[u8]) -> String {
    sha1::Sha1::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Headers of a statement-style answer: signed over `{"sha1":"…"}` of `body`.
fn statement_headers(body: &[u8], key: &PrivateKey) -> Vec<(&'static str, String)> {
    let sha1 = sha1_hex(body);
    let ts = now().to_string();
    let nonce = "4E0C2F1A9B8D7C6E5F4A3B2C1D0E9F8A";
    let message = format!("{ts}\n{nonce}\n{{\"sha1\":\"{sha1}\"}}\n");
    vec![
        ("Wechatpay-Timestamp", ts),
        ("Wechatpay-Nonce", nonce.to_owned()),
        ("Wechatpay-Serial", PUB_KEY_ID.to_owned()),
        (
            "Wechatpay-Signature",
            key.sign_base64(message.as_bytes()).unwrap(),
        ),
        ("Wechatpay-Statement-Sha1", sha1),
    ]
}

/// Rule: the statement rule (signature over `{"sha1":…}`) holds on the three
/// statement paths (`hk/v3/statements` under the HK base) and nowhere else: on any
/// other path such an answer's signature does not cover its body and is refused.
#[test]
fn the_statement_rule_holds_only_on_statement_paths() {
    let body = b"Date,Amount\n2026-11-01,100.00\n";
    let mut server = mockito::Server::new();
    let mut mock = server.mock("GET", mockito::Matcher::Any).with_body(body);
    for (k, v) in statement_headers(body, &platform_private()) {
        mock = mock.with_header(k, &v);
    }
    let _mock = mock.create();
    let plain = client(&server.url());
    let hk = client(&format!("{}/hk/", server.url()));
    let statements = [
        (&plain, "v3/statements"),
        (&plain, "v3/global/statements"),
        (&hk, "v3/statements"),
    ];
    for (client, path) in statements {
        let res = client
            .chain(path)
            .get(Value::Null)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(res.is_verified(), "{path}");
        assert_eq!(res.body().as_ref(), body, "{path}");
    }
    let others = [
        (&plain, "v3/statementsx"),
        (&plain, "v3/global/statements/x"),
        (&plain, "v3/global/statement"),
        (&plain, "hk/v3/statementsx"),
        (&hk, "v3/global/refunds"),
        (&plain, "v3/bill/tradebill"),
    ];
    for (client, path) in others {
        let reason = verification_reason(client.chain(path).get(Value::Null));
        assert!(
            reason.starts_with("the signature does not match the body"),
            "{path}: {reason}"
        );
    }
    assert_eq!(statements.len() + others.len(), 9);

    // On a statement path, a `{"sha1":…}` signed by another key is refused as a
    // bad signature, before the digest is looked at.
    let mut server = mockito::Server::new();
    let mut mock = server.mock("GET", mockito::Matcher::Any).with_body(body);
    for (k, v) in statement_headers(body, &merchant_key()) {
        mock = mock.with_header(k, &v);
    }
    let _mock = mock.create();
    let reason = verification_reason(
        client(&server.url())
            .chain("v3/statements")
            .get(json!({ "query": { "date": "2026-11-01" } })),
    );
    assert!(
        reason.starts_with("the signature does not match the body"),
        "{reason}"
    );
}

/// Rule: the merchant's own serial is never a platform key: a client configured
/// so is refused at build time (else the merchant's key would vouch for answers).
#[test]
fn the_merchant_serial_is_never_a_platform_key() {
    let err = builder("https://api.mch.weixin.qq.com/")
        .platform_key(MERCHANT_SERIAL, merchant_public())
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains(&format!("the merchant serial {MERCHANT_SERIAL} is configured as a platform key"))),
        "{err:?}"
    );
    // Another serial for the same purpose builds (the guard is by serial).
    assert!(builder("https://api.mch.weixin.qq.com/")
        .platform_key("PUB_KEY_ID_0100000000000000000000000000", merchant_public())
        .build()
        .is_ok());
}

/// Rule: a placeholder takes a string or any integer (negative, or above
/// `i64::MAX`), as written; `<+x>` is not reserved expansion (only `{+x}` is) and is
/// refused by name; an unknown option names the template it was checked against.
#[test]
fn template_and_option_guards_name_the_culprit() {
    let mut server = mockito::Server::new();
    let body = "{}";
    let client = client(&server.url());
    for (id, path) in [
        (json!(-1), "/v3/orders/-1"),
        (json!(u64::MAX), "/v3/orders/18446744073709551615"),
        (json!(7), "/v3/orders/7"),
    ] {
        let mut mock = server.mock("GET", path).with_body(body);
        for (k, v) in signed_headers(body, now()) {
            mock = mock.with_header(k, &v);
        }
        let mock = mock.expect(1).create();
        client
            .chain("v3/orders/{id}")
            .get(json!({ "id": id }))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        mock.assert();
    }
    let _nothing = server.mock("GET", mockito::Matcher::Any).expect(0).create();
    let err = client
        .chain("v3/files/<+path>")
        .get(json!({ "path": "a/b" }))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("RFC 6570 operator `+` in `<+path>`"),
        "{err}"
    );
    let err = client
        .chain("v3/orders/{id}")
        .get(json!({ "id": "1", "jsno": {} }))
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown option (a typo?)")
            && err.to_string().contains("for template `v3/orders/{id}`"),
        "{err}"
    );
}
