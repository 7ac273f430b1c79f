//! The string forms of a key that wechatpay-php's `Rsa::from` accepts besides a
//! plain PEM: `private.pkcs1://…`-style base64 DER, bare base64 DER, and PEM whose
//! base64 is not wrapped at 64 columns. Errors never echo the input.

use base64::Engine as _;

use crate::error::Error;

const B64: base64::engine::general_purpose::GeneralPurpose =
    base64::engine::general_purpose::STANDARD;

/// The DER structures a base64 key form may hold.
#[derive(Clone, Copy)]
pub(super) enum DerForm {
    Pkcs8,
    Pkcs1,
    Spki,
}

impl DerForm {
    pub(super) fn name(self) -> &'static str {
        match self {
            DerForm::Pkcs8 => "PKCS#8",
            DerForm::Pkcs1 => "PKCS#1",
            DerForm::Spki => "SPKI",
        }
    }
}

/// The PEM with its base64 rewrapped at 64 columns, as PHP's `Rsa::from` does
/// before OpenSSL reads it (a key pasted on one line, or with CRLF); `None` when
/// it is not one PEM block or already wrapped alike.
pub(super) fn rewrap_pem(text: &str) -> Option<String> {
    let begin = text.find("-----BEGIN ")?;
    let after = &text[begin + 11..];
    let label_end = after.find("-----")?;
    let label = &after[..label_end];
    let body_and_end = &after[label_end + 5..];
    let end = body_and_end.find(&format!("-----END {label}-----"))?;
    let body: String = body_and_end[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).ok()?);
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    (pem.trim() != text.trim()).then_some(pem)
}

/// Decodes the base64 of a key form (line breaks allowed, as PHP wraps it).
pub(super) fn decode_der(text: &str, what: &str) -> Result<Vec<u8>, Error> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(Error::key(what, "holds no key data"));
    }
    B64.decode(compact.as_bytes())
        .map_err(|_| Error::key(what, "is not valid base64 DER"))
}

/// A scheme as shown in an error: short, and only when it looks like one (a key
/// pasted by mistake is not echoed).
pub(super) fn shown_scheme(scheme: &str) -> &str {
    let plausible = scheme.len() <= 16
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if plausible {
        scheme
    } else {
        "…"
    }
}
