//! The two halves of the protocol as WeChat Pay's side sees them: checking a
//! request's `Authorization` and (in `cache.rs`) signing an answer. The strings signed come from
//! [`wechatpay_chain::signer`] and [`wechatpay_chain::verifier`], so the protocol is written once.

use http::header::AUTHORIZATION;
use http::request::Parts;

use super::keys::SandboxKeys;
use wechatpay_chain::signer::{string_to_sign, SCHEME};
use wechatpay_chain::verifier::MAX_CLOCK_OFFSET;

/// The header naming the signature scheme of an answer.
pub(crate) const SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";

/// Checks a request's Authorization header against the merchant's public key,
/// over the request target and body exactly as received. The error is the
/// `message` of a `SIGN_ERROR` answer.
pub(crate) fn verify_request(
    keys: &SandboxKeys,
    parts: &Parts,
    body: &[u8],
    now: i64,
) -> Result<(), String> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or("the request has no Authorization header")?;
    let header = header
        .to_str()
        .map_err(|_| "the Authorization header is not visible ASCII")?;
    let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
    if scheme != SCHEME {
        return Err(format!(
            "unsupported Authorization scheme `{}`; expected `{SCHEME}`",
            clip(scheme)
        ));
    }
    let fields = parse_fields(params)?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("the Authorization header has no `{name}` field"))
    };
    let (mchid, serial, timestamp, nonce, signature) = (
        field("mchid")?,
        field("serial_no")?,
        field("timestamp")?,
        field("nonce_str")?,
        field("signature")?,
    );
    if mchid != keys.mchid() {
        return Err(format!(
            "mchid `{}` is not this merchant ({})",
            clip(mchid),
            keys.mchid()
        ));
    }
    if serial != keys.merchant_serial() {
        return Err(format!(
            "serial_no `{}` is not the merchant certificate serial ({})",
            clip(serial),
            keys.merchant_serial()
        ));
    }
    let ts: i64 = match timestamp.parse() {
        Ok(ts) if !timestamp.is_empty() && timestamp.bytes().all(|b| b.is_ascii_digit()) => ts,
        _ => {
            return Err(format!(
                "timestamp `{}` is not a unix timestamp",
                clip(timestamp)
            ))
        }
    };
    if now.abs_diff(ts) > MAX_CLOCK_OFFSET as u64 {
        return Err(format!(
            "timestamp {ts} is {}s from the server clock {now} (allowed: {MAX_CLOCK_OFFSET}s); check the clock",
            now.abs_diff(ts)
        ));
    }
    if nonce.is_empty() {
        return Err("nonce_str is empty".into());
    }
    let target = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let message = string_to_sign(parts.method.as_str(), target, timestamp, nonce, body);
    if !keys
        .merchant_public_key()
        .verify_base64(&message, signature)
    {
        return Err(format!(
            "the signature does not verify with the merchant key {} over `{} {target}` and the {}-byte body",
            keys.merchant_serial(),
            parts.method,
            body.len()
        ));
    }
    Ok(())
}

/// Splits `k="v",k="v",…` (any order, optional spaces after commas). A field
/// given twice is refused: which one would be meant is ambiguous.
fn parse_fields(params: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(5);
    for piece in params.split(',') {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let parsed = piece
            .split_once('=')
            .and_then(|(k, v)| Some((k.trim(), v.strip_prefix('"')?.strip_suffix('"')?)));
        let Some((key, value)) = parsed else {
            return Err(format!(
                "malformed Authorization field `{}`; expected key=\"value\"",
                clip(piece)
            ));
        };
        if fields.iter().any(|(k, _)| *k == key) {
            return Err(format!(
                "the Authorization field `{}` is given twice",
                clip(key)
            ));
        }
        fields.push((key, value));
    }
    Ok(fields)
}

/// At most 64 characters of a value echoed in an error message.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechatpay_chain::signer::Signer;

    fn parts(auth: &str) -> Parts {
        let (parts, ()) = http::Request::builder()
            .method("GET")
            .uri("/v3/x?a=1")
            .header(AUTHORIZATION, auth)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    /// The merchant's Authorization for `GET /v3/x?a=1` at 1000 with nonce `N0`.
    fn signed(keys: &SandboxKeys) -> String {
        let signer = Signer::new(
            keys.mchid(),
            keys.merchant_serial(),
            keys.merchant_private_key().clone(),
        );
        signer
            .authorization("GET", "/v3/x?a=1", b"", "1000", "N0")
            .unwrap()
    }

    #[test]
    fn accepts_a_signed_request_with_fields_in_any_order() {
        let keys = SandboxKeys::fixture().unwrap();
        let auth = signed(&keys);
        assert_eq!(verify_request(&keys, &parts(&auth), b"", 1100), Ok(()));
        let (scheme, rest) = auth.split_once(' ').unwrap();
        let mut fields: Vec<&str> = rest.split(',').collect();
        fields.reverse();
        let reordered = format!("{scheme} {}", fields.join(", "));
        assert_eq!(verify_request(&keys, &parts(&reordered), b"", 1100), Ok(()));
    }

    #[test]
    fn names_what_failed() {
        let keys = SandboxKeys::fixture().unwrap();
        let auth = signed(&keys);
        let err = |auth: &str, body: &[u8], now| {
            verify_request(&keys, &parts(auth), body, now).unwrap_err()
        };
        assert!(err(&auth, b"", 1400).contains("from the server clock"));
        assert!(err(&auth, b"x", 1000).contains("does not verify"));
        assert!(err(&auth.replace("WECHATPAY2", "WECHATPAY3"), b"", 1000).contains("scheme"));
        assert!(err(&auth.replace("1900000001", "1900000002"), b"", 1000).contains("mchid"));
        assert!(err(&auth.replace("5DD00000001", "5DD00000002"), b"", 1000).contains("serial_no"));
        assert!(err(&auth.replace("nonce_str=\"N0\",", ""), b"", 1000).contains("`nonce_str`"));
        assert!(err(&auth.replace("=\"1000\"", "=1000"), b"", 1000).contains("malformed"));
    }
}
