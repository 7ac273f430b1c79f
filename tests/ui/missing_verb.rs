// The endpoint exists, but not with this verb: its verbs are listed.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let _res = chain!(client->v3->discountCard->orders->_out_order_no_->deleteAsync(serde_json::Value::Null));
}
