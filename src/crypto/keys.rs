//! RSA keys: parsed once, never printed.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use x509_cert::der::DecodePem;
use x509_cert::Certificate;

use super::backend::{Backend, SigningKeys, VerifyingKeys};
use super::key_forms::{classify, first_readable, with_rewrap, DerForm, Form, PRIVATE, PUBLIC};
use crate::error::Error;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A merchant's RSA private key, ready to sign (RSASSA-PKCS1-v1_5 with SHA-256).
///
/// Cheap to clone; `Debug` never shows key material.
///
/// ```
/// use wechatpay_chain::PrivateKey;
/// let pem = std::fs::read_to_string("tests/fixtures/keys/merchant_private.pem")?;
/// let key = PrivateKey::from_pem(&pem)?;
/// assert_eq!(format!("{key:?}"), "PrivateKey(RSA-2048, redacted)");
/// assert!(PrivateKey::from_pem("not a key").is_err());
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PrivateKey {
    inner: Arc<SigningKeys>,
    bits: usize,
}

impl PrivateKey {
    /// Parses a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<PrivateKey, Error> {
        Self::parse_pem(pem, "private key")
    }

    /// Reads a PEM private key from a file. PHP's `file:///path/to/key.pem` form is
    /// accepted too.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PrivateKey, Error> {
        let (shown, pem) = read_key_file(path.as_ref(), "private key")?;
        Self::parse_pem(&pem, &format!("private key file `{shown}`"))
    }

    /// Reads a private key in any form wechatpay-php's `Rsa::from` takes: a PEM
    /// (PKCS#8 or PKCS#1), `file:///path/to/key.pem`, `private.pkcs8://<base64 DER>`,
    /// `private.pkcs1://<base64 DER>`, or bare base64 DER (PKCS#8 or PKCS#1). An
    /// error names the form that failed, never the key.
    ///
    /// ```
    /// use wechatpay_chain::PrivateKey;
    /// let pem = std::fs::read_to_string("tests/fixtures/keys/merchant_private.pem")?;
    /// let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    /// let a = PrivateKey::parse(&pem)?;
    /// let b = PrivateKey::parse(&format!("private.pkcs8://{der}"))?;
    /// let c = PrivateKey::parse(&der)?;
    /// assert!(a.public_key().same_key(&b.public_key()) && b.public_key().same_key(&c.public_key()));
    /// let err = PrivateKey::parse("private.pkcs1://bm90IGEga2V5").unwrap_err().to_string();
    /// assert!(err.contains("`private.pkcs1://…`") && !err.contains("bm90IGEga2V5"));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(thing: &str) -> Result<PrivateKey, Error> {
        let (what, der, forms) = match classify(thing, &PRIVATE)? {
            Form::File(path) => return Self::from_file(path),
            Form::Pem(pem) => return with_rewrap(pem, Self::from_pem),
            Form::Der { what, der, forms } => (what, der, forms),
        };
        let key = first_readable(forms, &what, "private key", |form| match form {
            DerForm::Pkcs1 => rsa::PrivateKey::from_pkcs1_der(&der).map_err(|e| e.to_string()),
            _ => rsa::PrivateKey::from_pkcs8_der(&der).map_err(|e| e.to_string()),
        })?;
        Self::from_rsa_key(key, &what)
    }

    /// Reads an encrypted PKCS#8 PEM (`BEGIN ENCRYPTED PRIVATE KEY`, PBES2 with
    /// PBKDF2 or scrypt and AES-CBC, as `openssl pkcs8 -topk8 -v2 aes-256-cbc`
    /// writes it), as PHP's `Rsa::from([$pem, $passphrase])`. `pem` may also be a
    /// `file://` path. A wrong passphrase is an error that shows neither.
    ///
    /// ```
    /// use wechatpay_chain::PrivateKey;
    /// let pem = std::fs::read_to_string("tests/fixtures/keys/merchant_private_encrypted.pem")?;
    /// let key = PrivateKey::from_encrypted_pem(&pem, "wechatpay-port")?;
    /// assert!(PrivateKey::from_encrypted_pem(&pem, "wrong").is_err());
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_encrypted_pem(pem: &str, passphrase: &str) -> Result<PrivateKey, Error> {
        let (what, text) = match pem.trim().strip_prefix("file://") {
            Some(_) => {
                let (shown, text) = read_key_file(Path::new(pem.trim()), "encrypted private key")?;
                (format!("encrypted private key file `{shown}`"), text)
            }
            None => ("encrypted private key".to_owned(), pem.to_owned()),
        };
        if !text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(Error::key(
                what,
                "not an encrypted PKCS#8 PEM (expected `-----BEGIN ENCRYPTED PRIVATE KEY-----`)",
            ));
        }
        let key = rsa::PrivateKey::from_pkcs8_encrypted_pem(text.trim(), passphrase.as_bytes())
            .map_err(|e| {
                Error::key(
                    &what,
                    format!("cannot decrypt it: wrong passphrase or unsupported cipher ({e})"),
                )
            })?;
        Self::from_rsa_key(key, &what)
    }

    fn parse_pem(pem: &str, what: &str) -> Result<PrivateKey, Error> {
        let pem = pem.trim();
        let key = if pem.contains("-----BEGIN PRIVATE KEY-----") {
            rsa::PrivateKey::from_pkcs8_pem(pem)
                .map_err(|e| Error::key(what, format!("invalid PKCS#8 RSA private key ({e})")))?
        } else if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            rsa::PrivateKey::from_pkcs1_pem(pem)
                .map_err(|e| Error::key(what, format!("invalid PKCS#1 RSA private key ({e})")))?
        } else if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(Error::key(
                what,
                "this key is encrypted; read it with PrivateKey::from_encrypted_pem(pem, passphrase)",
            ));
        } else {
            return Err(Error::key(
                what,
                "not a PEM private key (expected `-----BEGIN PRIVATE KEY-----` or `-----BEGIN RSA PRIVATE KEY-----`)",
            ));
        };
        Self::from_rsa_key(key, what)
    }

    fn from_rsa_key(key: rsa::PrivateKey, what: &str) -> Result<PrivateKey, Error> {
        let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
        let inner = SigningKeys::new(key).map_err(|m| Error::key(what, m))?;
        Ok(PrivateKey {
            inner: Arc::new(inner),
            bits,
        })
    }

    /// Signs `message` and returns the base64 signature WeChat Pay expects.
    pub fn sign_base64(&self, message: &[u8]) -> Result<String, Error> {
        let sig = self.inner.default_signer().sign(message)?;
        Ok(B64.encode(sig))
    }

    /// The backend [`sign_base64`](Self::sign_base64) uses for this key:
    /// [`Backend::DEFAULT`], or `rsa` for a key aws-lc refuses (under 2048 bits).
    pub fn backend(&self) -> Backend {
        self.inner.backend()
    }

    /// Signs with a chosen backend (differential tests and benchmarks). An error
    /// when that backend refused the key.
    #[doc(hidden)]
    pub fn sign_base64_with(&self, backend: Backend, message: &[u8]) -> Result<String, Error> {
        let signer = self.inner.get(backend).ok_or_else(|| {
            Error::key(
                "merchant private key",
                format!("the {} backend does not accept this key", backend.name()),
            )
        })?;
        Ok(B64.encode(signer.sign(message)?))
    }

    /// The parsed RSA key (RSA-OAEP decryption, `crypto::oaep`).
    pub(crate) fn rsa_key(&self) -> &rsa::PrivateKey {
        self.inner.rsa_key()
    }

    /// The public half, e.g. to check one's own signatures in tests.
    pub fn public_key(&self) -> PublicKey {
        let public = rsa::PublicKey::from(self.inner.rsa_key());
        PublicKey::from_rsa(public, None, None)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(RSA-{}, redacted)", self.bits)
    }
}

