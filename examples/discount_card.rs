//! The twelve calls of the seed document (PATCH and GET
//! `v3/discount-card/orders/{out_order_no}`, each async and sync, in the three
//! styles of wechatpay-php), line for line like its PHP.
//!
//! ```text
//! cargo run --example discount_card
//! ```
//!
//! With no `WECHATPAY_MCHID` in the environment it runs against the embedded
//! sandbox. To call a real merchant account set `WECHATPAY_MCHID`,
//! `WECHATPAY_SERIAL`, `WECHATPAY_PRIVATE_KEY` (path), `WECHATPAY_PLATFORM_KEY` (path),
//! `WECHATPAY_PLATFORM_SERIAL` (certificate serial or `PUB_KEY_ID_…`) and optionally
//! `WECHATPAY_BASE_URI`.
//!
//! PHP -> Rust: `$instance->v3->discountCard->…` is `chain!(client->v3->discountCard->…)`
//! (or `client.seg("v3").seg("discountCard")…`), `->chain('…')` is `.chain("…")`,
//! `$instance['…']` is `client["…"]`, `[ 'k' => v ]` is `json!({ "k": v })`,
//! `->patchAsync([…])->then(fn)->wait()` is `.patch_async(json!({…})).await`.

use serde_json::json;
use wechatpay_chain::{chain, Client, Error, PrivateKey, PublicKey, Response};
use wechatpay_chain_sandbox::Sandbox;

// The calls keep the layout of the seed's PHP, line for line.
#[rustfmt::skip]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end: dropping the sandbox stops it.
    let (client, _sandbox) = client()?;
    // Async calls run on a runtime; the blocking ones belong outside it (inside a
    // runtime they work too, on a helper thread, but hold the runtime's thread).
    let rt = tokio::runtime::Runtime::new()?;

    // PATCH: the three async styles, then the three sync ones.
    rt.block_on(async {
        title("PATCH", "async, pure chain");
        let response = chain!(client->v3->discountCard->orders->_out_order_no_).patch_async(json!({
          "out_order_no": "233bcbf407e87789b8e471f251774f95",
          "json": {
            "objectives": [{
              "objective_serial_no":     "578354545",
              "objective_id":            123456,
              "performance_description": "购买商品",
              "performance_type":        "INCREASE",
              "count":                   1,
              "performance_time":        "2015-05-20T13:29:35.120+08:00",
              "remark":                  "特价商品",
            },],
            "rewards":    [{
              "reward_serial_no": "578354",
              "reward_id":        123456,
              "description":      "购买商品",
              "reward_type":      "INCREASE",
              "count":            1,
              "amount":           100,
              "reward_time":      "2015-05-20T13:29:35.120+08:00",
              "remark":           "特价商品",
            },],
          },
        }))
        .await?;
        print_r(&response)?;

        title("PATCH", "async, chain()");
        let response = client.chain("v3/discount-card/orders/{out_order_no}").patch_async(json!({
          "out_order_no": "233bcbf407e87789b8e471f251774f95",
          "json": {
            "objectives": [{
              "objective_serial_no":     "578354545",
              "objective_id":            123456,
              "performance_description": "购买商品",
              "performance_type":        "INCREASE",
              "count":                   1,
              "performance_time":        "2015-05-20T13:29:35.120+08:00",
              "remark":                  "特价商品",
            },],
            "rewards":    [{
              "reward_serial_no": "578354",
              "reward_id":        123456,
              "description":      "购买商品",
              "reward_type":      "INCREASE",
              "count":            1,
              "amount":           100,
              "reward_time":      "2015-05-20T13:29:35.120+08:00",
              "remark":           "特价商品",
            },],
          },
        }))
        .await?;
        print_r(&response)?;

        title("PATCH", "async, index");
        let response = client["v3/discount-card/orders/{out_order_no}"].patch_async(json!({
          "out_order_no": "233bcbf407e87789b8e471f251774f95",
          "json": {
            "objectives": [{
              "objective_serial_no":     "578354545",
              "objective_id":            123456,
              "performance_description": "购买商品",
              "performance_type":        "INCREASE",
              "count":                   1,
              "performance_time":        "2015-05-20T13:29:35.120+08:00",
              "remark":                  "特价商品",
            },],
            "rewards":    [{
              "reward_serial_no": "578354",
              "reward_id":        123456,
              "description":      "购买商品",
              "reward_type":      "INCREASE",
              "count":            1,
              "amount":           100,
              "reward_time":      "2015-05-20T13:29:35.120+08:00",
              "remark":           "特价商品",
            },],
          },
        }))
        .await?;
        print_r(&response)?;

        Ok::<_, Error>(())
    })?;

    title("PATCH", "sync, pure chain");
    let response = chain!(client->v3->discountCard->orders->_out_order_no_).patch(json!({
      "out_order_no": "233bcbf407e87789b8e471f251774f95",
      "json": {
        "objectives": [{
          "objective_serial_no":     "578354545",
          "objective_id":            123456,
          "performance_description": "购买商品",
          "performance_type":        "INCREASE",
          "count":                   1,
          "performance_time":        "2015-05-20T13:29:35.120+08:00",
          "remark":                  "特价商品",
        },],
        "rewards":    [{
          "reward_serial_no": "578354",
          "reward_id":        123456,
          "description":      "购买商品",
          "reward_type":      "INCREASE",
          "count":            1,
          "amount":           100,
          "reward_time":      "2015-05-20T13:29:35.120+08:00",
          "remark":           "特价商品",
        },],
      },
    }))?;
    print_r(&response)?;

    title("PATCH", "sync, chain()");
    let response = client.chain("v3/discount-card/orders/{out_order_no}").patch(json!({
      "out_order_no": "233bcbf407e87789b8e471f251774f95",
      "json": {
        "objectives": [{
          "objective_serial_no":     "578354545",
          "objective_id":            123456,
          "performance_description": "购买商品",
          "performance_type":        "INCREASE",
          "count":                   1,
          "performance_time":        "2015-05-20T13:29:35.120+08:00",
          "remark":                  "特价商品",
        },],
        "rewards":    [{
          "reward_serial_no": "578354",
          "reward_id":        123456,
          "description":      "购买商品",
          "reward_type":      "INCREASE",
          "count":            1,
          "amount":           100,
          "reward_time":      "2015-05-20T13:29:35.120+08:00",
          "remark":           "特价商品",
        },],
      },
    }))?;
    print_r(&response)?;

    title("PATCH", "sync, index");
    let response = client["v3/discount-card/orders/{out_order_no}"].patch(json!({
      "out_order_no": "233bcbf407e87789b8e471f251774f95",
      "json": {
        "objectives": [{
          "objective_serial_no":     "578354545",
          "objective_id":            123456,
          "performance_description": "购买商品",
          "performance_type":        "INCREASE",
          "count":                   1,
          "performance_time":        "2015-05-20T13:29:35.120+08:00",
          "remark":                  "特价商品",
        },],
        "rewards":    [{
          "reward_serial_no": "578354",
          "reward_id":        123456,
          "description":      "购买商品",
          "reward_type":      "INCREASE",
          "count":            1,
          "amount":           100,
          "reward_time":      "2015-05-20T13:29:35.120+08:00",
          "remark":           "特价商品",
        },],
      },
    }))?;
    print_r(&response)?;

    // GET: the three async styles, then the three sync ones.
    rt.block_on(async {
        title("GET", "async, pure chain");
        let response = chain!(client->v3->discountCard->orders->_out_order_no_).get_async(json!({
          "out_order_no": "233bcbf407e87789b8e471f251774f95",
        }))
        .await?;
        print_r(&response)?;

        title("GET", "async, chain()");
        let response = client.chain("v3/discount-card/orders/{out_order_no}").get_async(json!({
          "out_order_no": "233bcbf407e87789b8e471f251774f95",
        }))
        .await?;
        print_r(&response)?;

        title("GET", "async, index");
        let response = client["v3/discount-card/orders/{out_order_no}"].get_async(json!({
          "out_order_no": "233bcbf407e87789b8e471f251774f95",
        }))
        .await?;
        print_r(&response)?;

        Ok::<_, Error>(())
    })?;

    title("GET", "sync, pure chain");
    let response = chain!(client->v3->discountCard->orders->_out_order_no_).get(json!({
      "out_order_no": "233bcbf407e87789b8e471f251774f95",
    }))?;
    print_r(&response)?;

    title("GET", "sync, chain()");
    let response = client.chain("v3/discount-card/orders/{out_order_no}").get(json!({
      "out_order_no": "233bcbf407e87789b8e471f251774f95",
    }))?;
    print_r(&response)?;

    title("GET", "sync, index");
    let response = client["v3/discount-card/orders/{out_order_no}"].get(json!({
      "out_order_no": "233bcbf407e87789b8e471f251774f95",
    }))?;
    print_r(&response)?;

    Ok(())
}

