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

/// The secret of wechatpay-php's documented example, used by the known answers.
const PHP_SECRET: &str = "exposed_your_key_here_have_risks";

/// APIv2 signatures as PHP computes them (`Crypto\Hash::sign`: MD5 or HMAC-SHA256
/// of the sorted `k=v&…&key=<secret>`, upper-case hex), for fields, the string PHP
/// signs, and the MD5 and HMAC-SHA256 results. Computed with PHP 8.2 itself:
///
/// ```text
/// php -r '$k="exposed_your_key_here_have_risks"; foreach ([<the strings below>] as $s) {
///   $m="$s&key=$k"; echo strtoupper(md5($m)), " ", strtoupper(hash_hmac("sha256", $m, $k)), "\n"; }'
/// ```
fn php_known_answers() -> Vec<(Value, &'static str, &'static str, &'static str)> {
    vec![
        (
            json!({
                "stock_id": "12111100000001", "send_coupon_merchant": "10016226",
                "open_id": "oVvBvwEurkeUJpBzX90-6MfCHbec", "out_request_no": "20191204550002",
                "coupon_code": "75345199",
            }),
            "coupon_code=75345199&open_id=oVvBvwEurkeUJpBzX90-6MfCHbec&out_request_no=20191204550002&send_coupon_merchant=10016226&stock_id=12111100000001",
            "DA09635BDD745D599AFC7B6129815B1E",
            "D4AE51952153389716232ABDE5124F2B1C94431BE7B647F6DB22BE7E4A5FBE33",
        ),
        (
            // Byte order (upper case first), `sign` and empty values left out, UTF-8 as is.
            json!({
                "total_fee": "1", "sign": "IGNORED", "empty": "", "body": "腾讯充值中心-QQ会员充值",
                "appid": "wx2421b1c4370ec43b", "Zeta": "1",
                "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            }),
            "Zeta=1&appid=wx2421b1c4370ec43b&body=腾讯充值中心-QQ会员充值&nonce_str=5K8264ILTKCH16CQ2502SI8ZNMTM67VS&total_fee=1",
            "49C7A24BEDDB4ECA15505381534F569F",
            "FD5878A40BCE38145DC0DAEDD7431C97896DACCEA3DB37D3115BCB80E59920AF",
        ),
        (
            json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "total_fee": "888"}),
            "result_code=SUCCESS&return_code=SUCCESS&total_fee=888",
            "EAED59D47DAEE3800FC961B81F0275EE",
            "8B8DDABFDFC4BC43F4DE5A20C8AA32F88F5CFC471EDDA857F17F57EEB1DCA8F3",
        ),
    ]
}

#[test]
fn signatures_match_php_known_answers() {
    let cases = php_known_answers();
    assert_eq!(cases.len(), 3);
    for (fields, signed, md5, hmac) in cases {
        let fields = fields.as_object().unwrap();
        assert_eq!(v2::string_to_sign(fields), signed);
        assert_eq!(v2::sign(fields, v2::SignType::Md5, PHP_SECRET), md5);
        assert_eq!(v2::sign(fields, v2::SignType::HmacSha256, PHP_SECRET), hmac);
    }
}

/// Rule: an answer's `sign` must equal PHP's, byte for byte: the MD5 or the
/// HMAC-SHA256 (told apart by length) is accepted; lower case, one character off,
/// one too many, or the other algorithm's length cut short are refused.
#[test]
fn answers_are_checked_against_php_signatures() {
    const MD5: &str = "EAED59D47DAEE3800FC961B81F0275EE";
    const HMAC: &str = "8B8DDABFDFC4BC43F4DE5A20C8AA32F88F5CFC471EDDA857F17F57EEB1DCA8F3";
    let answer = |sign: &str| {
        format!("<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><total_fee>888</total_fee><sign>{sign}</sign></xml>")
    };
    let cases = [
        (MD5.to_owned(), true),
        (HMAC.to_owned(), true),
        (MD5.to_ascii_lowercase(), false),
        (HMAC.to_ascii_lowercase(), false),
        (format!("{}F", &MD5[..31]), false),
        (format!("{MD5}0"), false),
        (HMAC[..32].to_owned(), false),
        (String::new(), false),
    ];
    let mut server = mockito::Server::new();
    let client = builder(&server.url())
        .apiv2_secret(PHP_SECRET)
        .build()
        .unwrap();
    for (i, (sign, accepted)) in cases.iter().enumerate() {
        let path = format!("/pay/orderquery{i}");
        let _mock = server
            .mock("POST", path.as_str())
            .with_body(answer(sign))
            .create();
        let outcome = client
            .chain(format!("v2/pay/orderquery{i}").as_str())
            .post(json!({"xml": {"mch_id": MCHID}}));
        if *accepted {
            let res = outcome.unwrap_or_else(|e| panic!("{sign}: {e}"));
            assert!(res.is_verified());
            assert_eq!(res.xml::<Value>().unwrap()["total_fee"], "888");
        } else {
            let Err(Error::Verification { rejection, .. }) = &outcome else {
                panic!("{sign}: {outcome:?}")
            };
            assert_eq!(
                rejection.to_string(),
                "the APIv2 answer's `sign` does not match its fields",
                "{sign:?}"
            );
        }
        // The same fields as a notification, through `verify_notification`.
        let notified = v2::verify_notification(&answer(sign), PHP_SECRET);
        match (accepted, notified) {
            (true, Ok(fields)) => assert_eq!(fields["total_fee"], "888"),
            (false, Err(e)) => assert!(
                e.to_string()
                    .contains("the `sign` does not match its fields"),
                "{sign:?}: {e}"
            ),
            (_, other) => panic!("{sign:?}: {other:?}"),
        }
    }
    assert_eq!(cases.len(), 8);
}