/// A platform public key (or certificate) that WeChat Pay signs its answers with.
///
/// Loaded from an SPKI (`BEGIN PUBLIC KEY`), PKCS#1 (`BEGIN RSA PUBLIC KEY`) or X.509
/// (`BEGIN CERTIFICATE`) PEM. A certificate brings its own serial number, so it can be
/// registered without naming one.
///
/// ```
/// use wechatpay_chain::PublicKey;
/// let pem = std::fs::read_to_string("tests/fixtures/keys/platform_cert.pem")?;
/// let key = PublicKey::from_pem(&pem)?;
/// assert_eq!(key.serial(), Some("7132D72A03E93CDDF8C03BBD1F37EEDF00000001"));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PublicKey {
    inner: Arc<VerifyingKeys>,
    serial: Option<String>,
    not_after: Option<SystemTime>,
}

impl PublicKey {
    /// Parses a PEM public key or X.509 certificate. An expired certificate is an
    /// error.
    pub fn from_pem(pem: &str) -> Result<PublicKey, Error> {
        Self::parse_pem(pem, "public key")
    }

    /// Reads a PEM public key or certificate from a file (a path or PHP's
    /// `file://` form).
    pub fn from_file(path: impl AsRef<Path>) -> Result<PublicKey, Error> {
        let (shown, pem) = read_key_file(path.as_ref(), "public key")?;
        Self::parse_pem(&pem, &format!("public key file `{shown}`"))
    }

