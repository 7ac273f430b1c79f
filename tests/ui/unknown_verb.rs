// Only the HTTP verbs (and their async twins) may end a chain with a call.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let _res = chain!(client->v3->pay->transactions->native->send(serde_json::Value::Null));
}
