// A receiver alone names no endpoint.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let _chain = chain!(client);
}
