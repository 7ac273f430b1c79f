//! How a service uses the client under tokio: one `Client` built at start-up and
//! cloned into tasks, many calls in flight, retries for GETs, a deadline per call,
//! a metrics middleware, certificates kept fresh in the background, and a `match`
//! on `Error` that acts on each class of failure.
//!
//! ```text
//! cargo run --example async_service
//! ```
//!
//! Runs against the embedded sandbox; the faults (a 503, a slow answer, a forged
//! answer) are injected with `sandbox.inject`.

use std::sync::{atomic::AtomicUsize, atomic::Ordering::Relaxed, Arc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use wechatpay_chain::{Endpoint, Error, Middleware, Response, RetryPolicy, TransportKind};
use wechatpay_chain_sandbox::{Fault, Sandbox, StatusCode, SEED_ORDER};

const ORDER: &str = "v3/discount-card/orders/{out_order_no}";
const BY_ID: &str = "v3/pay/transactions/id/{transaction_id}";

/// Counts attempts and outcomes; shared as an `Arc` with the code that reads it.
#[derive(Default)]
struct Metrics {
    signed: AtomicUsize,
    verified: AtomicUsize,
    refused: AtomicUsize,
    unanswered: AtomicUsize,
}

impl Middleware for Metrics {
    // Once per attempt: a retry is built and signed afresh.
    fn before_signing(&self, _request: &mut http::Request<Bytes>) -> Result<(), Error> {
        self.signed.fetch_add(1, Relaxed);
        Ok(())
    }

    // Once per attempt, with its call (method, template, duration) and outcome: an
    // answer, or the transport error of an attempt that got none.
    fn after_verifying(&self, call: &Endpoint, outcome: Result<&Response, &Error>) {
        let counter = match outcome {
            Ok(_) => &self.verified,
            Err(e) if e.transport_kind().is_some() => &self.unanswered,
            Err(_) => &self.refused,
        };
        counter.fetch_add(1, Relaxed);
        if let Err(e) = outcome {
            // The template, not the path: one label per endpoint, not per order.
            let what = format!(
                "{} {} ({} ms)",
                call.method,
                call.template,
                call.elapsed().as_millis()
            );
            match (e, e.status()) {
                (Error::Transport { kind, .. }, _) => {
                    println!("   [log] {what}: no answer ({kind})")
                }
                (Error::Verification { .. }, _) => {
                    println!("   [log] {what}: answer not signed by WeChat Pay")
                }
                (_, Some(status)) => {
                    let code = e.code().unwrap_or("-");
                    println!("   [log] {what}: {} {code}", status.as_u16());
                }
                _ => println!("   [log] {what}: {e}"),
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start_async().await?;
    simulate_faults(&sandbox);
    let metrics = Arc::new(Metrics::default());
    // PHP: Builder::factory([...]) once, with Guzzle's 'timeout' and handler stack.
    let client = sandbox
        .client_builder() // for a merchant: Client::builder().mchid(…)…
        .retry(RetryPolicy::exponential(3).base_delay(Duration::from_millis(100)))
        .timeout(Duration::from_secs(10)) // every call's default deadline
        .middleware(metrics.clone())
        .build()?;

    // Platform certificates downloaded now and every 12 hours, on a task of this
    // runtime, until `refresh` is dropped (PHP: CertificateDownloader.php from cron).
    let refresh = client.refresh_certificates(Duration::from_secs(12 * 3600))?;
    println!("certificates installed: {}", refresh.wait_first().await?);

    // 50 lookups, at most 8 in flight. PHP: Utils::all($promises)->wait().
    let started = Instant::now();
    let mut lookups = stream::iter(0..50)
        .map(|_| {
            let client = client.clone(); // an Arc: one pool, one key set for all
            tokio::spawn(async move {
                let options = json!({ "out_order_no": SEED_ORDER });
                client[ORDER].get_async(options).await?.json::<Value>()
            })
        })
        .buffer_unordered(8);
    let mut found = 0;
    while let Some(joined) = lookups.next().await {
        let order = joined??; // a panicked task, then the call's own error
        found += usize::from(order["out_order_no"] == SEED_ORDER);
    }
    let took = started.elapsed();
    println!("50 GETs, 8 at a time: {found} orders in {took:?}");

    // Answered 503 once: retried with a fresh signature; the caller sees the success.
    // (POST, PUT, PATCH are retried only on a chain marked `.idempotent()`.)
    println!("\nA GET answered 503 once:");
    let order: Value = client
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
        .get_async(json!({ "out_trade_no": "1217752501201407033233368018" }))
        .await?
        .json()?;
    let state = order["trade_state"].as_str().unwrap_or("?");
    println!("   retried, then {state}");

    println!("\nWhat a caller does with each class of failure:");
    let missing = client[ORDER].get_async(json!({ "out_order_no": "no-such-order" }));
    act_on("unknown order", missing.await);

    // A deadline for this call only, in seconds (Guzzle's 'timeout' => 0.2); each
    // attempt of the retry policy gets it: three timeouts, then the error.
    let slow = client
        .chain(BY_ID)
        .get_async(json!({ "transaction_id": "4200000000201407033233368018", "timeout": 0.2 }));
    act_on("slow answer", slow.await);

    // A 200 that is not WeChat's: unsigned. Not retried: it is not WeChat failing.
    let forged = client
        .chain(BY_ID)
        .get_async(json!({ "transaction_id": "forged" }));
    act_on("forged answer", forged.await);

    let count = |n: &AtomicUsize| n.load(Relaxed);
    println!(
        "\nmetrics: {} attempts signed: {} verified, {} refused, {} without an answer",
        count(&metrics.signed),
        count(&metrics.verified),
        count(&metrics.refused),
        count(&metrics.unanswered)
    );
    Ok(())
}

/// Acts on each class of failure differently (PHP: a `catch` per exception class).
fn act_on(what: &str, outcome: Result<Response, Error>) {
    let Err(e) = outcome else {
        return println!("{what}: ok");
    };
    println!("{what}: {e}");
    let action = match &e {
        // WeChat's verdict: branch on its code; quote the Request-ID to its support.
        Error::Api(_) if e.code() == Some("ORDER_NOT_EXIST") => "tell the user: no such order",
        Error::Api(api) if api.status.is_server_error() => "WeChat is failing: try later",
        Error::Api(_) => "the request is wrong: fix the code",
        // No answer. After a timeout a POST may still have reached WeChat: query
        // the order before sending it again.
        Error::Transport { kind, .. } if *kind == TransportKind::Timeout => {
            "outcome unknown: query it"
        }
        Error::Transport { .. } => "network failure: try later",
        // Not WeChat's answer: act on nothing in it, and alert someone.
        Error::Verification { .. } => "untrusted answer: ignore it, raise an alarm",
        e if e.is_before_send() => "a bug here: nothing was sent",
        _ => "unexpected: log it",
    };
    println!("   -> {action}");
}

/// The sandbox plays WeChat; told to, it misbehaves as gateways and proxies do.
fn simulate_faults(sandbox: &Sandbox) {
    let busy = Fault::status(StatusCode::SERVICE_UNAVAILABLE, "SYSTEM_ERROR");
    sandbox.inject("GET", "v3/pay/transactions/out-trade-no/{no}", busy, 1);
    sandbox.route("GET", "v3/pay/transactions/out-trade-no/{no}", |req| {
        let paid = json!({ "out_trade_no": req.param("no"), "trade_state": "SUCCESS" });
        (StatusCode::OK, paid)
    });
    // Longer than the caller waits, on every attempt of the retry policy.
    sandbox.inject("GET", BY_ID, Fault::Delay(Duration::from_millis(400)), 3);
    // An answer without WeChat's signature (a proxy's page, an attacker's reply).
    sandbox.inject("GET", "v3/pay/transactions/id/forged", Fault::Unsigned, 1);
    sandbox.route("GET", BY_ID, |_| {
        (StatusCode::OK, json!({ "trade_state": "SUCCESS" }))
    });
}
