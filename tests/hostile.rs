//! Hostile input is refused before anything is sent; hostile answers are refused
//! after they arrive. Every case talks to a real mockito server on loopback, whose
//! catch-all mocks prove that refused input never reached the wire.

mod common;

use common::*;
use mockito::{Matcher, Mock, ServerGuard};
use serde_json::{json, Value};
use wechatpay_chain::{Client, Error, PrivateKey, PublicKey};

fn catch_all(server: &mut ServerGuard) -> Vec<Mock> {
    ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .map(|m| {
            server
                .mock(m, Matcher::Any)
                .with_status(599)
                .expect(0)
                .create()
        })
        .collect()
}

fn assert_before_send(result: Result<wechatpay_chain::Response, Error>, needles: &[&str]) {
    let err = result.expect_err("must be refused");
    assert!(err.is_before_send(), "{err:?}");
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` not in: {text}");
    }
}

#[test]
fn bad_placeholder_values_are_refused_unsent() {
    let mut server = mockito::Server::new();
    let stray = catch_all(&mut server);
    let client = client(&server.url());
    let chain = client.chain("v3/discount-card/orders/{out_order_no}");
    assert_before_send(
        chain.get(json!({})),
        &[
            "`out_order_no`",
            "has no value",
            "v3/discount-card/orders/{out_order_no}",
        ],
    );
    assert_before_send(chain.get(Value::Null), &["`out_order_no`", "has no value"]);
    assert_before_send(
        chain.get(json!({"out_order_no": ""})),
        &["`out_order_no`", "is empty"],
    );
    assert_before_send(
        chain.get(json!({"out_order_no": "."})),
        &["`out_order_no`", "segment `.`"],
    );
    assert_before_send(
        chain.get(json!({"out_order_no": ".."})),
        &["`out_order_no`", "segment `..`"],
    );
    assert_before_send(
        chain.get(json!({"out_order_no": {"a": 1}})),
        &["`out_order_no`", "object"],
    );
    stray.iter().for_each(Mock::assert);
}

#[test]
fn a_slash_in_a_value_is_encoded_not_a_new_segment() {
    let mut server = mockito::Server::new();
    let body = r#"{"ok":true}"#;
    let mut mock = server
        .mock("GET", "/v3/discount-card/orders/a%2F..%2Fb")
        .with_body(body)
        .expect(1);
    for (k, v) in signed_headers(body, now()) {
        mock = mock.with_header(k, &v);
    }
    let mock = mock.create();
    let stray = catch_all(&mut server);
    let client = client(&server.url());
    let res = client["v3/discount-card/orders/{out_order_no}"]
        .get(json!({"out_order_no": "a/../b"}))
        .unwrap();
    assert_eq!(res.json::<Value>().unwrap()["ok"], true);
    mock.assert();
    stray.iter().for_each(Mock::assert);
}

#[test]
fn bad_options_are_refused_unsent() {
    let mut server = mockito::Server::new();
    let stray = catch_all(&mut server);
    let client = client(&server.url());
    let chain = client.chain("v3/discount-card/cards");
    assert_before_send(
        chain.post(json!({"jsno": {"a": 1}})),
        &["option `jsno`", "unknown option", "json, body"],
    );
    assert_before_send(
        chain.post(json!({"json": {}, "body": "{}"})),
        &["exclusive"],
    );
    assert_before_send(
        chain.post(json!({"headers": {"Authorization": "x"}})),
        &["headers.Authorization"],
    );
    assert_before_send(
        chain.post(json!({"xml": {"a": 1}})),
        &["option `xml`", "APIv2"],
    );
    assert_before_send(chain.post(json!("json")), &["must be a JSON object"]);
    assert_before_send(
        client.chain("v3//cards").post(json!({})),
        &["`v3//cards`", "empty"],
    );
    assert_before_send(client.seg("v3").seg("").post(json!({})), &["empty segment"]);
    assert_before_send(client.chain("v3/{x").get(json!({})), &["never closed"]);
    assert_before_send(
        chain.request("BAD METHOD", json!({})),
        &["not an HTTP method"],
    );
    stray.iter().for_each(Mock::assert);
}

