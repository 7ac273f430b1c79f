//! The RSA backends behind [`PrivateKey`](super::PrivateKey) and
//! [`PublicKey`](super::PublicKey): RSASSA-PKCS1-v1_5 with SHA-256, one small trait
//! per direction.
//!
//! - aws-lc-rs (feature `aws-lc`, on by default): the same library rustls already
//!   links for TLS, about 3.5 times faster than the pure-Rust crate at signing.
//! - the pure-Rust `rsa` crate: always compiled, the default when `aws-lc` is off,
//!   and the fallback for keys aws-lc refuses (under 2048 bits).
//!
//! Keys are parsed once, by the `rsa` crate's PKCS#8 / PKCS#1 / SPKI decoders; the
//! aws-lc key is made from the DER those decoders re-encode, so both backends always
//! hold the same key. PKCS#1 v1.5 signatures are deterministic: both backends give
//! the same bytes (a differential test checks it).

use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use sha2::Sha256;

use crate::error::Error;

/// The implementation that performs an RSA operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// The pure-Rust `rsa` crate (always available).
    Rsa,
    /// aws-lc-rs (feature `aws-lc`, on by default).
    #[cfg(feature = "aws-lc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-lc")))]
    AwsLc,
}

impl Backend {
    /// The backend keys use unless told otherwise: aws-lc-rs with the `aws-lc`
    /// feature, else the `rsa` crate.
    #[cfg(feature = "aws-lc")]
    pub const DEFAULT: Backend = Backend::AwsLc;
    /// The backend keys use unless told otherwise: aws-lc-rs with the `aws-lc`
    /// feature, else the `rsa` crate.
    #[cfg(not(feature = "aws-lc"))]
    pub const DEFAULT: Backend = Backend::Rsa;

    /// Every backend compiled in, the default first.
    pub fn all() -> &'static [Backend] {
        #[cfg(feature = "aws-lc")]
        {
            &[Backend::AwsLc, Backend::Rsa]
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            &[Backend::Rsa]
        }
    }

    /// A short name for reports (`"aws-lc-rs"`, `"rsa"`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Rsa => "rsa",
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => "aws-lc-rs",
        }
    }
}

/// Signs with a private key: RSASSA-PKCS1-v1_5, SHA-256.
pub(crate) trait SignBackend: Send + Sync {
    /// The signature of `message` (as many bytes as the modulus).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// Checks signatures with a public key: RSASSA-PKCS1-v1_5, SHA-256.
pub(crate) trait VerifyBackend: Send + Sync {
    /// Whether `signature` is valid for `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool;
}

fn signing_failed(e: impl std::fmt::Display) -> Error {
    Error::key("merchant private key", format!("signing failed ({e})"))
}

/// The `rsa` crate's signer.
struct RsaSigner(SigningKey<Sha256>);

impl SignBackend for RsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let sig: Signature = self.0.try_sign(message).map_err(signing_failed)?;
        Ok(sig.to_vec())
    }
}

/// The `rsa` crate's verifier.
struct RsaVerifier(VerifyingKey<Sha256>);

impl VerifyBackend for RsaVerifier {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match Signature::try_from(signature) {
            Ok(sig) => self.0.verify(message, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(feature = "aws-lc")]
mod aws {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeyPair;
    use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};

    use super::{signing_failed, SignBackend, VerifyBackend};
    use crate::error::Error;

    /// aws-lc-rs's signer.
    pub(super) struct AwsLcSigner {
        key: KeyPair,
        /// Unused by aws-lc (PKCS#1 v1.5 is deterministic), but the API asks for one.
        rng: SystemRandom,
    }

    impl AwsLcSigner {
        /// From PKCS#8 DER; `None` when aws-lc refuses the key (e.g. under 2048 bits).
        pub(super) fn from_pkcs8(der: &[u8]) -> Option<Self> {
            KeyPair::from_pkcs8(der).ok().map(|key| AwsLcSigner {
                key,
                rng: SystemRandom::new(),
            })
        }
    }

    impl SignBackend for AwsLcSigner {
        fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
            let mut sig = vec![0u8; self.key.public_modulus_len()];
            self.key
                .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
                .map_err(signing_failed)?;
            Ok(sig)
        }
    }

