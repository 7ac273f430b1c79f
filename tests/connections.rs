//! One connection pool per transport, with keep-alive: many requests at
//! concurrency 16 open at most 16 connections (the sandbox counts what it accepts).

use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::json;
use wechatpay_chain::Chain;
use wechatpay_chain_sandbox::{Sandbox, SEED_ORDER};

/// The figure; about 4 s in a debug build (the sandbox reuses its answer
/// signature, and aws-lc signs at full speed even unoptimised).
const REQUESTS: usize = 5_000;
const CONCURRENCY: usize = 16;

/// A sandbox that reuses its answer signatures, so that it keeps up.
async fn quick_sandbox() -> Sandbox {
    Sandbox::builder()
        .cache_signatures(Duration::from_secs(60))
        .start_async()
        .await
        .unwrap()
}

/// Sends `n` GETs of the seed order, `CONCURRENCY` at a time; how many got a 200.
async fn seed_gets(chain: &Chain, n: usize) -> usize {
    stream::iter(0..n)
        .map(|_| chain.get_async(json!({ "out_order_no": SEED_ORDER })))
        .buffer_unordered(CONCURRENCY)
        .filter(|r| futures::future::ready(r.as_ref().is_ok_and(|r| r.status() == 200)))
        .count()
        .await
}

// A current-thread runtime, as the harness uses. On a multi-thread runtime
// hyper-util's pool can open more while it fills, never afterwards (below, and
// docs/performance.md, "Connections").
#[tokio::test]
async fn concurrent_requests_reuse_at_most_sixteen_connections() {
    let sandbox = quick_sandbox().await;
    let client = sandbox.client();
    let chain = client.chain("v3/discount-card/orders/{out_order_no}");
    assert_eq!(seed_gets(&chain, REQUESTS).await, REQUESTS);
    let stats = sandbox.stats();
    assert!(
        stats.connections <= CONCURRENCY as u64,
        "{} connections for {REQUESTS} requests at c={CONCURRENCY}",
        stats.connections
    );
    assert_eq!(stats.requests, REQUESTS as u64);
    // Identical answers reuse the sandbox's signature (one per minute at most).
    assert!(stats.signatures <= 3, "{stats:?}");

    // The same figures, signed, over HTTP.
    let served: serde_json::Value = client
        .chain("sandbox/stats")
        .get_async(json!(null))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(served["connections"], stats.connections);
    // Counted once signed: the stats answer itself is not in them yet.
    assert_eq!(served["requests"], REQUESTS as u64);
}

/// On a multi-thread runtime the pool may open more than 16 connections while it
/// fills; once filled, thousands of requests open none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filled_pool_opens_no_more_connections_on_a_multi_thread_runtime() {
    let sandbox = quick_sandbox().await;
    let client = sandbox.client();
    let chain = client.chain("v3/discount-card/orders/{out_order_no}");
    assert_eq!(seed_gets(&chain, 200).await, 200);
    // How many the ramp-up opens depends on scheduling (16-26 seen here).
    let filled = sandbox.stats().connections;
    assert_eq!(seed_gets(&chain, 3_000).await, 3_000);
    assert_eq!(
        sandbox.stats().connections,
        filled,
        "a filled pool connected anew"
    );
}

#[test]
fn blocking_requests_reuse_one_connection() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    for _ in 0..50 {
        let res = client
            .chain("v3/discount-card/orders/{out_order_no}")
            .get(json!({ "out_order_no": SEED_ORDER }))
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let stats = sandbox.stats();
    assert_eq!(stats.connections, 1, "{stats:?}");
    // Without the cache every answer is signed afresh.
    assert_eq!(stats.signatures, 50);
    assert_eq!(stats.cached_signatures, 0);
}

/// Blocking calls run on one current-thread runtime in the transport, driven by
/// whichever calling thread waits: many threads at once must all get through.
#[test]
fn blocking_calls_from_many_threads_share_the_transport() {
    let sandbox = Sandbox::builder()
        .cache_signatures(Duration::from_secs(60))
        .start()
        .unwrap();
    let client = sandbox.client();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let client = client.clone();
            s.spawn(move || {
                for _ in 0..40 {
                    let res = client
                        .chain("v3/discount-card/orders/{out_order_no}")
                        .get(json!({ "out_order_no": SEED_ORDER }))
                        .unwrap();
                    assert_eq!(res.status(), 200);
                }
            });
        }
    });
    let stats = sandbox.stats();
    assert_eq!(stats.requests, 320);
    // One per thread at most, give or take the pool's race (see above).
    assert!(stats.connections <= 16, "{stats:?}");
}
