//! Transactions (基础支付): JSAPI, APP, H5 and Native orders and their partner
//! (服务商) twins, kept from creation to payment or closing.
//!
//! - `POST v3/pay/[partner/]transactions/{jsapi,app,h5,native}` creates an order and
//!   answers `prepay_id`, `code_url` or `h5_url`. The same `out_trade_no` again with
//!   the same body answers the same; with another body it is refused as WeChat
//!   refuses it (400 `INVALID_REQUEST`, "201 商户订单号重复"); a closed or paid one
//!   is refused with `ORDER_CLOSED` or `ORDERPAID`.
//! - `GET …/out-trade-no/{out_trade_no}?mchid=` (partner: `sp_mchid`, `sub_mchid`)
//!   and `GET …/id/{transaction_id}` answer `NOTPAY` until paid, then `SUCCESS` (and
//!   `REFUND` once refunded); an order only has a `transaction_id` once paid.
//! - `POST …/out-trade-no/{out_trade_no}/close` answers 204 and the order is
//!   `CLOSED`; a paid or closed order cannot be closed (or paid) again.
//!
//! Orders are keyed by `out_trade_no` alone, so `Sandbox::pay` needs nothing else.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use http::StatusCode;
use serde_json::{json, Value};

use super::certificates::rfc3339_beijing;
use super::fields::{self, param_error};
use super::routes::{error, Reply, Route, SandboxRequest};
use super::server::App;

/// How a payer pays: the last segment of the create path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Jsapi,
    App,
    H5,
    Native,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [Kind::Jsapi, Kind::App, Kind::H5, Kind::Native];

    pub(crate) fn segment(self) -> &'static str {
        match self {
            Kind::Jsapi => "jsapi",
            Kind::App => "app",
            Kind::H5 => "h5",
            Kind::Native => "native",
        }
    }

    /// `trade_type` as a query answers it (H5 is `MWEB` for historical reasons).
    fn trade_type(self) -> &'static str {
        match self {
            Kind::Jsapi => "JSAPI",
            Kind::App => "APP",
            Kind::H5 => "MWEB",
            Kind::Native => "NATIVE",
        }
    }
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    NotPay,
    Success,
    Closed,
    Refund,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::NotPay => "NOTPAY",
            State::Success => "SUCCESS",
            State::Closed => "CLOSED",
            State::Refund => "REFUND",
        }
    }

    fn description(self) -> &'static str {
        match self {
            State::NotPay => "订单未支付",
            State::Success => "支付成功",
            State::Closed => "订单已关闭",
            State::Refund => "订单发生过退款",
        }
    }

    pub(crate) fn paid(self) -> bool {
        matches!(self, State::Success | State::Refund)
    }
}

/// One order.
pub(crate) struct Trade {
    kind: Kind,
    pub(crate) partner: bool,
    /// The create body as received: the duplicate check compares it, the answers
    /// echo its fields.
    request: Value,
    /// The create answer, given again to an identical repeat.
    prepay: Value,
    pub(crate) state: State,
    pub(crate) transaction_id: Option<String>,
    success_time: Option<String>,
    pub(crate) total: i64,
    /// What refunds have taken so far (in fen).
    pub(crate) refunded: i64,
    notify_url: String,
}

impl Trade {
    /// The merchant (direct) or sub-merchant (partner) the order belongs to.
    pub(crate) fn sub_mchid(&self) -> Option<&str> {
        self.request.get("sub_mchid").and_then(Value::as_str)
    }

    /// The merchant that created the order (`mchid`, or `sp_mchid` for a partner).
    pub(crate) fn mchid(&self) -> &str {
        let key = if self.partner { "sp_mchid" } else { "mchid" };
        self.request
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

#[derive(Default)]
pub(crate) struct Book {
    pub(crate) trades: HashMap<String, Trade>,
    /// `transaction_id` -> `out_trade_no`, for paid orders.
    by_id: HashMap<String, String>,
}

impl Book {
    pub(crate) fn by_transaction_id(&self, id: &str) -> Option<(&str, &Trade)> {
        let out_trade_no = self.by_id.get(id)?;
        Some((out_trade_no, self.trades.get(out_trade_no)?))
    }
}

/// The order book of transactions.
pub(crate) struct Transactions {
    book: Mutex<Book>,
    mchid: String,
}

/// Ids unique for the life of the process (a reset does not reuse them).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Now as WeChat writes times: RFC 3339 in Beijing time.
pub(crate) fn now() -> String {
    rfc3339_beijing(SystemTime::now())
}

/// `yyyyMMdd` of a WeChat time, as ids begin.
pub(crate) fn date_digits(time: &str) -> String {
    time.chars().filter(char::is_ascii_digit).take(8).collect()
}

fn order_not_exist() -> Reply {
    error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在")
}

fn order_closed() -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        "ORDER_CLOSED",
        "当前订单已关闭，请重新下单",
    )
}

