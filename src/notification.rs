//! Notifications (callbacks): WeChat Pay's signed, encrypted POSTs to the
//! merchant's `notify_url`.
//!
//! [`Client::notification`] checks the signature with the platform keys (the same
//! headers, rules and 300 s window as answers, [`crate::verifier`]), then decrypts
//! `resource` (AEAD_AES_256_GCM with the APIv3 key, its `nonce` and
//! `associated_data`) and decodes it into any `T: DeserializeOwned`.
//! [`NotificationAnswer`] is what to answer WeChat.

use std::fmt;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::Client;
use crate::error::Error;
use crate::verifier::SERIAL;

/// The only algorithm WeChat Pay encrypts notification resources with.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// A notification whose signature was checked and whose `resource` was decrypted.
///
/// The envelope's fields are kept as WeChat sent them; `resource` is the decrypted
/// JSON, decoded into `T` (`serde_json::Value` by default). `Debug` omits the
/// decrypted resource (it holds personal data).
#[derive(Clone)]
#[non_exhaustive]
pub struct Notification<T = Value> {
    /// The notification id (`id`), the same across WeChat's retries of one event:
    /// use it to process each event once.
    pub id: String,
    /// `create_time`, RFC 3339.
    pub create_time: String,
    /// `event_type`, e.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`.
    pub event_type: String,
    /// `resource_type`, e.g. `encrypt-resource`.
    pub resource_type: String,
    /// `summary`, e.g. `支付成功`.
    pub summary: String,
    /// `resource.original_type`, e.g. `transaction`.
    pub original_type: String,
    /// The platform key that signed the notification (`Wechatpay-Serial`).
    pub serial: String,
    /// The decrypted `resource`.
    pub resource: T,
}

impl<T> fmt::Debug for Notification<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("id", &self.id)
            .field("create_time", &self.create_time)
            .field("event_type", &self.event_type)
            .field("resource_type", &self.resource_type)
            .field("original_type", &self.original_type)
            .field("serial", &self.serial)
            .field("resource", &"redacted")
            .finish()
    }
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(default)]
    create_time: String,
    event_type: String,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    summary: String,
    resource: EncryptedResource,
}

/// The `resource` object of a notification, as sent (also the shape of the
/// encrypted certificates of `v3/certificates`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncryptedResource {
    /// `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// Base64 of ciphertext and tag.
    pub ciphertext: String,
    /// The associated data (may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// The 12-character nonce.
    pub nonce: String,
    /// What the plaintext is (`transaction`, `refund`, …).
    #[serde(default)]
    pub original_type: String,
}

impl EncryptedResource {
    /// Decrypts with the APIv3 key; `what` names the resource in errors.
    pub(crate) fn decrypt(
        &self,
        key: &crate::crypto::ApiV3Key,
        what: &str,
    ) -> Result<Vec<u8>, String> {
        if self.algorithm != ALGORITHM {
            return Err(format!(
                "{what} uses algorithm `{}`; only {ALGORITHM} is supported",
                clip(&self.algorithm)
            ));
        }
        key.decrypt(
            self.nonce.as_bytes(),
            self.associated_data.as_bytes(),
            &self.ciphertext,
        )
        .map_err(|e| format!("{what}: {e}"))
    }
}

