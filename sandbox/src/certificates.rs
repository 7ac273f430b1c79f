//! `GET v3/certificates`: the platform certificate, encrypted with the sandbox's
//! APIv3 key (AEAD_AES_256_GCM, associated data `certificate`), as WeChat serves it.
//! With [`SandboxBuilder::sign_with_certificate`](super::SandboxBuilder::sign_with_certificate)
//! every answer, this one included, is signed under the certificate's serial, so a
//! client that does not know the certificate yet exercises the bootstrap check.

use std::time::{SystemTime, UNIX_EPOCH};

use http::StatusCode;
use serde_json::json;
use x509_cert::der::DecodePem;
use x509_cert::Certificate;

use super::keys::SandboxKeys;
use super::routes::{error, Reply};
use wechatpay_chain::crypto::{nonce, ApiV3Key};
use wechatpay_chain::Error;

/// The sandbox's APIv3 key (32 bytes); [`Sandbox::client`](super::Sandbox::client)
/// is configured with it.
pub const APIV3_KEY: &str = "wechatpay-chain-sandbox-apiv3key";

/// The route's template.
pub(crate) const TEMPLATE: &str = "v3/certificates";

/// The listing with the platform certificate, or 404 when the keys have none.
pub(crate) fn listing(keys: &SandboxKeys) -> Reply {
    let (Some(pem), Some(serial)) = (
        keys.platform_certificate_pem(),
        keys.platform_certificate_serial(),
    ) else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "these sandbox keys have no platform certificate (the fixture keys have one; add platform_cert.pem to the keys directory); use the public key id",
        );
    };
    let (not_before, not_after) = match Certificate::from_pem(pem.as_bytes()) {
        Ok(cert) => {
            let v = cert.tbs_certificate().validity();
            (v.not_before.to_system_time(), v.not_after.to_system_time())
        }
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                format!("the sandbox certificate does not parse ({e})"),
            )
        }
    };
    let sealed = ApiV3Key::new(APIV3_KEY).and_then(|key| {
        let nonce: String = nonce::generate().chars().take(12).collect();
        key.encrypt(nonce.as_bytes(), b"certificate", pem.as_bytes())
            .map(|ciphertext| (nonce, ciphertext))
    });
    let (nonce, ciphertext) = match sealed {
        Ok(sealed) => sealed,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                format!("the sandbox cannot encrypt its certificate ({e})"),
            )
        }
    };
    (
        StatusCode::OK,
        json!({ "data": [{
            "serial_no": serial,
            "effective_time": rfc3339_beijing(not_before),
            "expire_time": rfc3339_beijing(not_after),
            "encrypt_certificate": {
                "algorithm": "AEAD_AES_256_GCM",
                "nonce": nonce,
                "associated_data": "certificate",
                "ciphertext": ciphertext,
            },
        }]}),
    )
}

/// A self-signed X.509 certificate (PEM) for a generated platform key: a random
/// 20-byte serial, valid from now for five years, RSASSA-PKCS1-v1_5 with SHA-256.
pub(crate) fn self_signed(key: &rsa::PrivateKey) -> Result<String, Error> {
    use std::str::FromStr;
    use std::time::Duration;
    use x509_cert::builder::{profile::cabf::Root, Builder, CertificateBuilder};
    use x509_cert::der::EncodePem;
    use x509_cert::name::Name;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::SubjectPublicKeyInfo;
    use x509_cert::time::Validity;

    let failed = |e: &dyn std::fmt::Display| {
        Error::Config(format!(
            "cannot make the sandbox platform certificate ({e})"
        ))
    };
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let subject =
        Name::from_str("CN=Wechatpay Sandbox Platform,O=Tenpay.com,L=Shenzhen,ST=Guangdong,C=CN")
            .map_err(|e| failed(&e))?;
    let mut serial = [0u8; 20];
    getrandom::fill(&mut serial).map_err(|e| failed(&e))?;
    serial[0] = (serial[0] & 0x7F) | 0x10; // positive, and 20 bytes long
    let spki =
        SubjectPublicKeyInfo::from_key(&rsa::PublicKey::from(key)).map_err(|e| failed(&e))?;
    let builder = CertificateBuilder::new(
        Root::new(false, subject).map_err(|e| failed(&e))?,
        SerialNumber::new(&serial).map_err(|e| failed(&e))?,
        Validity::from_now(Duration::from_secs(5 * 365 * 86_400)).map_err(|e| failed(&e))?,
        spki,
    )
    .map_err(|e| failed(&e))?;
    let cert = builder
        .build::<_, rsa::pkcs1v15::Signature>(&signer)
        .map_err(|e| failed(&e))?;
    cert.to_pem(x509_cert::der::pem::LineEnding::LF)
        .map_err(|e| failed(&e))
}

/// `2024-01-01T08:00:00+08:00`: a time as WeChat writes it (Beijing time).
pub(crate) fn rfc3339_beijing(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        + 8 * 3600;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_beijing_time() {
        assert_eq!(rfc3339_beijing(UNIX_EPOCH), "1970-01-01T08:00:00+08:00");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_222_399); // 2024-02-29T15:59:59Z
        assert_eq!(rfc3339_beijing(t), "2024-02-29T23:59:59+08:00");
    }

    #[test]
    fn lists_the_fixture_certificate_encrypted() {
        let keys = SandboxKeys::fixture().unwrap();
        let (status, body) = listing(&keys);
        assert_eq!(status, StatusCode::OK);
        let entry = &body["data"][0];
        assert_eq!(
            entry["serial_no"],
            "7132D72A03E93CDDF8C03BBD1F37EEDF00000001"
        );
        let c = &entry["encrypt_certificate"];
        let plain = ApiV3Key::new(APIV3_KEY)
            .unwrap()
            .decrypt(
                c["nonce"].as_str().unwrap().as_bytes(),
                b"certificate",
                c["ciphertext"].as_str().unwrap(),
            )
            .unwrap();
        assert!(plain.starts_with(b"-----BEGIN CERTIFICATE-----"));
    }
}