fn order_paid() -> Reply {
    error(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付")
}

impl Transactions {
    pub(crate) fn new(mchid: &str) -> Transactions {
        Transactions {
            book: Mutex::default(),
            mchid: mchid.to_owned(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets every order.
    pub(crate) fn reset(&self) {
        *self.lock() = Book::default();
    }

    /// `POST v3/pay/[partner/]transactions/{kind}`.
    pub(crate) fn create(&self, kind: Kind, partner: bool, req: &SandboxRequest) -> Reply {
        let checked = validate(kind, partner, req, &self.mchid);
        let (out_trade_no, total, notify_url) = match checked {
            Ok(fields) => fields,
            Err(reply) => return reply,
        };
        let mut book = self.lock();
        if let Some(trade) = book.trades.get(out_trade_no) {
            return match trade.state {
                State::Closed => order_closed(),
                State::Success | State::Refund => order_paid(),
                State::NotPay if trade.kind == kind && trade.request == req.json => {
                    (StatusCode::OK, trade.prepay.clone())
                }
                State::NotPay => error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "201 商户订单号重复",
                ),
            };
        }
        let time = now();
        let seq = next_id();
        let prepay_id = format!(
            "wx{}{seq:012}",
            time.chars()
                .filter(char::is_ascii_digit)
                .take(14)
                .collect::<String>()
        );
        let prepay = match kind {
            Kind::Jsapi | Kind::App => json!({ "prepay_id": prepay_id }),
            Kind::Native => {
                json!({ "code_url": format!("weixin://wxpay/bizpayurl?pr=SBX{seq:07}") })
            }
            Kind::H5 => json!({
                "h5_url": format!(
                    "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package={seq:010}"
                )
            }),
        };
        let trade = Trade {
            kind,
            partner,
            request: req.json.clone(),
            prepay: prepay.clone(),
            state: State::NotPay,
            transaction_id: None,
            success_time: None,
            total,
            refunded: 0,
            notify_url: notify_url.to_owned(),
        };
        book.trades.insert(out_trade_no.to_owned(), trade);
        (StatusCode::OK, prepay)
    }

    /// `GET …/out-trade-no/{out_trade_no}` and `GET …/id/{transaction_id}`.
    pub(crate) fn query(&self, partner: bool, by_id: bool, req: &SandboxRequest) -> Reply {
        let owner = match owner_in_query(partner, req) {
            Ok(owner) => owner,
            Err(reply) => return reply,
        };
        let book = self.lock();
        let found = if by_id {
            book.by_transaction_id(req.param("transaction_id").unwrap_or_default())
        } else {
            let no = req.param("out_trade_no").unwrap_or_default();
            book.trades.get_key_value(no).map(|(k, t)| (k.as_str(), t))
        };
        match found {
            Some((no, trade)) if owns(trade, partner, &owner) => (StatusCode::OK, view(no, trade)),
            _ => order_not_exist(),
        }
    }

    /// `POST …/out-trade-no/{out_trade_no}/close`.
    pub(crate) fn close(&self, partner: bool, req: &SandboxRequest) -> Reply {
        let owner = match owner_in_body(partner, req) {
            Ok(owner) => owner,
            Err(reply) => return reply,
        };
        let mut book = self.lock();
        let no = req.param("out_trade_no").unwrap_or_default();
        match book.trades.get_mut(no) {
            Some(trade) if owns(trade, partner, &owner) => match trade.state {
                State::NotPay => {
                    trade.state = State::Closed;
                    (StatusCode::NO_CONTENT, Value::Null)
                }
                State::Closed => order_closed(),
                State::Success | State::Refund => order_paid(),
            },
            _ => order_not_exist(),
        }
    }

    /// Marks an order paid: answers the order as a query would (the resource of
    /// `TRANSACTION.SUCCESS`) and its `notify_url`.
    pub(crate) fn pay(&self, out_trade_no: &str) -> Result<(Value, String), Reply> {
        let mut book = self.lock();
        let Some(trade) = book.trades.get_mut(out_trade_no) else {
            return Err(order_not_exist());
        };
        match trade.state {
            State::NotPay => {}
            State::Closed => return Err(order_closed()),
            State::Success | State::Refund => return Err(order_paid()),
        }
        let time = now();
        let id = format!("4200{}{:016}", date_digits(&time), next_id());
        trade.state = State::Success;
        trade.transaction_id = Some(id.clone());
        trade.success_time = Some(time);
        let answer = view(out_trade_no, trade);
        let url = trade.notify_url.clone();
        book.by_id.insert(id, out_trade_no.to_owned());
        Ok((answer, url))
    }
}

/// Registers the routes of direct and partner transactions.
pub(crate) fn register(app: &App) {
    for partner in [false, true] {
        let base = if partner {
            "v3/pay/partner/transactions"
        } else {
            "v3/pay/transactions"
        };
        for kind in Kind::ALL {
            let book = app.transactions.clone();
            app.add_route(Route::new(
                "POST",
                &format!("{base}/{}", kind.segment()),
                Arc::new(move |r| book.create(kind, partner, r)),
            ));
        }
        let book = app.transactions.clone();
        app.add_route(Route::new(
            "GET",
            &format!("{base}/out-trade-no/{{out_trade_no}}"),
            Arc::new(move |r| book.query(partner, false, r)),
        ));
        let book = app.transactions.clone();
        app.add_route(Route::new(
            "GET",
            &format!("{base}/id/{{transaction_id}}"),
            Arc::new(move |r| book.query(partner, true, r)),
        ));
        let book = app.transactions.clone();
        app.add_route(Route::new(
            "POST",
            &format!("{base}/out-trade-no/{{out_trade_no}}/close"),
            Arc::new(move |r| book.close(partner, r)),
        ));
    }
}

/// The owner a query names: `mchid`, or `sp_mchid` and `sub_mchid`.
fn owner_in_query(partner: bool, req: &SandboxRequest) -> Result<(String, String), Reply> {
    if partner {
        let sp = fields::query(req, "sp_mchid")?;
        let sub = fields::query(req, "sub_mchid")?;
        Ok((sp.to_owned(), sub.to_owned()))
    } else {
        Ok((fields::query(req, "mchid")?.to_owned(), String::new()))
    }
}

/// The owner a close body names: `mchid`, or `sp_mchid` and `sub_mchid`.
fn owner_in_body(partner: bool, req: &SandboxRequest) -> Result<(String, String), Reply> {
    let body = fields::body(req)?;
    if partner {
        let sp = fields::text(body, "/sp_mchid", 32)?;
        let sub = fields::text(body, "/sub_mchid", 32)?;
        Ok((sp.to_owned(), sub.to_owned()))
    } else {
        Ok((fields::text(body, "/mchid", 32)?.to_owned(), String::new()))
    }
}

/// Whether the merchant (and sub-merchant) named may see the order: another one
/// is told it does not exist, as WeChat does.
fn owns(trade: &Trade, partner: bool, (mchid, sub): &(String, String)) -> bool {
    trade.partner == partner
        && trade.mchid() == mchid
        && (!partner || trade.sub_mchid() == Some(sub.as_str()))
}

/// The create body's required fields; answers `(out_trade_no, total, notify_url)`.
fn validate<'a>(
    kind: Kind,
    partner: bool,
    req: &'a SandboxRequest,
    mchid: &str,
) -> Result<(&'a str, i64, &'a str), Reply> {
    let body = fields::body(req)?;
    let merchant = if partner {
        fields::text(body, "/sp_appid", 32)?;
        fields::text(body, "/sub_mchid", 32)?;
        fields::optional_text(body, "/sub_appid", 32)?;
        "/sp_mchid"
    } else {
        fields::text(body, "/appid", 32)?;
        "/mchid"
    };
    let given = fields::text(body, merchant, 32)?;
    if given != mchid {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!(
                "{merchant} `{given}` is not the merchant of the Authorization header ({mchid})"
            ),
        ));
    }
    fields::text(body, "/description", 127)?;
    let out_trade_no = fields::merchant_no(body, "/out_trade_no")?;
    let notify_url = fields::url(body, "/notify_url")?;
    fields::optional_text(body, "/attach", 128)?;
    let total = fields::amount(body, "/amount/total")?;
    if let Some(currency) = fields::optional_text(body, "/amount/currency", 16)? {
        if currency != "CNY" {
            return Err(param_error(
                "/amount/currency",
                &json!(currency),
                "must be CNY",
                "body",
            ));
        }
    }
    match (kind, partner) {
        (Kind::Jsapi, false) => {
            fields::text(body, "/payer/openid", 128)?;
        }
        (Kind::Jsapi, true) => {
            fields::either(body, "/payer/sp_openid", "/payer/sub_openid", 128)?;
        }
        (Kind::H5, _) => {
            fields::text(body, "/scene_info/payer_client_ip", 45)?;
            fields::text(body, "/scene_info/h5_info/type", 32)?;
        }
        (Kind::App | Kind::Native, _) => {}
    }
    Ok((out_trade_no, total, notify_url))
}

