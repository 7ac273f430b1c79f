// A path the endpoint catalogue does not hold: the nearest real paths are named, and
// the escape for endpoints newer than the catalogue.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let _chain = chain!(client->v3->discountCards->orders->_out_order_no_);
}
