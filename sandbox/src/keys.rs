//! The sandbox's identity: a merchant and a platform key pair, with their ids.

use std::fmt;
use std::path::Path;

use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::json;

use wechatpay_chain::crypto::{PrivateKey, PublicKey};
use wechatpay_chain::Error;

/// The merchant id of the fixture keys (and of freshly generated ones).
pub const FIXTURE_MCHID: &str = "1900000001";
/// The merchant certificate serial of the fixture keys.
pub const FIXTURE_MERCHANT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD00000001";
/// The platform public key id of the fixture keys.
pub const FIXTURE_PLATFORM_SERIAL: &str = "PUB_KEY_ID_0112345678902024000000000000";

// Embedded so the default sandbox starts instantly: RSA key generation takes seconds.
const MERCHANT_PRIVATE: &str = include_str!("../keys/merchant_private.pem");
const MERCHANT_PUBLIC: &str = include_str!("../keys/merchant_public.pem");
const PLATFORM_PRIVATE: &str = include_str!("../keys/platform_private.pem");
const PLATFORM_PUBLIC: &str = include_str!("../keys/platform_public.pem");
const PLATFORM_CERT: &str = include_str!("../keys/platform_cert.pem");

/// The optional file holding an X.509 certificate of the platform key, served at
/// `v3/certificates` when present.
pub const CERT_FILE: &str = "platform_cert.pem";

/// The file names [`SandboxKeys::load_or_generate`] reads and writes.
pub const KEY_FILES: [&str; 4] = [
    "merchant_private.pem",
    "merchant_public.pem",
    "platform_private.pem",
    "platform_public.pem",
];
/// The file holding `mchid`, `merchant_serial`, `platform_serial` and `base_uri`.
pub const INFO_FILE: &str = "sandbox.json";

/// The keys and ids a sandbox plays WeChat Pay with: the merchant's key pair (the
/// sandbox checks requests with its public half) and the platform's (the sandbox
/// signs answers with its private half).
///
/// `Debug` redacts the private keys.
#[derive(Clone)]
pub struct SandboxKeys {
    mchid: String,
    merchant_serial: String,
    platform_serial: String,
    pems: [String; 4],
    merchant_private: PrivateKey,
    merchant_public: PublicKey,
    platform_private: PrivateKey,
    platform_public: PublicKey,
    /// An X.509 certificate of the platform key (PEM and parsed), when there is one.
    platform_certificate: Option<(String, PublicKey)>,
}

impl SandboxKeys {
    /// The sandbox's own test keys (`keys/` in its crate), embedded in the binary:
    /// mchid `1900000001`, merchant serial `3775B6A4…00000001`, platform key id
    /// `PUB_KEY_ID_0112345678902024000000000000`.
    pub fn fixture() -> Result<SandboxKeys, Error> {
        let keys = Self::from_pems(
            FIXTURE_MCHID,
            FIXTURE_MERCHANT_SERIAL,
            FIXTURE_PLATFORM_SERIAL,
            [
                MERCHANT_PRIVATE,
                MERCHANT_PUBLIC,
                PLATFORM_PRIVATE,
                PLATFORM_PUBLIC,
            ]
            .map(str::to_owned),
        )?;
        keys.with_platform_certificate(PLATFORM_CERT)
    }

    /// Adds an X.509 certificate of the platform key (PEM), served encrypted at
    /// `v3/certificates`. The fixture keys come with one (serial
    /// `7132D72A03E93CDDF8C03BBD1F37EEDF00000001`); generated keys have none.
    /// A certificate of another key is refused.
    pub fn with_platform_certificate(mut self, pem: &str) -> Result<SandboxKeys, Error> {
        let what = |m: &str| Error::Key {
            what: format!("sandbox {CERT_FILE}"),
            message: m.to_owned(),
        };
        let cert = PublicKey::from_pem(pem).map_err(|e| what(&e.to_string()))?;
        if !cert.same_key(&self.platform_public) {
            return Err(what("certifies another key than the platform key"));
        }
        self.platform_certificate = Some((pem.trim().to_owned() + "\n", cert));
        Ok(self)
    }

    /// The platform certificate as PEM, when there is one.
    pub fn platform_certificate_pem(&self) -> Option<&str> {
        self.platform_certificate
            .as_ref()
            .map(|(pem, _)| pem.as_str())
    }

    /// The platform certificate's serial, when there is one.
    pub fn platform_certificate_serial(&self) -> Option<&str> {
        self.platform_certificate
            .as_ref()
            .and_then(|(_, cert)| cert.serial())
    }

    /// The platform certificate, when there is one.
    pub fn platform_certificate(&self) -> Option<&PublicKey> {
        self.platform_certificate.as_ref().map(|(_, cert)| cert)
    }

