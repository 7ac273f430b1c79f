//! APIv2 through the same chain: against the sandbox's `pay/micropay` and
//! `pay/orderquery`, and against mockito for hostile answers.

mod common;

use common::*;
use serde_json::{json, Value};
use wechatpay_chain::{chain, v2, Client, Error};
use wechatpay_chain_sandbox::{Sandbox, APIV2_SECRET};

fn micropay(mchid: &str, out_trade_no: &str, auth_code: &str) -> Value {
    json!({
        "xml": {
            "appid": "wx8888888888888888",
            "mch_id": mchid,
            "body": "image形象店-深圳腾大- QQ公仔",
            "out_trade_no": out_trade_no,
            "total_fee": 888,
            "fee_type": "CNY",
            "spbill_create_ip": "8.8.8.8",
            "auth_code": auth_code,
        }
    })
}

#[test]
fn micropay_succeeds_and_is_queryable() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    // $instance->v2->pay->micropay->post(['xml' => [...]])
    let res = chain!(client->v2->pay->micropay)
        .post(micropay(sandbox.mchid(), "T1", "120061098828009406"))
        .unwrap();
    assert!(res.is_verified());
    let answer: Value = res.xml().unwrap();
    assert_eq!(answer["result_code"], "SUCCESS");
    assert_eq!(answer["total_fee"], "888");

    let query = client
        .seg("v2")
        .seg("pay")
        .seg("orderquery")
        .post(json!({"xml": {"appid": "wx8888888888888888", "mch_id": sandbox.mchid(), "out_trade_no": "T1", "sign_type": "HMAC-SHA256"}}))
        .unwrap();
    let answer: Value = query.xml().unwrap();
    assert_eq!(answer["trade_state"], "SUCCESS");
    assert_eq!(
        answer["sign"].as_str().unwrap().len(),
        64,
        "answered with HMAC-SHA256"
    );
}

#[tokio::test]
async fn a_declined_payment_code_is_an_api_error_with_wechat_codes() {
    let sandbox = Sandbox::start_async().await.unwrap();
    let client = sandbox.client();
    let err = client["v2/pay/micropay"]
        .post_async(micropay(sandbox.mchid(), "T2", "0123"))
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.code.as_deref(), Some("AUTH_CODE_INVALID"));
    assert_eq!(api.message.as_deref(), Some("授权码参数错误"));
    assert_eq!(api.detail.as_ref().unwrap()["result_code"], "FAIL");
}

#[test]
fn a_get_sends_the_signed_fields_as_the_query() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    client
        .chain("v2/pay/micropay")
        .post(micropay(sandbox.mchid(), "T3", "134"))
        .unwrap();
    let res = client
        .chain("V2/pay/orderquery")
        .get(json!({"xml": {"appid": "wx8888888888888888", "mch_id": sandbox.mchid(), "out_trade_no": "T3"}}))
        .unwrap();
    assert_eq!(res.xml::<Value>().unwrap()["out_trade_no"], "T3");
}

#[test]
fn the_mch_id_guard_and_option_checks_send_nothing() {
    let client = builder("http://127.0.0.1:9/")
        .apiv2_secret(APIV2_SECRET)
        .build()
        .unwrap();
    let chain = client.chain("v2/pay/micropay");
    for (options, needle) in [
        (
            micropay("1230000109", "T", "1"),
            "is not this client's mchid 1900000001",
        ),
        (json!({"xml": {"appid": "wx"}}), "mch_id (missing)"),
        (
            json!({"xml": {"mch_id": MCHID, "sign_type": "SHA1"}}),
            "xml.sign_type",
        ),
        (json!({"json": {"mch_id": MCHID}}), "sends the `xml` option"),
        (json!({"xml": "<xml/>"}), "must be an object"),
        (
            json!({"xml": {"mch_id": MCHID}, "nonceless": "yes"}),
            "option `nonceless`",
        ),
        (
            json!({"xml": {"mch_id": MCHID}, "security": true}),
            "merchant_certificate",
        ),
    ] {
        let err = chain.post(options.clone()).unwrap_err();
        assert!(err.is_before_send(), "{options}: {err:?}");
        assert!(err.to_string().contains(needle), "`{needle}` not in {err}");
    }
    let err = client.chain("v3/x").post(json!({"xml": {}})).unwrap_err();
    assert!(err.to_string().contains("APIv2 option"), "{err}");
    // A GET's payload is its query: a nested value has no form there.
    let err = client
        .chain("v2/pay/orderquery")
        .get(json!({"xml": {"mch_id": MCHID, "detail": {"a": 1}}}))
        .unwrap_err();
    assert!(err.is_before_send(), "{err:?}");
    assert!(err.to_string().contains("xml.detail"), "{err}");
}