/// PHP's `print_r(json_decode((string) $response->getBody(), true));`
fn print_r(response: &Response) -> Result<(), Error> {
    let body: serde_json::Value = response.json()?;
    println!("{body:#}\n");
    Ok(())
}

fn title(method: &str, style: &str) {
    println!("{method} v3/discount-card/orders/{{out_order_no}}  [{style}]");
}

/// The merchant from `WECHATPAY_*`, or the embedded sandbox when none is set.
fn client() -> Result<(Client, Option<Sandbox>), Error> {
    let Ok(mchid) = std::env::var("WECHATPAY_MCHID") else {
        let sandbox = Sandbox::start()?;
        println!(
            "(no WECHATPAY_MCHID: running against the embedded sandbox at {})\n",
            sandbox.url()
        );
        return Ok((sandbox.client(), Some(sandbox)));
    };
    let var = |name: &str| {
        std::env::var(name)
            .map_err(|_| Error::Config(format!("WECHATPAY_MCHID is set, so {name} is needed too")))
    };
    let mut builder = Client::builder()
        .mchid(mchid)
        .serial(var("WECHATPAY_SERIAL")?)
        .private_key(PrivateKey::from_file(var("WECHATPAY_PRIVATE_KEY")?)?)
        .platform_key(
            var("WECHATPAY_PLATFORM_SERIAL")?,
            PublicKey::from_file(var("WECHATPAY_PLATFORM_KEY")?)?,
        );
    if let Ok(base) = std::env::var("WECHATPAY_BASE_URI") {
        builder = builder.base_uri(base);
    }
    Ok((builder.build()?, None))
}