    /// Two fresh RSA-2048 key pairs with a random merchant serial and platform key
    /// id, and a self-signed certificate of the platform key (takes a moment: prime
    /// generation).
    pub fn generate() -> Result<SandboxKeys, Error> {
        let (merchant_private, merchant_public) = generate_pair("merchant")?;
        let (platform_private, platform_public) = generate_pair("platform")?;
        let merchant_serial = random_chars(b"0123456789ABCDEF", 40)?;
        let platform_serial = format!("PUB_KEY_ID_01{}", random_chars(b"0123456789", 26)?);
        let keys = Self::from_pems(
            FIXTURE_MCHID,
            &merchant_serial,
            &platform_serial,
            [
                merchant_private,
                merchant_public,
                platform_private,
                platform_public,
            ],
        )?;
        let signing_key = rsa::PrivateKey::from_pkcs8_pem(keys.platform_private_pem())
            .map_err(|e| Error::Config(format!("cannot read the sandbox platform key ({e})")))?;
        let cert = super::certificates::self_signed(&signing_key)?;
        keys.with_platform_certificate(&cert)
    }

    /// Loads the four PEM files of [`KEY_FILES`] (and the ids from `sandbox.json`)
    /// from `dir` when they are there; otherwise generates keys and writes them.
    /// Half a set of key files is an error (nothing is overwritten).
    pub fn load_or_generate(dir: impl AsRef<Path>) -> Result<SandboxKeys, Error> {
        let dir = dir.as_ref();
        let present: Vec<bool> = KEY_FILES.iter().map(|f| dir.join(f).is_file()).collect();
        if present.iter().all(|p| *p) {
            return Self::load(dir);
        }
        if present.iter().any(|p| *p) {
            let missing: Vec<&str> = KEY_FILES
                .iter()
                .zip(&present)
                .filter(|(_, p)| !**p)
                .map(|(f, _)| *f)
                .collect();
            return Err(Error::Config(format!(
                "sandbox keys directory `{}` holds some key files but not {}; add them or use an empty directory",
                dir.display(),
                missing.join(", ")
            )));
        }
        let keys = Self::generate()?;
        keys.write_keys(dir)?;
        Ok(keys)
    }

    fn load(dir: &Path) -> Result<SandboxKeys, Error> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| {
                Error::Config(format!("cannot read `{}` ({e})", dir.join(name).display()))
            })
        };
        let (mut mchid, mut merchant_serial, mut platform_serial) = (
            FIXTURE_MCHID.to_owned(),
            FIXTURE_MERCHANT_SERIAL.to_owned(),
            FIXTURE_PLATFORM_SERIAL.to_owned(),
        );
        if dir.join(INFO_FILE).is_file() {
            let text = read(INFO_FILE)?;
            let info: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Error::Config(format!(
                    "`{}` is not JSON ({e})",
                    dir.join(INFO_FILE).display()
                ))
            })?;
            let field = |name: &str, into: &mut String| {
                if let Some(v) = info.get(name).and_then(|v| v.as_str()) {
                    *into = v.to_owned();
                }
            };
            field("mchid", &mut mchid);
            field("merchant_serial", &mut merchant_serial);
            field("platform_serial", &mut platform_serial);
        }
        let pems = [
            read(KEY_FILES[0])?,
            read(KEY_FILES[1])?,
            read(KEY_FILES[2])?,
            read(KEY_FILES[3])?,
        ];
        let keys = Self::from_pems(&mchid, &merchant_serial, &platform_serial, pems)?;
        if dir.join(CERT_FILE).is_file() {
            return keys.with_platform_certificate(&read(CERT_FILE)?);
        }
        Ok(keys)
    }

    fn from_pems(
        mchid: &str,
        merchant_serial: &str,
        platform_serial: &str,
        pems: [String; 4],
    ) -> Result<SandboxKeys, Error> {
        let named = |e: Error, file: &str| match e {
            Error::Key { message, .. } => Error::Key {
                what: format!("sandbox {file}"),
                message,
            },
            other => other,
        };
        Ok(SandboxKeys {
            mchid: mchid.to_owned(),
            merchant_serial: merchant_serial.to_owned(),
            platform_serial: platform_serial.to_owned(),
            merchant_private: PrivateKey::from_pem(&pems[0]).map_err(|e| named(e, KEY_FILES[0]))?,
            merchant_public: PublicKey::from_pem(&pems[1]).map_err(|e| named(e, KEY_FILES[1]))?,
            platform_private: PrivateKey::from_pem(&pems[2]).map_err(|e| named(e, KEY_FILES[2]))?,
            platform_public: PublicKey::from_pem(&pems[3]).map_err(|e| named(e, KEY_FILES[3]))?,
            platform_certificate: None,
            pems,
        })
    }

    /// Writes the four PEM files (private keys readable by the owner only).
    fn write_keys(&self, dir: &Path) -> Result<(), Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Config(format!("cannot create `{}` ({e})", dir.display())))?;
        for (i, (name, pem)) in KEY_FILES.iter().zip(&self.pems).enumerate() {
            write_file(&dir.join(name), pem, i % 2 == 0)?;
        }
        if let Some(pem) = self.platform_certificate_pem() {
            write_file(&dir.join(CERT_FILE), pem, false)?;
        }
        Ok(())
    }

    /// Writes `sandbox.json` (`mchid`, `merchant_serial`, `platform_serial`,
    /// `base_uri`) into `dir`, so any SDK can be pointed at the sandbox.
    pub(crate) fn write_info(&self, dir: &Path, base_uri: &str) -> Result<(), Error> {
        let info = json!({
            "mchid": self.mchid,
            "merchant_serial": self.merchant_serial,
            "platform_serial": self.platform_serial,
            "base_uri": base_uri,
        });
        let text = serde_json::to_string_pretty(&info)
            .map_err(|e| Error::Config(format!("cannot encode {INFO_FILE} ({e})")))?;
        write_file(&dir.join(INFO_FILE), &(text + "\n"), false)
    }

    /// The merchant id (`mchid`).
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The merchant certificate serial the sandbox expects in `serial_no`.
    pub fn merchant_serial(&self) -> &str {
        &self.merchant_serial
    }

    /// The platform public key id (`PUB_KEY_ID_…`) the sandbox signs answers under.
    pub fn platform_serial(&self) -> &str {
        &self.platform_serial
    }

    /// The merchant private key (clients sign requests with it).
    pub fn merchant_private_key(&self) -> &PrivateKey {
        &self.merchant_private
    }

    /// The merchant public key (the sandbox checks requests with it).
    pub fn merchant_public_key(&self) -> &PublicKey {
        &self.merchant_public
    }

    /// The platform private key (the sandbox signs answers with it).
    pub fn platform_private_key(&self) -> &PrivateKey {
        &self.platform_private
    }

    /// The platform public key (clients check answers with it).
    pub fn platform_public_key(&self) -> &PublicKey {
        &self.platform_public
    }

    /// The merchant private key as PKCS#8 PEM.
    pub fn merchant_private_pem(&self) -> &str {
        &self.pems[0]
    }

    /// The merchant public key as SPKI PEM.
    pub fn merchant_public_pem(&self) -> &str {
        &self.pems[1]
    }

    /// A client builder configured as the merchant of these keys (mchid, serial,
    /// private key, the platform key under its id, the sandbox's APIv2 secret and
    /// APIv3 key), still on the default base URI: for examples that build requests
    /// without sending them. [`Sandbox::client`](crate::Sandbox::client) is the same
    /// pointed at a running sandbox.
    ///
    /// ```
    /// let client = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder().build()?;
    /// assert_eq!(client.mchid(), "1900000001");
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn client_builder(&self) -> wechatpay_chain::ClientBuilder {
        wechatpay_chain::Client::builder()
            .mchid(self.mchid())
            .serial(self.merchant_serial())
            .private_key(self.merchant_private_key().clone())
            .platform_key(self.platform_serial(), self.platform_public_key().clone())
            .apiv2_secret(crate::APIV2_SECRET)
            .apiv3_key(crate::APIV3_KEY)
    }

    /// The platform private key as PKCS#8 PEM.
    pub fn platform_private_pem(&self) -> &str {
        &self.pems[2]
    }

    /// The platform public key as SPKI PEM.
    pub fn platform_public_pem(&self) -> &str {
        &self.pems[3]
    }
}

