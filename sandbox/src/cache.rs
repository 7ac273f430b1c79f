//! The sandbox's optional cache of answer signatures, and its counters.
//!
//! Signing an answer costs the sandbox one RSA-2048 private-key operation, as much
//! as the client spends on its request: a benchmark would measure the sandbox. With
//! [`SandboxBuilder::cache_signatures`](super::SandboxBuilder::cache_signatures) an
//! answer whose body was signed less than `ttl` ago reuses that signature, its
//! timestamp and its nonce (all three are what is signed), so it still verifies:
//! the timestamp stays well inside the 300 s window. `Request-ID` stays unique (it is
//! not signed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::auth::SIGNATURE_TYPE;
use super::keys::SandboxKeys;
use wechatpay_chain::crypto::nonce;
use wechatpay_chain::signer::SCHEME;
use wechatpay_chain::verifier::{
    string_to_verify, MAX_CLOCK_OFFSET, NONCE, SERIAL, SIGNATURE, TIMESTAMP,
};

/// The built-in route that reports [`SandboxStats`] (signed, like every answer).
pub(crate) const STATS_ROUTE: &str = "sandbox/stats";
/// The longest reuse allowed: a client whose clock is a minute ahead still accepts.
pub(crate) const MAX_TTL: Duration = Duration::from_secs((MAX_CLOCK_OFFSET - 60) as u64);
/// Bodies larger than this are signed afresh every time.
const MAX_CACHED_BODY: usize = 64 * 1024;
/// Entries kept before the cache starts over.
const MAX_ENTRIES: usize = 1024;

/// What the sandbox has done since it started, as `GET /sandbox/stats` reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxStats {
    /// TCP connections accepted.
    pub connections: u64,
    /// APIv3 requests answered (all statuses).
    pub requests: u64,
    /// Requests received, answered or not (an injected fault, a client that gave up
    /// waiting): what reached the sandbox.
    pub received: u64,
    /// Answers signed with a fresh RSA operation.
    pub signatures: u64,
    /// Answers that reused a cached signature.
    pub cached_signatures: u64,
}

impl SandboxStats {
    pub(crate) fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "connections": self.connections,
            "requests": self.requests,
            "received": self.received,
            "signatures": self.signatures,
            "cached_signatures": self.cached_signatures,
        })
    }
}

/// Counters shared by the accept loop and the handlers.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connections: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) received: AtomicU64,
    signatures: AtomicU64,
    cached_signatures: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> SandboxStats {
        SandboxStats {
            connections: self.connections.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            signatures: self.signatures.load(Ordering::Relaxed),
            cached_signatures: self.cached_signatures.load(Ordering::Relaxed),
        }
    }
}

#[derive(Clone)]
struct Signed {
    timestamp: i64,
    timestamp_text: String,
    nonce: String,
    signature: String,
}

/// Signatures of recent answer bodies.
pub(crate) struct SignatureCache {
    ttl: i64,
    entries: Mutex<HashMap<Bytes, Signed>>,
}

impl SignatureCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        SignatureCache {
            ttl: ttl.min(MAX_TTL).as_secs() as i64,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lookup(&self, body: &Bytes, now: i64) -> Option<Signed> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(body)
            .filter(|s| (0..self.ttl).contains(&(now - s.timestamp)))
            .cloned()
    }

    fn store(&self, body: Bytes, signed: Signed) {
        if body.len() > MAX_CACHED_BODY {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(body, signed);
    }
}

/// Signs an answer with the platform key, reusing a cached signature when there is
/// one. A signing failure leaves the answer unsigned (every client reports it).
pub(crate) fn sign_answer(
    keys: &SandboxKeys,
    cache: Option<&SignatureCache>,
    counters: &Counters,
    headers: &mut HeaderMap,
    body: &Bytes,
    now: i64,
) {
    let cached = cache.and_then(|c| c.lookup(body, now));
    let signed = match cached {
        Some(signed) => {
            counters.cached_signatures.fetch_add(1, Ordering::Relaxed);
            signed
        }
        None => {
            let timestamp_text = now.to_string();
            let nonce = nonce::generate();
            let message = string_to_verify(&timestamp_text, &nonce, body);
            let signature = match keys.platform_private_key().sign_base64(&message) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "sandbox could not sign its answer");
                    return;
                }
            };
            counters.signatures.fetch_add(1, Ordering::Relaxed);
            let signed = Signed {
                timestamp: now,
                timestamp_text,
                nonce,
                signature,
            };
            if let Some(cache) = cache {
                cache.store(body.clone(), signed.clone());
            }
            signed
        }
    };
    for (name, value) in [
        (TIMESTAMP, signed.timestamp_text.as_str()),
        (NONCE, signed.nonce.as_str()),
        (SERIAL, keys.platform_serial()),
        (SIGNATURE, signed.signature.as_str()),
        (SIGNATURE_TYPE, SCHEME),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
        h.get(name).unwrap().to_str().unwrap()
    }

    #[test]
    fn reuses_within_the_ttl_and_re_signs_after() {
        let keys = SandboxKeys::fixture().unwrap();
        let cache = SignatureCache::new(Duration::from_secs(60));
        let counters = Counters::default();
        let body = Bytes::from_static(b"{\"a\":1}");
        let sign = |now| {
            let mut h = HeaderMap::new();
            sign_answer(&keys, Some(&cache), &counters, &mut h, &body, now);
            h
        };
        let first = sign(1000);
        let again = sign(1059);
        assert_eq!(header(&first, SIGNATURE), header(&again, SIGNATURE));
        assert_eq!(header(&again, TIMESTAMP), "1000");
        let message = string_to_verify("1000", header(&again, NONCE), &body);
        assert!(keys
            .platform_public_key()
            .verify_base64(&message, header(&again, SIGNATURE)));
        let later = sign(1060);
        assert_eq!(header(&later, TIMESTAMP), "1060");
        assert_ne!(header(&later, NONCE), header(&first, NONCE));
        assert_eq!(counters.signatures.load(Ordering::Relaxed), 2);
        assert_eq!(counters.cached_signatures.load(Ordering::Relaxed), 1);
        let mut h = HeaderMap::new();
        sign_answer(&keys, None, &counters, &mut h, &body, 1060);
        assert_ne!(header(&h, NONCE), header(&later, NONCE));
    }

    #[test]
    fn the_ttl_stays_inside_the_clock_window() {
        let cache = SignatureCache::new(Duration::from_secs(3600));
        assert_eq!(cache.ttl, 240);
    }
}