    /// aws-lc-rs's verifier, with the key parsed once.
    pub(super) struct AwsLcVerifier(ParsedPublicKey);

    impl AwsLcVerifier {
        /// From SPKI DER; `None` when aws-lc refuses the key (outside 2048-8192 bits).
        pub(super) fn from_spki(der: &[u8]) -> Option<Self> {
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
                .ok()
                .map(AwsLcVerifier)
        }
    }

    impl VerifyBackend for AwsLcVerifier {
        fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
            self.0.verify_sig(message, signature).is_ok()
        }
    }
}

/// One private key in every backend compiled in.
pub(crate) struct SigningKeys {
    rsa: RsaSigner,
    #[cfg(feature = "aws-lc")]
    aws: Option<aws::AwsLcSigner>,
}

impl SigningKeys {
    /// Prepares every backend from the one parsed key.
    pub(crate) fn new(key: rsa::PrivateKey) -> Result<Self, String> {
        #[cfg(feature = "aws-lc")]
        let aws = {
            use rsa::pkcs8::EncodePrivateKey;
            // A `SecretDocument`: zeroed when dropped.
            let der = key
                .to_pkcs8_der()
                .map_err(|e| format!("cannot re-encode the key ({e})"))?;
            aws::AwsLcSigner::from_pkcs8(der.as_bytes())
        };
        Ok(SigningKeys {
            rsa: RsaSigner(SigningKey::new(key)),
            #[cfg(feature = "aws-lc")]
            aws,
        })
    }

    /// The parsed key (for its public half).
    pub(crate) fn rsa_key(&self) -> &rsa::PrivateKey {
        self.rsa.0.as_ref()
    }

    /// The backend that signs by default for this key.
    pub(crate) fn backend(&self) -> Backend {
        #[cfg(feature = "aws-lc")]
        if self.aws.is_some() {
            return Backend::AwsLc;
        }
        Backend::Rsa
    }

    /// The signer of `backend`, when it accepted the key.
    pub(crate) fn get(&self, backend: Backend) -> Option<&dyn SignBackend> {
        match backend {
            Backend::Rsa => Some(&self.rsa),
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => self.aws.as_ref().map(|a| a as &dyn SignBackend),
        }
    }

    /// The default signer.
    pub(crate) fn default_signer(&self) -> &dyn SignBackend {
        self.get(self.backend()).unwrap_or(&self.rsa)
    }
}

/// One public key in every backend compiled in.
pub(crate) struct VerifyingKeys {
    rsa: RsaVerifier,
    #[cfg(feature = "aws-lc")]
    aws: Option<aws::AwsLcVerifier>,
}

impl VerifyingKeys {
    /// Prepares every backend from the one parsed key.
    pub(crate) fn new(key: rsa::PublicKey) -> Self {
        #[cfg(feature = "aws-lc")]
        let aws = {
            use rsa::pkcs8::EncodePublicKey;
            key.to_public_key_der()
                .ok()
                .and_then(|der| aws::AwsLcVerifier::from_spki(der.as_bytes()))
        };
        VerifyingKeys {
            rsa: RsaVerifier(VerifyingKey::new(key)),
            #[cfg(feature = "aws-lc")]
            aws,
        }
    }

    /// The parsed key (RSA-OAEP encryption of sensitive fields).
    pub(crate) fn rsa_key(&self) -> &rsa::PublicKey {
        self.rsa.0.as_ref()
    }

    /// The backend that verifies by default for this key.
    pub(crate) fn backend(&self) -> Backend {
        #[cfg(feature = "aws-lc")]
        if self.aws.is_some() {
            return Backend::AwsLc;
        }
        Backend::Rsa
    }

    /// The verifier of `backend`, when it accepted the key.
    pub(crate) fn get(&self, backend: Backend) -> Option<&dyn VerifyBackend> {
        match backend {
            Backend::Rsa => Some(&self.rsa),
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => self.aws.as_ref().map(|a| a as &dyn VerifyBackend),
        }
    }

    /// The default verifier.
    pub(crate) fn default_verifier(&self) -> &dyn VerifyBackend {
        self.get(self.backend()).unwrap_or(&self.rsa)
    }
}
