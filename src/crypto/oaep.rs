//! RSA-OAEP with SHA-1 and MGF1-SHA-1: how WeChat Pay encrypts sensitive fields
//! (names, ID and bank card numbers, phone numbers) in both directions.
//!
//! Requests: the merchant encrypts with the platform public key and names that key
//! in the `Wechatpay-Serial` header. Answers: WeChat encrypts with the merchant's
//! public key, and the merchant decrypts with its private key. The ciphertext travels
//! as standard base64. (PHP: `Rsa::encrypt` / `Rsa::decrypt`, `OPENSSL_PKCS1_OAEP_PADDING`.)
//!
//! ```
//! use wechatpay_chain::crypto::oaep;
//! use wechatpay_chain::PrivateKey;
//! let key = PrivateKey::from_file("tests/fixtures/keys/merchant_private.pem")?;
//! let sealed = oaep::encrypt(&key.public_key(), "张三".as_bytes())?;
//! assert_eq!(oaep::decrypt(&key, &sealed)?, "张三".as_bytes());
//! # Ok::<_, wechatpay_chain::Error>(())
//! ```

use base64::Engine as _;
use rsa::traits::PublicKeyParts;
use rsa::Oaep;
use sha1::Sha1;

use super::{PrivateKey, PublicKey};
use crate::error::Error;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The SHA-1 output length: OAEP costs `2 * 20 + 2` bytes of the modulus.
const SHA1_LEN: usize = 20;

/// The longest plaintext `key` can encrypt: the modulus size less 42 bytes
/// (214 bytes for RSA-2048).
pub fn max_plaintext_len(key: &PublicKey) -> usize {
    key.rsa_key().size().saturating_sub(2 * SHA1_LEN + 2)
}

/// Encrypts `plaintext` with RSA-OAEP (SHA-1, MGF1-SHA-1, no label) under
/// `key` and returns standard base64. OAEP is randomised: two encryptions of one
/// plaintext differ. A plaintext longer than [`max_plaintext_len`] is an error.
pub fn encrypt(key: &PublicKey, plaintext: &[u8]) -> Result<String, Error> {
    let max = max_plaintext_len(key);
    if plaintext.len() > max {
        return Err(Error::key(
            "RSA-OAEP plaintext",
            format!(
                "is {} bytes; this {}-bit key encrypts at most {max}",
                plaintext.len(),
                key.rsa_key().size() * 8
            ),
        ));
    }
    let sealed = key
        .rsa_key()
        .encrypt(&mut getrandom::SysRng, Oaep::<Sha1>::new(), plaintext)
        .map_err(|e| {
            Error::key(
                "platform public key",
                format!("RSA-OAEP encryption failed ({e})"),
            )
        })?;
    Ok(B64.encode(sealed))
}

/// Decrypts standard base64 RSA-OAEP (SHA-1, MGF1-SHA-1) `ciphertext` with the
/// merchant `key`. Malformed base64, a ciphertext for another key or a tampered one
/// is an error that shows nothing of the plaintext.
pub fn decrypt(key: &PrivateKey, ciphertext: &str) -> Result<Vec<u8>, Error> {
    let sealed = B64
        .decode(ciphertext.trim())
        .map_err(|_| Error::key("RSA-OAEP ciphertext", "is not valid base64"))?;
    key.rsa_key()
        .decrypt_blinded(&mut getrandom::SysRng, Oaep::<Sha1>::new(), &sealed)
        .map_err(|_| {
            Error::key(
                "RSA-OAEP ciphertext",
                "does not decrypt with the merchant private key: encrypted for another key, or altered",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERCHANT: &str = include_str!("../../tests/fixtures/keys/merchant_private.pem");
    const PLATFORM: &str = include_str!("../../tests/fixtures/keys/platform_private.pem");

    #[test]
    fn round_trips_and_refuses_the_wrong_key() {
        let key = PrivateKey::from_pem(MERCHANT).unwrap();
        let other = PrivateKey::from_pem(PLATFORM).unwrap();
        let a = encrypt(&key.public_key(), b"13800138000").unwrap();
        let b = encrypt(&key.public_key(), b"13800138000").unwrap();
        assert_ne!(a, b, "OAEP is randomised");
        assert_eq!(decrypt(&key, &a).unwrap(), b"13800138000");
        assert!(decrypt(&other, &a).is_err());
        assert!(decrypt(&key, "***").is_err());
        let max = max_plaintext_len(&key.public_key());
        assert_eq!(max, 214);
        assert!(encrypt(&key.public_key(), &vec![b'x'; max]).is_ok());
        let err = encrypt(&key.public_key(), &vec![b'x'; max + 1]).unwrap_err();
        assert!(err.to_string().contains("at most 214"), "{err}");
    }
}
