//! Unit tests of `parse`: templates for real WeChat Pay paths, and every error case.

use super::parse;
use proc_macro2::TokenStream;
use quote::quote;

/// Parses and returns (receiver, template, verb) as strings.
fn ok(input: TokenStream) -> (String, String, Option<String>) {
    match parse(input.clone()) {
        Ok(parsed) => (
            parsed.receiver.to_string(),
            parsed.template,
            parsed.verb.map(|verb| verb.to_string()),
        ),
        Err(error) => panic!("`{input}` failed: {error}"),
    }
}

fn template(input: TokenStream) -> String {
    ok(input).1
}

/// Parses input that must fail and returns the error message.
fn err(input: TokenStream) -> String {
    match parse(input.clone()) {
        Ok(parsed) => panic!(
            "`{input}` parsed as {} / {:?}, expected an error",
            parsed.receiver, parsed.template
        ),
        Err(error) => error.to_string(),
    }
}

#[test]
fn real_wechat_paths() {
    let cases = [
        (
            quote!(client->v3->discountCard->orders->_out_order_no_),
            "v3/discount-card/orders/{out_order_no}",
        ),
        (
            quote!(client.v3.discountCard.orders._out_order_no_),
            "v3/discount-card/orders/{out_order_no}",
        ),
        (
            quote!(client->v3->merchantService->complaintsV2->_complaint_id_),
            "v3/merchant-service/complaints-v2/{complaint_id}",
        ),
        (
            quote!(client.v3.applyment4sub.applyment),
            "v3/applyment4sub/applyment",
        ),
        (
            quote!(client->v3->marketing->busifavor->users->_openid_->coupons->_coupon_code_->appids->_appid_),
            "v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid}",
        ),
        (
            quote!(client->v3->payScore->serviceorder->_out_order_no_->complete),
            "v3/pay-score/serviceorder/{out_order_no}/complete",
        ),
        (
            quote!(client->v3->pay->transactions->outTradeNo->_out_trade_no_),
            "v3/pay/transactions/out-trade-no/{out_trade_no}",
        ),
        (
            quote!(client->v3->pay->transactions->id->{"{transaction_id}"}),
            "v3/pay/transactions/id/{transaction_id}",
        ),
        (
            quote!(client->v3->ecommerce->profitsharing->returnorders),
            "v3/ecommerce/profitsharing/returnorders",
        ),
        (quote!(client->v2->pay->micropay), "v2/pay/micropay"),
        (
            quote!(client->v2->mmpaymkttransfers->sendredpack),
            "v2/mmpaymkttransfers/sendredpack",
        ),
        (quote!(client->v3->certificates), "v3/certificates"),
        (
            quote!(client->v3->refund->domestic->refunds->_out_refund_no_),
            "v3/refund/domestic/refunds/{out_refund_no}",
        ),
        (
            quote!(client->v3->combineTransactions->jsapi),
            "v3/combine-transactions/jsapi",
        ),
        (
            quote!(client->v3->smartguide->guides->_guide_id_->assign),
            "v3/smartguide/guides/{guide_id}/assign",
        ),
        (
            quote!(client->v3->fapiao->merchant->_sub_mchid_->applications),
            "v3/fapiao/merchant/{sub_mchid}/applications",
        ),
        (quote!(client->v3->r#type), "v3/type"),
        (quote!(client->v3->r#return->r#use), "v3/return/use"),
        (
            quote!(client->v3->marketing->{"{stock_id}"}),
            "v3/marketing/{stock_id}",
        ),
        (
            quote!(client->v3->marketing->favor->stocks->"{stock_id}"),
            "v3/marketing/favor/stocks/{stock_id}",
        ),
        (
            quote!(client->v3->"pay/transactions"->native),
            "v3/pay/transactions/native",
        ),
        (
            quote!(client->v3.discountCard->orders._outOrderNo_),
            "v3/discount-card/orders/{out-order-no}",
        ),
        (quote!(client->WeChatPay->v3), "we-chat-pay/v3"),
        (quote!(client->v3->pay_bank), "v3/pay_bank"),
        (quote!(client->v3->{r"{raw}"}), "v3/{raw}"),
        // A verb name without parentheses is an ordinary segment, as in PHP.
        (quote!(client->v3->get), "v3/get"),
    ];
    for (input, expected) in cases {
        assert_eq!(template(input.clone()), expected, "chain!({input})");
    }
}

#[test]
fn receivers() {
    assert_eq!(ok(quote!(client->v3)).0, "client");
    assert_eq!(ok(quote!(self->v3)).0, "self");
    assert_eq!(ok(quote!(self.v3.pay)).0, "self");
    assert_eq!(ok(quote!(&client->v3)).0, "(& client)");
    assert_eq!(ok(quote!(&(app.client)->v3)).0, "(& (app . client))");
    assert_eq!(ok(quote!((app.wechat)->v3->pay)).0, "(app . wechat)");
    assert_eq!(ok(quote!((app.wechat).v3.pay)).1, "v3/pay");
    assert_eq!(ok(quote!(chain->orders)).0, "chain");
}

#[test]
fn verbs() {
    let (receiver, template, verb) =
        ok(quote!(client->v3->discountCard->orders->_out_order_no_->patch(opts)));
    assert_eq!(receiver, "client");
    assert_eq!(template, "v3/discount-card/orders/{out_order_no}");
    assert_eq!(verb.as_deref(), Some("patch (opts)"));

    let verb = ok(quote!(client->v3->discountCard->orders->_out_order_no_->patchAsync(opts))).2;
    assert_eq!(verb.as_deref(), Some("patch_async (opts)"));

    let verb = ok(quote!(client.v3.pay.get_async(json!({ "a": 1 }), extra))).2;
    assert_eq!(
        verb.as_deref(),
        Some("get_async (json ! ({ \"a\" : 1 }) , extra)")
    );

    for (php, rust) in [
        ("get", "get"),
        ("post", "post"),
        ("put", "put"),
        ("patch", "patch"),
        ("delete", "delete"),
        ("request", "request"),
        ("getAsync", "get_async"),
        ("postAsync", "post_async"),
        ("putAsync", "put_async"),
        ("patchAsync", "patch_async"),
        ("deleteAsync", "delete_async"),
        ("requestAsync", "request_async"),
        ("delete_async", "delete_async"),
    ] {
        let ident = proc_macro2::Ident::new(php, proc_macro2::Span::call_site());
        let verb = ok(quote!(client->v3->pay->#ident("POST", opts))).2;
        assert_eq!(verb, Some(format!("{rust} (\"POST\" , opts)")), "{php}");
    }

    assert_eq!(ok(quote!(client->v3->pay)).2, None);
}

#[test]
fn expansion() {
    let (receiver, template, verb) = ok(quote!(&client->v3->discountCard->getAsync(o)));
    assert_eq!(receiver, "(& client)");
    assert_eq!(template, "v3/discount-card");
    assert_eq!(verb.as_deref(), Some("get_async (o)"));
}

#[test]
fn empty_segment_is_a_trailing_slash_and_only_last() {
    assert_eq!(
        template(quote!(client->v3->applyment4sub->applyment->_empty_)),
        "v3/applyment4sub/applyment/"
    );
    assert_eq!(
        template(quote!(client.v3.ecommerce.applyments._empty_)),
        "v3/ecommerce/applyments/"
    );
    let msg = err(quote!(client->v3->_empty_->applyment));
    assert!(msg.contains("must be the last segment"), "{msg}");
}

#[test]
fn error_empty_input() {
    let msg = err(quote!());
    assert!(msg.starts_with("empty `chain!` input"), "{msg}");
}

#[test]
fn error_bad_receiver() {
    for input in [quote!("client"->v3), quote!(->v3), quote!(&->v3), quote!(&)] {
        let msg = err(input);
        assert!(msg.starts_with("expected a receiver"), "{msg}");
    }
}

#[test]
fn error_no_segment() {
    let msg = err(quote!(client));
    assert!(
        msg.starts_with("the chain has no path segment after its receiver"),
        "{msg}"
    );
    let msg = err(quote!((app.client)));
    assert!(msg.starts_with("the chain has no path segment"), "{msg}");
    let msg = err(quote!(client->get(opts)));
    assert!(
        msg.starts_with("the chain has no path segment before `get(...)`"),
        "{msg}"
    );
}

#[test]
fn error_bad_separator() {
    for (input, found) in [
        (quote!(client->v3 discountCard), "`discountCard`"),
        (quote!(client::v3), "`::`"),
        (quote!(client->v3::pay), "`::`"),
        (quote!(client->v3, pay), "`,`"),
        (quote!(client->v3[0]), "`[...]`"),
        (quote!(client->v3..pay), "`..`"),
        (quote!(client - v3), "`-`"),
    ] {
        let msg = err(input);
        assert!(
            msg.starts_with(&format!(
                "expected `->` or `.` between path segments, found {found}"
            )),
            "{msg}"
        );
    }
    let msg = err(quote!(make_client()->v3));
    assert!(msg.starts_with("a call cannot be the receiver"), "{msg}");
}

#[test]
fn error_bad_segment() {
    let msg = err(quote!(client->3));
    assert!(
        msg.starts_with(
            "a number cannot be a path segment; write it as a string literal: `->\"3\"`"
        ),
        "{msg}"
    );
    let msg = err(quote!(client.v3.2));
    assert!(msg.contains("`.\"2\"`"), "{msg}");
    let msg = err(quote!(client->(x)));
    assert!(
        msg.starts_with("expected a path segment after `->`, found `(...)`"),
        "{msg}"
    );
    let msg = err(quote!(client->v3->[x]));
    assert!(
        msg.starts_with("expected a path segment after `->`, found `[...]`"),
        "{msg}"
    );
    let msg = err(quote!(client->v3->&));
    assert!(
        msg.starts_with("expected a path segment after `->`, found `&`"),
        "{msg}"
    );
    let msg = err(quote!(client->v3->'x'));
    assert!(
        msg.starts_with("expected a path segment after `->`, found the literal `'x'`"),
        "{msg}"
    );
    let msg = err(quote!(client->v3->{stock_id}));
    assert!(
        msg.starts_with("expected a single double-quoted string literal inside `{...}`"),
        "{msg}"
    );
    let msg = err(quote!(client->v3->{"a" "b"}));
    assert!(
        msg.starts_with("expected a single double-quoted string literal"),
        "{msg}"
    );
    let msg = err(quote!(client->v3->{}));
    assert!(
        msg.starts_with("expected a single double-quoted string literal"),
        "{msg}"
    );
}

#[test]
fn error_bad_string_segment() {
    let msg = err(quote!(client->v3->""));
    assert!(msg.starts_with("empty string segment"), "{msg}");
    let msg = err(quote!(client->v3->{""}));
    assert!(msg.starts_with("empty string segment"), "{msg}");
    for (input, fixed) in [
        (quote!(client->v3->"/pay"), "pay"),
        (quote!(client->v3->"pay/"), "pay"),
        (
            quote!(client->v3->{"pay//transactions"}),
            "pay/transactions",
        ),
    ] {
        let msg = err(input);
        assert!(msg.contains("has an empty path part"), "{msg}");
        assert!(msg.ends_with(&format!("write \"{fixed}\"")), "{msg}");
    }
}

#[test]
fn error_verb_not_last() {
    let msg = err(quote!(client->v3->pay->get(opts)->transactions));
    assert!(
        msg.starts_with("the verb call `get(...)` must be the last item of the chain"),
        "{msg}"
    );
    let msg = err(quote!(client->v3->pay->getAsync(opts).await));
    assert!(
        msg.starts_with("the verb call `get_async(...)` must be the last"),
        "{msg}"
    );
}

#[test]
fn error_unknown_verb() {
    let msg = err(quote!(client->v3->fetch(x)));
    assert!(msg.starts_with("unknown verb `fetch`"), "{msg}");
    assert!(
        msg.contains("get, post, put, patch, delete, request"),
        "{msg}"
    );
    assert!(msg.contains("`_async`"), "{msg}");
}

#[test]
fn error_trailing_separator() {
    let msg = err(quote!(client->v3->));
    assert!(msg.starts_with("trailing `->`"), "{msg}");
    let msg = err(quote!(client.v3.));
    assert!(msg.starts_with("trailing `.`"), "{msg}");
}

/// Expands input that must pass the catalogue check.
fn expanded(input: TokenStream) -> String {
    match super::expand(input.clone()) {
        Ok(tokens) => tokens.to_string(),
        Err(error) => panic!("`{input}` failed: {error}"),
    }
}

/// The message of input the catalogue check refuses.
fn refused(input: TokenStream) -> String {
    match super::expand(input.clone()) {
        Ok(tokens) => panic!("`{input}` expanded to {tokens}, expected an error"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn catalogue_check() {
    assert_eq!(
        expanded(quote!(client->v3->discountCard->orders->_out_order_no_->patchAsync(o))),
        "client . chain (\"v3/discount-card/orders/{out_order_no}\") . patch_async (o)"
    );
    // Placeholder names, values written out, the trailing-slash path without its slash.
    expanded(quote!(client->v3->pay->transactions->id->_id_->get(o)));
    expanded(quote!(client->v3->marketing->busifavor->stocks->"9856000"));
    expanded(quote!(client->v3->applyment4sub->applyment->_empty_->post(o)));
    expanded(quote!(client->hk->v3->transactions->native->post(o)));
    expanded(quote!(client->v2->secapi->mch->"modifyInstitutionsub"->post(o)));
    // `request` takes its method at run time.
    expanded(quote!(client->v3->pay->transactions->native->request("GET", o)));

    let message = refused(quote!(client->v3->discountCards->orders->_out_order_no_));
    assert!(
        message.starts_with(
            "`v3/discount-cards/orders/{out_order_no}` is not a WeChat Pay API path; nearest: \
             `v3/discount-card/orders/{out_order_no}`"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("write `chain!(unchecked client->...)`"),
        "{message}"
    );

    let message = refused(quote!(client->v3->applyment4sub->applyment->post(o)));
    assert!(
        message.starts_with(
            "`v3/applyment4sub/applyment` is not a WeChat Pay API path; nearest: \
             `v3/applyment4sub/applyment/`"
        ),
        "{message}"
    );
    assert!(
        message
            .contains("; WeChat wants it with a trailing slash: end the chain with `->_empty_`;"),
        "{message}"
    );

    let message = refused(quote!(client->v3->discountCard->orders->_out_order_no_->deleteAsync(o)));
    assert!(
        message.starts_with(
            "`v3/discount-card/orders/{out_order_no}` has no DELETE operation; it answers GET, PATCH"
        ),
        "{message}"
    );

    // The escape, and a receiver that happens to be called `unchecked`.
    assert_eq!(
        expanded(quote!(unchecked client->v3->brandNew->thing->post(o))),
        "client . chain (\"v3/brand-new/thing\") . post (o)"
    );
    assert!(refused(quote!(unchecked->v3->brandNew)).contains("`v3/brand-new` is not"));
}

/// Every catalogue path, written as a PHP property chain (identifiers where one
/// spells the segment, string literals otherwise), expands to its own template and
/// passes the check with each of its methods. One data-driven loop, not 1,155 macro
/// calls.
#[test]
fn every_catalogue_path_round_trips_through_the_macro() {
    use proc_macro2::{Ident, Literal, Span};
    use wechatpay_chain_catalogue::{entries, identifier_for};

    for entry in entries() {
        let path = entry.path();
        let mut chain = quote!(client);
        for segment in path.split('/') {
            match identifier_for(segment) {
                Some(ident) => {
                    let ident = Ident::new(&ident, Span::call_site());
                    chain.extend(quote!(->#ident));
                }
                None => {
                    let literal = Literal::string(segment);
                    chain.extend(quote!(->#literal));
                }
            }
        }
        for method in entry.methods() {
            let verb = Ident::new(&format!("{}Async", method.verb()), Span::call_site());
            let input = quote!(#chain->#verb(o));
            let want = format!("client . chain ({path:?}) . {}_async (o)", method.verb());
            assert_eq!(expanded(input), want, "{path}");
        }
    }
}
