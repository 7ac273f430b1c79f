//! The twelve Rust twins of `docs/discount-card.md`, run against the sandbox.
//!
//! The twins are written once, in `examples/discount_card/twins.rs` (the README's
//! main command runs them too); each is the code of one Rust block of the guide,
//! token for token (the last test checks that the guide still shows exactly that
//! code under each of the seed's PHP snippets). Every test starts its own sandbox
//! (`wechatpay_chain_sandbox::Sandbox`), which checks the request's signature as
//! WeChat Pay does, serves the seed's order and signs its answers.
//!
//! The twins print the decoded answer with `println!("{:#}", …)`; in this file
//! `println!` is shadowed to record the value instead, so each test asserts what the
//! guide's reader would see printed.

use std::cell::RefCell;

use serde_json::{json, Value};
use wechatpay_chain::{Client, Error};
use wechatpay_chain_sandbox::{Sandbox, SEED_ORDER};

type TestResult = Result<(), Box<dyn std::error::Error>>;

thread_local! {
    /// What the twins printed on this thread.
    static PRINTED: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Shadows `println!` for the twins: `println!("{:#}", value)` records `value`.
macro_rules! println {
    ($format:literal, $value:expr $(,)?) => {{
        let value: serde_json::Value = $value;
        crate::PRINTED.with(|printed| printed.borrow_mut().push(value));
    }};
}

// After the `println!` above, so that the twins print into `PRINTED`.
#[path = "../examples/discount_card/twins.rs"]
mod twins;

fn printed() -> Vec<Value> {
    PRINTED.with(|printed| printed.take())
}

/// The objective and the reward the seed's PATCH sends (its PHP `json` option).
fn seed_objective_and_reward() -> (Value, Value) {
    let objective = json!({
        "objective_serial_no": "578354545",
        "objective_id": 123456,
        "performance_description": "购买商品",
        "performance_type": "INCREASE",
        "count": 1,
        "performance_time": "2015-05-20T13:29:35.120+08:00",
        "remark": "特价商品",
    });
    let reward = json!({
        "reward_serial_no": "578354",
        "reward_id": 123456,
        "description": "购买商品",
        "reward_type": "INCREASE",
        "count": 1,
        "amount": 100,
        "reward_time": "2015-05-20T13:29:35.120+08:00",
        "remark": "特价商品",
    });
    (objective, reward)
}

/// The JSON type of a field in the seed's tables.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Type {
    Str,
    Int,
    List,
}

fn type_of(value: &Value) -> Option<Type> {
    match value {
        Value::String(_) => Some(Type::Str),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(Type::Int),
        Value::Array(_) => Some(Type::List),
        _ => None,
    }
}

/// The GET response table of the seed: field, type, required.
const ORDER_FIELDS: &[(&str, Type, bool)] = &[
    ("out_order_no", Type::Str, true),
    ("discount_card_id", Type::Str, true),
    ("out_trade_no", Type::Str, true),
    ("appid", Type::Str, true),
    ("service_id", Type::Str, true),
    ("order_id", Type::Str, true),
    ("transaction_id", Type::Str, false),
    ("openid", Type::Str, true),
    ("card_begin_time", Type::Str, true),
    ("card_end_time", Type::Str, true),
    ("card_name", Type::Str, true),
    ("objective_description", Type::Str, true),
    ("reward_description", Type::Str, true),
    ("estimated_reward_amount", Type::Int, true),
    ("online_instructions", Type::Str, false),
    ("offline_instructions", Type::Str, false),
    ("state", Type::Str, true),
    ("total_amount", Type::Int, false),
    ("deduction_amount", Type::Int, false),
    ("settlement_amount", Type::Int, false),
    ("create_time", Type::Str, true),
    ("pay_time", Type::Str, false),
    ("objectives", Type::List, false),
    ("rewards", Type::List, false),
];

