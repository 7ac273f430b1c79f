//! Notifications: verified with the platform keys (300 s window), decrypted with
//! the APIv3 key; every tampered variant refused.

mod common;

use http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{json, Value};
use wechatpay_chain::notification::{Notification, NotificationAnswer};
use wechatpay_chain::Error;
use wechatpay_chain_sandbox::Sandbox;

fn resource() -> Value {
    json!({
        "mchid": "1900000001",
        "appid": "wxd678efh567hg6787",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "4200000000201407033233368018",
        "trade_state": "SUCCESS",
        "amount": { "total": 100, "currency": "CNY" },
    })
}

fn refused(outcome: Result<Notification, Error>, needle: &str) {
    match outcome {
        Err(Error::Notification { reason }) => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected a refused notification ({needle}), got {other:?}"),
    }
}

#[derive(Debug, Deserialize)]
struct Transaction {
    out_trade_no: String,
    trade_state: String,
    amount: Amount,
}

#[derive(Debug, Deserialize)]
struct Amount {
    total: u64,
}

#[test]
fn a_signed_notification_is_accepted_and_decrypted() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let (headers, body) = sandbox
        .notification("TRANSACTION.SUCCESS", &resource())
        .unwrap();
    let event: Notification<Transaction> = client.notification(&headers, &body).unwrap();
    assert_eq!(event.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(event.original_type, "transaction");
    assert_eq!(event.resource_type, "encrypt-resource");
    assert_eq!(event.serial, sandbox.platform_serial());
    assert_eq!(event.resource.out_trade_no, "1217752501201407033233368018");
    assert_eq!(event.resource.trade_state, "SUCCESS");
    assert_eq!(event.resource.amount.total, 100);
    let debug = format!("{event:?}");
    assert!(!debug.contains("1217752501201407033233368018"), "{debug}");
    assert!(
        debug.starts_with("Notification {")
            && debug.contains("event_type: \"TRANSACTION.SUCCESS\"")
            && debug.contains("resource: \"redacted\""),
        "{debug}"
    );
    // The wrong target type is a clear refusal, not a panic.
    let wrong: Result<Notification<Vec<u8>>, _> = client.notification(&headers, &body);
    assert!(matches!(wrong, Err(Error::Notification { .. })));
}

#[test]
fn tampered_stale_and_wrongly_keyed_notifications_are_refused() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let (headers, body) = sandbox.notification("REFUND.SUCCESS", &resource()).unwrap();

    // The body altered by one byte.
    let text = String::from_utf8(body.to_vec()).unwrap();
    let altered = text.replace("REFUND.SUCCESS", "REFUND.ABNORMAL");
    refused(
        client.notification(&headers, altered.as_bytes()),
        "signature",
    );

    // The signature of another body.
    let (other_headers, _) = sandbox.notification("REFUND.SUCCESS", &json!({})).unwrap();
    let mut swapped = headers.clone();
    swapped.insert(
        "Wechatpay-Signature",
        other_headers["Wechatpay-Signature"].clone(),
    );
    refused(client.notification(&swapped, &body), "signature");

    // Each header missing in turn.
    for name in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Serial",
        "Wechatpay-Signature",
    ] {
        let mut h = headers.clone();
        h.remove(name);
        refused(client.notification(&h, &body), name);
    }

    // Stale and future (a replay of an old notification), correctly signed: with
    // the client's clock pinned, accepted at exactly 300 s either way, refused at 301.
    let now = common::now();
    let pinned = sandbox.client_builder().clock(move || now).build().unwrap();
    for at in [now - 301, now + 301] {
        let (h, b) = sandbox
            .notification_at("TRANSACTION.SUCCESS", &resource(), at)
            .unwrap();
        refused(
            pinned.notification(&h, &b),
            &format!("`Wechatpay-Timestamp` {at} is 301s from the local clock {now}"),
        );
    }
    for at in [now - 300, now + 300] {
        let (h, b) = sandbox
            .notification_at("TRANSACTION.SUCCESS", &resource(), at)
            .unwrap();
        let event = pinned.notification::<Value>(&h, &b).unwrap();
        assert_eq!(event.resource["trade_state"], "SUCCESS", "at {at}");
    }

    // A serial the client does not know.
    let mut unknown = headers.clone();
    unknown.insert(
        "Wechatpay-Serial",
        HeaderValue::from_static("PUB_KEY_ID_0999999999999999999999999999"),
    );
    refused(
        client.notification(&unknown, &body),
        "names no configured platform key",
    );

    // A client with another APIv3 key: verified, but the resource does not open.
    let other_key = sandbox
        .client_builder()
        .apiv3_key("00000000000000000000000000000000")
        .build()
        .unwrap();
    refused(
        other_key.notification(&headers, &body),
        "does not authenticate",
    );

    // A client without an APIv3 key is a configuration error.
    let no_key = wechatpay_chain::Client::builder()
        .mchid(sandbox.mchid())
        .serial(sandbox.merchant_serial())
        .private_key(sandbox.keys().merchant_private_key().clone())
        .platform_key(
            sandbox.platform_serial(),
            sandbox.keys().platform_public_key().clone(),
        )
        .build()
        .unwrap();
    assert!(matches!(
        no_key.notification::<Value>(&headers, &body),
        Err(Error::Config(_))
    ));

    // Signed but not a notification.
    let signed = signed_headers(&sandbox, b"{\"id\":1}");
    refused(
        client.notification(&signed, b"{\"id\":1}"),
        "not a notification envelope",
    );
}

