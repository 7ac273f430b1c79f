//! RFC 3986 percent-encoding, the one encoding used for paths and queries, and its
//! decoding (download URLs).
//!
//! Everything outside unreserved (`A-Za-z0-9-._~`) is encoded, space as `%20`, so the
//! bytes signed are the bytes sent and no HTTP layer has a reason to re-encode them.

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Lower-case hex of `bytes` (digests, serial numbers, file hashes).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX_LOWER[(b >> 4) as usize] as char);
        s.push(HEX_LOWER[(b & 15) as usize] as char);
    }
    s
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Whether `b` is an RFC 3986 unreserved byte.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` to `out`, percent-encoding every byte outside unreserved.
pub(crate) fn percent_encode_into(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
}

/// Whether a ready-made query string can be sent as is: only characters that every
/// HTTP layer (including WHATWG URL parsing) leaves untouched.
pub(crate) fn is_sendable_query(query: &str) -> bool {
    let bytes = query.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if escape_at(bytes, i).is_none() {
                return false;
            }
            i += 3;
            continue;
        }
        if !(is_unreserved(b) || b"!$&()*+,;=:@/?".contains(&b)) {
            return false;
        }
        i += 1;
    }
    true
}

/// The byte the escape at `bytes[i..i + 3]` stands for, when it is `%` and two hex
/// digits.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let digit = |b: &u8| (*b as char).to_digit(16);
    match bytes.get(i..i + 3)? {
        [b'%', high, low] => Some((digit(high)? * 16 + digit(low)?) as u8),
        _ => None,
    }
}

/// Decodes `%XX` escapes; `None` when one is malformed (`%`, then not two hex digits).
pub(crate) fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], escape_at(bytes, i)) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'%', None) => return None,
            (b, _) => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_outside_unreserved() {
        let mut s = String::new();
        percent_encode_into("a b/先~".as_bytes(), &mut s);
        assert_eq!(s, "a%20b%2F%E5%85%88~");
    }

    #[test]
    fn decoding_refuses_malformed_escapes() {
        assert_eq!(
            percent_decode("%E5%BE%AEa%2f").as_deref(),
            Some("微a/".as_bytes())
        );
        for bad in ["%zz", "%4", "a%", "%+1", "%-1", "% 1"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn sendable_query_rejects_what_would_be_rewritten() {
        assert!(is_sendable_query("a=1&b=%E5%85%88"));
        assert!(!is_sendable_query("a=1 2"));
        assert!(!is_sendable_query("a='x'"));
        assert!(!is_sendable_query("a=%G1"));
        assert!(!is_sendable_query("a=先"));
        assert!(!is_sendable_query("a=1#f"));
    }
}
