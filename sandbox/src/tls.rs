//! HTTPS for the sandbox ([`SandboxBuilder::tls`](crate::SandboxBuilder::tls)).
//!
//! Two certificate authorities, made once per process (RSA key generation takes a
//! moment): one signs the server certificate for `127.0.0.1` and `localhost`
//! (clients trust it through [`ca.pem`](CA_FILE)), the other plays WeChat's
//! merchant CA and issues each sandbox's merchant API client certificate. The server
//! asks every client for a certificate but lets it connect without one; a
//! certificate that is presented must chain to the merchant CA, or the handshake
//! fails. The APIv2 endpoints WeChat serves only with the certificate
//! ([`certificate_required`]) then refuse a connection that presented none.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_cert::builder::profile::{cabf::Root, BuilderProfile};
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::asn1::{Ia5String, OctetString};
use x509_cert::der::{Encode, EncodePem as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::Validity;
use x509_cert::{Certificate, TbsCertificate};

use super::keys::SandboxKeys;
use wechatpay_chain::Error;

/// The CA of the sandbox's server certificate, written to the keys directory.
pub const CA_FILE: &str = "ca.pem";
/// The merchant API client certificate the sandbox issues (PEM).
pub const CLIENT_CERT_FILE: &str = "apiclient_cert.pem";
/// The merchant API client certificate's private key (PKCS#8 PEM): the merchant
/// private key, as in WeChat's download.
pub const CLIENT_KEY_FILE: &str = "apiclient_key.pem";
/// The client certificate and key as PKCS#12, password = the mchid, as WeChat
/// ships them.
pub const CLIENT_P12_FILE: &str = "apiclient_cert.p12";

/// The APIv2 endpoints (no `v2/` prefix) that WeChat serves only to a client
/// presenting the merchant API certificate, marked `x-api-cert-required: true` in
/// the upstream catalogue (TheNorthMemory/wechatpay-openapi, `docs/v2`).
// Moves to the catalogue crate once it exists; until then, derived by
// `git grep -l "x-api-cert-required: true" HEAD -- docs/v2` in that repository.
pub const CERT_REQUIRED: &[&str] = &[
    "applyment/micro/getstate",
    "applyment/micro/getupgradestate",
    "applyment/micro/modifyarchives",
    "applyment/micro/modifycontactinfo",
    "applyment/micro/signcontract",
    "applyment/micro/submit",
    "applyment/micro/submitupgrade",
    "billcommentsp/batchquerycomment",
    "deposit/consume",
    "deposit/refund",
    "deposit/reverse",
    "fund/queryautowithdrawbydate",
    "fund/reautowithdrawbydate",
    "mchrisk/querymchrisk",
    "mchrisk/syncmchriskresult",
    "mmpaymkttransfers/gethbinfo",
    "mmpaymkttransfers/gettransferinfo",
    "mmpaymkttransfers/promotion/paywwsptrans2pocket",
    "mmpaymkttransfers/promotion/querywwsptrans2pocket",
    "mmpaymkttransfers/promotion/transfers",
    "mmpaymkttransfers/queryworkwxredpack",
    "mmpaymkttransfers/send_coupon",
    "mmpaymkttransfers/sendgroupredpack",
    "mmpaymkttransfers/sendminiprogramhb",
    "mmpaymkttransfers/sendredpack",
    "mmpaymkttransfers/sendworkwxredpack",
    "mmpaysptrans/pay_bank",
    "mmpaysptrans/query_bank",
    "pay/downloadfundflow",
    "risk/getpublickey",
    "risk/getviolation",
    "secapi/mch/addInstitutionsub",
    "secapi/mch/addsubdevconfig",
    "secapi/mch/channelsetting",
    "secapi/mch/modifyInstitutionsub",
    "secapi/mch/modifymchinfo",
    "secapi/mch/queryInstitutionsub",
    "secapi/mch/querysubdevconfig",
    "secapi/mch/submchmanage",
    "secapi/mch/uploadmedia",
    "secapi/mkt/addrecommendconf",
    "secapi/pay/facepayreverse",
    "secapi/pay/multiprofitsharing",
    "secapi/pay/profitsharing",
    "secapi/pay/profitsharingfinish",
    "secapi/pay/profitsharingreturn",
    "secapi/pay/refund",
    "secapi/pay/refundv2",
    "secapi/pay/reverse",
    "wxv/cancelbill",
    "wxv/changerentmoney",
    "wxv/createhotelbill",
    "wxv/createrentbill",
    "wxv/finishhotelbill",
    "wxv/finishrentbill",
    "wxv/queryhotelbill",
    "wxv/queryrentbill",
];

/// Whether the APIv2 endpoint at `path` (no leading slash, no `v2/`) needs the
/// merchant API client certificate.
pub fn certificate_required(path: &str) -> bool {
    CERT_REQUIRED.binary_search(&path).is_ok()
}

/// The client certificate a connection presented in its handshake (already
/// checked to chain to the merchant CA), attached to each of its requests.
#[derive(Clone)]
pub(crate) struct PeerCertificate(pub(crate) CertificateDer<'static>);

/// A sandbox's TLS material: what clients need to trust it and to present the
/// merchant certificate, and the server's configuration.
///
/// `Debug` shows no key material.
#[derive(Clone)]
pub struct SandboxTls {
    ca_pem: String,
    merchant_ca_pem: String,
    client_cert_pem: String,
    client_cert_der: Vec<u8>,
    client_key_pem: String,
    client_p12: Vec<u8>,
    mchid: String,
    pub(crate) server: Arc<rustls::ServerConfig>,
}

impl SandboxTls {
    /// Issues the merchant client certificate of `keys` and configures the server.
    pub(crate) fn new(keys: &SandboxKeys) -> Result<SandboxTls, Error> {
        let authority = authority()?;
        let (client_cert_pem, client_cert_der) = authority.issue_client(keys)?;
        let client_key_pem = keys.merchant_private_pem().to_owned();
        let client_p12 = p12(
            &client_cert_der,
            &authority.merchant_ca.der,
            &client_key_pem,
            keys.mchid(),
        )?;
        Ok(SandboxTls {
            ca_pem: authority.server_ca.pem.clone(),
            merchant_ca_pem: authority.merchant_ca.pem.clone(),
            client_cert_pem,
            client_cert_der,
            client_key_pem,
            client_p12,
            mchid: keys.mchid().to_owned(),
            server: Arc::new(authority.server_config()?),
        })
    }

    /// The CA of the server certificate (PEM): what a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The merchant CA (PEM) the server checks client certificates against.
    pub fn merchant_ca_pem(&self) -> &str {
        &self.merchant_ca_pem
    }

    /// The merchant API client certificate (PEM), serial = the merchant serial.
    pub fn client_certificate_pem(&self) -> &str {
        &self.client_cert_pem
    }

    /// The client certificate's private key (PKCS#8 PEM; the merchant key).
    pub fn client_key_pem(&self) -> &str {
        &self.client_key_pem
    }

    /// The client certificate, its CA and its key as PKCS#12 (DER), encrypted with
    /// the mchid as password (PBES2: PBKDF2-SHA256 and AES-256-CBC).
    pub fn client_p12(&self) -> &[u8] {
        &self.client_p12
    }

    /// Writes `ca.pem`, `apiclient_cert.pem`, `apiclient_key.pem` and
    /// `apiclient_cert.p12` into `dir` (the key and the `.p12` readable by the
    /// owner only).
    pub(crate) fn write(&self, dir: &std::path::Path) -> Result<(), Error> {
        use super::keys::write_file;
        write_file(&dir.join(CA_FILE), self.ca_pem.as_bytes(), false)?;
        write_file(
            &dir.join(CLIENT_CERT_FILE),
            self.client_cert_pem.as_bytes(),
            false,
        )?;
        write_file(
            &dir.join(CLIENT_KEY_FILE),
            self.client_key_pem.as_bytes(),
            true,
        )?;
        write_file(&dir.join(CLIENT_P12_FILE), &self.client_p12, true)
    }

    /// `None` when the connection may call `path`; otherwise the answer WeChat
    /// gives an APIv2 call that lacks the merchant certificate.
    pub(crate) fn refuse(&self, path: &str, presented: Option<&PeerCertificate>) -> Option<String> {
        if !certificate_required(path) {
            return None;
        }
        match presented {
            None => Some(format!(
                "证书错误: /{path} 需要商户API证书 (the request presented no merchant API client certificate)"
            )),
            Some(cert) if cert.0.as_ref() != self.client_cert_der.as_slice() => Some(format!(
                "证书错误: 证书与商户号不匹配 (the client certificate presented was not issued to mch_id {})",
                self.mchid
            )),
            Some(_) => None,
        }
    }
}

impl std::fmt::Debug for SandboxTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxTls")
            .field("mchid", &self.mchid)
            .field("keys", &"redacted")
            .finish_non_exhaustive()
    }
}

