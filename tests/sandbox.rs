//! End-to-end tests against the sandbox: real HTTP on loopback, real signatures both
//! ways.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wechatpay_chain::verifier::Rejection;
use wechatpay_chain::{chain, ApiError, Client, Error, Response};
use wechatpay_chain_sandbox::{Sandbox, StatusCode, SEED_ORDER};

const TEMPLATE: &str = "v3/discount-card/orders/{out_order_no}";

/// The seed's PATCH payload, as its PHP examples send it.
fn seed_patch() -> Value {
    json!({
        "out_order_no": SEED_ORDER,
        "json": {
            "objectives": [{
                "objective_serial_no": "578354545",
                "objective_id": 123456,
                "performance_description": "购买商品",
                "performance_type": "INCREASE",
                "count": 1,
                "performance_time": "2015-05-20T13:29:35.120+08:00",
                "remark": "特价商品",
            }],
            "rewards": [{
                "reward_serial_no": "578354",
                "reward_id": 123456,
                "description": "购买商品",
                "reward_type": "INCREASE",
                "count": 1,
                "amount": 100,
                "reward_time": "2015-05-20T13:29:35.120+08:00",
                "remark": "特价商品",
            }],
        },
    })
}

fn seed_get() -> Value {
    json!({ "out_order_no": SEED_ORDER })
}

fn api_error(result: Result<Response, Error>) -> Box<ApiError> {
    match result {
        Err(Error::Api(api)) => api,
        other => panic!("expected an Api error, got {other:?}"),
    }
}

fn check_patch(res: Result<Response, Error>) {
    let res = res.expect("PATCH succeeds");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.is_verified());
    let answer: Value = res.json().unwrap();
    assert_eq!(answer["out_order_no"], SEED_ORDER);
    assert!(
        answer["order_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{answer}"
    );
}

fn check_get(res: Result<Response, Error>) {
    let res = res.expect("GET succeeds");
    assert!(res.is_verified());
    let order: Value = res.json().unwrap();
    assert_eq!(order["out_order_no"], SEED_ORDER);
    assert_eq!(order["objectives"].as_array().unwrap().len(), 1, "{order}");
    assert_eq!(order["rewards"].as_array().unwrap().len(), 1, "{order}");
    assert_eq!(order["total_amount"], 100);
    assert_eq!(order["settlement_amount"], 100);
}

fn get_order(client: &Client) -> Value {
    client
        .chain(TEMPLATE)
        .get(seed_get())
        .unwrap()
        .json()
        .unwrap()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn the_sandbox_can_be_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sandbox>();
}

#[test]
fn a_request_signed_with_the_wrong_key_is_a_sign_error() {
    let sandbox = Sandbox::start().unwrap();
    let wrong = sandbox
        .client_builder()
        .private_key(sandbox.keys().platform_private_key().clone())
        .build()
        .unwrap();
    let api = api_error(wrong.chain(TEMPLATE).get(seed_get()));
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.code.as_deref(), Some("SIGN_ERROR"));
    assert!(
        api.message
            .as_deref()
            .unwrap()
            .contains("signature does not verify"),
        "{api}"
    );
    assert!(api.verified, "the sandbox signs its errors too");
    assert!(api.request_id.is_some());
}

#[test]
fn a_stale_timestamp_is_a_sign_error() {
    let sandbox = Sandbox::start().unwrap();
    let stale = sandbox
        .client_builder()
        .clock(|| unix_now() - 1000)
        .build()
        .unwrap();
    let api = api_error(stale.chain(TEMPLATE).get(seed_get()));
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.code.as_deref(), Some("SIGN_ERROR"));
    assert!(
        api.message.as_deref().unwrap().contains("server clock"),
        "{api}"
    );
}

#[test]
fn another_merchant_or_serial_is_a_sign_error() {
    let sandbox = Sandbox::start().unwrap();
    for (builder, what) in [
        (sandbox.client_builder().mchid("1900000002"), "mchid"),
        (
            sandbox
                .client_builder()
                .serial("0000000000000000000000000000000000000001"),
            "serial_no",
        ),
    ] {
        let api = api_error(builder.build().unwrap().chain(TEMPLATE).get(seed_get()));
        assert_eq!(api.code.as_deref(), Some("SIGN_ERROR"));
        assert!(api.message.as_deref().unwrap().contains(what), "{api}");
    }
}

