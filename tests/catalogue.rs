//! The endpoint catalogue as the library sees it: every catalogue path is reached alike
//! by `chain!`'s normalise-and-check, `seg()` and `chain()`, and `Chain::endpoint()`
//! finds it; a request the catalogue does not know logs one debug line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use wechatpay_chain::catalogue::{self, identifier_for, Method};
use wechatpay_chain::normalize_segment;
use wechatpay_chain_sandbox::Sandbox;

/// One data-driven loop over the whole catalogue (not 1,155 generated macro calls; the
/// macro's own token-level loop is in `macros/src/tests.rs`).
#[test]
fn every_catalogue_path_round_trips_through_the_macro_check_seg_and_chain() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    let mut identifiers = 0;
    for entry in catalogue::entries() {
        let path = entry.path();
        // As sent, a trailing slash included.
        let sent = path;
        // The PHP spelling: an identifier where one spells the segment (what `chain!`
        // and `seg()` normalise; `_empty_` for the empty last segment of a trailing
        // slash), the segment as written otherwise (a string literal in `chain!`,
        // taken as is).
        let php: Vec<(String, bool)> = sent
            .split('/')
            .map(|segment| match identifier_for(segment) {
                Some(ident) => (ident, true),
                None => (segment.to_owned(), false),
            })
            .collect();
        identifiers += php.iter().filter(|(_, is_ident)| *is_ident).count();

        // What `chain!` computes, then the check it runs, with every method.
        let via_macro: Vec<String> = php
            .iter()
            .map(|(s, is_ident)| {
                if *is_ident {
                    normalize_segment(s)
                } else {
                    s.clone()
                }
            })
            .collect();
        let via_macro = via_macro.join("/");
        assert_eq!(via_macro, sent, "chain! spelling of {path}");
        for method in entry.methods() {
            let checked = catalogue::check(&via_macro, Some(method));
            assert_eq!(checked.map(|e| e.path()), Ok(path), "{method} {path}");
        }

        // `seg()`: identifiers normalised at run time, literal segments as written.
        let mut chain = client.seg(&php[0].0);
        for (segment, is_ident) in &php[1..] {
            chain = if *is_ident {
                chain.seg(segment)
            } else {
                chain.chain(segment)
            };
        }
        assert_eq!(chain.template(), sent, "seg() of {path}");
        assert_eq!(chain.endpoint(), Some(entry), "seg() endpoint of {path}");

        // `chain()` and indexing take the catalogue's template as written.
        let direct = client.chain(path);
        assert_eq!(direct.template(), sent, "chain() of {path}");
        assert_eq!(direct.endpoint(), Some(entry), "chain() endpoint of {path}");
        assert_eq!(
            client[path].endpoint(),
            Some(entry),
            "client[] endpoint of {path}"
        );
    }
    // Most segments are identifiers; the few that are not are upper-case v2 names.
    assert!(identifiers > 5000, "{identifiers}");
}

#[test]
fn endpoint_gives_the_catalogue_facts_and_none_for_unknown_paths() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    let seed = client.chain("v3/discount-card/orders/{out_order_no}");
    let entry = seed.endpoint().unwrap();
    assert_eq!(
        entry.methods().collect::<Vec<_>>(),
        [Method::Get, Method::Patch]
    );
    let get = entry.operation(Method::Get).unwrap();
    assert_eq!(get.name(), "通过先享卡订单号查询订单API");
    assert!(get.deprecated());
    assert!(get
        .doc_url()
        .unwrap()
        .starts_with("https://pay.weixin.qq.com/"));
    // Placeholder names need not match; a value written out finds the entry too.
    let by_id = client
        .chain("v3/pay/transactions/id/<id>")
        .endpoint()
        .unwrap();
    assert_eq!(by_id.path(), "v3/pay/transactions/id/{transaction_id}");
    assert!(client
        .chain("v3/discount-cards/orders/{x}")
        .endpoint()
        .is_none());
    assert!(
        client.chain("v3//x").endpoint().is_none(),
        "a broken template has none"
    );
}

#[test]
fn endpoint_looks_under_the_base_uri_prefix_first() {
    let on = |base: &str| {
        wechatpay_chain_sandbox::SandboxKeys::fixture()
            .unwrap()
            .client_builder()
            .base_uri(base)
            .build()
            .unwrap()
    };
    let hk = on("https://apihk.mch.weixin.qq.com/hk/");
    assert_eq!(
        hk.chain("v3/refunds").endpoint().unwrap().path(),
        "hk/v3/refunds"
    );
    // Both catalogues have certificates: the prefix decides which one is meant.
    assert_eq!(
        hk.chain("v3/certificates").endpoint().unwrap().path(),
        "hk/v3/certificates"
    );
    let mainland = on("https://api.mch.weixin.qq.com/");
    assert_eq!(
        mainland.chain("v3/certificates").endpoint().unwrap().path(),
        "v3/certificates"
    );
    assert!(mainland.chain("v3/refunds").endpoint().is_none());
    // A prefix the catalogue does not know (a proxy's) is looked past.
    let proxied = on("https://api.mch.weixin.qq.com/gateway/");
    assert_eq!(
        proxied.chain("v3/certificates").endpoint().unwrap().path(),
        "v3/certificates"
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_request_to_a_path_not_in_the_catalogue_logs_one_debug_line() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // Known: the seed's order. Unknown: a misspelt path (WeChat, and the sandbox,
        // answer 404), sent all the same.
        let known = client
            .chain("v3/discount-card/orders/{out_order_no}")
            .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }));
        assert!(known.is_ok(), "{known:?}");
        let unknown = client
            .chain("v3/discount-cards/orders/{out_order_no}")
            .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }));
        assert!(unknown.is_err());
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("not in the WeChat Pay API catalogue"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("DEBUG"), "{}", lines[0]);
    assert!(
        lines[0].contains("path=\"v3/discount-cards/orders/{out_order_no}\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("nearest=\"v3/discount-card/orders/{out_order_no}\""),
        "{}",
        lines[0]
    );
    // The template only: the placeholder's value is not in the line.
    assert!(
        !lines[0].contains("233bcbf407e87789b8e471f251774f95"),
        "{}",
        lines[0]
    );
}
