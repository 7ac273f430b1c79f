//! Real WeChat Pay APIv3 paths, each written as a wechatpay-php property chain, must
//! give the same template through the three Rust spellings: `chain!` (normalised at
//! compile time), `client.seg(…)` (normalised at run time) and `client.chain("…")`
//! (taken as written). The last tests send verb-ending chains over a closure transport
//! and to the sandbox over loopback HTTP, and check the path that reaches the wire.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{json, Value};
use wechatpay_chain::verifier::string_to_verify;
use wechatpay_chain::{chain, normalize_segment, Chain, Client, Error, PrivateKey, PublicKey};
use wechatpay_chain_sandbox::{Sandbox, StatusCode};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
const PUB_KEY_ID: &str = "PUB_KEY_ID_0112345678902024000000000000";

/// One row of the table: a PHP chain and the template every spelling must give.
struct Row {
    /// The chain as a PHP user writes it, for failure messages.
    php: String,
    /// `chain!(client->…)`, expanded at compile time.
    via_macro: Chain,
    /// The PHP property names, fed one by one to `seg()`.
    segments: Vec<&'static str>,
    /// The string a PHP user passes to `$instance->chain('…')`.
    declared: &'static str,
    /// The normalised template.
    template: &'static str,
}

/// `client->a->b->c, "a/b/c" => "a/b/c";` rows: the chain, the string written in
/// `chain('…')`, and the expected template.
macro_rules! php_paths {
    ($($recv:ident $(-> $seg:tt)+ , $declared:literal => $template:literal;)+) => {
        vec![$(Row {
            php: concat!("$instance", $("->", stringify!($seg)),+).replace("r#", ""),
            via_macro: chain!($recv $(-> $seg)+),
            segments: vec![$(stringify!($seg)),+],
            declared: $declared,
            template: $template,
        }),+]
    };
}