    /// Reads a public key in any form wechatpay-php's `Rsa::from($thing,
    /// Rsa::KEY_TYPE_PUBLIC)` takes: a PEM (SPKI, PKCS#1 or X.509 certificate),
    /// `file:///path`, `public.spki://<base64 DER>`, `public.pkcs1://<base64 DER>`,
    /// or bare base64 DER (SPKI or PKCS#1). An error names the form that failed.
    ///
    /// ```
    /// use wechatpay_chain::PublicKey;
    /// let pem = std::fs::read_to_string("tests/fixtures/keys/platform_public.pem")?;
    /// let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    /// let a = PublicKey::parse(&format!("public.spki://{der}"))?;
    /// assert!(a.same_key(&PublicKey::parse(&pem)?));
    /// assert!(PublicKey::parse(&format!("public.pkcs1://{der}")).is_err());
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(thing: &str) -> Result<PublicKey, Error> {
        let (what, der, forms) = match classify(thing, &PUBLIC)? {
            Form::File(path) => return Self::from_file(path),
            Form::Pem(pem) => return with_rewrap(pem, Self::from_pem),
            Form::Der { what, der, forms } => (what, der, forms),
        };
        let key = first_readable(forms, &what, "public key", |form| match form {
            DerForm::Pkcs1 => rsa::PublicKey::from_pkcs1_der(&der).map_err(|e| e.to_string()),
            _ => rsa::PublicKey::from_public_key_der(&der).map_err(|e| e.to_string()),
        })?;
        Ok(Self::from_rsa(key, None, None))
    }

    fn parse_pem(pem: &str, what: &str) -> Result<PublicKey, Error> {
        let pem = pem.trim();
        if pem.contains("-----BEGIN CERTIFICATE-----") {
            return Self::from_certificate(pem, what);
        }
        let key = if pem.contains("-----BEGIN PUBLIC KEY-----") {
            rsa::PublicKey::from_public_key_pem(pem)
                .map_err(|e| Error::key(what, format!("invalid SPKI RSA public key ({e})")))?
        } else if pem.contains("-----BEGIN RSA PUBLIC KEY-----") {
            rsa::PublicKey::from_pkcs1_pem(pem)
                .map_err(|e| Error::key(what, format!("invalid PKCS#1 RSA public key ({e})")))?
        } else if pem.contains("PRIVATE KEY-----") {
            return Err(Error::key(
                what,
                "this is a private key; platform keys are public keys or certificates",
            ));
        } else {
            return Err(Error::key(
                what,
                "not a PEM public key or certificate (expected `BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC KEY` or `BEGIN CERTIFICATE`)",
            ));
        };
        Ok(Self::from_rsa(key, None, None))
    }

    fn from_certificate(pem: &str, what: &str) -> Result<PublicKey, Error> {
        let cert = Certificate::from_pem(pem.as_bytes())
            .map_err(|e| Error::key(what, format!("invalid X.509 certificate ({e})")))?;
        let tbs = cert.tbs_certificate();
        let not_after = tbs.validity().not_after.to_system_time();
        if not_after < SystemTime::now() {
            return Err(Error::key(
                what,
                format!(
                    "certificate expired at {} (unix time); download the current platform certificate",
                    unix_seconds(not_after)
                ),
            ));
        }
        let spki = tbs.subject_public_key_info();
        let der = x509_cert::der::Encode::to_der(spki)
            .map_err(|e| Error::key(what, format!("invalid certificate public key ({e})")))?;
        let key = rsa::PublicKey::from_public_key_der(&der)
            .map_err(|e| Error::key(what, format!("certificate key is not RSA ({e})")))?;
        let serial_bytes = tbs.serial_number().as_bytes();
        let leading_zeros = serial_bytes.iter().take_while(|b| **b == 0).count();
        let serial = crate::encoding::hex(&serial_bytes[leading_zeros..]).to_ascii_uppercase();
        Ok(Self::from_rsa(key, Some(serial), Some(not_after)))
    }