#[test]
fn builder_refuses_bad_configuration() {
    let err = PrivateKey::from_pem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
        .unwrap_err();
    assert!(err.to_string().contains("not a PEM private key"), "{err}");
    let err = PrivateKey::from_pem("hello").unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");

    let err = builder("https://api.mch.weixin.qq.com/")
        .platform_key(MERCHANT_SERIAL, merchant_public())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("merchant serial"), "{err}");

    let base = || {
        Client::builder()
            .mchid(MCHID)
            .serial(MERCHANT_SERIAL)
            .private_key(merchant_key())
            .platform_key(PUB_KEY_ID, platform_public())
    };
    assert!(base().build().is_ok());
    let cases: Vec<(wechatpay_chain::ClientBuilder, &str)> = vec![
        (
            Client::builder()
                .serial(MERCHANT_SERIAL)
                .private_key(merchant_key())
                .platform_key(PUB_KEY_ID, platform_public()),
            "mchid is required",
        ),
        (base().mchid(""), "mchid is empty"),
        (
            Client::builder()
                .mchid(MCHID)
                .private_key(merchant_key())
                .platform_key(PUB_KEY_ID, platform_public()),
            "merchant serial is required",
        ),
        (
            Client::builder()
                .mchid(MCHID)
                .serial(MERCHANT_SERIAL)
                .platform_key(PUB_KEY_ID, platform_public()),
            "private key is required",
        ),
        (
            Client::builder()
                .mchid(MCHID)
                .serial(MERCHANT_SERIAL)
                .private_key(merchant_key()),
            "at least one platform key",
        ),
        (
            base().base_uri("http://api.mch.weixin.qq.com/"),
            "use https",
        ),
        (
            base().private_key_file("/nonexistent/apiclient_key.pem"),
            "/nonexistent/apiclient_key.pem",
        ),
        (
            base().platform_certificate(platform_public()),
            "X.509 certificate",
        ),
    ];
    for (builder, needle) in cases {
        let err = builder.build().unwrap_err().to_string();
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    }
}

