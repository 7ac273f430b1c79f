// A separator must be followed by a segment.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain::doc_client();
    let _chain = chain!(client->v3->pay->);
}
