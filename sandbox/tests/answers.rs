//! The sandbox's catalogue answers, one behaviour at a time, through a real
//! `Client` on loopback: what a refusal says, what a generic answer holds, and
//! which handler answers first.

use serde_json::{json, Map, Value};
use wechatpay_chain::download::DownloadInfo;
use wechatpay_chain::media::Media;
use wechatpay_chain::{ApiError, Error};
use wechatpay_chain_sandbox::{Sandbox, StatusCode, SEED_ORDER};

const NATIVE: &str = "v3/pay/transactions/native";
const PARKING_ENTRY: &str = "v3/parking/reminders/entry";

fn api_error<T: std::fmt::Debug>(result: Result<T, Error>) -> Box<ApiError> {
    match result {
        Err(Error::Api(api)) => api,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn native_order() -> Value {
    json!({
        "appid": "wxd678efh567hg6787",
        "mchid": wechatpay_chain_sandbox::FIXTURE_MCHID,
        "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": "1217752501201407033233368018",
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "amount": { "total": 100, "currency": "CNY" },
    })
}

fn parking_entry() -> Value {
    json!({
        "out_serial_number": "PARK202407041530001",
        "parking_id": "WXPARK001",
        "plate_number": "粤B12345",
        "enter_timestamp": 1720078200,
        "plate_color": "PLATE_COLOR_BLUE",
        "car_type": "PLATE_TYPE_TEMPORARY",
        "vehicle_type": "VEHICLE_TYPE_SMALL",
    })
}

#[test]
fn a_missing_nested_member_is_named_by_its_json_pointer() {
    let sandbox = Sandbox::start().unwrap();
    let mut order = native_order();
    order["amount"].as_object_mut().unwrap().remove("total");
    let api = api_error(
        sandbox
            .client()
            .chain(NATIVE)
            .post(json!({ "json": order })),
    );
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.code.as_deref(), Some("PARAM_ERROR"));
    assert!(api.verified, "refusals are signed like every answer");
    let message = api.message.as_deref().unwrap();
    assert!(message.contains("/amount/total"), "{message}");
    assert_eq!(
        api.detail.as_ref().unwrap(),
        &json!({
            "field": "/amount/total",
            "value": "",
            "issue": "is required but missing",
            "location": "body",
        })
    );
}

#[test]
fn type_enum_and_max_length_errors_say_what_is_wrong() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let refuse = |field: &str, value: Value| {
        let mut body = parking_entry();
        body[field] = value;
        let api = api_error(client.chain(PARKING_ENTRY).post(json!({ "json": body })));
        assert_eq!(api.code.as_deref(), Some("PARAM_ERROR"), "{api}");
        let detail = api.detail.clone().unwrap();
        assert_eq!(detail["field"], format!("/{field}"));
        assert_eq!(detail["location"], "body");
        (detail, api.message.clone().unwrap())
    };

    let (detail, message) = refuse("enter_timestamp", json!("1720078200"));
    assert_eq!(detail["issue"], "must be an integer, not a string");
    assert_eq!(detail["value"], "1720078200");
    assert!(
        message.starts_with("/enter_timestamp must be an integer"),
        "{message}"
    );

    let (detail, _) = refuse("plate_color", json!("PLATE_COLOR_PINK"));
    let issue = detail["issue"].as_str().unwrap();
    assert!(
        issue.contains("PLATE_COLOR_BLUE") && issue.contains("\"PLATE_COLOR_PINK\""),
        "{issue}"
    );

    // 18 characters where the catalogue allows 16 (characters, not bytes).
    let (detail, _) = refuse("plate_number", json!("粤B1234567890123456"));
    assert_eq!(
        detail["issue"],
        "is 18 characters long, more than the 16 allowed"
    );
    let ok = client
        .chain(PARKING_ENTRY)
        .post(json!({ "json": parking_entry() }))
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[test]
fn query_parameters_are_validated_before_any_handler() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    // The bills have a built-in handler; the catalogue's check comes first.
    let api = api_error(client.chain("v3/bill/tradebill").get(json!(null)));
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    let detail = api.detail.unwrap();
    assert_eq!(
        (&detail["field"], &detail["location"]),
        (&json!("bill_date"), &json!("query"))
    );
    let api = api_error(
        client
            .chain("v3/transfer-detail/electronic-receipts")
            .get(json!({ "query": { "accept_type": "NOPE", "out_detail_no": "x" } })),
    );
    let detail = api.detail.unwrap();
    assert_eq!(detail["field"], "accept_type");
    assert!(detail["issue"].as_str().unwrap().contains("BATCH_TRANSFER"));
}