/// A certificate authority: its key and self-signed certificate.
struct Issuer {
    key: rsa::PrivateKey,
    name: Name,
    der: Vec<u8>,
    pem: String,
}

/// What every sandbox of the process shares.
struct Authority {
    server_ca: Issuer,
    server_key: Vec<u8>,
    server_cert: Vec<u8>,
    merchant_ca: Issuer,
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Config(format!("the sandbox cannot make its {what} ({e})"))
}

/// The process's authority, made on first use.
fn authority() -> Result<&'static Authority, Error> {
    static AUTHORITY: OnceLock<Result<Authority, String>> = OnceLock::new();
    AUTHORITY
        .get_or_init(|| Authority::generate().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|m| Error::Config(m.clone()))
}

impl Authority {
    fn generate() -> Result<Authority, Error> {
        let server_ca = Issuer::generate("CN=Wechatpay Sandbox TLS CA,O=wechatpay-chain,C=CN")?;
        let merchant_ca =
            Issuer::generate("CN=Wechatpay Sandbox Merchant CA,O=wechatpay-chain,C=CN")?;
        let server_key = rsa_key("TLS server key")?;
        let names = vec![
            GeneralName::IpAddress(
                OctetString::new(vec![127, 0, 0, 1])
                    .map_err(|e| failed("server certificate", &e))?,
            ),
            GeneralName::DnsName(
                Ia5String::new("localhost").map_err(|e| failed("server certificate", &e))?,
            ),
        ];
        let server_cert = server_ca.issue(
            "CN=localhost,O=wechatpay-chain,C=CN",
            &rsa::PublicKey::from(&server_key),
            None,
            Leaf::server(names),
        )?;
        let server_key = server_key
            .to_pkcs8_der()
            .map_err(|e| failed("TLS server key", &e))?
            .as_bytes()
            .to_vec();
        Ok(Authority {
            server_ca,
            server_key,
            server_cert,
            merchant_ca,
        })
    }

