//! Shared test fixtures: the conformance keys, clients, and signed answers.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wechatpay_chain::{signer, verifier, Client, ClientBuilder, PrivateKey, PublicKey};

pub const MCHID: &str = "1900000001";
pub const MERCHANT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD00000001";
pub const PLATFORM_CERT_SERIAL: &str = "7132D72A03E93CDDF8C03BBD1F37EEDF00000001";
pub const PUB_KEY_ID: &str = "PUB_KEY_ID_0112345678902024000000000000";
pub const SEED_ORDER: &str = "233bcbf407e87789b8e471f251774f95";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn merchant_key() -> PrivateKey {
    PrivateKey::from_pem(&fixture("keys/merchant_private.pem")).unwrap()
}

pub fn merchant_public() -> PublicKey {
    PublicKey::from_pem(&fixture("keys/merchant_public.pem")).unwrap()
}

pub fn platform_private() -> PrivateKey {
    PrivateKey::from_pem(&fixture("keys/platform_private.pem")).unwrap()
}

pub fn platform_public() -> PublicKey {
    PublicKey::from_pem(&fixture("keys/platform_public.pem")).unwrap()
}

/// A builder with the conformance merchant and both platform key forms.
pub fn builder(base_uri: &str) -> ClientBuilder {
    Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(merchant_key())
        .platform_key(PUB_KEY_ID, platform_public())
        .platform_certificate(PublicKey::from_pem(&fixture("keys/platform_cert.pem")).unwrap())
        .base_uri(base_uri)
}

pub fn client(base_uri: &str) -> Client {
    builder(base_uri).build().unwrap()
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Headers of an answer signed by the platform key at `timestamp`.
pub fn signed_headers(body: &str, timestamp: i64) -> Vec<(&'static str, String)> {
    let ts = timestamp.to_string();
    let nonce = "4E0C2F1A9B8D7C6E5F4A3B2C1D0E9F8A".to_string();
    let sig = platform_private()
        .sign_base64(&verifier::string_to_verify(&ts, &nonce, body.as_bytes()))
        .unwrap();
    vec![
        ("Wechatpay-Timestamp", ts),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Serial", PUB_KEY_ID.to_string()),
        ("Wechatpay-Signature", sig),
        (
            "Wechatpay-Signature-Type",
            "WECHATPAY2-SHA256-RSA2048".to_string(),
        ),
        ("Request-ID", "08F78BB5AF0610D302A0CD9A0B".to_string()),
        ("Content-Type", "application/json".to_string()),
    ]
}

/// Parses `WECHATPAY2-SHA256-RSA2048 k="v",…` into its fields, in order.
pub fn authorization_fields(header: &str) -> Vec<(String, String)> {
    let rest = header
        .strip_prefix(signer::SCHEME)
        .and_then(|r| r.strip_prefix(' '))
        .unwrap_or_else(|| panic!("scheme: {header}"));
    rest.split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

/// Checks an Authorization header the way WeChat does: merchant, serial and the
/// signature over the request as received, with the merchant public key.
pub fn authorization_is_valid(method: &str, target: &str, body: &[u8], header: &str) -> bool {
    let fields = authorization_fields(header);
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if get("mchid") != MCHID || get("serial_no") != MERCHANT_SERIAL {
        return false;
    }
    let message = signer::string_to_sign(method, target, get("timestamp"), get("nonce_str"), body);
    merchant_public().verify_base64(&message, get("signature"))
}

/// The seed's PATCH payload, in the seed's key order.
pub fn seed_patch_json() -> Value {
    json!({
        "objectives": [{
            "objective_serial_no": "578354545",
            "objective_id": 123456,
            "performance_description": "购买商品",
            "performance_type": "INCREASE",
            "count": 1,
            "performance_time": "2015-05-20T13:29:35.120+08:00",
            "remark": "特价商品",
        }],
        "rewards": [{
            "reward_serial_no": "578354",
            "reward_id": 123456,
            "description": "购买商品",
            "reward_type": "INCREASE",
            "count": 1,
            "amount": 100,
            "reward_time": "2015-05-20T13:29:35.120+08:00",
            "remark": "特价商品",
        }],
    })
}

/// The seed's PATCH options: the placeholder value and the payload.
pub fn seed_patch_options() -> Value {
    json!({ "out_order_no": SEED_ORDER, "json": seed_patch_json() })
}

pub fn seed_get_options() -> Value {
    json!({ "out_order_no": SEED_ORDER })
}

/// The error of a call that must fail with a transport error of `kind`.
pub fn transport_error(
    result: Result<wechatpay_chain::Response, wechatpay_chain::Error>,
    kind: wechatpay_chain::TransportKind,
) -> wechatpay_chain::Error {
    let err = result.expect_err("the call must fail");
    assert_eq!(err.transport_kind(), Some(kind), "{err:?}");
    err
}