fn table(client: &Client) -> Vec<Row> {
    php_paths! {
        // Basic payments.
        client->v3->pay->transactions->native, "v3/pay/transactions/native" => "v3/pay/transactions/native";
        client->v3->pay->transactions->jsapi, "v3/pay/transactions/jsapi" => "v3/pay/transactions/jsapi";
        client->v3->pay->transactions->app, "v3/pay/transactions/app" => "v3/pay/transactions/app";
        client->v3->pay->transactions->h5, "v3/pay/transactions/h5" => "v3/pay/transactions/h5";
        client->v3->pay->transactions->id->_transaction_id_,
            "v3/pay/transactions/id/{transaction_id}" => "v3/pay/transactions/id/{transaction_id}";
        client->v3->pay->transactions->outTradeNo->_out_trade_no_,
            "v3/pay/transactions/out-trade-no/{out_trade_no}" => "v3/pay/transactions/out-trade-no/{out_trade_no}";
        client->v3->pay->transactions->outTradeNo->_out_trade_no_->close,
            "v3/pay/transactions/out-trade-no/{out_trade_no}/close"
            => "v3/pay/transactions/out-trade-no/{out_trade_no}/close";
        client->v3->pay->partner->transactions->jsapi,
            "v3/pay/partner/transactions/jsapi" => "v3/pay/partner/transactions/jsapi";
        client->v3->combineTransactions->jsapi, "v3/combine-transactions/jsapi" => "v3/combine-transactions/jsapi";
        client->v3->combineTransactions->outTradeNo->_combine_out_trade_no_,
            "v3/combine-transactions/out-trade-no/{combine_out_trade_no}"
            => "v3/combine-transactions/out-trade-no/{combine_out_trade_no}";
        // Refunds.
        client->v3->refund->domestic->refunds, "v3/refund/domestic/refunds" => "v3/refund/domestic/refunds";
        client->v3->refund->domestic->refunds->_out_refund_no_,
            "v3/refund/domestic/refunds/{out_refund_no}" => "v3/refund/domestic/refunds/{out_refund_no}";
        // Profit sharing.
        client->v3->profitsharing->orders, "v3/profitsharing/orders" => "v3/profitsharing/orders";
        client->v3->profitsharing->orders->_out_order_no_,
            "v3/profitsharing/orders/{out_order_no}" => "v3/profitsharing/orders/{out_order_no}";
        client->v3->profitsharing->orders->unfreeze,
            "v3/profitsharing/orders/unfreeze" => "v3/profitsharing/orders/unfreeze";
        client->v3->profitsharing->returnOrders, "v3/profitsharing/return-orders" => "v3/profitsharing/return-orders";
        client->v3->profitsharing->receivers->add, "v3/profitsharing/receivers/add" => "v3/profitsharing/receivers/add";
        client->v3->profitsharing->merchantConfigs->_sub_mchid_,
            "v3/profitsharing/merchant-configs/{sub_mchid}" => "v3/profitsharing/merchant-configs/{sub_mchid}";
        // Pay score and the discount card (the seed).
        client->v3->payscore->serviceorder, "v3/payscore/serviceorder" => "v3/payscore/serviceorder";
        client->v3->payscore->serviceorder->_out_order_no_->complete,
            "v3/payscore/serviceorder/{out_order_no}/complete" => "v3/payscore/serviceorder/{out_order_no}/complete";
        client->v3->payscore->permissions->authorizationCode->_authorization_code_,
            "v3/payscore/permissions/authorization-code/{authorization_code}"
            => "v3/payscore/permissions/authorization-code/{authorization_code}";
        client->v3->discountCard->orders->_out_order_no_,
            "v3/discount-card/orders/{out_order_no}" => "v3/discount-card/orders/{out_order_no}";
        // Certificates and bills.
        client->v3->certificates, "v3/certificates" => "v3/certificates";
        client->v3->bill->tradebill, "v3/bill/tradebill" => "v3/bill/tradebill";
        client->v3->bill->fundflowbill, "v3/bill/fundflowbill" => "v3/bill/fundflowbill";
        client->v3->billdownload->file, "v3/billdownload/file" => "v3/billdownload/file";
        // Transfers.
        client->v3->transfer->batches, "v3/transfer/batches" => "v3/transfer/batches";
        client->v3->transfer->batches->batchId->_batch_id_,
            "v3/transfer/batches/batch-id/{batch_id}" => "v3/transfer/batches/batch-id/{batch_id}";
        client->v3->transfer->batches->outBatchNo->_out_batch_no_->details->outDetailNo->_out_detail_no_,
            "v3/transfer/batches/out-batch-no/{out_batch_no}/details/out-detail-no/{out_detail_no}"
            => "v3/transfer/batches/out-batch-no/{out_batch_no}/details/out-detail-no/{out_detail_no}";
        client->v3->fundApp->mchTransfer->transferBills,
            "v3/fund-app/mch-transfer/transfer-bills" => "v3/fund-app/mch-transfer/transfer-bills";
        client->v3->fundApp->mchTransfer->transferBills->outBillNo->_out_bill_no_->cancel,
            "v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel"
            => "v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel";
        // E-commerce (platform merchants).
        client->v3->ecommerce->applyments->_applyment_id_,
            "v3/ecommerce/applyments/{applyment_id}" => "v3/ecommerce/applyments/{applyment_id}";
        client->v3->ecommerce->fund->withdraw, "v3/ecommerce/fund/withdraw" => "v3/ecommerce/fund/withdraw";
        client->v3->ecommerce->profitsharing->orders,
            "v3/ecommerce/profitsharing/orders" => "v3/ecommerce/profitsharing/orders";
        client->v3->ecommerce->subsidies->create, "v3/ecommerce/subsidies/create" => "v3/ecommerce/subsidies/create";
        client->v3->ecommerce->refunds->apply, "v3/ecommerce/refunds/apply" => "v3/ecommerce/refunds/apply";
        // Smart guide, invoices.
        client->v3->smartguide->guides, "v3/smartguide/guides" => "v3/smartguide/guides";
        client->v3->smartguide->guides->_guide_id_->assign,
            "v3/smartguide/guides/{guide_id}/assign" => "v3/smartguide/guides/{guide_id}/assign";
        client->v3->newTaxControlFapiao->fapiaoApplications,
            "v3/new-tax-control-fapiao/fapiao-applications" => "v3/new-tax-control-fapiao/fapiao-applications";
        client->v3->newTaxControlFapiao->fapiaoApplications->_fapiao_apply_id_,
            "v3/new-tax-control-fapiao/fapiao-applications/{fapiao_apply_id}"
            => "v3/new-tax-control-fapiao/fapiao-applications/{fapiao_apply_id}";
        client->v3->newTaxControlFapiao->cardTemplate,
            "v3/new-tax-control-fapiao/card-template" => "v3/new-tax-control-fapiao/card-template";
        // Complaints (a digit after a capital) and images.
        client->v3->merchantService->complaintsV2, "v3/merchant-service/complaints-v2" => "v3/merchant-service/complaints-v2";
        client->v3->merchantService->complaintsV2->_complaint_id_,
            "v3/merchant-service/complaints-v2/{complaint_id}" => "v3/merchant-service/complaints-v2/{complaint_id}";
        client->v3->merchantService->complaintsV2->_complaint_id_->negotiationHistorys,
            "v3/merchant-service/complaints-v2/{complaint_id}/negotiation-historys"
            => "v3/merchant-service/complaints-v2/{complaint_id}/negotiation-historys";
        client->v3->merchantService->complaintNotifications,
            "v3/merchant-service/complaint-notifications" => "v3/merchant-service/complaint-notifications";
        client->v3->merchantService->images->_media_id_,
            "v3/merchant-service/images/{media_id}" => "v3/merchant-service/images/{media_id}";
        // Sub-merchant onboarding (digits inside words; a real trailing `/`, sent as
        // PHP sends it, `->_empty_` in a property chain).
        client->v3->applyment4sub->applyment->_empty_,
            "v3/applyment4sub/applyment/" => "v3/applyment4sub/applyment/";
        client->v3->applyment4sub->applyment->business_code->_business_code_,
            "v3/applyment4sub/applyment/business_code/{business_code}"
            => "v3/applyment4sub/applyment/business_code/{business_code}";
        client->v3->apply4subject->applyment, "v3/apply4subject/applyment" => "v3/apply4subject/applyment";
        // Marketing.
        client->v3->marketing->busifavor->stocks, "v3/marketing/busifavor/stocks" => "v3/marketing/busifavor/stocks";
        client->v3->marketing->busifavor->users->_openid_->coupons->_coupon_code_->appids->_appid_,
            "v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid}"
            => "v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid}";
        client->v3->marketing->busifavor->coupons->r#use,
            "v3/marketing/busifavor/coupons/use" => "v3/marketing/busifavor/coupons/use";
        client->v3->marketing->busifavor->coupons->r#return,
            "v3/marketing/busifavor/coupons/return" => "v3/marketing/busifavor/coupons/return";
        client->v3->marketing->favor->users->_openid_->coupons,
            "v3/marketing/favor/users/{openid}/coupons" => "v3/marketing/favor/users/{openid}/coupons";
        client->v3->marketing->favor->stocks->_stock_id_->start,
            "v3/marketing/favor/stocks/{stock_id}/start" => "v3/marketing/favor/stocks/{stock_id}/start";
        client->v3->marketing->favor->media->imageUpload,
            "v3/marketing/favor/media/image-upload" => "v3/marketing/favor/media/image-upload";
        // Media uploads (`_` inside a word passes through).
        client->v3->merchant->media->upload, "v3/merchant/media/upload" => "v3/merchant/media/upload";
        client->v3->merchant->media->video_upload, "v3/merchant/media/video_upload" => "v3/merchant/media/video_upload";
        // Capital and vehicles.
        client->v3->capital->capitallhh->banks->searchBanksByBankAccount,
            "v3/capital/capitallhh/banks/search-banks-by-bank-account"
            => "v3/capital/capitallhh/banks/search-banks-by-bank-account";
        client->v3->vehicle->parking->parkings, "v3/vehicle/parking/parkings" => "v3/vehicle/parking/parkings";
    }
}

