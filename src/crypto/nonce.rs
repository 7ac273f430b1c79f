//! Request nonces.

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The length of the nonces this crate sends.
pub const NONCE_LEN: usize = 32;

/// Returns a fresh nonce: 32 characters from `[0-9A-Za-z]`, from OS randomness.
///
/// Bytes are drawn by rejection sampling, so every character is equally likely.
///
/// ```
/// let n = wechatpay_chain::crypto::nonce::generate();
/// assert_eq!(n.len(), 32);
/// assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
/// ```
pub fn generate() -> String {
    let mut out = String::with_capacity(NONCE_LEN);
    let mut buf = [0u8; 48];
    while out.len() < NONCE_LEN {
        if getrandom::fill(&mut buf).is_err() {
            // The OS source failing is not recoverable for a payment client; fall back
            // to the std hasher's random keys rather than panic or send a fixed nonce.
            fallback_fill(&mut buf);
        }
        for &b in &buf {
            // 248 = 4 * 62: bytes above it would bias the first characters.
            if b < 248 && out.len() < NONCE_LEN {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

fn fallback_fill(buf: &mut [u8]) {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    for chunk in buf.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(chunk.as_ptr() as usize);
        let bytes = h.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_32_alphanumerics_and_differ() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
