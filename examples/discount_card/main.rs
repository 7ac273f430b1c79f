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

mod twins;

use wechatpay_chain::{Client, Error, PrivateKey, PublicKey};
use wechatpay_chain_sandbox::Sandbox;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end: dropping the sandbox stops it.
    let (client, _sandbox) = client()?;
    // The async twins run on a runtime, the blocking ones outside it (they would
    // work inside too, on a helper thread; `_async` is what async code should use).
    let rt = tokio::runtime::Runtime::new()?;

    rt.block_on(async {
        title("PATCH", "async, pure chain");
        twins::patch_async_pure_chain(&client).await?;
        title("PATCH", "async, chain()");
        twins::patch_async_declarative(&client).await?;
        title("PATCH", "async, index");
        twins::patch_async_array_index(&client).await
    })?;
    title("PATCH", "sync, pure chain");
    twins::patch_blocking_pure_chain(&client)?;
    title("PATCH", "sync, chain()");
    twins::patch_blocking_declarative(&client)?;
    title("PATCH", "sync, index");
    twins::patch_blocking_array_index(&client)?;

    rt.block_on(async {
        title("GET", "async, pure chain");
        twins::get_async_pure_chain(&client).await?;
        title("GET", "async, chain()");
        twins::get_async_declarative(&client).await?;
        title("GET", "async, index");
        twins::get_async_array_index(&client).await
    })?;
    title("GET", "sync, pure chain");
    twins::get_blocking_pure_chain(&client)?;
    title("GET", "sync, chain()");
    twins::get_blocking_declarative(&client)?;
    title("GET", "sync, index");
    twins::get_blocking_array_index(&client)?;
    Ok(())
}

fn title(method: &str, style: &str) {
    println!("\n{method} v3/discount-card/orders/{{out_order_no}}  [{style}]");
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
