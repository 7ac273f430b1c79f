//! Keys and the small, pure cryptographic helpers the protocol needs.
//!
//! - [`PrivateKey`] / [`PublicKey`]: loading from PEM, files, PHP's `file://` form and
//!   X.509 certificates, parsed once at build time.
//! - [`ApiV3Key`]: AEAD_AES_256_GCM with the APIv3 key (notifications, certificates).
//! - [`nonce`]: 32 random characters from `[0-9A-Za-z]`, from OS randomness.

mod aes_gcm;
mod keys;
pub mod nonce;

pub use aes_gcm::ApiV3Key;
pub use keys::{PrivateKey, PublicKey};
