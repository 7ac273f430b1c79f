//! APIv2 through the chain: a payment-code (micropay) payment, then its query,
//! line for line like wechatpay-php's `$instance->v2->pay->micropay->postAsync([...])`.
//!
//! ```text
//! cargo run --example micropay
//! ```
//!
//! Runs against the embedded sandbox. A payment code starting with `0` is declined
//! by the sandbox, to show how a `result_code` FAIL arrives as `Error::Api`.

use serde_json::json;
use wechatpay_chain::{chain, Error};
use wechatpay_chain_sandbox::Sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start_async().await?;
    let client = sandbox.client();
    let mchid = sandbox.mchid().to_owned();

    // $instance->v2->pay->micropay->postAsync(['xml' => [...]])->then(...)->wait()
    let res = chain!(client->v2->pay->micropay)
        .post_async(json!({
            "xml": {
                "appid":            "wx8888888888888888",
                "mch_id":           mchid,
                "body":             "image形象店-深圳腾大- QQ公仔",
                "out_trade_no":     "1217752501201407033233368018",
                "total_fee":        888,
                "fee_type":         "CNY",
                "spbill_create_ip": "8.8.8.8",
                "auth_code":        "120061098828009406",
            },
        }))
        .await?;
    let paid: serde_json::Value = res.xml()?;
    println!("micropay -> {}", serde_json::to_string_pretty(&paid)?);

    // $instance['v2/pay/orderquery']->postAsync(['xml' => [...]])
    let res = client["v2/pay/orderquery"]
        .post_async(json!({
            "xml": {
                "appid":        "wx8888888888888888",
                "mch_id":       mchid,
                "out_trade_no": "1217752501201407033233368018",
                "sign_type":    "HMAC-SHA256",
            },
        }))
        .await?;
    let query: serde_json::Value = res.xml()?;
    println!("orderquery -> trade_state {}", query["trade_state"]);

    // A declined payment code: WeChat's result_code FAIL is an API error.
    let declined = client["v2/pay/micropay"]
        .post_async(json!({
            "xml": {
                "appid": "wx8888888888888888", "mch_id": mchid, "body": "test",
                "out_trade_no": "2", "total_fee": 1, "spbill_create_ip": "8.8.8.8",
                "auth_code": "0000",
            },
        }))
        .await;
    match declined {
        Err(Error::Api(api)) => println!(
            "declined -> {} {}",
            api.code.unwrap_or_default(),
            api.message.unwrap_or_default()
        ),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
