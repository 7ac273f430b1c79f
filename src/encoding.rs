//! RFC 3986 percent-encoding, the one encoding used for paths and queries.
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
            let hex = bytes.get(i + 1..i + 3);
            if !matches!(hex, Some(h) if h.iter().all(u8::is_ascii_hexdigit)) {
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
    fn sendable_query_rejects_what_would_be_rewritten() {
        assert!(is_sendable_query("a=1&b=%E5%85%88"));
        assert!(!is_sendable_query("a=1 2"));
        assert!(!is_sendable_query("a='x'"));
        assert!(!is_sendable_query("a=%G1"));
        assert!(!is_sendable_query("a=先"));
        assert!(!is_sendable_query("a=1#f"));
    }
}
