// A bare number is not a segment; it must be written as a string literal.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let _chain = chain!(client->v3->marketing->busifavor->stocks->9856000);
}