#[test]
fn debug_output_hides_secrets() {
    let client = client("https://api.mch.weixin.qq.com/");
    let key_line = fixture("keys/merchant_private.pem")
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    for text in [
        format!("{client:?}"),
        format!("{:?}", merchant_key()),
        format!("{:?}", builder("https://a/")),
    ] {
        assert!(!text.contains(&key_line[..20]), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
}

type Headers = Vec<(&'static str, String)>;

/// One hostile answer: its name, headers and body.
struct Answer {
    name: &'static str,
    status: usize,
    headers: Headers,
    body: String,
    reason: &'static str,
}

fn hostile_answers() -> Vec<Answer> {
    let body =
        r#"{"out_order_no":"233bcbf407e87789b8e471f251774f95","total_amount":100}"#.to_string();
    let with = |name: &'static str, change: &dyn Fn(&mut Headers), reason: &'static str| {
        let mut headers = signed_headers(&body, now());
        change(&mut headers);
        Answer {
            name,
            status: 200,
            headers,
            body: body.clone(),
            reason,
        }
    };
    let set = |headers: &mut Headers, key: &str, value: String| {
        for (k, v) in headers.iter_mut() {
            if *k == key {
                *v = value.clone();
            }
        }
    };
    vec![
        Answer {
            name: "unsigned",
            status: 200,
            headers: vec![],
            body: body.clone(),
            reason: "unsigned",
        },
        Answer {
            name: "tampered",
            status: 200,
            headers: signed_headers(&body, now()),
            body: body.replace("100", "1"),
            reason: "does not match",
        },
        with(
            "unknown-serial",
            &|h| {
                set(
                    h,
                    "Wechatpay-Serial",
                    "5157F09EFDC096DE15EBE81A47057A7200000000".into(),
                )
            },
            "names no configured platform key",
        ),
        with(
            "stale-past",
            &|h| *h = signed_headers(&body, now() - 301),
            "from the local clock",
        ),
        with(
            "stale-future",
            &|h| *h = signed_headers(&body, now() + 400),
            "from the local clock",
        ),
        with(
            "non-numeric-timestamp",
            &|h| set(h, "Wechatpay-Timestamp", "16e8".into()),
            "not a unix timestamp",
        ),
        with(
            "truncated-signature",
            &|h| {
                let sig = h
                    .iter()
                    .find(|(k, _)| *k == "Wechatpay-Signature")
                    .unwrap()
                    .1
                    .clone();
                set(h, "Wechatpay-Signature", sig[..sig.len() / 2].to_string());
            },
            "does not match",
        ),
    ]
}

fn mount(server: &mut ServerGuard, answer: &Answer) -> Mock {
    let mut mock = server
        .mock("GET", format!("/v3/hostile/{}", answer.name).as_str())
        .with_status(answer.status)
        .with_body(&answer.body);
    for (k, v) in &answer.headers {
        mock = mock.with_header(*k, v);
    }
    mock.expect(2).create()
}

fn assert_refused(answer: &Answer, outcome: Result<wechatpay_chain::Response, Error>) {
    match outcome {
        Err(Error::Verification {
            rejection,
            response,
        }) => {
            let reason = rejection.to_string();
            assert!(reason.contains(answer.reason), "{}: {reason}", answer.name);
            assert_eq!(
                response.body,
                answer.body.as_bytes(),
                "{}: raw body kept for diagnosis",
                answer.name
            );
        }
        other => panic!(
            "{}: expected a verification error, got {other:?}",
            answer.name
        ),
    }
}

#[test]
fn hostile_answers_are_verification_errors_sync_and_async() {
    let mut server = mockito::Server::new();
    let answers = hostile_answers();
    let mocks: Vec<Mock> = answers.iter().map(|a| mount(&mut server, a)).collect();
    let client = client(&server.url());
    for answer in &answers {
        let outcome = client
            .chain("v3/hostile/{case}")
            .get(json!({"case": answer.name}));
        assert_refused(answer, outcome);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    for answer in &answers {
        let outcome = rt.block_on(
            client
                .chain("v3/hostile/{case}")
                .get_async(json!({"case": answer.name})),
        );
        assert_refused(answer, outcome);
    }
    mocks.iter().for_each(Mock::assert);
}

#[test]
fn a_wechat_error_is_an_api_error_with_code_message_and_request_id() {
    let mut server = mockito::Server::new();
    let body =
        r#"{"code":"ORDER_NOT_EXIST","message":"订单不存在","detail":{"field":"out_order_no"}}"#;
    // WeChat's gateway often answers errors unsigned: the real error must show.
    let unsigned = server
        .mock("GET", "/v3/discount-card/orders/missing")
        .with_status(404)
        .with_header("Request-ID", "REQ-404")
        .with_body(body)
        .create();
    let mut signed = server
        .mock("GET", "/v3/discount-card/orders/signed")
        .with_status(400)
        .with_body(body);
    for (k, v) in signed_headers(body, now()) {
        signed = signed.with_header(k, &v);
    }
    let signed = signed.create();
    let client = client(&server.url());

    let err = client
        .chain("v3/discount-card/orders/{id}")
        .get(json!({"id": "missing"}))
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 404);
    assert_eq!(api.code.as_deref(), Some("ORDER_NOT_EXIST"));
    assert_eq!(api.message.as_deref(), Some("订单不存在"));
    assert_eq!(api.detail, Some(json!({"field": "out_order_no"})));
    assert_eq!(api.request_id.as_deref(), Some("REQ-404"));
    assert!(!api.verified);
    assert_eq!(err.code(), Some("ORDER_NOT_EXIST"));
    assert!(err.to_string().contains("ORDER_NOT_EXIST"), "{err}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(
            client
                .chain("v3/discount-card/orders/{id}")
                .get_async(json!({"id": "signed"})),
        )
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 400);
    assert!(api.verified);
    assert_eq!(
        api.request_id.as_deref(),
        Some("08F78BB5AF0610D302A0CD9A0B")
    );
    unsigned.assert();
    signed.assert();
}

#[test]
fn unsigned_downloads_pass_unverified_and_others_do_not() {
    let mut server = mockito::Server::new();
    let csv = "交易时间,公众账号ID\n2024-01-01,wx1\n";
    let bill = server
        .mock("GET", "/v3/billdownload/file?token=abc")
        .with_body(csv)
        .create();
    let client = client(&server.url());
    let res = client
        .chain("v3/billdownload/file")
        .get(json!({"query": {"token": "abc"}}))
        .unwrap();
    assert!(!res.is_verified());
    assert_eq!(res.text(), csv);
    bill.assert();
}

#[test]
fn a_platform_key_that_is_a_private_key_is_refused() {
    let err = PublicKey::from_pem(&fixture("keys/platform_private.pem")).unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");
}