/// Headers signing `body` with the sandbox's platform key, now.
fn signed_headers(sandbox: &Sandbox, body: &[u8]) -> HeaderMap {
    let ts = common::now().to_string();
    let nonce = "N".repeat(32);
    let sig = sandbox
        .keys()
        .platform_private_key()
        .sign_base64(&wechatpay_chain::verifier::string_to_verify(
            &ts, &nonce, body,
        ))
        .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("Wechatpay-Timestamp", HeaderValue::from_str(&ts).unwrap());
    headers.insert("Wechatpay-Nonce", HeaderValue::from_str(&nonce).unwrap());
    headers.insert(
        "Wechatpay-Serial",
        HeaderValue::from_str(sandbox.platform_serial()).unwrap(),
    );
    headers.insert("Wechatpay-Signature", HeaderValue::from_str(&sig).unwrap());
    headers
}

#[test]
fn a_tampered_resource_fails_authentication() {
    let sandbox = Sandbox::start().unwrap();
    let (_, body) = sandbox
        .notification("TRANSACTION.SUCCESS", &resource())
        .unwrap();
    // Re-sign a body whose ciphertext was altered: the signature is fine, the AEAD is not.
    let mut envelope: Value = serde_json::from_slice(&body).unwrap();
    let ct = envelope["resource"]["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = format!(
        "{}{}",
        if ct.starts_with('A') { "B" } else { "A" },
        &ct[1..]
    );
    envelope["resource"]["ciphertext"] = json!(flipped);
    let body = envelope.to_string();
    let headers = signed_headers(&sandbox, body.as_bytes());
    refused(
        sandbox.client().notification(&headers, body.as_bytes()),
        "does not authenticate",
    );
}

/// Rule: a resource naming any algorithm but AEAD_AES_256_GCM is refused by name,
/// even when signed and decryptable (the ciphertext is the genuine one).
#[test]
fn only_aead_aes_256_gcm_resources_are_opened() {
    let sandbox = Sandbox::start().unwrap();
    let (_, body) = sandbox
        .notification("TRANSACTION.SUCCESS", &resource())
        .unwrap();
    let mut envelope: Value = serde_json::from_slice(&body).unwrap();
    // The genuine envelope opens once re-signed (so only the algorithm differs below).
    let genuine = envelope.to_string();
    let headers = signed_headers(&sandbox, genuine.as_bytes());
    assert!(sandbox
        .client()
        .notification::<Value>(&headers, genuine.as_bytes())
        .is_ok());
    let long = "A".repeat(100);
    for (algorithm, quoted) in [
        ("AEAD_AES_128_GCM", "AEAD_AES_128_GCM"),
        ("aead_aes_256_gcm", "aead_aes_256_gcm"),
        ("AEAD_AES_256_GCM ", "AEAD_AES_256_GCM "),
        // Quoted up to 64 characters.
        (long.as_str(), &long[..64]),
    ] {
        envelope["resource"]["algorithm"] = json!(algorithm);
        let body = envelope.to_string();
        let headers = signed_headers(&sandbox, body.as_bytes());
        refused(
            sandbox.client().notification(&headers, body.as_bytes()),
            &format!("uses algorithm `{quoted}`; only AEAD_AES_256_GCM is supported"),
        );
    }
}

#[test]
fn the_answer_is_what_wechat_expects() {
    let ok = NotificationAnswer::success().into_response();
    assert_eq!(ok.status(), 204);
    assert!(ok.body().is_empty());
    assert!(ok.headers().get("content-type").is_none());
    let fail = NotificationAnswer::failure("系统繁忙");
    assert_eq!(fail.status(), 500);
    let json: Value = serde_json::from_slice(fail.body()).unwrap();
    assert_eq!(json, json!({ "code": "FAIL", "message": "系统繁忙" }));
    let response = fail.into_response();
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.status(), 500);
    // A chosen 4xx or 5xx is kept; anything else becomes 500.
    for (chosen, sent) in [(403, 403), (429, 429), (503, 503), (200, 500), (302, 500)] {
        let status = http::StatusCode::from_u16(chosen).unwrap();
        let answer = NotificationAnswer::failure_with_status(status, "x");
        assert_eq!(answer.status(), sent, "{chosen}");
    }
    let refused_answer =
        NotificationAnswer::from_error(&Error::Notification { reason: "x".into() });
    let json: Value = serde_json::from_slice(refused_answer.body()).unwrap();
    assert_eq!(json["message"], "signature or decryption check failed");
    let other = NotificationAnswer::from_error(&Error::Config("secret detail".into()));
    assert_eq!(other.status(), 500);
    assert!(!String::from_utf8_lossy(other.body()).contains("secret detail"));
    let refused: Result<(), Error> = Err(Error::Notification { reason: "x".into() });
    assert_eq!(NotificationAnswer::from_result(&refused).status(), 401);
    assert_eq!(
        NotificationAnswer::from_result(&Ok::<_, Error>(())).status(),
        204
    );
}