/// Checks an order against the seed's GET response table: every required field is
/// there, and every field there has the table's type.
fn assert_matches_the_response_table(order: &Value) {
    assert_eq!(order["out_order_no"], SEED_ORDER, "{order:#}");
    for (field, expected, required) in ORDER_FIELDS {
        match order.get(field) {
            None => assert!(!required, "`{field}` is required by the table: {order:#}"),
            Some(value) => assert_eq!(type_of(value), Some(*expected), "`{field}`: {order:#}"),
        }
    }
    if let Some(field) = order.as_object().and_then(|o| {
        o.keys()
            .find(|k| !ORDER_FIELDS.iter().any(|(f, _, _)| f == k))
    }) {
        panic!("`{field}` is not in the response table: {order:#}");
    }
}

/// The two calls of the guide, and what their twins must print.
#[derive(Debug, Clone, Copy)]
enum Call {
    Patch,
    Get,
}

impl Call {
    /// Checks what the twin printed, then (for PATCH) that the sandbox recorded the
    /// seed's objective and reward exactly as the PHP original sends them.
    async fn check(self, printed: Vec<Value>, client: &Client) -> Result<(), Error> {
        let [answer] = printed.as_slice() else {
            panic!(
                "the twin printed {} values, not one: {printed:?}",
                printed.len()
            );
        };
        match self {
            Call::Get => assert_matches_the_response_table(answer),
            Call::Patch => {
                // The seed's PATCH response table: out_order_no and order_id.
                let fields: Vec<&String> = answer
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                assert_eq!(fields, ["out_order_no", "order_id"], "{answer:#}");
                assert_eq!(answer["out_order_no"], SEED_ORDER);
                assert!(
                    answer["order_id"].as_str().is_some_and(|id| !id.is_empty()),
                    "{answer:#}"
                );

                let order: Value = client
                    .chain("v3/discount-card/orders/{out_order_no}")
                    .get_async(json!({ "out_order_no": SEED_ORDER }))
                    .await?
                    .json()?;
                assert_matches_the_response_table(&order);
                assert_eq!(order["order_id"], answer["order_id"]);
                let (objective, reward) = seed_objective_and_reward();
                for (list, sent) in [("objectives", objective), ("rewards", reward)] {
                    let recorded = order[list]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    assert_eq!(recorded.len(), 1, "{list}: {order:#}");
                    for (field, value) in sent.as_object().into_iter().flatten() {
                        assert_eq!(&recorded[0][field], value, "{list}[0].{field}");
                    }
                }
            }
        }
        Ok(())
    }
}

/// Runs an async twin in a Tokio runtime against its own sandbox, then checks what
/// it printed.
macro_rules! async_twin {
    ($test:ident, $twin:ident, $call:ident) => {
        #[tokio::test]
        async fn $test() -> TestResult {
            let sandbox = Sandbox::start_async().await?;
            let client = sandbox.client();
            twins::$twin(&client).await?;
            Call::$call.check(printed(), &client).await?;
            Ok(())
        }
    };
}

/// Runs a blocking twin outside any async runtime (the check afterwards runs in
/// one).
macro_rules! blocking_twin {
    ($test:ident, $twin:ident, $call:ident) => {
        #[test]
        fn $test() -> TestResult {
            let sandbox = Sandbox::start()?;
            let client = sandbox.client();
            twins::$twin(&client)?;
            let printed = printed();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(Call::$call.check(printed, &client))?;
            Ok(())
        }
    };
}

async_twin!(twin_patch_async_pure_chain, patch_async_pure_chain, Patch);
async_twin!(twin_patch_async_declarative, patch_async_declarative, Patch);
async_twin!(twin_patch_async_array_index, patch_async_array_index, Patch);
blocking_twin!(
    twin_patch_blocking_pure_chain,
    patch_blocking_pure_chain,
    Patch
);
blocking_twin!(
    twin_patch_blocking_declarative,
    patch_blocking_declarative,
    Patch
);
blocking_twin!(
    twin_patch_blocking_array_index,
    patch_blocking_array_index,
    Patch
);
async_twin!(twin_get_async_pure_chain, get_async_pure_chain, Get);
async_twin!(twin_get_async_declarative, get_async_declarative, Get);
async_twin!(twin_get_async_array_index, get_async_array_index, Get);
blocking_twin!(twin_get_blocking_pure_chain, get_blocking_pure_chain, Get);
blocking_twin!(twin_get_blocking_declarative, get_blocking_declarative, Get);
blocking_twin!(twin_get_blocking_array_index, get_blocking_array_index, Get);