    fn from_rsa(
        key: rsa::PublicKey,
        serial: Option<String>,
        not_after: Option<SystemTime>,
    ) -> Self {
        PublicKey {
            inner: Arc::new(VerifyingKeys::new(key)),
            serial,
            not_after,
        }
    }

    /// The parsed RSA key (RSA-OAEP encryption, `crypto::oaep`).
    /// Whether `other` is the same RSA key (modulus and exponent), whatever serial
    /// or certificate either came with.
    pub fn same_key(&self, other: &PublicKey) -> bool {
        self.rsa_key() == other.rsa_key()
    }

    pub(crate) fn rsa_key(&self) -> &rsa::PublicKey {
        self.inner.rsa_key()
    }

    /// The certificate's serial number (upper-case hex), when loaded from a
    /// certificate.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// When the certificate stops being valid, when loaded from a certificate.
    pub fn not_after(&self) -> Option<SystemTime> {
        self.not_after
    }

    /// Checks a base64 RSASSA-PKCS1-v1_5 SHA-256 signature over `message`.
    /// Returns false for a malformed signature as for a wrong one.
    pub fn verify_base64(&self, message: &[u8], signature: &str) -> bool {
        let Ok(bytes) = B64.decode(signature.trim()) else {
            return false;
        };
        self.inner.default_verifier().verify(message, &bytes)
    }

    /// The backend [`verify_base64`](Self::verify_base64) uses for this key.
    pub fn backend(&self) -> Backend {
        self.inner.backend()
    }

    /// Verifies with a chosen backend (differential tests and benchmarks); false
    /// when that backend refused the key.
    #[doc(hidden)]
    pub fn verify_base64_with(&self, backend: Backend, message: &[u8], signature: &str) -> bool {
        let Ok(bytes) = B64.decode(signature.trim()) else {
            return false;
        };
        self.inner
            .get(backend)
            .is_some_and(|v| v.verify(message, &bytes))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Reads a key file, accepting PHP's `file://` prefix. Returns the path as shown in
/// errors and the file's text.
fn read_key_file(path: &Path, what: &str) -> Result<(String, String), Error> {
    let raw = path.to_string_lossy();
    let plain = raw.strip_prefix("file://").unwrap_or(&raw).to_owned();
    let text = std::fs::read_to_string(&plain).map_err(|e| {
        Error::key(
            format!("{what} file `{plain}`"),
            format!("cannot read it ({e})"),
        )
    })?;
    Ok((plain, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERCHANT: &str = include_str!("../../tests/fixtures/keys/merchant_private.pem");
    const MERCHANT_PUB: &str = include_str!("../../tests/fixtures/keys/merchant_public.pem");

    #[test]
    fn signs_and_verifies_round_trip() {
        let key = PrivateKey::from_pem(MERCHANT).unwrap();
        let sig = key.sign_base64(b"hello").unwrap();
        let public = PublicKey::from_pem(MERCHANT_PUB).unwrap();
        assert!(public.verify_base64(b"hello", &sig));
        assert!(!public.verify_base64(b"hellO", &sig));
        assert!(!public.verify_base64(b"hello", &sig[..sig.len() - 8]));
        assert!(!public.verify_base64(b"hello", "***"));
    }

    #[test]
    fn errors_name_the_key_and_hide_material() {
        let err = PrivateKey::from_pem(MERCHANT_PUB).unwrap_err().to_string();
        assert!(err.contains("not a PEM private key"), "{err}");
        let err = PublicKey::from_pem(MERCHANT).unwrap_err().to_string();
        assert!(err.contains("private key"), "{err}");
        let body: String = MERCHANT.lines().nth(1).unwrap().into();
        let broken = MERCHANT.replace(&body, "AAAA");
        let err = PrivateKey::from_pem(&broken).unwrap_err().to_string();
        assert!(err.contains("invalid PKCS#8"), "{err}");
        assert!(!err.contains("AAAA"), "{err}");
        let err = PrivateKey::from_file("file:///nonexistent/key.pem")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`/nonexistent/key.pem`"), "{err}");
    }
}
