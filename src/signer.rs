//! APIv3 request signing, as a pure function of the request, the time and a nonce.
//!
//! The string to sign is `METHOD\n` + request target + `\n` + timestamp + `\n` +
//! nonce + `\n` + body + `\n`, signed with RSASSA-PKCS1-v1_5 / SHA-256 by the
//! merchant key. The request target is the path and query exactly as sent.

use std::fmt;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request};

use crate::crypto::PrivateKey;
use crate::error::Error;

/// The Authorization scheme of APIv3.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// Builds the string to sign for a request.
///
/// ```
/// let s = wechatpay_chain::signer::string_to_sign("GET", "/v3/certificates", "1554208460", "N", b"");
/// assert_eq!(s, b"GET\n/v3/certificates\n1554208460\nN\n\n");
/// ```
pub fn string_to_sign(
    method: &str,
    target: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut s = Vec::with_capacity(
        method.len() + target.len() + timestamp.len() + nonce.len() + body.len() + 5,
    );
    for piece in [
        method.as_bytes(),
        target.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        s.extend_from_slice(piece);
        s.push(b'\n');
    }
    s
}

/// The bytes to sign in place of a request's body, carried in its extensions.
///
/// WeChat signs a media upload over its `meta` JSON, not over the
/// `multipart/form-data` body sent ([`crate::media`]); any request carrying this
/// extension is signed over these bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOver(pub Bytes);

/// Signs requests for one merchant.
#[derive(Clone)]
pub struct Signer {
    mchid: String,
    serial: String,
    key: PrivateKey,
    /// `SCHEME mchid="…",serial_no="…",timestamp="`: the constant start of every
    /// Authorization header, built once.
    prefix: String,
}

impl Signer {
    /// A signer for merchant `mchid` whose certificate serial is `serial`.
    pub fn new(mchid: impl Into<String>, serial: impl Into<String>, key: PrivateKey) -> Self {
        let (mchid, serial) = (mchid.into(), serial.into());
        let prefix = format!(r#"{SCHEME} mchid="{mchid}",serial_no="{serial}",timestamp=""#);
        Signer {
            mchid,
            serial,
            key,
            prefix,
        }
    }

    /// The merchant id.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The merchant certificate serial.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The merchant private key (pay signs, decryption of sensitive fields).
    pub(crate) fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The Authorization header value for a request, with the given time and nonce.
    ///
    /// Fields are in the order PHP and Node send them:
    /// `mchid, serial_no, timestamp, nonce_str, signature`.
    pub fn authorization(
        &self,
        method: &str,
        target: &str,
        body: &[u8],
        timestamp: &str,
        nonce: &str,
    ) -> Result<String, Error> {
        let message = string_to_sign(method, target, timestamp, nonce, body);
        let signature = self.key.sign_base64(&message)?;
        let mut header = String::with_capacity(
            self.prefix.len() + timestamp.len() + nonce.len() + signature.len() + 28,
        );
        for piece in [
            self.prefix.as_str(),
            timestamp,
            r#"",nonce_str=""#,
            nonce,
            r#"",signature=""#,
            &signature,
            "\"",
        ] {
            header.push_str(piece);
        }
        Ok(header)
    }

    /// Signs `request` in place: computes the Authorization header over the request
    /// target and body exactly as they are in `request` (or over the bytes of a
    /// [`SignOver`] extension, for media uploads).
    pub fn sign(
        &self,
        request: &mut Request<Bytes>,
        timestamp: &str,
        nonce: &str,
    ) -> Result<(), Error> {
        let target = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let value = self.authorization(
            request.method().as_str(),
            target,
            request
                .extensions()
                .get::<SignOver>()
                .map_or(request.body(), |over| &over.0),
            timestamp,
            nonce,
        )?;
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::Config(
                "the mchid or merchant serial holds characters not allowed in a header".into(),
            )
        })?;
        // `Debug` of the request (a logging hook, an HTTP stack's trace) prints
        // `Sensitive` instead of the signature; the value is sent unchanged.
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("mchid", &self.mchid)
            .field("serial", &self.serial)
            .field("key", &self.key)
            .finish()
    }
}
