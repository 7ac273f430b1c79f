//! APIv2 in the sandbox: every catalogued APIv2 operation, XML in and out, signed
//! with the sandbox's APIv2 secret, as WeChat's v2 gateway answers; `pay/micropay`,
//! `pay/orderquery` and `secapi/pay/refund` (which needs the merchant certificate
//! over TLS) keep state.
//!
//! APIv2 requests carry no Authorization header: the `sign` field is the proof, so
//! these paths are answered before the APIv3 check.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION};
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Map, Value};

use wechatpay_chain::v2::{from_xml, is_unsigned, sign, to_xml, SignType};

use wechatpay_chain_catalogue::schema::OperationSchema;

use crate::catalogue::Matched;
use crate::{answer, media, validate};

/// The APIv2 secret the sandbox signs with (32 bytes, test only).
pub const APIV2_SECRET: &str = "sandbox0apiv2secret0000000000000";

/// Paid micropay orders, by `out_trade_no`.
#[derive(Default)]
pub(crate) struct V2Orders(Mutex<HashMap<String, Map<String, Value>>>);

impl V2Orders {
    /// Forgets every paid micropay order.
    pub(crate) fn reset(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Answers one APIv2 request to a catalogue operation (`matched`): the fields are
/// read (the query of a GET, the text parts of an upload, else the XML body), the
/// `sign` checked with [`APIV2_SECRET`], the merchant id compared, the fields
/// validated; then `pay/micropay` and `pay/orderquery` are served statefully and any
/// other operation gets the catalogue's generic answer, signed.
pub(crate) fn answer(
    orders: &V2Orders,
    mchid: &str,
    matched: &Matched,
    parts: &Parts,
    body: &[u8],
    serial: u64,
) -> Response<Full<Bytes>> {
    let path = parts.uri.path().trim_start_matches('/');
    let fields = match read_fields(parts, body) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let text = |k: &str| text_of(&fields, k);
    let sign_type = match fields.get("sign_type").and_then(Value::as_str) {
        None | Some("") => SignType::Md5,
        Some(name) => match SignType::parse(name) {
            Some(t) => t,
            None => return fail("sign_type 参数错误"),
        },
    };
    if text("sign").is_empty() {
        return fail("缺少参数 sign");
    }
    if sign(&fields, sign_type, APIV2_SECRET) != text("sign") {
        return fail("签名错误");
    }
    let given = ["mch_id", "mchid", "combine_mch_id"]
        .into_iter()
        .find(|k| !text(k).is_empty());
    if let Some(key) = given {
        if text(key) != mchid {
            return fail(&format!("{key} 参数错误"));
        }
    }
    let mut reply = Map::new();
    reply.insert("return_code".into(), "SUCCESS".into());
    reply.insert("return_msg".into(), "OK".into());
    for k in ["appid", "mch_id"] {
        if !text(k).is_empty() {
            reply.insert(k.into(), text(k).into());
        }
    }
    reply.insert(
        "nonce_str".into(),
        wechatpay_chain::crypto::nonce::generate().into(),
    );
    let schema = matched.op.schema;
    match validate::v2_fields(schema, &fields) {
        Err(invalid) => result_fail(
            &mut reply,
            "PARAM_ERROR",
            &format!("{} {}", invalid.field, invalid.issue),
        ),
        Ok(()) => match path {
            "pay/micropay" => micropay(orders, &fields, &mut reply),
            "pay/orderquery" => orderquery(orders, &fields, &mut reply),
            "secapi/pay/refund" => refund(orders, &fields, &mut reply),
            _ => {
                if let Some(done) = generic(matched, &fields, serial, &mut reply) {
                    return done;
                }
            }
        },
    }
    if is_unsigned(path) && !documents_sign(schema) {
        return xml_response(&reply);
    }
    if sign_type == SignType::HmacSha256 {
        reply.insert("sign_type".into(), "HMAC-SHA256".into());
    }
    let signature = sign(&reply, sign_type, APIV2_SECRET);
    reply.insert("sign".into(), signature.into());
    xml_response(&reply)
}

/// The catalogue's answer, into `reply`; or a whole answer when it is not the usual
/// signed XML (an authorisation page's redirect, a JSON answer).
fn generic(
    matched: &Matched,
    fields: &Map<String, Value>,
    serial: u64,
    reply: &mut Map<String, Value>,
) -> Option<Response<Full<Bytes>>> {
    let schema = matched.op.schema;
    let success = schema.success();
    if success.is_none() && schema.responses.iter().any(|r| r.status == 302) {
        return Some(redirect(fields));
    }
    let builder = answer::Builder {
        echo: answer::Echo::from_fields(fields),
        serial,
        host: "",
    };
    let built = match success.and_then(|r| r.schema.as_ref()) {
        Some(schema) => builder.value(schema, None, 0),
        None => Value::Object(Map::new()),
    };
    let produces = matched.op.operation.produces();
    if produces.iter().any(|t| t.contains("json")) {
        // A few APIv2 services (the real-name OAuth) answer JSON.
        return Some(json_response(&built));
    }
    for (k, v) in built.as_object().into_iter().flatten() {
        // Repeated fields are documented as `refund_id_$n`; WeChat sends
        // `refund_id_0`, `refund_id_1`…: one of each here.
        let k = k.replace("$n", "0").replace("$m", "0");
        if k != "sign" && !reply.contains_key(&k) {
            reply.insert(k, Value::String(validate::scalar_text(v)));
        }
    }
    // The generic answer is a success, whatever the examples say.
    reply.insert("return_code".into(), "SUCCESS".into());
    reply.insert("result_code".into(), "SUCCESS".into());
    None
}

/// Whether the documented answer carries a `sign` (some of the endpoints WeChat
/// answers unsigned by default document one).
fn documents_sign(schema: &OperationSchema) -> bool {
    schema
        .success()
        .and_then(|r| r.schema.as_ref())
        .is_some_and(|s| s.properties.contains_key("sign"))
}

/// The request's fields: the query of a GET, the text parts of a multipart upload,
/// else the XML document.
fn read_fields(parts: &Parts, body: &[u8]) -> Result<Map<String, Value>, String> {
    if parts.method == Method::GET {
        return Ok(parts.uri.query().map(parse_query).unwrap_or_default());
    }
    if let Some(form) = media::parts(&parts.headers, body) {
        let form = form.map_err(|e| format!("multipart 格式错误: {e}"))?;
        return Ok(form
            .iter()
            .filter(|p| p.filename.is_none())
            .map(|p| {
                (
                    p.name.clone(),
                    Value::String(String::from_utf8_lossy(p.data).into_owned()),
                )
            })
            .collect());
    }
    from_xml(&String::from_utf8_lossy(body)).map_err(|e| format!("XML格式错误: {e}"))
}

/// The `302` of an authorisation page: back to `redirect_uri` with a code.
fn redirect(fields: &Map<String, Value>) -> Response<Full<Bytes>> {
    let target = text_of(fields, "redirect_uri");
    let separator = if target.contains('?') { '&' } else { '?' };
    let location = format!(
        "{target}{separator}code=sandbox{}&state={}",
        wechatpay_chain::crypto::nonce::generate(),
        text_of(fields, "state")
    );
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::FOUND;
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

fn json_response(value: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn micropay(orders: &V2Orders, fields: &Map<String, Value>, reply: &mut Map<String, Value>) {
    let text = |k: &str| text_of(fields, k);
    let required = [
        "appid",
        "body",
        "out_trade_no",
        "total_fee",
        "spbill_create_ip",
        "auth_code",
    ];
    if let Some(missing) = required.iter().find(|k| text(k).is_empty()) {
        return result_fail(reply, "PARAM_ERROR", &format!("缺少参数 {missing}"));
    }
    // A payment code starting with `0` is how tests ask for a declined payment.
    if text("auth_code").starts_with('0') {
        return result_fail(reply, "AUTH_CODE_INVALID", "授权码参数错误");
    }
    let mut order = Map::new();
    order.insert("openid".into(), "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into());
    order.insert("is_subscribe".into(), "N".into());
    order.insert("trade_type".into(), "MICROPAY".into());
    order.insert("bank_type".into(), "CMC".into());
    order.insert("total_fee".into(), text("total_fee").into());
    order.insert("fee_type".into(), "CNY".into());
    order.insert("cash_fee".into(), text("total_fee").into());
    order.insert(
        "transaction_id".into(),
        format!("4200{:024}", text("out_trade_no").len()).into(),
    );
    order.insert("out_trade_no".into(), text("out_trade_no").into());
    order.insert("time_end".into(), "20141030133525".into());
    orders
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(text("out_trade_no"), order.clone());
    reply.insert("result_code".into(), "SUCCESS".into());
    reply.extend(order);
}

fn orderquery(orders: &V2Orders, fields: &Map<String, Value>, reply: &mut Map<String, Value>) {
    let out_trade_no = fields
        .get("out_trade_no")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let found = orders
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(out_trade_no)
        .cloned();
    match found {
        None => result_fail(reply, "ORDERNOTEXIST", "此交易订单号不存在"),
        Some(order) => {
            reply.insert("result_code".into(), "SUCCESS".into());
            reply.extend(order);
            reply.insert("trade_state".into(), "SUCCESS".into());
            reply.insert("trade_state_desc".into(), "支付成功".into());
        }
    }
}

/// Refunds (part of) a paid micropay order, found by `transaction_id` or
/// `out_trade_no`.
fn refund(orders: &V2Orders, fields: &Map<String, Value>, reply: &mut Map<String, Value>) {
    let text = |k: &str| text_of(fields, k);
    let required = ["appid", "out_refund_no", "total_fee", "refund_fee"];
    if let Some(missing) = required.iter().find(|k| text(k).is_empty()) {
        return result_fail(reply, "PARAM_ERROR", &format!("缺少参数 {missing}"));
    }
    let found = {
        let orders = orders.0.lock().unwrap_or_else(PoisonError::into_inner);
        orders
            .values()
            .find(|o| {
                let same = |k: &str| !text(k).is_empty() && text_of(o, k) == text(k);
                same("transaction_id") || same("out_trade_no")
            })
            .cloned()
    };
    let Some(order) = found else {
        return result_fail(reply, "ORDERNOTEXIST", "订单不存在");
    };
    let paid: u64 = text_of(&order, "total_fee").parse().unwrap_or(0);
    match text("refund_fee").parse::<u64>() {
        Ok(fee) if fee > 0 && fee <= paid => {}
        _ => return result_fail(reply, "PARAM_ERROR", "退款金额无效 (invalid refund_fee)"),
    }
    reply.insert("result_code".into(), "SUCCESS".into());
    for k in ["transaction_id", "out_trade_no", "total_fee", "cash_fee"] {
        reply.insert(k.into(), text_of(&order, k).into());
    }
    reply.insert("out_refund_no".into(), text("out_refund_no").into());
    reply.insert(
        "refund_id".into(),
        format!("5030{:024}", text("out_refund_no").len()).into(),
    );
    reply.insert("refund_fee".into(), text("refund_fee").into());
    reply.insert("cash_refund_fee".into(), text("refund_fee").into());
}

/// A field's text, empty when absent.
fn text_of(fields: &Map<String, Value>, key: &str) -> String {
    fields
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn result_fail(reply: &mut Map<String, Value>, code: &str, description: &str) {
    reply.insert("result_code".into(), "FAIL".into());
    reply.insert("err_code".into(), code.into());
    reply.insert("err_code_des".into(), description.into());
}

/// A `return_code` FAIL answer: unsigned, as WeChat sends it.
pub(crate) fn fail(message: &str) -> Response<Full<Bytes>> {
    let mut reply = Map::new();
    reply.insert("return_code".into(), "FAIL".into());
    reply.insert("return_msg".into(), message.into());
    xml_response(&reply)
}

fn xml_response(reply: &Map<String, Value>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(to_xml(reply))));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}

fn parse_query(query: &str) -> Map<String, Value> {
    super::routes::parse_query(query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}