/// Rule: a request is signed with the algorithm its `sign_type` names, as PHP signs
/// it (values from PHP 8.2, as above, over
/// `appid=wx8888888888888888&mch_id=1900000001&out_trade_no=T1&sign_type=<type>`);
/// an unknown `sign_type` is refused by name and nothing is sent.
#[test]
fn requests_are_signed_as_php_signs_them() {
    let mut server = mockito::Server::new();
    let client = builder(&server.url())
        .apiv2_secret(PHP_SECRET)
        .build()
        .unwrap();
    let answer = "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><total_fee>888</total_fee><sign>EAED59D47DAEE3800FC961B81F0275EE</sign></xml>";
    for (sign_type, sign) in [
        ("MD5", "12ACC1F92DF879E9B870A6074C6EA408"),
        (
            "HMAC-SHA256",
            "394E18B3AC92D02E1B9C159ACDBAE612090032D5526F8A71539607D99E0CA92B",
        ),
    ] {
        let mock = server
            .mock("POST", "/pay/orderquery")
            .match_body(mockito::Matcher::Regex(format!(
                "<sign_type>{sign_type}</sign_type>.*<sign>{sign}</sign>|<sign>{sign}</sign>.*<sign_type>{sign_type}</sign_type>"
            )))
            .with_body(answer)
            .expect(1)
            .create();
        client
            .chain("v2/pay/orderquery")
            .post(json!({
                "xml": {"appid": "wx8888888888888888", "mch_id": MCHID, "out_trade_no": "T1", "sign_type": sign_type},
                "nonceless": true,
            }))
            .unwrap_or_else(|e| panic!("{sign_type}: {e}"));
        mock.assert();
        mock.remove();
    }
    let _any = server
        .mock("POST", mockito::Matcher::Any)
        .expect(0)
        .create();
    let err = client
        .chain("v2/pay/orderquery")
        .post(json!({"xml": {"mch_id": MCHID, "sign_type": "SHA1"}}))
        .unwrap_err();
    assert!(err.is_before_send(), "{err:?}");
    assert!(
        err.to_string().contains("xml.sign_type")
            && err.to_string().contains("must be `MD5` or `HMAC-SHA256`"),
        "{err}"
    );
}

/// `paySign` of the JSAPI bridge parameters, as PHP computes it over
/// `appId=…&nonceStr=…&package=prepay_id=…&signType=<type>&timeStamp=1414561699`.
#[test]
fn jsapi_pay_sign_matches_php() {
    for (sign_type, pay_sign) in [
        (v2::SignType::Md5, "B208800A65B94F0D7C88A54650AB3A00"),
        (
            v2::SignType::HmacSha256,
            "401DA433837393D85FF46FE454C3761AC1455B69A6CC7F31E2D210D6440E6531",
        ),
    ] {
        let params = v2::jsapi_pay_params(
            "wx8888888888888888",
            "wx201410272009395522657a690389285100",
            sign_type,
            PHP_SECRET,
            1414561699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        );
        assert_eq!(params["paySign"], pay_sign, "{sign_type:?}");
        assert_eq!(params["signType"], sign_type.as_str());
    }
    assert_eq!(v2::SignType::Md5.as_str(), "MD5");
    assert_eq!(v2::SignType::HmacSha256.as_str(), "HMAC-SHA256");
}
