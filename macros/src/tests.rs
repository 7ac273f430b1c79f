//! Unit tests of `parse`: templates for real WeChat Pay paths, and every error case.

use super::parse;
use proc_macro2::TokenStream;
use quote::quote;

/// Parses and returns (receiver, template, verb) as strings.
fn ok(input: TokenStream) -> (String, String, Option<String>) {
    match parse(input.clone()) {
        Ok((receiver, template, verb)) => (
            receiver.to_string(),
            template,
            verb.map(|verb| verb.to_string()),
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
        Ok((receiver, template, _)) => {
            panic!("`{input}` parsed as {receiver} / {template:?}, expected an error")
        }
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
