//! AES-256-ECB with PKCS#7 padding: how APIv2 refund notifications encrypt
//! `req_info`. ECB is WeChat's choice, not ours; it is used for nothing else.

use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes::Aes256;
use base64::Engine as _;

use crate::error::Error;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn cipher(key: &[u8]) -> Result<Aes256, Error> {
    Aes256::new_from_slice(key).map_err(|_| {
        Error::key(
            "AES-256-ECB key",
            format!("must be 32 bytes, got {}", key.len()),
        )
    })
}

/// Encrypts `plaintext` and returns base64.
///
/// ```
/// use wechatpay_chain::crypto::aes_ecb;
/// let key = b"0123456789abcdef0123456789abcdef";
/// assert_eq!(aes_ecb::encrypt(key, b"hello")?, "pZwJZBLuy3mDACEQT4YTBw==");
/// assert_eq!(aes_ecb::decrypt(key, "pZwJZBLuy3mDACEQT4YTBw==")?, b"hello");
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
pub fn encrypt(key: &[u8], plaintext: &[u8]) -> Result<String, Error> {
    let cipher = cipher(key)?;
    let pad = 16 - plaintext.len() % 16;
    let mut data = plaintext.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    for chunk in data.chunks_exact_mut(16) {
        if let Ok(block) = <&mut Array<u8, _>>::try_from(chunk) {
            cipher.encrypt_block(block);
        }
    }
    Ok(B64.encode(data))
}

/// Decrypts base64 `ciphertext`; bad base64, length or padding is an error.
pub fn decrypt(key: &[u8], ciphertext: &str) -> Result<Vec<u8>, Error> {
    let cipher = cipher(key)?;
    let fail = |m: &str| Error::key("AES-256-ECB ciphertext", m);
    let mut data = B64
        .decode(ciphertext.trim())
        .map_err(|_| fail("is not valid base64"))?;
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(fail("is not a whole number of 16-byte blocks"));
    }
    for chunk in data.chunks_exact_mut(16) {
        if let Ok(block) = <&mut Array<u8, _>>::try_from(chunk) {
            cipher.decrypt_block(block);
        }
    }
    let pad = data.last().copied().unwrap_or(0) as usize;
    if pad == 0 || pad > 16 || !data[data.len() - pad..].iter().all(|b| *b as usize == pad) {
        return Err(fail("has invalid padding (wrong key?)"));
    }
    data.truncate(data.len() - pad);
    Ok(data)
}