#[test]
fn the_six_sync_seed_calls_pass() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    check_patch(
        client
            .seg("v3")
            .seg("discountCard")
            .seg("orders")
            .seg("_out_order_no_")
            .patch(seed_patch()),
    );
    check_patch(chain!(client->v3->discountCard->orders->_out_order_no_).patch(seed_patch()));
    check_patch(client.chain(TEMPLATE).patch(seed_patch()));
    check_patch(client[TEMPLATE].patch(seed_patch()));
    check_get(
        client
            .seg("v3")
            .seg("discountCard")
            .seg("orders")
            .seg("_out_order_no_")
            .get(seed_get()),
    );
    check_get(chain!(client->v3->discountCard->orders->_out_order_no_).get(seed_get()));
    check_get(client.chain(TEMPLATE).get(seed_get()));
    check_get(client[TEMPLATE].get(seed_get()));
}

#[tokio::test]
async fn the_six_async_seed_calls_pass() {
    let sandbox = Sandbox::start_async().await.unwrap();
    let client = sandbox.client();
    check_patch(
        client
            .seg("v3")
            .seg("discountCard")
            .seg("orders")
            .seg("_out_order_no_")
            .patch_async(seed_patch())
            .await,
    );
    check_patch(
        chain!(client->v3->discountCard->orders->_out_order_no_)
            .patch_async(seed_patch())
            .await,
    );
    check_patch(client.chain(TEMPLATE).patch_async(seed_patch()).await);
    check_patch(client[TEMPLATE].patch_async(seed_patch()).await);
    check_get(
        client
            .seg("v3")
            .seg("discountCard")
            .seg("orders")
            .seg("_out_order_no_")
            .get_async(seed_get())
            .await,
    );
    check_get(
        chain!(client->v3->discountCard->orders->_out_order_no_)
            .get_async(seed_get())
            .await,
    );
    check_get(client.chain(TEMPLATE).get_async(seed_get()).await);
    check_get(client[TEMPLATE].get_async(seed_get()).await);
    // Inside a runtime the blocking twin works too (on a helper thread).
    check_get(client.chain(TEMPLATE).get(seed_get()));
}

#[test]
fn patching_twice_with_the_same_serial_numbers_records_once() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let fresh: Value = get_order(&client);
    assert_eq!(fresh["objectives"], json!([]));
    assert_eq!(fresh["total_amount"], 0);
    check_patch(client.chain(TEMPLATE).patch(seed_patch()));
    check_patch(client.chain(TEMPLATE).patch(seed_patch()));
    let order: Value = get_order(&client);
    assert_eq!(order["objectives"].as_array().unwrap().len(), 1);
    assert_eq!(order["rewards"].as_array().unwrap().len(), 1);
    assert_eq!(order["objectives"][0]["objective_serial_no"], "578354545");
    assert_eq!(order["rewards"][0]["amount"], 100);
    assert_eq!(order["total_amount"], 100);
}

/// The seed's GET response table: `name:type`, `s` string, `i` integer.
const ORDER_FIELDS: &str = "out_order_no:s discount_card_id:s out_trade_no:s appid:s \
    service_id:s order_id:s transaction_id:s openid:s card_begin_time:s card_end_time:s \
    card_name:s objective_description:s reward_description:s estimated_reward_amount:i \
    online_instructions:s offline_instructions:s state:s total_amount:i deduction_amount:i \
    settlement_amount:i create_time:s pay_time:s";
const OBJECTIVE_FIELDS: &str = "objective_serial_no:s objective_id:i name:s unit:s \
    performance_description:s performance_type:s count:i performance_time:s remark:s";
const REWARD_FIELDS: &str = "reward_serial_no:s reward_id:i name:s unit:s description:s \
    reward_type:s count:i amount:i reward_time:s remark:s";

fn assert_fields(object: &Value, table: &str) {
    for entry in table.split_whitespace() {
        let (field, kind) = entry.split_once(':').unwrap();
        let ok = if kind == "s" {
            object[field].is_string()
        } else {
            object[field].is_i64()
        };
        assert!(ok, "{field} ({kind}) in {object}");
    }
}