    /// The merchant API certificate of `keys`: the merchant public key, CN = the
    /// mchid, serial = the merchant serial when it is hex (as WeChat's are).
    fn issue_client(&self, keys: &SandboxKeys) -> Result<(String, Vec<u8>), Error> {
        let public = rsa::PublicKey::from_public_key_pem(keys.merchant_public_pem())
            .map_err(|e| failed("merchant client certificate", &e))?;
        let mchid: String = keys
            .mchid()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let serial = decode_hex(keys.merchant_serial());
        let der = self.merchant_ca.issue(
            &format!("CN={mchid},OU=Wechatpay Sandbox Merchant,O=wechatpay-chain,C=CN"),
            &public,
            serial.as_deref(),
            Leaf::client(),
        )?;
        Ok((pem_of(&der, "merchant client certificate")?, der))
    }

    fn server_config(&self) -> Result<rustls::ServerConfig, Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.merchant_ca.der.clone()))
            .map_err(|e| failed("TLS configuration", &e))?;
        // Optional at the handshake, so a call without the certificate gets
        // WeChat's answer rather than a broken connection; checked per endpoint.
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| failed("TLS configuration", &e))?;
        let chain = vec![
            CertificateDer::from(self.server_cert.clone()),
            CertificateDer::from(self.server_ca.der.clone()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| failed("TLS configuration", &e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| failed("TLS configuration", &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// A certificate's PEM form.
fn pem_of(der: &[u8], what: &str) -> Result<String, Error> {
    use x509_cert::der::Decode;
    Certificate::from_der(der)
        .and_then(|c| c.to_pem(x509_cert::der::pem::LineEnding::LF))
        .map_err(|e| failed(what, &e))
}

impl Issuer {
    /// A fresh key and its self-signed CA certificate, valid for ten years.
    fn generate(subject: &str) -> Result<Issuer, Error> {
        let what = "certificate authority";
        let key = rsa_key(what)?;
        let name = Name::from_str(subject).map_err(|e| failed(what, &e))?;
        let profile = Root::new(false, name.clone()).map_err(|e| failed(what, &e))?;
        let der = build(profile, &key, &rsa::PublicKey::from(&key), None, what)?;
        let pem = pem_of(&der, what)?;
        Ok(Issuer {
            key,
            name,
            der,
            pem,
        })
    }

    /// A certificate (DER) of `public` for `subject`, signed by this CA.
    fn issue(
        &self,
        subject: &str,
        public: &rsa::PublicKey,
        serial: Option<&[u8]>,
        mut leaf: Leaf,
    ) -> Result<Vec<u8>, Error> {
        let what = "certificate";
        leaf.issuer = self.name.clone();
        leaf.subject = Name::from_str(subject).map_err(|e| failed(what, &e))?;
        build(leaf, &self.key, public, serial, what)
    }
}

/// Builds and signs (RSASSA-PKCS1-v1_5, SHA-256) a certificate valid from an hour
/// ago (clocks differ) for ten years, with `serial` or a random one.
fn build(
    profile: impl BuilderProfile,
    signer: &rsa::PrivateKey,
    public: &rsa::PublicKey,
    serial: Option<&[u8]>,
    what: &str,
) -> Result<Vec<u8>, Error> {
    let random;
    let serial = match serial {
        Some(s) => s,
        None => {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| failed(what, &e))?;
            bytes[0] = (bytes[0] & 0x7F) | 0x10; // positive, full length
            random = bytes;
            &random
        }
    };
    let mut validity =
        Validity::from_now(Duration::from_secs(10 * 365 * 86_400)).map_err(|e| failed(what, &e))?;
    let earlier = validity
        .not_before
        .to_system_time()
        .checked_sub(Duration::from_secs(3600))
        .ok_or_else(|| failed(what, &"the clock is before 1970"))?;
    validity.not_before = x509_cert::time::Time::try_from(earlier).map_err(|e| failed(what, &e))?;
    let spki = SubjectPublicKeyInfo::from_key(public).map_err(|e| failed(what, &e))?;
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::new(serial).map_err(|e| failed(what, &e))?,
        validity,
        spki,
    )
    .map_err(|e| failed(what, &e))?;
    let signing_key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(signer.clone());
    builder
        .build::<_, rsa::pkcs1v15::Signature>(&signing_key)
        .and_then(|cert| cert.to_der().map_err(Into::into))
        .map_err(|e| failed(what, &e))
}

/// The profile of the certificates the CAs issue: not a CA, the one extended key
/// usage given, and the server's names.
struct Leaf {
    issuer: Name,
    subject: Name,
    usage: x509_cert::der::oid::ObjectIdentifier,
    names: Option<Vec<GeneralName>>,
}

impl Leaf {
    fn server(names: Vec<GeneralName>) -> Leaf {
        Leaf {
            issuer: Name::default(),
            subject: Name::default(),
            usage: x509_cert::der::oid::db::rfc5280::ID_KP_SERVER_AUTH,
            names: Some(names),
        }
    }

    fn client() -> Leaf {
        Leaf {
            issuer: Name::default(),
            subject: Name::default(),
            usage: x509_cert::der::oid::db::rfc5280::ID_KP_CLIENT_AUTH,
            names: None,
        }
    }
}

impl BuilderProfile for Leaf {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut extensions = Vec::new();
        let aki = AuthorityKeyIdentifier::try_from(issuer_spk)?;
        extensions.push(aki.to_extension(subject, &extensions)?);
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        extensions.push(ski.to_extension(subject, &extensions)?);
        let basic = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        extensions.push(basic.to_extension(subject, &extensions)?);
        let usage = KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment);
        extensions.push(usage.to_extension(subject, &extensions)?);
        let eku = ExtendedKeyUsage(vec![self.usage]);
        extensions.push(eku.to_extension(subject, &extensions)?);
        if let Some(names) = &self.names {
            let san = SubjectAltName(names.clone());
            extensions.push(san.to_extension(subject, &extensions)?);
        }
        Ok(extensions)
    }
}

