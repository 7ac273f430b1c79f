//! RSA-2048 PKCS#1 v1.5 / SHA-256 per backend: signing (the floor of every
//! request's cost), verification (every answer), and the Authorization header.
//!
//! `cargo bench --bench signing`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use wechatpay_chain::crypto::{nonce, Backend};
use wechatpay_chain::signer::{string_to_sign, Signer};
use wechatpay_chain_sandbox::SandboxKeys;

fn message() -> Vec<u8> {
    string_to_sign(
        "GET",
        "/v3/discount-card/orders/233bcbf407e87789b8e471f251774f95",
        "1554208460",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        b"",
    )
}

fn signing(c: &mut Criterion) {
    let keys = SandboxKeys::fixture().expect("fixture keys");
    let key = keys.merchant_private_key();
    let public = keys.merchant_public_key();
    let message = message();
    let signature = key.sign_base64(&message).expect("sign");

    let mut g = c.benchmark_group("rsa2048");
    for &backend in Backend::all() {
        // Once, outside the timing: what is measured is the accepting path, and
        // each backend signs as the default one does (PKCS#1 v1.5 is deterministic).
        assert!(
            public.verify_base64_with(backend, &message, &signature),
            "{} refuses the signature it is timed verifying",
            backend.name()
        );
        assert_eq!(
            key.sign_base64_with(backend, &message).expect("sign"),
            signature,
            "{}",
            backend.name()
        );
        g.bench_with_input(
            BenchmarkId::new("sign", backend.name()),
            &backend,
            |b, &be| b.iter(|| key.sign_base64_with(be, black_box(&message))),
        );
        g.bench_with_input(
            BenchmarkId::new("verify", backend.name()),
            &backend,
            |b, &be| b.iter(|| public.verify_base64_with(be, black_box(&message), &signature)),
        );
    }
    g.finish();

    let signer = Signer::new(keys.mchid(), keys.merchant_serial(), key.clone());
    c.bench_function("authorization header (default backend)", |b| {
        b.iter(|| {
            signer.authorization(
                "GET",
                "/v3/discount-card/orders/233bcbf407e87789b8e471f251774f95",
                b"",
                "1554208460",
                "593BEC0C930BF1AFEB40B4A08C8FB242",
            )
        })
    });
    c.bench_function("nonce", |b| b.iter(nonce::generate));
}

criterion_group!(benches, signing);
criterion_main!(benches);
