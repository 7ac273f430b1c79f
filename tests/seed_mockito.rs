//! The twelve calls of the seed document (PATCH and GET of
//! `v3/discount-card/orders/{out_order_no}` in pure-chain, `chain()` and index styles,
//! sync and async), each on the wire to a mockito server that checks the method, the
//! exact request target, `Content-Type`, the body, and the Authorization signature
//! with the merchant public key, and answers signed by the platform key.

mod common;

use common::*;
use mockito::{Matcher, Mock, ServerGuard};
use serde_json::{json, Value};
use wechatpay_chain::{chain, Client};

const TARGET: &str = "/v3/discount-card/orders/233bcbf407e87789b8e471f251774f95";

fn patch_answer() -> Value {
    json!({ "out_order_no": SEED_ORDER, "order_id": "50000000000000000000000000000001" })
}

fn get_answer() -> Value {
    json!({
        "out_order_no": SEED_ORDER,
        "order_id": "50000000000000000000000000000001",
        "state": "ONGOING",
        "total_amount": 100,
        "card_name": "先享卡",
    })
}

fn signed_mock(
    server: &mut ServerGuard,
    method: &'static str,
    answer: &Value,
    hits: usize,
) -> Mock {
    let body = answer.to_string();
    let expected_body = if method == "PATCH" {
        seed_patch_json().to_string()
    } else {
        String::new()
    };
    let mut mock = server
        .mock(method, TARGET)
        .match_request(move |req| {
            let received = req.body().map(|b| b.as_slice()).unwrap_or_default();
            let auth = req.header("authorization");
            let content_type_ok = if method == "PATCH" {
                req.header("content-type")
                    .first()
                    .is_some_and(|v| *v == "application/json")
            } else {
                !req.has_header("content-type")
            };
            content_type_ok
                && received == expected_body.as_bytes()
                && auth.len() == 1
                && authorization_is_valid(
                    req.method(),
                    req.path_and_query(),
                    received,
                    auth[0].to_str().unwrap_or_default(),
                )
        })
        .with_status(200)
        .with_body(&body)
        .expect(hits);
    for (k, v) in signed_headers(&body, now()) {
        mock = mock.with_header(k, &v);
    }
    mock
}

/// Fails the test on any request the specific mocks did not claim.
fn catch_all(server: &mut ServerGuard) -> Vec<Mock> {
    ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .map(|m| server.mock(m, Matcher::Any).with_status(599).expect(0))
        .collect()
}

fn assert_patch(v: Value) {
    assert_eq!(v, patch_answer());
}

fn assert_get(v: Value) {
    assert_eq!(v["out_order_no"], SEED_ORDER);
    assert_eq!(v["card_name"], "先享卡");
    assert_eq!(v["total_amount"], 100);
}

#[test]
fn six_sync_seed_calls() {
    let mut server = mockito::Server::new();
    let patch = signed_mock(&mut server, "PATCH", &patch_answer(), 4).create();
    let get = signed_mock(&mut server, "GET", &get_answer(), 4).create();
    let stray: Vec<Mock> = catch_all(&mut server)
        .into_iter()
        .map(Mock::create)
        .collect();
    let client: Client = client(&server.url());

    // $instance->v3->discountCard->orders->_out_order_no_->patch([...])
    let response = client
        .seg("v3")
        .seg("discountCard")
        .seg("orders")
        .seg("_out_order_no_")
        .patch(seed_patch_options())
        .unwrap();
    assert_patch(response.json().unwrap());
    let response = chain!(client->v3->discountCard->orders->_out_order_no_)
        .patch(seed_patch_options())
        .unwrap();
    assert_patch(response.json().unwrap());
    // $instance->chain('v3/discount-card/orders/{out_order_no}')->patch([...])
    let response = client
        .chain("v3/discount-card/orders/{out_order_no}")
        .patch(seed_patch_options())
        .unwrap();
    assert_patch(response.json().unwrap());
    // $instance['v3/discount-card/orders/{out_order_no}']->patch([...])
    let response = client["v3/discount-card/orders/{out_order_no}"]
        .patch(seed_patch_options())
        .unwrap();
    assert_patch(response.json().unwrap());
    assert_eq!(response.request_id(), Some("08F78BB5AF0610D302A0CD9A0B"));
    assert!(response.is_verified());

    let response = client
        .seg("v3")
        .seg("discountCard")
        .seg("orders")
        .seg("_out_order_no_")
        .get(seed_get_options())
        .unwrap();
    assert_get(response.json().unwrap());
    let response = chain!(client.v3.discountCard.orders._out_order_no_)
        .get(seed_get_options())
        .unwrap();
    assert_get(response.json().unwrap());
    let response = client
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .unwrap();
    assert_get(response.json().unwrap());
    let response = client["v3/discount-card/orders/{out_order_no}"]
        .get(seed_get_options())
        .unwrap();
    assert_get(response.json().unwrap());

    patch.assert();
    get.assert();
    stray.iter().for_each(Mock::assert);
}

#[tokio::test]
async fn six_async_seed_calls() {
    let mut server = mockito::Server::new_async().await;
    let patch = signed_mock(&mut server, "PATCH", &patch_answer(), 4)
        .create_async()
        .await;
    let get = signed_mock(&mut server, "GET", &get_answer(), 4)
        .create_async()
        .await;
    let mut stray = Vec::new();
    for m in catch_all(&mut server) {
        stray.push(m.create_async().await);
    }
    let client = client(&server.url());

    // ->patchAsync([...])->then(fn)->wait()
    let response = client
        .seg("v3")
        .seg("discountCard")
        .seg("orders")
        .seg("_out_order_no_")
        .patch_async(seed_patch_options())
        .await
        .unwrap();
    assert_patch(response.json().unwrap());
    let response =
        chain!(client->v3->discountCard->orders->_out_order_no_->patchAsync(seed_patch_options()))
            .await
            .unwrap();
    assert_patch(response.json().unwrap());
    let response = client
        .chain("v3/discount-card/orders/{out_order_no}")
        .patch_async(seed_patch_options())
        .await
        .unwrap();
    assert_patch(response.json().unwrap());
    let response = client["v3/discount-card/orders/{out_order_no}"]
        .patch_async(seed_patch_options())
        .await
        .unwrap();
    assert_patch(response.json().unwrap());

    // Futures own what they need: spawn them and join, like PHP promises.
    let calls = vec![
        tokio::spawn(
            client
                .seg("v3")
                .seg("discountCard")
                .seg("orders")
                .seg("_out_order_no_")
                .get_async(seed_get_options()),
        ),
        tokio::spawn(
            chain!(client->v3->discountCard->orders->_out_order_no_).get_async(seed_get_options()),
        ),
        tokio::spawn(
            client
                .chain("v3/discount-card/orders/{out_order_no}")
                .get_async(seed_get_options()),
        ),
        tokio::spawn(
            client["v3/discount-card/orders/{out_order_no}"].get_async(seed_get_options()),
        ),
    ];
    for call in futures::future::join_all(calls).await {
        assert_get(call.unwrap().unwrap().json().unwrap());
    }

    patch.assert_async().await;
    get.assert_async().await;
    for m in &stray {
        m.assert_async().await;
    }
}
