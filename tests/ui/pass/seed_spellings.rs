// The seed's endpoint passes the catalogue check in every PHP spelling; `unchecked`
// lets an endpoint newer than the catalogue through. Nothing here is sent: blocking
// verbs sit in a function never called, futures are never polled.
use serde_json::json;
use wechatpay_chain::{chain, Client};

#[allow(dead_code)]
fn blocking(client: &Client) {
    let _ = chain!(client->v3->discountCard->orders->_out_order_no_->patch(json!({})));
    let _ = chain!(client.v3.discountCard.orders._out_order_no_.get(json!({})));
    let _ = chain!(client->v3->discountCard->orders->_out_order_no_).patch(json!({}));
}

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let arrows = chain!(client->v3->discountCard->orders->_out_order_no_);
    let dots = chain!(client.v3.discountCard.orders._out_order_no_);
    let mixed = chain!(client->v3.discountCard->orders._out_order_no_);
    for chain in [&arrows, &dots, &mixed] {
        assert_eq!(chain.template(), "v3/discount-card/orders/{out_order_no}");
    }
    let _patch = chain!(client->v3->discountCard->orders->_out_order_no_->patchAsync(json!({})));
    let _get = chain!(client.v3.discountCard.orders._out_order_no_.getAsync(json!({})));
    let _snake = chain!(client->v3->discountCard->orders->_out_order_no_->patch_async(json!({})));
    let newer = chain!(unchecked client->v3->discountCard->brandNewThing);
    assert_eq!(newer.template(), "v3/discount-card/brand-new-thing");
}
