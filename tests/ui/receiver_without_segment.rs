// A receiver alone names no endpoint.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain::doc_client();
    let _chain = chain!(client);
}
