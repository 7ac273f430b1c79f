//! Sensitive fields: RSA-OAEP encryption with a platform key for requests, and
//! decryption with the merchant key for answers (PHP's `Rsa::encrypt` /
//! `Rsa::decrypt`). The primitives are in [`crate::crypto::oaep`].

use std::fmt;
use std::time::SystemTime;

use crate::client::Client;
use crate::crypto::{oaep, PublicKey};
use crate::error::Error;
use crate::verifier::Verifier;

/// A sensitive field encrypted for WeChat Pay, and the platform key it was
/// encrypted with: send `serial` in the `Wechatpay-Serial` header of the call.
///
/// `Debug` shows the serial and the ciphertext's length only.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Encrypted {
    /// Standard base64 of the RSA-OAEP ciphertext: the field's value.
    pub ciphertext: String,
    /// The platform key's serial or `PUB_KEY_ID_…`, for `Wechatpay-Serial`.
    pub serial: String,
}

impl fmt::Debug for Encrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encrypted")
            .field("serial", &self.serial)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

impl Client {
    /// Encrypts a sensitive field (a name, an ID or bank card number, a phone
    /// number) with RSA-OAEP (SHA-1, MGF1-SHA-1) for WeChat Pay.
    ///
    /// The key is chosen among the keys given to the builder, once, when the client
    /// is built: a `PUB_KEY_ID_…` public key when one is configured, else the
    /// platform certificate that stays valid longest. Certificates downloaded and
    /// installed later never replace it (a new key to encrypt personal data to is a
    /// decision for the caller): name one with [`encrypt_with`](Self::encrypt_with).
    /// Every field of one call must be encrypted with the same key, named in its
    /// `Wechatpay-Serial` header.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay_chain_sandbox::{Sandbox, StatusCode};
    ///
    /// let sandbox = Sandbox::start()?;
    /// // The sandbox plays WeChat: it decrypts with the platform private key.
    /// let platform = sandbox.keys().platform_private_key().clone();
    /// sandbox.route("POST", "v3/profitsharing/receivers/add", move |req| {
    ///     let name = wechatpay_chain::crypto::oaep::decrypt(&platform, req.json["name"].as_str().unwrap_or("")).unwrap_or_default();
    ///     (StatusCode::OK, json!({ "name_seen": String::from_utf8_lossy(&name), "serial": req.header("Wechatpay-Serial") }))
    /// });
    /// let client = sandbox.client();
    /// let name = client.encrypt("张三")?;
    /// let answer: serde_json::Value = client
    ///     .chain("v3/profitsharing/receivers/add")
    ///     .post(json!({
    ///         "json": { "type": "PERSONAL_OPENID", "name": name.ciphertext },
    ///         "headers": { "Wechatpay-Serial": name.serial },
    ///     }))?
    ///     .json()?;
    /// assert_eq!(answer["name_seen"], "张三");
    /// assert_eq!(answer["serial"], sandbox.platform_serial());
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn encrypt(&self, plaintext: impl AsRef<[u8]>) -> Result<Encrypted, Error> {
        let serial = self.encryption_serial().ok_or_else(|| {
            Error::Config(
                "no platform key was configured to encrypt with; configure one (.platform_key or .platform_certificate), or name a downloaded certificate with encrypt_with(serial, …)".into(),
            )
        })?;
        let keys = self.verifier();
        let key = keys.key(serial).ok_or_else(|| {
            Error::Config(format!(
                "the encryption key {serial} is no longer installed (an expired certificate is dropped); name another with encrypt_with(serial, …)"
            ))
        })?;
        Ok(Encrypted {
            ciphertext: oaep::encrypt(key, plaintext.as_ref())?,
            serial: serial.to_owned(),
        })
    }

    /// Encrypts with the platform key registered under `serial` (a certificate
    /// serial or `PUB_KEY_ID_…`), e.g. to match a serial chosen for other fields.
    ///
    /// ```
    /// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder().build()?;
    /// let field = client.encrypt_with("PUB_KEY_ID_0112345678902024000000000000", "13800138000")?;
    /// assert_eq!(field.serial, "PUB_KEY_ID_0112345678902024000000000000");
    /// assert!(client.encrypt_with("UNKNOWN", "x").is_err());
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn encrypt_with(
        &self,
        serial: &str,
        plaintext: impl AsRef<[u8]>,
    ) -> Result<Encrypted, Error> {
        let keys = self.verifier();
        let key = keys.key(serial).ok_or_else(|| {
            Error::Config(format!(
                "no platform key is configured under `{serial}` (configured: {})",
                keys.serials().join(", ")
            ))
        })?;
        Ok(Encrypted {
            ciphertext: oaep::encrypt(key, plaintext.as_ref())?,
            serial: serial.to_owned(),
        })
    }

    /// Decrypts a sensitive field WeChat Pay encrypted with the merchant's public
    /// key (e.g. in complaint or profit-sharing answers), with the merchant private
    /// key; the plaintext must be UTF-8.
    ///
    /// ```
    /// use wechatpay_chain::crypto::oaep;
    /// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder().build()?;
    /// # let merchant_public = wechatpay_chain::PublicKey::from_file("tests/fixtures/keys/merchant_public.pem")?;
    /// let from_wechat = oaep::encrypt(&merchant_public, "13800138000".as_bytes())?;
    /// assert_eq!(client.decrypt(&from_wechat)?, "13800138000");
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn decrypt(&self, ciphertext: &str) -> Result<String, Error> {
        let plain = oaep::decrypt(self.signer().key(), ciphertext)?;
        String::from_utf8(plain).map_err(|_| Error::key("RSA-OAEP plaintext", "is not UTF-8 text"))
    }
}

/// The key [`Client::encrypt`] uses, chosen among the configured keys at build
/// time: a `PUB_KEY_ID_…` key first, else the certificate valid longest, else any
/// key (by serial, for a stable choice).
pub(crate) fn encryption_key(keys: &Verifier) -> Option<(&str, &PublicKey)> {
    let entries = keys.entries();
    if let Some(found) = entries
        .iter()
        .rev()
        .find(|(serial, _)| serial.starts_with("PUB_KEY_ID_"))
    {
        return Some(*found);
    }
    entries
        .iter()
        .max_by_key(|(serial, key)| (key.not_after().unwrap_or(SystemTime::UNIX_EPOCH), *serial))
        .copied()
}