fn merchant_key() -> Result<PrivateKey, Error> {
    PrivateKey::from_file(format!("{KEYS}/merchant_private.pem"))
}

fn platform_key() -> Result<PrivateKey, Error> {
    PrivateKey::from_file(format!("{KEYS}/platform_private.pem"))
}

/// A client on the fixture keys, talking to `base_uri`.
fn builder(base_uri: &str) -> Result<wechatpay_chain::ClientBuilder, Error> {
    Ok(Client::builder()
        .mchid("1900000001")
        .serial("3775B6A45ACD588826D15E583A95F5DD00000001")
        .private_key(merchant_key()?)
        .platform_key(
            PUB_KEY_ID,
            PublicKey::from_file(format!("{KEYS}/platform_public.pem"))?,
        )
        .base_uri(base_uri))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The four `Wechatpay-*` headers of an answer with `body`, signed by the platform key.
fn platform_headers(body: &str) -> Result<Vec<(&'static str, String)>, Error> {
    let timestamp = now().to_string();
    let nonce = "ohhW3gm5hIrJYvc3Ip2q2yAbFGyV8w4L".to_owned();
    let signature =
        platform_key()?.sign_base64(&string_to_verify(&timestamp, &nonce, body.as_bytes()))?;
    Ok(vec![
        ("Wechatpay-Timestamp", timestamp),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Serial", PUB_KEY_ID.to_owned()),
        ("Wechatpay-Signature", signature),
        ("Request-ID", "08F78BB5AF0610D302".to_owned()),
    ])
}

#[test]
fn at_least_forty_real_paths_give_one_template_through_macro_seg_and_chain() -> TestResult {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    let rows = table(&client);
    assert!(rows.len() >= 40, "only {} paths in the table", rows.len());

    let mut mismatches = Vec::new();
    for row in &rows {
        let (first, rest) = row.segments.split_first().ok_or("a row without segments")?;
        let unraw = |s: &'static str| s.strip_prefix("r#").unwrap_or(s);
        let via_seg = rest
            .iter()
            .fold(client.seg(unraw(first)), |chain, s| chain.seg(unraw(s)));
        let via_chain = client.chain(row.declared);
        let via_index = &client[row.declared];
        let spellings = [
            ("chain!", row.via_macro.template()),
            ("seg()", via_seg.template()),
            ("chain()", via_chain.template()),
            ("client[…]", via_index.template()),
        ];
        for (how, got) in spellings {
            if got != row.template {
                mismatches.push(format!(
                    "{}: {how} gave {got:?}, expected {:?}",
                    row.php, row.template
                ));
            }
        }
        // `Display` prints the template too.
        assert_eq!(row.via_macro.to_string(), row.template, "{}", row.php);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    Ok(())
}

#[test]
fn every_template_in_the_table_is_distinct_and_lower_case() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    let rows = table(&client);
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        assert!(
            seen.insert(row.template),
            "{} is listed twice",
            row.template
        );
        assert_eq!(
            row.template,
            row.template.to_ascii_lowercase(),
            "{}",
            row.php
        );
        assert!(row.php.starts_with("$instance->v3->"), "{}", row.php);
    }
}