/// The order as a query answers it.
fn view(out_trade_no: &str, trade: &Trade) -> Value {
    let field = |name: &str| trade.request.get(name).cloned();
    let mut answer = serde_json::Map::new();
    let names: &[&str] = if trade.partner {
        &["sp_appid", "sp_mchid", "sub_appid", "sub_mchid"]
    } else {
        &["appid", "mchid"]
    };
    for name in names {
        if let Some(v) = field(name) {
            answer.insert((*name).to_owned(), v);
        }
    }
    answer.insert("out_trade_no".into(), json!(out_trade_no));
    if let Some(id) = &trade.transaction_id {
        answer.insert("transaction_id".into(), json!(id));
    }
    answer.insert("trade_type".into(), json!(trade.kind.trade_type()));
    answer.insert("trade_state".into(), json!(trade.state.name()));
    answer.insert("trade_state_desc".into(), json!(trade.state.description()));
    if trade.state.paid() {
        answer.insert("bank_type".into(), json!("OTHERS"));
    }
    answer.insert(
        "attach".into(),
        field("attach").unwrap_or_else(|| json!("")),
    );
    if let Some(time) = &trade.success_time {
        answer.insert("success_time".into(), json!(time));
    }
    let payer = match trade.request.get("payer") {
        Some(payer) if payer.is_object() => payer.clone(),
        // A Native/APP/H5 payer is only known once someone paid.
        _ if trade.state.paid() && trade.partner => {
            json!({ "sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" })
        }
        _ if trade.state.paid() => json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }),
        _ => json!({}),
    };
    answer.insert("payer".into(), payer);
    let paid = if trade.state.paid() { trade.total } else { 0 };
    answer.insert(
        "amount".into(),
        json!({
            "total": trade.total,
            "payer_total": paid,
            "currency": "CNY",
            "payer_currency": "CNY",
        }),
    );
    Value::Object(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: Value, params: &[(&str, &str)], query: &[(&str, &str)]) -> SandboxRequest {
        SandboxRequest {
            method: http::Method::POST,
            path: String::new(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            raw_query: None,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(json.to_string()),
            json,
        }
    }

    fn native(no: &str, total: i64) -> Value {
        json!({
            "appid": "wxd678efh567hg6787", "mchid": "1900000001", "description": "d",
            "out_trade_no": no, "notify_url": "http://127.0.0.1:9/n",
            "amount": { "total": total },
        })
    }

    #[test]
    fn an_order_goes_from_notpay_to_success_and_then_refuses_closing() {
        let book = Transactions::new("1900000001");
        let (status, answer) = book.create(
            Kind::Native,
            false,
            &request(native("T000001", 5), &[], &[]),
        );
        assert_eq!(status, StatusCode::OK);
        assert!(answer["code_url"]
            .as_str()
            .unwrap()
            .starts_with("weixin://"));
        let query = request(
            Value::Null,
            &[("out_trade_no", "T000001")],
            &[("mchid", "1900000001")],
        );
        assert_eq!(book.query(false, false, &query).1["trade_state"], "NOTPAY");
        let (paid, url) = book.pay("T000001").unwrap();
        assert_eq!(url, "http://127.0.0.1:9/n");
        assert_eq!(paid["trade_state"], "SUCCESS");
        let id = paid["transaction_id"].as_str().unwrap();
        let by_id = request(
            Value::Null,
            &[("transaction_id", id)],
            &[("mchid", "1900000001")],
        );
        assert_eq!(book.query(false, true, &by_id).1["out_trade_no"], "T000001");
        let close = request(
            json!({ "mchid": "1900000001" }),
            &[("out_trade_no", "T000001")],
            &[],
        );
        assert_eq!(book.close(false, &close).1["code"], "ORDERPAID");
        assert_eq!(book.pay("T000001").unwrap_err().1["code"], "ORDERPAID");
    }

    #[test]
    fn a_reused_out_trade_no_is_refused_unless_the_body_is_the_same() {
        let book = Transactions::new("1900000001");
        let first = book.create(
            Kind::Native,
            false,
            &request(native("T000002", 5), &[], &[]),
        );
        let again = book.create(
            Kind::Native,
            false,
            &request(native("T000002", 5), &[], &[]),
        );
        assert_eq!(first, again);
        let (status, other) = book.create(
            Kind::Native,
            false,
            &request(native("T000002", 6), &[], &[]),
        );
        assert_eq!(
            (status, &other["code"]),
            (StatusCode::BAD_REQUEST, &json!("INVALID_REQUEST"))
        );
        let (_, missing) =
            book.create(Kind::Jsapi, false, &request(native("T000003", 5), &[], &[]));
        assert_eq!(missing["detail"]["field"], "/payer/openid");
    }
}