#[test]
fn builder_checks_the_secret_and_the_client_certificate() {
    let err = builder("https://api.mch.weixin.qq.com/")
        .apiv2_secret("short")
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("APIv2 secret: must be exactly 32 bytes, got 5"),
        "{err}"
    );
    // The merchant certificate belongs to the merchant key, not to the platform key.
    let err = builder("https://api.mch.weixin.qq.com/")
        .merchant_certificate(
            fixture("keys/merchant_cert.pem"),
            fixture("keys/platform_private.pem"),
        )
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("does not match the private key"),
        "{err}"
    );
    builder("https://api.mch.weixin.qq.com/")
        .merchant_certificate(
            fixture("keys/merchant_cert.pem"),
            fixture("keys/merchant_private.pem"),
        )
        .build()
        .unwrap();
}

fn v2_client(url: &str) -> Client {
    builder(url).apiv2_secret(APIV2_SECRET).build().unwrap()
}

#[test]
fn nonceless_sends_no_nonce_and_the_sign_covers_what_is_sent() {
    let mut server = mockito::Server::new();
    let answer = {
        let mut m = json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "x": "1"})
            .as_object()
            .unwrap()
            .clone();
        let s = v2::sign(&m, v2::SignType::Md5, APIV2_SECRET);
        m.insert("sign".into(), s.into());
        v2::to_xml(&m)
    };
    let mock = server
        .mock("POST", "/pay/closeorder")
        .match_request(|req| {
            let body = String::from_utf8_lossy(req.body().unwrap()).into_owned();
            let fields = v2::from_xml(&body).unwrap();
            let sign = fields["sign"].as_str().unwrap().to_owned();
            !fields.contains_key("nonce_str")
                && v2::sign(&fields, v2::SignType::Md5, APIV2_SECRET) == sign
        })
        .match_header("content-type", "text/xml; charset=utf-8")
        .with_body(answer)
        .expect(1)
        .create();
    let client = v2_client(&server.url());
    let res = client
        .chain("v2/pay/closeorder")
        .post(json!({"xml": {"mch_id": MCHID, "out_trade_no": "T"}, "nonceless": true}))
        .unwrap();
    assert_eq!(res.xml::<Value>().unwrap()["x"], "1");
    mock.assert();
}

#[test]
fn hostile_v2_answers_are_refused() {
    let mut server = mockito::Server::new();
    let mut signed =
        json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "total_fee": "888"})
            .as_object()
            .unwrap()
            .clone();
    let s = v2::sign(&signed, v2::SignType::Md5, APIV2_SECRET);
    signed.insert("sign".into(), s.into());
    let tampered = v2::to_xml(&signed).replace("888", "1");
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>SUCCESS</return_code><a>&x;</a></xml>"#;
    let unsigned =
        "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code></xml>";
    server
        .mock("POST", "/pay/tampered")
        .with_body(tampered)
        .create();
    server.mock("POST", "/pay/xxe").with_body(xxe).create();
    server
        .mock("POST", "/pay/unsigned")
        .with_body(unsigned)
        .create();
    let csv = "交易时间,公众账号ID\n`2024-01-01,`wx1\n";
    let bill = server
        .mock("POST", "/pay/downloadbill")
        .with_body(csv)
        .create();
    let client = v2_client(&server.url());
    let opts = || json!({"xml": {"mch_id": MCHID}});
    for (path, needle) in [
        ("tampered", "does not match"),
        ("xxe", "DTD"),
        ("unsigned", "no `sign`"),
    ] {
        let err = client
            .chain("v2/pay/{p}")
            .post(json!({"p": path, "xml": {"mch_id": MCHID}}))
            .unwrap_err();
        let Error::Verification { rejection, .. } = &err else {
            panic!("{path}: {err:?}")
        };
        let reason = rejection.to_string();
        assert!(reason.contains(needle), "{path}: {reason}");
    }
    // A documented unsigned endpoint passes through untouched (a CSV, not XML).
    let res = client.chain("v2/pay/downloadbill").post(opts()).unwrap();
    assert!(!res.is_verified());
    assert_eq!(res.text(), csv);
    // Read as XML, it is an XML decode error that keeps the body.
    let err = res.xml::<Value>().unwrap_err();
    let Error::DecodeXml { message, body } = &err else {
        panic!("expected an XML decode error, got {err:?}")
    };
    assert!(!message.is_empty());
    assert_eq!(body.as_ref(), csv.as_bytes());
    assert!(
        err.to_string().starts_with("cannot decode the XML body: "),
        "{err}"
    );
    bill.assert();
}