impl fmt::Debug for SandboxKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxKeys")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("platform_serial", &self.platform_serial)
            .field("private_keys", &"redacted")
            .finish()
    }
}

fn generate_pair(which: &str) -> Result<(String, String), Error> {
    let failed = |e: &dyn fmt::Display| {
        Error::Config(format!("cannot generate the sandbox {which} key ({e})"))
    };
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| failed(&e))?;
    let private = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| failed(&e))?;
    let public = rsa::PublicKey::from(&key)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| failed(&e))?;
    Ok((private.to_string(), public))
}

/// `len` characters drawn uniformly from `alphabet` (at most 256 characters long).
fn random_chars(alphabet: &[u8], len: usize) -> Result<String, Error> {
    let n = alphabet.len();
    // Bytes at or above the largest multiple of `n` would bias the low characters.
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|e| Error::Config(format!("no OS randomness ({e})")))?;
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % n] as char);
            }
        }
    }
    Ok(out)
}

/// Writes `contents` to `path`, readable by the owner only when `private`.
pub(crate) fn write_file(
    path: &Path,
    contents: impl AsRef<[u8]>,
    private: bool,
) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents.as_ref()))
        .map_err(|e| Error::Config(format!("cannot write `{}` ({e})", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_keys_pair_up() {
        let keys = SandboxKeys::fixture().unwrap();
        let sig = keys.merchant_private_key().sign_base64(b"m").unwrap();
        assert!(keys.merchant_public_key().verify_base64(b"m", &sig));
        let sig = keys.platform_private_key().sign_base64(b"p").unwrap();
        assert!(keys.platform_public_key().verify_base64(b"p", &sig));
        assert!(!format!("{keys:?}").contains("BEGIN"));
    }

    #[test]
    fn random_chars_use_the_alphabet() {
        let s = random_chars(b"0123456789", 26).unwrap();
        assert_eq!(s.len(), 26);
        assert!(s.bytes().all(|b| b.is_ascii_digit()));
    }
}