/// `chain!(client->X)`, `client.seg("X")` and `normalize_segment("X")` for one
/// identifier `X` (`unchecked`: these one-segment paths are not WeChat Pay endpoints).
macro_rules! three_ways {
    ($client:ident, $($id:tt)+) => {
        vec![$((
            stringify!($id),
            chain!(unchecked $client->$id).template().to_owned(),
            $client.seg(stringify!($id).trim_start_matches("r#")).template().to_owned(),
            normalize_segment(stringify!($id).trim_start_matches("r#")),
        )),+]
    };
}

#[test]
fn macro_and_runtime_normalisation_agree_on_tricky_identifiers() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    let cases = three_ways!(client,
        discountCard complaintsV2 WeChatPay Orders V3 v3 ABC HTTPServer iOS x9Y a1B2c3
        applyment4sub apply4subject pay_bank video_upload business_code snake_Camel
        _out_order_no_ _outOrderNo_ _OutOrderNo_ _id_ _openid_ _x_ __ ___ _leading trailing_
        __double__ negotiationHistorys searchBanksByBankAccount café r#type r#use r#return
    );
    let mut mismatches = Vec::new();
    for (id, via_macro, via_seg, via_fn) in &cases {
        if via_macro != via_seg || via_macro != via_fn {
            mismatches.push(format!(
                "{id}: chain! {via_macro:?}, seg() {via_seg:?}, normalize_segment {via_fn:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Spot-check the rule itself on a few of them.
    let get = |id: &str| cases.iter().find(|c| c.0 == id).map(|c| c.1.as_str());
    assert_eq!(get("complaintsV2"), Some("complaints-v2"));
    assert_eq!(get("WeChatPay"), Some("we-chat-pay"));
    assert_eq!(get("HTTPServer"), Some("h-t-t-p-server"));
    assert_eq!(get("_outOrderNo_"), Some("{out-order-no}"));
    assert_eq!(get("pay_bank"), Some("pay_bank"));
    assert_eq!(get("r#use"), Some("use"));
}

#[test]
fn seg_normalises_its_whole_argument_as_php_does() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    // PHP normalises a property name whole: a capital after `/` gets its hyphen too.
    for arg in ["a/B", "v3/discountCard", "orders/OutTradeNo", "_x/y_"] {
        assert_eq!(client.seg(arg).template(), normalize_segment(arg), "{arg}");
        assert_eq!(
            client.seg("v3").seg(arg).template(),
            format!("v3/{}", normalize_segment(arg)),
            "{arg}"
        );
    }
    assert_eq!(client.seg("a/B").template(), "a/-b");
}

#[test]
fn a_broken_chain_stays_broken_when_extended_and_sends_nothing() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let cases: Vec<(&str, Chain, &str)> = vec![
        (
            "client.seg(\"\")",
            client.seg("").seg("v3"),
            "empty segment",
        ),
        (
            "chain.seg(\"\")",
            client.seg("v3").seg("").seg("discountCard").chain("orders"),
            "empty segment",
        ),
        (
            "an unclosed placeholder",
            client.chain("v3/{oops").seg("orders").chain("{x}"),
            "v3/{oops",
        ),
    ];
    for (what, chain, first) in cases {
        let err = chain.get(json!({ "x": "1" })).unwrap_err();
        assert!(
            matches!(err, Error::Template { .. }) && err.to_string().contains(first),
            "{what}: {err}"
        );
        assert!(err.is_before_send(), "{what}: {err}");
    }
    assert_eq!(sandbox.stats().received, 0, "nothing reached the sandbox");
}

#[test]
fn brace_and_string_segments_are_taken_as_written() {
    let client = wechatpay_chain_sandbox::SandboxKeys::fixture()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    // PHP: $instance->v3->marketing->favor->users->{'{openid}'}->coupons
    let brace = chain!(client->v3->marketing->favor->users->{"{openid}"}->coupons);
    assert_eq!(
        brace.template(),
        "v3/marketing/favor/users/{openid}/coupons"
    );
    // PHP: $instance->v3->{'merchant-service'}->complaintsV2
    let hyphen = chain!(client->v3->{"merchant-service"}->complaintsV2);
    assert_eq!(hyphen.template(), "v3/merchant-service/complaints-v2");
    // A string segment keeps capitals that an identifier would turn into hyphens.
    let literal = chain!(client->v3->"pay/transactions"->id->"{transaction_id}");
    assert_eq!(
        literal.template(),
        client
            .chain("v3/pay/transactions/id/{transaction_id}")
            .template()
    );
    // The dotted spelling, and both separators mixed.
    let dotted = chain!(client.v3.pay.transactions.native);
    assert_eq!(dotted.template(), "v3/pay/transactions/native");
    let mixed = chain!(client->v3.discountCard->orders._out_order_no_);
    assert_eq!(mixed.template(), "v3/discount-card/orders/{out_order_no}");
}

#[test]
fn dot_spelling_with_a_blocking_verb_sends_to_the_native_path_over_a_closure_transport(
) -> TestResult {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let answer = r#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#;
    let headers = platform_headers(answer)?;
    let transport = move |request: http::Request<Bytes>| -> Result<http::Response<Bytes>, Error> {
        let line = format!("{} {}", request.method(), request.uri());
        if let Ok(mut log) = log.lock() {
            log.push(line);
        }
        let mut response = http::Response::builder().status(200);
        for (name, value) in &headers {
            response = response.header(*name, value);
        }
        Ok(response
            .body(Bytes::from_static(answer.as_bytes()))
            .expect("static response parts"))
    };
    let client = builder("https://api.mch.weixin.qq.com/")?
        .sync_http_client(transport)
        .build()?;

    // PHP: $instance->v3->pay->transactions->native->post(['json' => [...]])
    let response = chain!(client.v3.pay.transactions.native.post(json!({
        "json": {
            "mchid": "1900000001",
            "out_trade_no": "native12177525012014070332333",
            "appid": "wxdace645e0bc2cXXX",
            "description": "Image形象店-深圳腾大-QQ公仔",
            "notify_url": "https://weixin.qq.com/",
            "amount": { "total": 1, "currency": "CNY" },
        },
    })))?;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>()?,
        json!({ "code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz" })
    );
    let seen = seen.lock().map_err(|_| "poisoned")?;
    assert_eq!(
        seen.as_slice(),
        ["POST https://api.mch.weixin.qq.com/v3/pay/transactions/native"]
    );
    Ok(())
}

