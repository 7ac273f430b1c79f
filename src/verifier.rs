//! APIv3 response verification, as a pure function of headers, body and the time.

use std::collections::HashMap;
use std::fmt;

use http::HeaderMap;
use sha1::{Digest, Sha1};

use crate::crypto::PublicKey;

/// Header carrying the platform's timestamp.
pub const TIMESTAMP: &str = "Wechatpay-Timestamp";
/// Header carrying the platform's nonce.
pub const NONCE: &str = "Wechatpay-Nonce";
/// Header naming the platform key (certificate serial or `PUB_KEY_ID_…`).
pub const SERIAL: &str = "Wechatpay-Serial";
/// Header carrying the base64 signature.
pub const SIGNATURE: &str = "Wechatpay-Signature";
/// Header carrying the SHA-1 of an overseas statement, signed in place of its body.
pub const STATEMENT_SHA1: &str = "Wechatpay-Statement-Sha1";

/// The largest accepted distance between the answer's timestamp and the local clock.
pub const MAX_CLOCK_OFFSET: i64 = 300;

/// Builds the string to verify: timestamp, nonce and body, each followed by `\n`.
pub fn string_to_verify(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for piece in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        s.extend_from_slice(piece);
        s.push(b'\n');
    }
    s
}

/// Why an answer failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// One of the four signature headers is missing.
    MissingHeader(&'static str),
    /// The timestamp is not a number.
    BadTimestamp(String),
    /// The timestamp is more than [`MAX_CLOCK_OFFSET`] seconds from the local clock.
    Stale {
        /// The answer's timestamp.
        timestamp: i64,
        /// The local clock.
        now: i64,
    },
    /// The serial names no configured platform key.
    UnknownSerial {
        /// The serial the answer named.
        serial: String,
        /// The serials configured.
        known: Vec<String>,
    },
    /// The signature does not match the body.
    BadSignature {
        /// The serial of the key that was used.
        serial: String,
    },
    /// An overseas statement whose body does not hash to the signed
    /// `Wechatpay-Statement-Sha1`.
    StatementDigest {
        /// The SHA-1 the signed header declares.
        declared: String,
        /// The SHA-1 of the body received.
        actual: String,
    },
    /// An APIv2 answer that is not XML this crate reads (malformed, too deep, too
    /// many elements, a DOCTYPE).
    ApiV2Unreadable {
        /// What the XML reader refused.
        reason: String,
    },
    /// An APIv2 answer with `return_code` SUCCESS but no `result_code`, which the
    /// endpoint always sends: the call's outcome is unknown.
    ApiV2NoResultCode,
    /// An APIv2 answer without its `sign` field.
    ApiV2NoSign,
    /// An APIv2 answer whose `sign` does not match its fields.
    ApiV2BadSign,
    /// A platform certificate listing signed by a key the client does not trust,
    /// while it trusts others: the certificates it brings do not vouch for it.
    UntrustedListing(Box<Rejection>),
    /// A first certificate download (no key trusted yet) that the certificates it
    /// brings do not verify.
    BootstrapListing(Box<Rejection>),
    /// A streamed download refused once the file was written: discard it.
    AlreadyWritten(Box<Rejection>),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::MissingHeader(h) => write!(f, "the answer has no `{h}` header (unsigned)"),
            Rejection::BadTimestamp(t) => {
                write!(f, "`{TIMESTAMP}` is not a unix timestamp: {:?}", truncate(t))
            }
            Rejection::Stale { timestamp, now } => write!(
                f,
                "`{TIMESTAMP}` {timestamp} is {}s from the local clock {now} (more than {MAX_CLOCK_OFFSET}s); check the clock",
                now.abs_diff(*timestamp)
            ),
            Rejection::UnknownSerial { serial, known } => write!(
                f,
                "`{SERIAL}` {:?} names no configured platform key (configured: {}); add its certificate or public key",
                truncate(serial),
                known.join(", ")
            ),
            Rejection::BadSignature { serial } => {
                write!(f, "the signature does not match the body (platform key {serial})")
            }
            Rejection::StatementDigest { declared, actual } => write!(
                f,
                "the statement body hashes (SHA-1) to {actual}, not the signed `{STATEMENT_SHA1}` {:?}",
                truncate(declared)
            ),
            Rejection::ApiV2Unreadable { reason } => {
                write!(f, "the APIv2 answer is not readable XML: {reason}")
            }
            Rejection::ApiV2NoResultCode => f.write_str(
                "the APIv2 answer has `return_code` SUCCESS but no `result_code`, which this endpoint always sends; the call's outcome is unknown",
            ),
            Rejection::ApiV2NoSign => f.write_str("the APIv2 answer has no `sign`"),
            Rejection::ApiV2BadSign => {
                f.write_str("the APIv2 answer's `sign` does not match its fields")
            }
            Rejection::UntrustedListing(inner) => write!(
                f,
                "{inner}; a certificate listing must be signed by a platform key already trusted (the certificates it brings do not vouch for it)"
            ),
            Rejection::BootstrapListing(inner) => write!(
                f,
                "the certificate download is signed by a key not configured, and the certificates it brings do not verify it: {inner}"
            ),
            Rejection::AlreadyWritten(inner) => write!(f, "{inner}; discard what was written"),
        }
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Checks answers against the configured platform keys.
#[derive(Clone, Default)]
pub struct Verifier {
    keys: HashMap<String, PublicKey>,
}

