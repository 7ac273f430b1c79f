//! AEAD_AES_256_GCM with the APIv3 key: how WeChat Pay encrypts notification
//! resources and platform certificates.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;

use crate::error::Error;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The merchant's APIv3 key: 32 bytes, set in the merchant platform. `Debug`
/// never shows it.
///
/// ```
/// use wechatpay_chain::crypto::ApiV3Key;
/// let key = ApiV3Key::new("0123456789abcdef0123456789abcdef")?;
/// let sealed = key.encrypt(b"0123456789ab", b"world", b"hello")?;
/// assert_eq!(sealed, "8cyLViyNtc/bBmbxDwyAVLDTpT+o");
/// assert_eq!(key.decrypt(b"0123456789ab", b"world", &sealed)?, b"hello");
/// assert!(ApiV3Key::new("short").is_err());
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
#[derive(Clone)]
pub struct ApiV3Key(Aes256Gcm);

impl ApiV3Key {
    /// Checks that the key is exactly 32 bytes.
    pub fn new(key: impl AsRef<[u8]>) -> Result<ApiV3Key, Error> {
        let key = key.as_ref();
        Aes256Gcm::new_from_slice(key).map(ApiV3Key).map_err(|_| {
            Error::key(
                "APIv3 key",
                format!("must be exactly 32 bytes, got {}", key.len()),
            )
        })
    }

    /// Encrypts `plaintext` with a 12-byte `nonce` and `associated_data`; returns
    /// base64 of ciphertext followed by the 16-byte tag.
    pub fn encrypt(
        &self,
        nonce: &[u8],
        associated_data: &[u8],
        plaintext: &[u8],
    ) -> Result<String, Error> {
        let nonce = nonce_of(nonce)?;
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            .map_err(|_| Error::key("APIv3 key", "AES-256-GCM encryption failed"))?;
        Ok(B64.encode(sealed))
    }

    /// Decrypts base64 `ciphertext` (ciphertext followed by the tag). A wrong key,
    /// nonce, associated data or a tampered ciphertext is an error.
    pub fn decrypt(
        &self,
        nonce: &[u8],
        associated_data: &[u8],
        ciphertext: &str,
    ) -> Result<Vec<u8>, Error> {
        let nonce = nonce_of(nonce)?;
        let sealed = B64
            .decode(ciphertext.trim())
            .map_err(|_| Error::key("AES-256-GCM ciphertext", "is not valid base64"))?;
        self.0
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed,
                    aad: associated_data,
                },
            )
            .map_err(|_| {
                Error::key(
                    "AES-256-GCM ciphertext",
                    "does not authenticate: wrong APIv3 key, nonce or associated data, or tampered",
                )
            })
    }
}

fn nonce_of(nonce: &[u8]) -> Result<Nonce<aes_gcm::aead::consts::U12>, Error> {
    Nonce::try_from(nonce).map_err(|_| {
        Error::key(
            "AES-256-GCM nonce",
            format!("must be 12 bytes, got {}", nonce.len()),
        )
    })
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(redacted)")
    }
}