#[test]
fn get_answers_every_field_of_the_seed_table() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    check_patch(client.chain(TEMPLATE).patch(seed_patch()));
    let order: Value = get_order(&client);
    assert_fields(&order, ORDER_FIELDS);
    assert_fields(&order["objectives"][0], OBJECTIVE_FIELDS);
    assert_fields(&order["rewards"][0], REWARD_FIELDS);
}

#[test]
fn an_unknown_order_is_order_not_exist() {
    let sandbox = Sandbox::start().unwrap();
    let api = api_error(
        sandbox
            .client()
            .chain(TEMPLATE)
            .get(json!({ "out_order_no": "nope" })),
    );
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.code.as_deref(), Some("ORDER_NOT_EXIST"));
    assert!(api.verified);
    let api = api_error(
        sandbox
            .client()
            .chain(TEMPLATE)
            .patch(json!({ "out_order_no": "nope", "json": {} })),
    );
    assert_eq!(api.code.as_deref(), Some("ORDER_NOT_EXIST"));
}

#[test]
fn a_malformed_patch_is_a_param_error_naming_the_field() {
    // Validated against the catalogue before the order book is looked at: the field
    // is named by its JSON pointer.
    let sandbox = Sandbox::start().unwrap();
    let mut options = seed_patch();
    options["json"]["rewards"][0]["amount"] = json!("100");
    let api = api_error(sandbox.client().chain(TEMPLATE).patch(options));
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.code.as_deref(), Some("PARAM_ERROR"));
    assert!(
        api.message
            .as_deref()
            .unwrap()
            .contains("/rewards/0/amount"),
        "{api}"
    );
    let mut options = seed_patch();
    options["json"]["objectives"][0]
        .as_object_mut()
        .unwrap()
        .remove("count");
    let api = api_error(sandbox.client().chain(TEMPLATE).patch(options));
    assert!(
        api.message
            .as_deref()
            .unwrap()
            .contains("/objectives/0/count"),
        "{api}"
    );
}

#[test]
fn an_unknown_path_is_not_found() {
    let sandbox = Sandbox::start().unwrap();
    let api = api_error(
        sandbox
            .client()
            .chain("v3/no/such/endpoint")
            .get(json!(null)),
    );
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.code.as_deref(), Some("NOT_FOUND"));
    let api = api_error(sandbox.client().chain(TEMPLATE).post(seed_patch()));
    assert_eq!(
        api.code.as_deref(),
        Some("NOT_FOUND"),
        "a known path with another method"
    );
}

#[test]
fn a_registered_route_works_through_chain() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.route(
        "POST",
        "v3/refund/domestic/refunds/{out_refund_no}/echo",
        |req| {
            (
                StatusCode::OK,
                json!({
                    "out_refund_no": req.param("out_refund_no"),
                    "query": req.query,
                    "raw_query": req.raw_query,
                    "json": req.json,
                    "accept": req.header("accept"),
                }),
            )
        },
    );
    let res = sandbox
        .client()
        .chain("v3/refund/domestic/refunds/{out_refund_no}/echo")
        .post(json!({
            "out_refund_no": "R 1/2",
            "query": { "limit": 10, "note": "a b" },
            "json": { "amount": { "refund": 1 } },
        }))
        .unwrap();
    assert!(res.is_verified());
    let echo: Value = res.json().unwrap();
    assert_eq!(echo["out_refund_no"], "R 1/2");
    assert_eq!(echo["query"], json!({ "limit": "10", "note": "a b" }));
    assert_eq!(echo["json"], json!({ "amount": { "refund": 1 } }));
    // wechatpay-php's list (tests/php_fidelity.rs pins it against PHP's capture).
    assert!(echo["accept"]
        .as_str()
        .is_some_and(|a| a.starts_with("application/json, ")));

    // A later route overrides an earlier one, the built-in routes included.
    sandbox.route("GET", TEMPLATE, |_| (StatusCode::NO_CONTENT, Value::Null));
    let res = sandbox.client().chain(TEMPLATE).get(seed_get()).unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.body().is_empty() && res.is_verified());
}