impl Verifier {
    /// A verifier with no keys.
    pub fn new() -> Self {
        Verifier::default()
    }

    /// Adds a platform key under its certificate serial or `PUB_KEY_ID_…`.
    pub fn add(&mut self, serial: impl Into<String>, key: PublicKey) {
        self.keys.insert(serial.into(), key);
    }

    /// Whether a key is registered under `serial`.
    pub fn contains(&self, serial: &str) -> bool {
        self.keys.contains_key(serial)
    }

    /// The registered serials, sorted.
    pub fn serials(&self) -> Vec<String> {
        let mut v: Vec<String> = self.keys.keys().cloned().collect();
        v.sort();
        v
    }

    /// The key registered under `serial`.
    pub fn key(&self, serial: &str) -> Option<&PublicKey> {
        self.keys.get(serial)
    }

    /// The registered keys with their serials, sorted by serial.
    pub fn entries(&self) -> Vec<(&str, &PublicKey)> {
        let mut v: Vec<(&str, &PublicKey)> =
            self.keys.iter().map(|(s, k)| (s.as_str(), k)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Removes the key registered under `serial`; true when there was one.
    pub fn remove(&mut self, serial: &str) -> bool {
        self.keys.remove(serial).is_some()
    }

    /// Verifies an answer's headers and body at local time `now` (unix seconds).
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), Rejection> {
        // Borrowed from the headers (copied only into a rejection).
        let get = |name: &'static str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
                .ok_or(Rejection::MissingHeader(name))
        };
        let nonce = get(NONCE)?;
        let serial = get(SERIAL)?;
        let signature = get(SIGNATURE)?;
        let timestamp = get(TIMESTAMP)?;
        let ts: i64 = match timestamp.parse() {
            Ok(ts) if timestamp.bytes().all(|b| b.is_ascii_digit()) => ts,
            _ => return Err(Rejection::BadTimestamp(timestamp.into_owned())),
        };
        if now.abs_diff(ts) > MAX_CLOCK_OFFSET as u64 {
            return Err(Rejection::Stale { timestamp: ts, now });
        }
        let Some(key) = self.keys.get(serial.as_ref()) else {
            return Err(Rejection::UnknownSerial {
                serial: serial.into_owned(),
                known: self.serials(),
            });
        };
        let message = string_to_verify(&timestamp, &nonce, body);
        if key.verify_base64(&message, &signature) {
            Ok(())
        } else {
            Err(Rejection::BadSignature {
                serial: serial.into_owned(),
            })
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("serials", &self.serials())
            .finish()
    }
}

/// Whether WeChat serves `path` (the expanded path without the base prefix, no
/// leading slash, no query) unsigned, so its answer is checked by hash instead.
///
/// ```
/// use wechatpay_chain::verifier::is_unsigned_download;
/// assert!(is_unsigned_download("v3/billdownload/file"));
/// assert!(is_unsigned_download("v3/merchant-service/images/abc"));
/// assert!(!is_unsigned_download("v3/merchant-service/images/upload"));
/// assert!(!is_unsigned_download("v3/bill/tradebill"));
/// ```
pub fn is_unsigned_download(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p == "v3/billdownload/file"
        || (p.starts_with("v3/merchant-service/images/")
            && p != "v3/merchant-service/images/upload")
        || p.starts_with("v3/transferdownload/")
        || p == "v3/new-tax-control-fapiao/download"
        || p.starts_with("v3/new-tax-control-fapiao/download/")
}

/// The SHA-1 (hex) of an answer's body when the body itself is not kept (a
/// statement streamed to a writer), in the answer's extensions.
#[derive(Debug, Clone)]
pub(crate) struct BodySha1(pub(crate) String);

/// Verifies an overseas statement: the signature covers `{"sha1":"<declared>"}`
/// built from the `Wechatpay-Statement-Sha1` header, and the body must hash to that
/// SHA-1 (else a validly signed header would vouch for any body). The body's hash is
/// [`BodySha1`] when present, else computed from the body.
pub(crate) fn verify_statement(
    keys: &Verifier,
    raw: &http::Response<bytes::Bytes>,
    declared: &http::HeaderValue,
    now: i64,
) -> Result<(), Rejection> {
    let declared = String::from_utf8_lossy(declared.as_bytes());
    let signed = format!(r#"{{"sha1":"{declared}"}}"#);
    keys.verify(raw.headers(), signed.as_bytes(), now)?;
    let actual = match raw.extensions().get::<BodySha1>() {
        Some(streamed) => streamed.0.clone(),
        None => crate::encoding::hex(&Sha1::digest(raw.body())),
    };
    if declared.trim().eq_ignore_ascii_case(&actual) {
        Ok(())
    } else {
        Err(Rejection::StatementDigest {
            declared: declared.into_owned(),
            actual,
        })
    }
}

/// Whether `path` is an overseas statement download, whose signature covers
/// `{"sha1":"…"}` built from the `Wechatpay-Statement-Sha1` header instead of the body.
pub(crate) fn is_statement(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p == "v3/global/statements" || p == "hk/v3/statements" || p == "v3/statements"
}