fn rsa_key(what: &str) -> Result<rsa::PrivateKey, Error> {
    rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| failed(what, &e))
}

/// `serial` as bytes when it is an even-length hex string of at most 20 bytes
/// with the top bit clear (a positive X.509 serial), as WeChat's serials are.
fn decode_hex(serial: &str) -> Option<Vec<u8>> {
    if serial.is_empty() || !serial.len().is_multiple_of(2) || serial.len() > 40 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..serial.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(serial.get(i..i + 2)?, 16).ok())
        .collect();
    bytes.filter(|b| {
        b.first()
            .is_some_and(|first| first & 0x80 == 0 && *first != 0)
    })
}

/// The certificate, its CA and the key as PKCS#12, encrypted with `password`.
fn p12(cert: &[u8], ca: &[u8], key_pem: &str, password: &str) -> Result<Vec<u8>, Error> {
    use p12_keystore::{
        Certificate as P12Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm,
        PrivateKey as P12Key, PrivateKeyChain,
    };
    let what = "merchant .p12";
    let key = rsa::PrivateKey::from_pkcs8_pem(key_pem)
        .and_then(|k| k.to_pkcs8_der())
        .map_err(|e| failed(what, &e))?;
    let key = P12Key::from_der(key.as_bytes()).map_err(|e| failed(what, &e))?;
    let certs = [cert, ca]
        .into_iter()
        .map(P12Certificate::from_der)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(what, &e))?;
    let mut store = KeyStore::new();
    let chain = PrivateKeyChain::new(b"Tenpay Certificate".as_slice(), key, certs);
    store.add_entry("Tenpay Certificate", KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer(password)
        .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .encryption_iterations(2048)
        .mac_algorithm(MacAlgorithm::HmacSha256)
        .mac_iterations(2048)
        .write()
        .map_err(|e| failed(what, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(CERT_REQUIRED.windows(2).all(|w| w[0] < w[1]));
        assert!(certificate_required("secapi/pay/refund"));
        assert!(!certificate_required("pay/micropay"));
    }

    #[test]
    fn issues_the_merchant_certificate_and_its_p12() {
        use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
        use x509_cert::der::{Decode, DecodePem};
        let keys = SandboxKeys::fixture().unwrap();
        let tls = SandboxTls::new(&keys).unwrap();
        let cert = Certificate::from_pem(tls.client_certificate_pem()).unwrap();
        let tbs = cert.tbs_certificate();
        assert_eq!(
            tbs.serial_number().as_bytes(),
            decode_hex(keys.merchant_serial()).unwrap().as_slice()
        );
        assert!(tbs.subject().to_string().contains("CN=1900000001"));
        let ca = Certificate::from_pem(tls.merchant_ca_pem()).unwrap();
        assert_eq!(tbs.issuer(), ca.tbs_certificate().subject());
        assert_ne!(tls.ca_pem(), tls.merchant_ca_pem());

        // The .p12 opens with the mchid only, and holds that certificate, its CA
        // and the merchant key.
        let store =
            KeyStore::from_pkcs12(tls.client_p12(), keys.mchid(), Pkcs12ImportPolicy::Strict)
                .unwrap();
        let (_, chain) = store.private_key_chain().unwrap();
        let der = |pem: &str| Certificate::from_pem(pem).unwrap().to_der().unwrap();
        assert_eq!(chain.certs()[0].as_der(), der(tls.client_certificate_pem()));
        assert_eq!(chain.certs()[1].as_der(), der(tls.merchant_ca_pem()));
        let key = rsa::PrivateKey::from_pkcs8_der(chain.key().as_der()).unwrap();
        let merchant = rsa::PrivateKey::from_pkcs8_pem(keys.merchant_private_pem()).unwrap();
        assert_eq!(key, merchant);
        assert!(
            KeyStore::from_pkcs12(tls.client_p12(), "1900000002", Pkcs12ImportPolicy::Strict)
                .is_err()
        );
        let _ = Certificate::from_der(&tls.client_cert_der).unwrap();
        assert!(!format!("{tls:?}").contains("BEGIN"));
    }

    #[test]
    fn hex_serials_become_certificate_serials() {
        assert_eq!(decode_hex("3775B6A4"), Some(vec![0x37, 0x75, 0xB6, 0xA4]));
        assert_eq!(decode_hex("F775"), None, "negative");
        assert_eq!(decode_hex("PUB_KEY"), None);
        assert_eq!(decode_hex("377"), None);
    }
}
