//! APIv2 signatures: MD5 or HMAC-SHA256 over the sorted `k=v&…` string plus the
//! secret, upper-case hex (wechatpay-php's `Crypto\Hash`).

use hmac::{KeyInit, Mac};
use md5::{Digest, Md5};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::xml::sent_text;

/// The APIv2 signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignType {
    /// `MD5` (the default when `sign_type` is absent).
    Md5,
    /// `HMAC-SHA256`, keyed with the secret.
    HmacSha256,
}

impl SignType {
    /// Parses a `sign_type` value (`MD5` or `HMAC-SHA256`).
    pub fn parse(name: &str) -> Option<SignType> {
        match name {
            "MD5" => Some(SignType::Md5),
            "HMAC-SHA256" => Some(SignType::HmacSha256),
            _ => None,
        }
    }

    /// The type an answer's `sign` was made with, guessed by its length as WeChat
    /// documents: 64 hex characters for HMAC-SHA256, otherwise MD5.
    pub fn of_sign(sign: &str) -> SignType {
        if sign.len() == 64 {
            SignType::HmacSha256
        } else {
            SignType::Md5
        }
    }

    /// The `sign_type` value WeChat uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// The string signed: entries sorted by key (byte order), `sign` and empty values
/// left out, `k=v` joined by `&`, no URL encoding. Each value is what the XML
/// carries: `true` as `1`; `false` is sent empty and so left out (wechatpay-php
/// signs it as `f=` yet sends `<f></f>`, a sign WeChat refuses); an object or list
/// as the markup inside its element.
pub fn string_to_sign(data: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = data.keys().collect();
    keys.sort();
    let mut out = String::new();
    for key in keys {
        let value = sent_text(&data[key.as_str()]);
        if key == "sign" || value.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(&value);
    }
    out
}

/// Signs `data` with the APIv2 `secret`.
///
/// ```
/// use serde_json::json;
/// use wechatpay_chain::v2::{sign, SignType};
/// let data = json!({
///     "stock_id": "12111100000001", "send_coupon_merchant": "10016226",
///     "open_id": "oVvBvwEurkeUJpBzX90-6MfCHbec", "out_request_no": "20191204550002",
///     "coupon_code": "75345199",
/// });
/// let data = data.as_object().unwrap();
/// let secret = "exposed_your_key_here_have_risks";
/// assert_eq!(sign(data, SignType::Md5, secret), "DA09635BDD745D599AFC7B6129815B1E");
/// assert_eq!(
///     sign(data, SignType::HmacSha256, secret),
///     "D4AE51952153389716232ABDE5124F2B1C94431BE7B647F6DB22BE7E4A5FBE33"
/// );
/// ```
pub fn sign(data: &Map<String, Value>, sign_type: SignType, secret: &str) -> String {
    let mut message = string_to_sign(data);
    message.push_str("&key=");
    message.push_str(secret);
    let digest: Vec<u8> = match sign_type {
        SignType::Md5 => Md5::digest(message.as_bytes()).to_vec(),
        SignType::HmacSha256 => {
            match <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
                Ok(mut mac) => {
                    mac.update(message.as_bytes());
                    mac.finalize().into_bytes().to_vec()
                }
                // HMAC accepts keys of any length; this arm is unreachable in practice.
                Err(_) => Vec::new(),
            }
        }
    };
    crate::encoding::hex(&digest).to_ascii_uppercase()
}

/// Compares two signatures in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_and_empty_values_are_left_out() {
        let data = json!({"b": "2", "a": "1", "sign": "X", "e": "", "n": null});
        assert_eq!(string_to_sign(data.as_object().unwrap()), "a=1&b=2");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"ABC", b"ABC"));
        assert!(!constant_time_eq(b"ABC", b"ABD"));
        assert!(!constant_time_eq(b"ABC", b"AB"));
    }
}
