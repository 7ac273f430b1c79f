//! Keys and the small, pure cryptographic helpers the protocol needs.
//!
//! - [`PrivateKey`] / [`PublicKey`]: loading from PEM, files, X.509 certificates and
//!   every string form of PHP's `Rsa::from`, parsed once at build time.
//! - [`ApiV3Key`]: AEAD_AES_256_GCM with the APIv3 key (notifications, certificates).
//! - [`oaep`]: RSA-OAEP (SHA-1, MGF1-SHA-1) for sensitive fields.
//! - [`nonce`]: 32 random characters from `[0-9A-Za-z]`, from OS randomness.

pub mod aes_ecb;
mod aes_gcm;
mod backend;
mod key_forms;
mod keys;
pub mod nonce;
pub mod oaep;

pub use aes_gcm::ApiV3Key;
pub use backend::Backend;
pub use keys::{PrivateKey, PublicKey};