impl Client {
    /// Checks and opens a notification: `headers` and the raw `body` exactly as
    /// received (verify before parsing; a re-serialised body does not verify).
    ///
    /// Refused with [`Error::Notification`]: a missing `Wechatpay-*` header, a
    /// timestamp more than 300 s from the client's clock, an unknown platform key,
    /// a bad signature, a body that is not a notification, an algorithm other than
    /// AEAD_AES_256_GCM, or a `resource` that does not decrypt with the APIv3 key.
    /// A client without an APIv3 key is an [`Error::Config`].
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay_chain::notification::NotificationAnswer;
    /// use wechatpay_chain_sandbox::Sandbox;
    ///
    /// let sandbox = Sandbox::start()?;
    /// let client = sandbox.client(); // configured with the sandbox's APIv3 key
    /// // What WeChat would POST to the notify_url (the sandbox signs and encrypts it):
    /// let (headers, body) = sandbox.notification(
    ///     "TRANSACTION.SUCCESS",
    ///     &json!({ "out_trade_no": "1217752501201407033233368018", "trade_state": "SUCCESS" }),
    /// )?;
    /// let event = client.notification::<serde_json::Value>(&headers, &body)?;
    /// assert_eq!(event.event_type, "TRANSACTION.SUCCESS");
    /// assert_eq!(event.resource["trade_state"], "SUCCESS");
    ///
    /// let mut tampered = body.to_vec();
    /// tampered[10] ^= 1;
    /// assert!(client.notification::<serde_json::Value>(&headers, &tampered).is_err());
    ///
    /// let answer = NotificationAnswer::success(); // 204, no body
    /// assert_eq!(answer.status(), 204);
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn notification<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification<T>, Error> {
        let refused = |reason: String| Error::Notification { reason };
        self.verifier()
            .verify(headers, body, self.now())
            .map_err(|r| refused(r.to_string().replace("the answer", "the notification")))?;
        let key = self.apiv3_key().ok_or_else(|| {
            Error::Config(
                "notifications are decrypted with the APIv3 key; set it with .apiv3_key(…)".into(),
            )
        })?;
        let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
            refused(format!(
                "the body is signed but is not a notification envelope ({e})"
            ))
        })?;
        let plain = envelope
            .resource
            .decrypt(key, "the notification `resource`")
            .map_err(refused)?;
        let resource = serde_json::from_slice(&plain).map_err(|e| {
            refused(format!(
                "the decrypted `resource` ({}) does not decode into the requested type ({e})",
                envelope.resource.original_type
            ))
        })?;
        let serial = headers
            .get(SERIAL)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        Ok(Notification {
            id: envelope.id,
            create_time: envelope.create_time,
            event_type: envelope.event_type,
            resource_type: envelope.resource_type,
            summary: envelope.summary,
            original_type: envelope.resource.original_type,
            serial,
            resource,
        })
    }
}

/// What to answer WeChat Pay's notification POST.
///
/// Success is `204 No Content` (WeChat accepts 200 or 204); failure is a non-2xx
/// status with `{"code":"FAIL","message":…}`, after which WeChat retries the
/// notification (15s, 15s, 30s, 3m, 10m, …).
///
/// ```
/// use wechatpay_chain::notification::NotificationAnswer;
/// let ok = NotificationAnswer::success();
/// assert_eq!((ok.status().as_u16(), ok.body().len()), (204, 0));
/// let fail = NotificationAnswer::failure("签名验证失败");
/// assert_eq!(fail.status(), 500);
/// assert_eq!(fail.body().as_ref(), r#"{"code":"FAIL","message":"签名验证失败"}"#.as_bytes());
/// let response: http::Response<bytes::Bytes> = fail.into_response();
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationAnswer {
    status: StatusCode,
    body: Bytes,
}

impl NotificationAnswer {
    /// `204 No Content`: the notification was handled.
    pub fn success() -> Self {
        NotificationAnswer {
            status: StatusCode::NO_CONTENT,
            body: Bytes::new(),
        }
    }

    /// `500` with `{"code":"FAIL","message":…}`: WeChat will retry.
    pub fn failure(message: impl fmt::Display) -> Self {
        Self::failure_with_status(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// A failure with a chosen status (4xx or 5xx; any other status becomes 500).
    pub fn failure_with_status(status: StatusCode, message: impl fmt::Display) -> Self {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        let body = json!({ "code": "FAIL", "message": message.to_string() }).to_string();
        NotificationAnswer {
            status,
            body: Bytes::from(body),
        }
    }

    /// Success for `Ok`, and a failure naming the error for `Err` (the message
    /// goes to WeChat: it carries no secret, but keep your own details out of it).
    pub fn from_result<T>(outcome: &Result<T, Error>) -> Self {
        match outcome {
            Ok(_) => Self::success(),
            Err(e) => Self::from_error(e),
        }
    }

    /// The failure for a notification refused with `error`: 401 when its signature
    /// or decryption check failed, 500 otherwise; a message that gives nothing away.
    ///
    /// ```
    /// use wechatpay_chain::notification::NotificationAnswer;
    /// use wechatpay_chain::Error;
    ///
    /// let answer = NotificationAnswer::from_error(&Error::Config("no APIv3 key".into()));
    /// assert_eq!(answer.status(), 500);
    /// assert!(!String::from_utf8_lossy(answer.body()).contains("APIv3"));
    /// ```
    pub fn from_error(error: &Error) -> Self {
        match error {
            Error::Notification { .. } => Self::failure_with_status(
                StatusCode::UNAUTHORIZED,
                "signature or decryption check failed",
            ),
            _ => Self::failure("the notification could not be processed"),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body (empty for success).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// As an `http::Response`, for any server framework built on `http`.
    pub fn into_response(self) -> http::Response<Bytes> {
        let mut response = http::Response::new(self.body);
        *response.status_mut() = self.status;
        if !response.body().is_empty() {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        response
    }
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
