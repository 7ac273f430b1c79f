//! Keys and the small, pure cryptographic helpers the protocol needs.
//!
//! - [`PrivateKey`] / [`PublicKey`]: loading from PEM, files, PHP's `file://` form and
//!   X.509 certificates, parsed once at build time.
//! - [`nonce`]: 32 random characters from `[0-9A-Za-z]`, from OS randomness.

mod keys;
pub mod nonce;

pub use keys::{PrivateKey, PublicKey};