#[tokio::test]
async fn arrow_spelling_with_an_async_php_verb_expands_the_placeholder_and_query_on_the_wire(
) -> TestResult {
    let sandbox = Sandbox::start_async().await?;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    sandbox.route(
        "GET",
        "v3/pay/transactions/id/{transaction_id}",
        move |req| {
            if let Ok(mut log) = log.lock() {
                log.push(format!(
                    "{} {}?{}",
                    req.method,
                    req.path,
                    req.raw_query.as_deref().unwrap_or_default()
                ));
            }
            let id = req.param("transaction_id").unwrap_or_default();
            (
                StatusCode::OK,
                json!({ "transaction_id": id, "trade_state": "SUCCESS" }),
            )
        },
    );
    let client = sandbox.client();

    // PHP: $instance->v3->pay->transactions->id->_transaction_id_->getAsync([...])->wait()
    let response = chain!(client->v3->pay->transactions->id->_transaction_id_->getAsync(json!({
        "query": { "mchid": "1230000109" },
        "transaction_id": "1217752501201407033233368018",
    })))
    .await?;

    assert!(response.is_verified());
    let order: Value = response.json()?;
    assert_eq!(order["transaction_id"], "1217752501201407033233368018");
    assert_eq!(order["trade_state"], "SUCCESS");
    let seen = seen.lock().map_err(|_| "poisoned")?;
    assert_eq!(
        seen.as_slice(),
        ["GET v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109"]
    );
    Ok(())
}

