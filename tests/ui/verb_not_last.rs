// `.await`, `?` and further calls go after the macro, not inside it.
use wechatpay_chain::chain;

fn main() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder().build().unwrap();
    let _res = chain!(client->v3->certificates->get(serde_json::Value::Null)->data);
}