/// The twins, in the order of the seed's PHP snippets.
const TWINS: [&str; 12] = [
    "patch_async_pure_chain",
    "patch_async_declarative",
    "patch_async_array_index",
    "patch_blocking_pure_chain",
    "patch_blocking_declarative",
    "patch_blocking_array_index",
    "get_async_pure_chain",
    "get_async_declarative",
    "get_async_array_index",
    "get_blocking_pure_chain",
    "get_blocking_declarative",
    "get_blocking_array_index",
];

/// The code of the twin `name` in `twins.rs`: its body, without the final `Ok(())`.
fn twin_source(name: &str) -> String {
    const SOURCE: &str = include_str!("../examples/discount_card/twins.rs");
    let start = SOURCE
        .find(&format!(
            " fn {name}(client: &Client) -> Result<(), Error> {{\n"
        ))
        .unwrap_or_else(|| panic!("twins.rs has no twin `{name}`"));
    let body = &SOURCE[start..];
    let body = &body[body.find('\n').unwrap_or_default() + 1..];
    let end = body
        .find("\n    Ok(())\n}\n")
        .unwrap_or_else(|| panic!("twin `{name}` does not end in Ok(())"));
    body[..end].to_owned()
}

/// The fenced code blocks of a Markdown text: each block's language (the first word of
/// its info string) and its lines.
fn fenced_blocks(markdown: &str) -> Vec<(&str, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(&str, Vec<&str>)> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some((_, lines)) => lines.push(line),
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    let lang = info.split([' ', ',']).next().unwrap_or_default();
                    current = Some((lang, Vec::new()));
                }
            }
        }
    }
    blocks
}

/// Rust code without rustdoc's hidden lines and without any whitespace, for a
/// comparison that ignores layout.
fn visible_tokens(lines: &[&str]) -> String {
    lines
        .iter()
        .filter(|line| {
            let t = line.trim_start();
            !(t == "#" || t.starts_with("# "))
        })
        .flat_map(|line| line.chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn strip(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_guide_shows_each_seed_php_snippet_followed_by_the_twin_this_file_runs() -> TestResult {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed_discount_card.md"
    ))?;
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/discount-card.md"
    ))?;

    let seed_php: Vec<Vec<&str>> = fenced_blocks(&seed)
        .into_iter()
        .filter(|(lang, _)| *lang == "php")
        .map(|(_, lines)| lines)
        .collect();
    assert_eq!(seed_php.len(), 12, "the seed has twelve PHP snippets");

    let blocks = fenced_blocks(&guide);
    let mut pairs = Vec::new();
    for (i, (lang, php)) in blocks.iter().enumerate() {
        if *lang != "php" {
            continue;
        }
        match blocks.get(i + 1) {
            Some(("rust", rust)) => pairs.push((php.clone(), visible_tokens(rust))),
            _ => panic!(
                "PHP snippet {} of the guide is not followed by a Rust block",
                pairs.len() + 1
            ),
        }
    }
    let guide_php: Vec<Vec<&str>> = pairs.iter().map(|(php, _)| php.clone()).collect();
    assert_eq!(
        guide_php, seed_php,
        "the guide quotes the seed's PHP snippets, in order"
    );
    assert_eq!(pairs.len(), TWINS.len(), "one Rust block per twin");
    for (n, ((_, rust), twin)) in pairs.iter().zip(TWINS).enumerate() {
        assert_eq!(
            rust,
            &strip(&twin_source(twin)),
            "the Rust twin of PHP snippet {} differs from this file's",
            n + 1
        );
    }
    Ok(())
}