#[tokio::test]
async fn placeholder_values_keep_their_case_where_php_lowered_them() -> TestResult {
    let sandbox = Sandbox::start_async().await?;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    sandbox.route(
        "POST",
        "v3/marketing/favor/users/{openid}/coupons",
        move |req| {
            if let Ok(mut log) = log.lock() {
                log.push(format!("{} {}", req.path, req.json));
            }
            (StatusCode::OK, json!({ "coupon_id": "9867041" }))
        },
    );
    let client = sandbox.client();

    // PHP: ->v3->marketing->favor->users->_openid_->coupons->post(['openid' => 'AbcdEF12345'])
    chain!(client->v3->marketing->favor->users->_openid_->coupons)
        .post_async(json!({ "openid": "AbcdEF12345", "json": { "stock_id": "9856000" } }))
        .await?;
    // PHP: ->chain('{+myurl}')->post(['myurl' => 'v3/marketing/favor/users/AbcdEF12345/coupons'])
    client
        .chain("{+myurl}")
        .post_async(json!({
            "myurl": "v3/marketing/favor/users/AbcdEF12345/coupons",
            "json": { "stock_id": "9856000" },
        }))
        .await?;

    let seen = seen.lock().map_err(|_| "poisoned")?;
    let expected = r#"v3/marketing/favor/users/AbcdEF12345/coupons {"stock_id":"9856000"}"#;
    assert_eq!(seen.as_slice(), [expected, expected]);
    Ok(())
}
