//! The twelve Rust twins of the seed's PHP snippets (PATCH and GET
//! `v3/discount-card/orders/{out_order_no}`, each async and blocking, in
//! wechatpay-php's three styles), written once: `main.rs` runs them,
//! `tests/docs.rs` runs each against the sandbox and checks that
//! `docs/discount-card.md` shows exactly this code under its PHP snippet.
//!
//! Each prints the decoded answer with `println!("{:#}", …)`, as the PHP prints
//! it with `print_r`.

#![allow(dead_code)] // each user of this file calls the twins it needs

use futures::TryFutureExt;
use serde_json::{json, Value};
use wechatpay_chain::{chain, Client, Error};

/// PHP: `$instance->v3->discountCard->orders->_out_order_no_->patchAsync(…`
#[rustfmt::skip]
pub async fn patch_async_pure_chain(client: &Client) -> Result<(), Error> {
    chain!(client->v3->discountCard->orders->_out_order_no_->patchAsync(json!({
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
    })))
    .and_then(|response| async move {
        println!("{:#}", response.json::<Value>()?);
        Ok(())
    })
    .await?;
    Ok(())
}

/// PHP: `$instance->chain('v3/discount-card/orders/{out_order_no}')->patchAsync(…`
#[rustfmt::skip]
pub async fn patch_async_declarative(client: &Client) -> Result<(), Error> {
    client.chain("v3/discount-card/orders/{out_order_no}").patch_async(json!({
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
    .and_then(|response| async move {
        println!("{:#}", response.json::<Value>()?);
        Ok(())
    })
    .await?;
    Ok(())
}

/// PHP: `$instance['v3/discount-card/orders/{out_order_no}']->patchAsync(…`
#[rustfmt::skip]
pub async fn patch_async_array_index(client: &Client) -> Result<(), Error> {
    client["v3/discount-card/orders/{out_order_no}"].patch_async(json!({
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
    .and_then(|response| async move {
        println!("{:#}", response.json::<Value>()?);
        Ok(())
    })
    .await?;
    Ok(())
}

/// PHP: `$instance->v3->discountCard->orders->_out_order_no_->patch(…`
#[rustfmt::skip]
pub fn patch_blocking_pure_chain(client: &Client) -> Result<(), Error> {
    let response = chain!(client->v3->discountCard->orders->_out_order_no_->patch(json!({
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
    })))?;
    println!("{:#}", response.json::<Value>()?);
    Ok(())
}

/// PHP: `$instance->chain('v3/discount-card/orders/{out_order_no}')->patch(…`
#[rustfmt::skip]
pub fn patch_blocking_declarative(client: &Client) -> Result<(), Error> {
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
    println!("{:#}", response.json::<Value>()?);
    Ok(())
}

/// PHP: `$instance['v3/discount-card/orders/{out_order_no}']->patch(…`
#[rustfmt::skip]
pub fn patch_blocking_array_index(client: &Client) -> Result<(), Error> {
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
    println!("{:#}", response.json::<Value>()?);
    Ok(())
}

/// PHP: `$instance->v3->discountCard->orders->_out_order_no_->getAsync(…`
#[rustfmt::skip]
pub async fn get_async_pure_chain(client: &Client) -> Result<(), Error> {
    chain!(client->v3->discountCard->orders->_out_order_no_->getAsync(json!({
        "out_order_no": "233bcbf407e87789b8e471f251774f95",
    })))
    .and_then(|response| async move {
        println!("{:#}", response.json::<Value>()?);
        Ok(())
    })
    .await?;
    Ok(())
}

/// PHP: `$instance->chain('v3/discount-card/orders/{out_order_no}')->getAsync(…`
#[rustfmt::skip]
pub async fn get_async_declarative(client: &Client) -> Result<(), Error> {
    client.chain("v3/discount-card/orders/{out_order_no}").get_async(json!({
        "out_order_no": "233bcbf407e87789b8e471f251774f95",
    }))
    .and_then(|response| async move {
        println!("{:#}", response.json::<Value>()?);
        Ok(())
    })
    .await?;
    Ok(())
}

/// PHP: `$instance['v3/discount-card/orders/{out_order_no}']->getAsync(…`
#[rustfmt::skip]
pub async fn get_async_array_index(client: &Client) -> Result<(), Error> {
    client["v3/discount-card/orders/{out_order_no}"].get_async(json!({
        "out_order_no": "233bcbf407e87789b8e471f251774f95",
    }))
    .and_then(|response| async move {
        println!("{:#}", response.json::<Value>()?);
        Ok(())
    })
    .await?;
    Ok(())
}

/// PHP: `$instance->v3->discountCard->orders->_out_order_no_->get(…`
#[rustfmt::skip]
pub fn get_blocking_pure_chain(client: &Client) -> Result<(), Error> {
    let response = chain!(client->v3->discountCard->orders->_out_order_no_->get(json!({
        "out_order_no": "233bcbf407e87789b8e471f251774f95",
    })))?;
    println!("{:#}", response.json::<Value>()?);
    Ok(())
}

/// PHP: `$instance->chain('v3/discount-card/orders/{out_order_no}')->get(…`
#[rustfmt::skip]
pub fn get_blocking_declarative(client: &Client) -> Result<(), Error> {
    let response = client.chain("v3/discount-card/orders/{out_order_no}").get(json!({
        "out_order_no": "233bcbf407e87789b8e471f251774f95",
    }))?;
    println!("{:#}", response.json::<Value>()?);
    Ok(())
}

/// PHP: `$instance['v3/discount-card/orders/{out_order_no}']->get(…`
#[rustfmt::skip]
pub fn get_blocking_array_index(client: &Client) -> Result<(), Error> {
    let response = client["v3/discount-card/orders/{out_order_no}"].get(json!({
        "out_order_no": "233bcbf407e87789b8e471f251774f95",
    }))?;
    println!("{:#}", response.json::<Value>()?);
    Ok(())
}
