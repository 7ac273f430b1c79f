//! The per-request work besides RSA: chain lookup, template expansion, option
//! parsing and request building (target: under 2 us), and the whole pipeline with
//! an in-memory transport (build, sign, verify: about one signature plus one
//! verification).
//!
//! `cargo bench --bench pipeline`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::Method;
use serde_json::json;
use wechatpay_chain::{verifier, Client};
use wechatpay_chain_sandbox::{SandboxKeys, SEED_ORDER};

const TEMPLATE: &str = "v3/discount-card/orders/{out_order_no}";

fn builder(keys: &SandboxKeys) -> wechatpay_chain::ClientBuilder {
    Client::builder()
        .mchid(keys.mchid())
        .serial(keys.merchant_serial())
        .private_key(keys.merchant_private_key().clone())
        .platform_key(keys.platform_serial(), keys.platform_public_key().clone())
        .base_uri("https://api.mch.weixin.qq.com/")
}

fn pipeline(c: &mut Criterion) {
    let keys = SandboxKeys::fixture().expect("fixture keys");
    let client = builder(&keys).build().expect("client");
    let options = json!({ "out_order_no": SEED_ORDER });

    let mut g = c.benchmark_group("build (no RSA)");
    g.bench_function("chain + expand + options + request", |b| {
        b.iter(|| {
            client
                .chain(black_box(TEMPLATE))
                .build_unsigned(Method::GET, black_box(&options))
        })
    });
    g.bench_function("same, options made with json!", |b| {
        b.iter(|| {
            client
                .chain(black_box(TEMPLATE))
                .build_unsigned(Method::GET, &json!({ "out_order_no": SEED_ORDER }))
        })
    });
    g.bench_function("client[template] (PHP indexing)", |b| {
        b.iter(|| client[black_box(TEMPLATE)].build_unsigned(Method::GET, black_box(&options)))
    });
    g.bench_function("seg chain (4 segments)", |b| {
        b.iter(|| {
            client
                .seg("v3")
                .seg("discountCard")
                .seg("orders")
                .seg("_out_order_no_")
                .build_unsigned(Method::GET, black_box(&options))
        })
    });
    let patch = json!({
        "out_order_no": SEED_ORDER,
        "json": { "appid": "wxd678efh567hg6787", "service_id": "500001", "rewards": [{ "amount": 100 }] },
        "query": { "limit": 10, "offset": 0 },
    });
    g.bench_function("PATCH with json body and query", |b| {
        b.iter(|| {
            client
                .chain(black_box(TEMPLATE))
                .build_unsigned(Method::PATCH, black_box(&patch))
        })
    });
    g.finish();

    // The whole pipeline with a transport that answers from memory: one signature
    // and one verification per call, plus everything above.
    let body = Bytes::from_static(
        br#"{"out_order_no":"233bcbf407e87789b8e471f251774f95","state":"USER_PAID"}"#,
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    let nonce = "4E0C2F1A9B8D7C6E5F4A3B2C1D0E9F8A";
    let signature = keys
        .platform_private_key()
        .sign_base64(&verifier::string_to_verify(&now, nonce, &body))
        .expect("sign");
    let headers = [
        (verifier::TIMESTAMP, now),
        (verifier::NONCE, nonce.to_owned()),
        (verifier::SERIAL, keys.platform_serial().to_owned()),
        (verifier::SIGNATURE, signature),
        ("Content-Type", "application/json".to_owned()),
    ];
    let in_memory = builder(&keys)
        .sync_http_client(move |_req: http::Request<Bytes>| {
            let mut res = http::Response::builder().status(200);
            for (k, v) in &headers {
                res = res.header(*k, v.as_str());
            }
            Ok(res.body(body.clone()).expect("response"))
        })
        .build()
        .expect("client");
    c.bench_function("get() with in-memory transport (sign + verify)", |b| {
        b.iter(|| {
            let res = in_memory.chain(TEMPLATE).get(options.clone()).expect("get");
            assert_eq!(res.status(), 200);
        })
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