#[test]
fn generic_answers_follow_the_response_schema_echo_and_vary_ids() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let res = client
        .chain(NATIVE)
        .post(json!({ "json": native_order() }))
        .unwrap();
    assert!(res.is_verified());
    let answer: Value = res.json().unwrap();
    assert!(answer["code_url"].as_str().is_some_and(|u| !u.is_empty()));

    let share = |out_order_no: &str| -> Value {
        client
            .chain("v3/profitsharing/orders")
            .post(json!({ "json": {
                "appid": "wx8888888888888888",
                "transaction_id": "4208450740201411110007820472",
                "out_order_no": out_order_no,
                "unfreeze_unsplit": true,
                "receivers": [],
            } }))
            .unwrap()
            .json()
            .unwrap()
    };
    let (first, second) = (share("P20150806125346"), share("P20150806125347"));
    // Echoed from the request.
    assert_eq!(first["transaction_id"], "4208450740201411110007820472");
    assert_eq!(first["out_order_no"], "P20150806125346");
    assert_eq!(second["out_order_no"], "P20150806125347");
    // Generated, and unique per call.
    let ids = (first["order_id"].as_str(), second["order_id"].as_str());
    assert!(
        ids.0.is_some() && ids.1.is_some() && ids.0 != ids.1,
        "{ids:?}"
    );

    // Query and path parameters are echoed too.
    let order: Value = client
        .chain("v3/ecommerce/profitsharing/orders")
        .get(json!({ "query": {
            "sub_mchid": "1900000109",
            "transaction_id": "4208450740201411110007820472",
            "out_order_no": "P20150806125346",
        } }))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(order["sub_mchid"], "1900000109");
    let merchant: Value = client
        .chain("hk/v3/merchants/{sub_mchid}")
        .get(json!({ "sub_mchid": "20000177", "query": {
            "sp_appid": "wx8888888888888888",
            "sp_mchid": "3200000001",
        } }))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(merchant["sub_mchid"], "20000177");
}

#[test]
fn no_content_is_an_empty_204() {
    let sandbox = Sandbox::start().unwrap();
    let res = sandbox
        .client()
        .chain("v3/parking/reminders/exit")
        .post(json!({ "json": {
            "out_serial_number": "PARK202407041530001",
            "exit_timestamp": 1720085400,
            "plate_number": "粤B12345",
            "plate_color": "PLATE_COLOR_BLUE",
            "parking_id": "WXPARK001",
        } }))
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.body().is_empty());
}

#[test]
fn a_download_serves_the_file_whose_hash_was_announced() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let info: DownloadInfo = client
        .chain("v3/transfer-detail/electronic-receipts")
        .get(json!({ "query": { "accept_type": "BATCH_TRANSFER", "out_detail_no": "mx0911" } }))
        .unwrap()
        .json()
        .unwrap();
    assert!(info.download_url.starts_with(sandbox.url()), "{info:?}");
    assert!(info.hash_value.is_some());
    let mut file = Vec::new();
    // download_to checks the bytes against hash_type/hash_value.
    let n = client.download_to(&info, &mut file).unwrap();
    assert!(n > 0);

    let pdf = client
        .chain("v3/transferdownload/signfile")
        .get(json!({ "query": { "token": "X8Uk3sD4a4eZVPTBvqNDoUqcYMlZ9uuD" } }))
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.body().starts_with(b"%PDF-"));
}

#[test]
fn an_upload_to_any_media_endpoint_is_answered() {
    let sandbox = Sandbox::start().unwrap();
    let media = Media::from_bytes("coupon.png", b"\x89PNG\r\n".to_vec()).unwrap();
    let answer: Value = sandbox
        .client()
        .chain("v3/marketing/partner/product-coupon/media/upload-image")
        .upload(&media, Value::Null)
        .unwrap()
        .json()
        .unwrap();
    assert!(answer["media_url"].is_string(), "{answer}");
    // The same endpoint without a multipart body is refused.
    let api = api_error(
        sandbox
            .client()
            .chain("v3/marketing/partner/product-coupon/media/upload-image")
            .post(json!({ "json": {} })),
    );
    assert_eq!(api.code.as_deref(), Some("PARAM_ERROR"));
}

