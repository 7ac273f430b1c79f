//! Notifications as WeChat Pay sends them: the event envelope with its `resource`
//! encrypted under the APIv3 key, signed with the platform key. A test hands the
//! headers and body to [`Client::notification`](wechatpay_chain::Client::notification) (or
//! POSTs them to its own `notify_url` handler).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

use super::certificates::{rfc3339_beijing, APIV3_KEY};
use super::keys::SandboxKeys;
use super::Sandbox;
use wechatpay_chain::crypto::{nonce, ApiV3Key};
use wechatpay_chain::signer::SCHEME;
use wechatpay_chain::verifier::{string_to_verify, NONCE, SERIAL, SIGNATURE, TIMESTAMP};
use wechatpay_chain::Error;

impl Sandbox {
    /// A notification of `event_type` (e.g. `TRANSACTION.SUCCESS`) carrying
    /// `resource`, encrypted with the sandbox's APIv3 key and signed now with the
    /// platform key (under the key id the sandbox signs its answers with): the
    /// headers and the body WeChat would POST to a `notify_url`.
    pub fn notification(
        &self,
        event_type: &str,
        resource: &Value,
    ) -> Result<(HeaderMap, Bytes), Error> {
        self.notification_at(event_type, resource, super::server::unix_now())
    }

    /// [`notification`](Self::notification) signed at `timestamp` (unix seconds),
    /// e.g. to check that a stale notification is refused.
    pub fn notification_at(
        &self,
        event_type: &str,
        resource: &Value,
        timestamp: i64,
    ) -> Result<(HeaderMap, Bytes), Error> {
        build(
            &self.app.keys,
            self.signing_serial(),
            APIV3_KEY,
            event_type,
            resource,
            timestamp,
        )
    }
}

/// Builds a signed, encrypted notification.
pub(crate) fn build(
    keys: &SandboxKeys,
    serial: &str,
    apiv3_key: &str,
    event_type: &str,
    resource: &Value,
    timestamp: i64,
) -> Result<(HeaderMap, Bytes), Error> {
    let body = envelope(apiv3_key, event_type, resource, timestamp)?;
    let headers = sign(keys, serial, &body, timestamp)?;
    Ok((headers, body))
}

/// The body of a notification: the event with `resource` encrypted under the
/// APIv3 key. Built once per event: every delivery attempt sends the same `id`.
pub(crate) fn envelope(
    apiv3_key: &str,
    event_type: &str,
    resource: &Value,
    timestamp: i64,
) -> Result<Bytes, Error> {
    let original_type = event_type
        .split('.')
        .next()
        .unwrap_or("transaction")
        .to_ascii_lowercase();
    let iv: String = nonce::generate().chars().take(12).collect();
    let ciphertext = ApiV3Key::new(apiv3_key)?.encrypt(
        iv.as_bytes(),
        original_type.as_bytes(),
        resource.to_string().as_bytes(),
    )?;
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(timestamp.max(0) as u64);
    let summary = match event_type {
        "TRANSACTION.SUCCESS" => "支付成功",
        "REFUND.SUCCESS" => "退款成功",
        _ => "通知",
    };
    let body = json!({
        "id": format!("sandbox-{}", nonce::generate()),
        "create_time": rfc3339_beijing(when),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": {
            "original_type": original_type,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": original_type,
            "nonce": iv,
        },
    })
    .to_string();
    Ok(Bytes::from(body))
}

/// The `Wechatpay-*` headers of a notification body, signed at `timestamp` with
/// the platform key (each delivery attempt is signed afresh, as WeChat does).
pub(crate) fn sign(
    keys: &SandboxKeys,
    serial: &str,
    body: &[u8],
    timestamp: i64,
) -> Result<HeaderMap, Error> {
    let ts = timestamp.to_string();
    let sig_nonce = nonce::generate();
    let signature = keys
        .platform_private_key()
        .sign_base64(&string_to_verify(&ts, &sig_nonce, body))?;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (TIMESTAMP, ts.as_str()),
        (NONCE, sig_nonce.as_str()),
        (SERIAL, serial),
        (SIGNATURE, signature.as_str()),
        (super::auth::SIGNATURE_TYPE, SCHEME),
        ("Content-Type", "application/json"),
    ] {
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::Config(format!("cannot put {value:?} in a header")))?;
        headers.insert(name, value);
    }
    Ok(headers)
}
