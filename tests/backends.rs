//! Differential test of the signing backends: every backend compiled in (aws-lc-rs
//! by default, the pure-Rust `rsa` crate always) must give byte-identical PKCS#1
//! v1.5 signatures, equal to OpenSSL's in the conformance vectors, and agree on
//! every verification.

mod common;

use common::*;
use serde_json::Value;
use wechatpay_chain::crypto::Backend;
use wechatpay_chain::{signer, verifier};

fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).unwrap()
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn the_default_backend_is_the_fast_one() {
    assert_eq!(merchant_key().backend(), Backend::DEFAULT);
    assert_eq!(platform_public().backend(), Backend::DEFAULT);
    assert_eq!(Backend::all()[0], Backend::DEFAULT);
    assert!(Backend::all().contains(&Backend::Rsa));
}

/// The backend these tests run with is the one the features select: `.ci/run`
/// runs the core tests with `--no-default-features`, and there every key must be
/// the pure-Rust `rsa` one (nothing else compiled in).
#[test]
fn the_features_select_the_backend_in_use() {
    let expected = if cfg!(feature = "aws-lc") {
        "aws-lc-rs"
    } else {
        "rsa"
    };
    assert_eq!(merchant_key().backend().name(), expected);
    assert_eq!(platform_public().backend().name(), expected);
    let compiled: Vec<&str> = Backend::all().iter().map(|b| b.name()).collect();
    if cfg!(feature = "aws-lc") {
        assert_eq!(compiled, ["aws-lc-rs", "rsa"]);
    } else {
        assert_eq!(compiled, ["rsa"]);
    }
}

#[test]
fn every_backend_reproduces_the_vectors() {
    let v = vectors();
    let key = merchant_key();
    let cases = v["request_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let message = signer::string_to_sign(
            case["method"].as_str().unwrap(),
            case["request_target"].as_str().unwrap(),
            case["timestamp"].as_str().unwrap(),
            case["nonce_str"].as_str().unwrap(),
            case["body"].as_str().unwrap().as_bytes(),
        );
        assert_eq!(message, case["string_to_sign"].as_str().unwrap().as_bytes());
        let expected = case["signature"].as_str().unwrap();
        for &backend in Backend::all() {
            assert_eq!(
                key.sign_base64_with(backend, &message).unwrap(),
                expected,
                "{} with {}",
                case["name"],
                backend.name()
            );
            assert!(merchant_public().verify_base64_with(backend, &message, expected));
        }
        assert_eq!(key.sign_base64(&message).unwrap(), expected);
    }
    let platform = platform_public();
    let cases = v["response_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let h = &case["headers"];
        let message = verifier::string_to_verify(
            h["Wechatpay-Timestamp"].as_str().unwrap(),
            h["Wechatpay-Nonce"].as_str().unwrap(),
            case["body"].as_str().unwrap().as_bytes(),
        );
        let signature = h["Wechatpay-Signature"].as_str().unwrap();
        let want = case["openssl_signature_valid_for_platform_key"]
            .as_bool()
            .unwrap();
        for &backend in Backend::all() {
            assert_eq!(
                platform.verify_base64_with(backend, &message, signature),
                want,
                "{} with {}",
                case["name"],
                backend.name()
            );
        }
    }
}

#[test]
fn backends_agree_on_random_messages() {
    let key = merchant_key();
    let public = merchant_public();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..300 {
        let len = match i % 4 {
            0 => 0,
            1 => (rng.next() % 64) as usize,
            2 => (rng.next() % 2048) as usize,
            _ => (rng.next() % 70_000) as usize,
        };
        let message = rng.bytes(len);
        let signatures: Vec<String> = Backend::all()
            .iter()
            .map(|&b| key.sign_base64_with(b, &message).unwrap())
            .collect();
        assert!(
            signatures.windows(2).all(|w| w[0] == w[1]),
            "message {i} ({len} bytes): backends differ"
        );
        let mut flipped = message.clone();
        if let Some(b) = flipped.first_mut() {
            *b ^= 1;
        } else {
            flipped.push(0);
        }
        for &backend in Backend::all() {
            assert!(public.verify_base64_with(backend, &message, &signatures[0]));
            assert!(!public.verify_base64_with(backend, &flipped, &signatures[0]));
        }
    }
}

#[test]
fn malformed_signatures_are_refused_by_every_backend() {
    let public = merchant_public();
    let good = merchant_key().sign_base64(b"m").unwrap();
    for bad in ["", "***", "AAAA", &good[..good.len() - 4]] {
        for &backend in Backend::all() {
            assert!(!public.verify_base64_with(backend, b"m", bad), "{bad:?}");
        }
    }
}
