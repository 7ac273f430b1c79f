//! Pay signs: known answers with a fixed time and nonce, checked with the merchant
//! public key.

mod common;

use common::*;
use serde_json::json;
use wechatpay_chain::pay_sign;

const APPID: &str = "wxd678efh567hg6787";
const PREPAY_ID: &str = "wx201410272009395522657a690389285100";
const TIMESTAMP: i64 = 1554208460;
const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

#[test]
fn jsapi_known_answer() {
    let p = pay_sign::jsapi(&merchant_key(), APPID, PREPAY_ID, TIMESTAMP, NONCE).unwrap();
    let message = format!("{APPID}\n{TIMESTAMP}\n{NONCE}\nprepay_id={PREPAY_ID}\n");
    assert!(merchant_public().verify_base64(message.as_bytes(), &p.pay_sign));
    assert_eq!(p.pay_sign, JSAPI_SIGN);
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(
        v,
        json!({
            "appId": APPID, "timeStamp": "1554208460", "nonceStr": NONCE,
            "package": format!("prepay_id={PREPAY_ID}"), "signType": "RSA", "paySign": JSAPI_SIGN,
        })
    );
}

#[test]
fn app_known_answer() {
    let p = pay_sign::app(&merchant_key(), APPID, MCHID, PREPAY_ID, TIMESTAMP, NONCE).unwrap();
    let message = format!("{APPID}\n{TIMESTAMP}\n{NONCE}\n{PREPAY_ID}\n");
    assert!(merchant_public().verify_base64(message.as_bytes(), &p.sign));
    assert_eq!(p.sign, APP_SIGN);
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["package"], "Sign=WXPay");
    assert_eq!(v["partnerid"], MCHID);
    assert_eq!(v["prepayid"], PREPAY_ID);
}

#[test]
fn client_helpers_use_its_clock_and_nonce() {
    let client = builder("https://api.mch.weixin.qq.com/")
        .clock(|| TIMESTAMP)
        .nonce_source(|| NONCE.to_owned())
        .build()
        .unwrap();
    assert_eq!(
        client.jsapi_pay_params(APPID, PREPAY_ID).unwrap().pay_sign,
        JSAPI_SIGN
    );
    let app = client.app_pay_params(APPID, PREPAY_ID).unwrap();
    assert_eq!(
        (app.sign.as_str(), app.partnerid.as_str()),
        (APP_SIGN, MCHID)
    );
}

// Computed independently with OpenSSL over the same lines and the fixture key:
// printf 'wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\nprepay_id=wx2014…\n' \
//   | openssl dgst -sha256 -sign tests/fixtures/keys/merchant_private.pem | base64 -w0
const JSAPI_SIGN: &str = "RCXalT8YemzOTqhQaR9bQnW3F39rbfsaYxG95hiue8qOQkDbdS9e/+fqY6LlP3WA9YpI/FGStoZaNQh5z84480jJrpDtFuabbNoZDzd8IJj+EYLflCCLaOW3qjEz1UNh+z3w1smvCcZyZdMiDoPGcuBbMeCZpDybLOqs2MbVpMb7KLdQKHPN99i8/e6ZQkP7LWEMWVYaHyfIAOcmeI8VNNcsi0fswjVRzFDZfR+tL3EsBmDXYPuipBO1abTFXqUk0cJKyicWXIDw5ssNnFm6uA6CgHn3Wj1HcP4RbZr2YI49SOn9C4QRTFRanL3X71jhwRaJhSRf7ciFo8mKPDuW/g==";
const APP_SIGN: &str = "ltarHDgjF2lMTthTHRai3P31rkJheSpCysLctmf6gu//j3NZySnKGHW2lNVSBCFd9a9ZoZU3EFele2ggvWea7nBiVRQbm/EX9Iugg2F4sW28Nz9N49h/C1EFwNf97v9q8J6Do688IeHO84M9imdn9ITtJo63vqjw+eMO1L6M7NwV4o8/vv5kZvobihX3CImy+SCmjgXntbwidKt4J66B76BKV3uothAiyWq1JFjxYWXigIfCPINOYNcNNBn0I5TSymyG2UH/SSJui9co1VjqrnHSVRd6Mhj16yBiYH1+sSv05z4NsvkLa2c0/5zl31KaC/hidBF4t7iWjwBJtuwoJQ==";