#[test]
fn every_answer_is_signed_with_a_unique_request_id() {
    let sandbox = Sandbox::builder()
        .route("GET", "v3/panics", |_| panic!("handler bug"))
        .start()
        .unwrap();
    let client = sandbox.client();
    let ok = client.chain(TEMPLATE).get(seed_get()).unwrap();
    let err = api_error(client.chain("v3/panics").get(json!(null)));
    assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(err.verified);
    let headers = ok.headers();
    assert_eq!(headers["Wechatpay-Serial"], sandbox.platform_serial());
    assert_eq!(
        headers["Wechatpay-Signature-Type"],
        "WECHATPAY2-SHA256-RSA2048"
    );
    assert_eq!(headers["Wechatpay-Nonce"].len(), 32);
    assert_ne!(ok.request_id(), err.request_id.as_deref());
    assert_eq!(
        err.response.headers["Wechatpay-Serial"],
        sandbox.platform_serial()
    );
}

#[test]
fn keys_dir_generates_then_reloads_the_same_identity() {
    let dir = std::env::temp_dir().join(format!("wechatpay-sandbox-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = Sandbox::builder().keys_dir(&dir).start().unwrap();
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sandbox.json")).unwrap()).unwrap();
    assert_eq!(info["base_uri"], first.url());
    assert_eq!(info["merchant_serial"], first.merchant_serial());
    assert!(first.platform_serial().starts_with("PUB_KEY_ID_"));
    check_patch(first.client().chain(TEMPLATE).patch(seed_patch()));
    let serials = (
        first.merchant_serial().to_owned(),
        first.platform_serial().to_owned(),
    );
    drop(first);

    let second = Sandbox::builder().keys_dir(&dir).start().unwrap();
    assert_eq!(
        (second.merchant_serial(), second.platform_serial()),
        (serials.0.as_str(), serials.1.as_str())
    );
    check_patch(second.client().chain(TEMPLATE).patch(seed_patch()));
    drop(second);

    std::fs::remove_file(dir.join("platform_public.pem")).unwrap();
    let err = Sandbox::builder()
        .keys_dir(&dir)
        .start()
        .unwrap_err()
        .to_string();
    assert!(err.contains("platform_public.pem"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn dropping_the_sandbox_stops_it() {
    let sandbox = Sandbox::start_async().await.unwrap();
    let (client, addr) = (sandbox.client(), sandbox.addr());
    client.chain(TEMPLATE).get_async(seed_get()).await.unwrap();
    drop(sandbox);
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    let err = client
        .chain(TEMPLATE)
        .get_async(seed_get())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

/// 16 concurrent clients, 5,000 requests in all, no error. Bounded by count, not
/// by time: both sides do RSA on every request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_clients_five_thousand_requests_no_error() {
    const TOTAL: usize = 5_000;
    let sandbox = Sandbox::start_async().await.unwrap();
    let issued = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            // One client each: 16 connection pools, as 16 independent callers.
            let client = sandbox.client_builder().build().unwrap();
            let issued = issued.clone();
            tokio::spawn(async move {
                let (mut ok, mut errors) = (0usize, Vec::new());
                while issued.fetch_add(1, Ordering::Relaxed) < TOTAL {
                    match client.chain(TEMPLATE).get_async(seed_get()).await {
                        Ok(res) if res.status() == StatusCode::OK && res.is_verified() => ok += 1,
                        other => errors.push(format!("{other:?}")),
                    }
                }
                (ok, errors)
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let (n, errors) = task.await.unwrap();
        assert!(
            errors.is_empty(),
            "{} errors, first: {}",
            errors.len(),
            errors[0]
        );
        ok += n;
    }
    assert_eq!(ok, TOTAL);
}

/// Each injected fault reaches the client as the error class a caller acts on,
/// only as many times as asked, and only for the matching method and path.
#[test]
fn injected_faults_reach_the_client_as_their_error_class() {
    use wechatpay_chain::TransportKind;
    use wechatpay_chain_sandbox::Fault;

    let sandbox = Sandbox::start().unwrap();
    let client = sandbox
        .client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let get = || client.chain(TEMPLATE).get(seed_get());
    let served = |res: Result<Response, Error>| {
        let res = res.expect("served as usual");
        assert!(res.is_verified());
        assert_eq!(res.json::<Value>().unwrap()["out_order_no"], SEED_ORDER);
    };
    type Expected = &'static dyn Fn(&Error) -> bool;
    let cases: Vec<(Fault, Expected)> = vec![
        (
            Fault::status(StatusCode::SERVICE_UNAVAILABLE, "SYSTEM_ERROR"),
            &|e| {
                e.status() == Some(StatusCode::SERVICE_UNAVAILABLE)
                    && e.code() == Some("SYSTEM_ERROR")
                    && matches!(e, Error::Api(api) if api.verified)
            },
        ),
        (Fault::Delay(Duration::from_millis(800)), &|e| {
            e.transport_kind() == Some(TransportKind::Timeout)
        }),
        (Fault::Unsigned, &|e| {
            matches!(
                e,
                Error::Verification {
                    rejection: Rejection::MissingHeader(_),
                    ..
                }
            ) && e.to_string().contains("unsigned")
        }),
        (Fault::Tampered, &|e| {
            matches!(
                e,
                Error::Verification {
                    rejection: Rejection::BadSignature { .. },
                    ..
                }
            ) && e.to_string().contains("does not match")
        }),
        (Fault::Stale, &|e| {
            matches!(
                e,
                Error::Verification {
                    rejection: Rejection::Stale { .. },
                    ..
                }
            ) && e.to_string().contains("300")
        }),
        (Fault::Disconnect, &|e| e.transport_kind().is_some()),
        (Fault::Gateway(StatusCode::BAD_GATEWAY), &|e| {
            e.status() == Some(StatusCode::BAD_GATEWAY)
                && matches!(e, Error::Api(api) if !api.verified && api.code.is_none())
        }),
    ];
    for (fault, expected) in cases {
        // Other methods and paths are served as usual.
        sandbox.inject("PATCH", TEMPLATE, fault.clone(), 2);
        sandbox.inject("GET", "v3/certificates", fault.clone(), 2);
        served(get());
        sandbox.inject("get", TEMPLATE, fault.clone(), 2);
        for attempt in 1..=2 {
            let err = get().unwrap_err();
            assert!(expected(&err), "{fault:?}, attempt {attempt}: {err}");
        }
        // Used up: the third request is served.
        served(get());
        // Clear the decoys for the next case.
        for _ in 0..2 {
            let _ = client.chain(TEMPLATE).patch(seed_patch());
            let _ = client.chain("v3/certificates").get(Value::Null);
        }
    }
    // A delay shorter than the caller's deadline only slows the answer down.
    sandbox.inject("*", TEMPLATE, Fault::Delay(Duration::from_millis(50)), 1);
    served(get());
}

/// Other processes inject faults with a signed POST; bad input is a PARAM_ERROR
/// naming the field.
#[test]
fn faults_can_be_injected_over_http() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let faults = client.chain("sandbox/faults");
    let res = faults
        .post(json!({ "json": {
            "method": "GET", "template": TEMPLATE,
            "fault": "status", "status": 502, "code": "BAD_GATEWAY", "times": 2,
        }}))
        .unwrap();
    assert_eq!(res.json::<Value>().unwrap()["times"], 2);
    for _ in 0..2 {
        let api = api_error(client.chain(TEMPLATE).get(seed_get()));
        assert_eq!(api.status, StatusCode::BAD_GATEWAY);
        assert_eq!(api.code.as_deref(), Some("BAD_GATEWAY"));
    }
    assert_eq!(
        client.chain(TEMPLATE).get(seed_get()).unwrap().status(),
        200
    );

    for (body, culprit) in [
        (
            json!({ "template": TEMPLATE, "fault": "stale" }),
            "`method`",
        ),
        (
            json!({ "method": "GET", "template": TEMPLATE, "fault": "slow" }),
            "unknown fault `slow`",
        ),
        (
            json!({ "method": "GET", "template": TEMPLATE, "fault": "delay" }),
            "`delay_ms`",
        ),
        (
            json!({ "method": "GET", "template": TEMPLATE, "fault": "status", "status": 99, "code": "X" }),
            "`status`",
        ),
        (
            json!({ "method": "GET", "template": TEMPLATE, "fault": "stale", "times": -1 }),
            "`times`",
        ),
    ] {
        let api = api_error(faults.post(json!({ "json": body })));
        assert_eq!(api.status, StatusCode::BAD_REQUEST);
        assert_eq!(api.code.as_deref(), Some("PARAM_ERROR"));
        let message = api.message.clone().unwrap_or_default();
        assert!(message.contains(culprit), "{message}");
    }
    // None of the refused injections took effect.
    assert_eq!(
        client.chain(TEMPLATE).get(seed_get()).unwrap().status(),
        200
    );
}
