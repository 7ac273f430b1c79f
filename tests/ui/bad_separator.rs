// PHP's `::` (or any token other than `->` and `.`) cannot join segments.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain::doc_client();
    let _chain = chain!(client->v3::pay->transactions);
}
