// A separator must be followed by a segment.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let _chain = chain!(client->v3->pay->);
}