#[test]
fn a_test_route_comes_first_and_is_not_validated() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.route("POST", NATIVE, |req| {
        (
            StatusCode::OK,
            json!({ "code_url": "from the test", "seen": req.json }),
        )
    });
    // Far from valid for the catalogue; the test's route answers anyway.
    let answer: Value = sandbox
        .client()
        .chain(NATIVE)
        .post(json!({ "json": { "amount": { "total": "lots" } } }))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["code_url"], "from the test");
    // A built-in handler is validated first: a malformed discount-card PATCH is the
    // catalogue's refusal, not the order book's.
    let api = api_error(
        sandbox
            .client()
            .chain("v3/discount-card/orders/{out_order_no}")
            .patch(json!({ "out_order_no": SEED_ORDER, "json": { "rewards": [{}] } })),
    );
    assert_eq!(api.detail.unwrap()["field"], "/rewards/0/reward_serial_no");
    // Not in the catalogue: still 404.
    let api = api_error(
        sandbox
            .client()
            .chain("v3/pay/transactions/nativ")
            .post(json!({ "json": native_order() })),
    );
    assert_eq!(api.code.as_deref(), Some("NOT_FOUND"));
}

fn unifiedorder(sandbox: &Sandbox) -> Map<String, Value> {
    json!({
        "appid": "wx2421b1c4370ec43b",
        "mch_id": sandbox.mchid(),
        "body": "腾讯充值中心-QQ会员充值",
        "out_trade_no": "20150806125346",
        "total_fee": "88",
        "spbill_create_ip": "123.12.12.123",
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "trade_type": "NATIVE",
    })
    .as_object()
    .unwrap()
    .clone()
}

#[test]
fn apiv2_operations_answer_signed_xml_and_refuse_like_wechat() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let res = client
        .chain("v2/pay/unifiedorder")
        .post(json!({ "xml": unifiedorder(&sandbox) }))
        .unwrap();
    assert!(res.is_verified(), "the XML sign checks out");
    let answer: Map<String, Value> = res.xml().unwrap();
    assert_eq!(answer["result_code"], "SUCCESS");
    assert_eq!(answer["appid"], "wx2421b1c4370ec43b");
    assert_eq!(answer["trade_type"], "NATIVE");
    assert!(answer["prepay_id"].as_str().is_some_and(|p| !p.is_empty()));

    // A missing field: result_code FAIL with err_code PARAM_ERROR.
    let mut fields = unifiedorder(&sandbox);
    fields.remove("body");
    let api = api_error(
        client
            .chain("v2/pay/unifiedorder")
            .post(json!({ "xml": fields })),
    );
    assert_eq!(api.code.as_deref(), Some("PARAM_ERROR"));
    assert!(api.message.as_deref().unwrap().contains("body"), "{api}");
    assert_eq!(api.detail.unwrap()["result_code"], "FAIL");

    // Types and lengths, as the tables give them, on text fields.
    let mut fields = unifiedorder(&sandbox);
    fields.insert("total_fee".into(), json!("88.5"));
    let api = api_error(
        client
            .chain("v2/pay/unifiedorder")
            .post(json!({ "xml": fields })),
    );
    assert_eq!(
        api.message.as_deref(),
        Some("total_fee must be an integer"),
        "{api}"
    );
    let mut fields = unifiedorder(&sandbox);
    fields.insert("trade_type".into(), json!("NATIVE".repeat(3)));
    let api = api_error(
        client
            .chain("v2/pay/unifiedorder")
            .post(json!({ "xml": fields })),
    );
    assert_eq!(
        api.message.as_deref(),
        Some("trade_type is 18 characters long, more than the 16 allowed"),
        "{api}"
    );
}

#[test]
fn an_apiv2_sign_made_with_another_secret_is_return_code_fail() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox
        .client_builder()
        .apiv2_secret("another0apiv2secret0000000000000")
        .build()
        .unwrap();
    let api = api_error(
        client
            .chain("v2/pay/unifiedorder")
            .post(json!({ "xml": unifiedorder(&sandbox) })),
    );
    assert_eq!(api.code.as_deref(), Some("FAIL"), "return_code");
    assert_eq!(api.message.as_deref(), Some("签名错误"));
    assert_eq!(api.detail.unwrap().get("sign"), None, "unsigned, as WeChat");
}
