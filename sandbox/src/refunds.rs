//! Refunds (退款): `POST v3/refund/domestic/refunds` against a paid order, never
//! more in total than was paid, answered `PROCESSING`; the sandbox completes each
//! refund shortly after (`SUCCESS`, and `REFUND.SUCCESS` to its `notify_url`).
//! `GET v3/refund/domestic/refunds/{out_refund_no}` answers where it stands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::StatusCode;
use serde_json::{json, Value};

use super::fields::{self, param_error};
use super::routes::{error, Reply, Route, SandboxRequest};
use super::server::App;
use super::transactions::{date_digits, next_id, now, State, Transactions};

/// The path refunds are created at (and queried under).
const TEMPLATE: &str = "v3/refund/domestic/refunds";

/// How long a refund stays `PROCESSING` by default.
pub(crate) const DEFAULT_COMPLETION: Duration = Duration::from_millis(200);

struct Refund {
    refund_id: String,
    out_trade_no: String,
    transaction_id: String,
    /// `Some` for a partner's (服务商) order.
    sub_mchid: Option<String>,
    sp_mchid: String,
    refund: i64,
    total: i64,
    success: bool,
    create_time: String,
    success_time: Option<String>,
    notify_url: Option<String>,
    /// The create body, for the duplicate check.
    request: Value,
}

/// The refunds, by `out_refund_no`.
#[derive(Default)]
pub(crate) struct Refunds {
    refunds: Mutex<HashMap<String, Refund>>,
}

/// What completing a refund sends: the `REFUND.SUCCESS` resource and where.
pub(crate) struct Completed {
    pub(crate) resource: Value,
    pub(crate) notify_url: Option<String>,
}

fn invalid(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
}

impl Refunds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Refund>> {
        self.refunds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets every refund.
    pub(crate) fn reset(&self) {
        self.lock().clear();
    }

    /// `POST v3/refund/domestic/refunds`: answers the refund `PROCESSING`, and its
    /// `out_refund_no` when it is new (for the caller to complete it later).
    pub(crate) fn create(
        &self,
        transactions: &Transactions,
        req: &SandboxRequest,
    ) -> (Reply, Option<String>) {
        match self.try_create(transactions, req) {
            Ok(created) => created,
            Err(reply) => (reply, None),
        }
    }

    fn try_create(
        &self,
        transactions: &Transactions,
        req: &SandboxRequest,
    ) -> Result<(Reply, Option<String>), Reply> {
        let body = fields::body(req)?;
        let out_refund_no = fields::merchant_no(body, "/out_refund_no")?;
        let refund = fields::amount(body, "/amount/refund")?;
        let total = fields::amount(body, "/amount/total")?;
        let currency = fields::text(body, "/amount/currency", 16)?;
        if currency != "CNY" {
            return Err(param_error(
                "/amount/currency",
                &json!(currency),
                "must be CNY",
                "body",
            ));
        }
        let sub_mchid = fields::optional_text(body, "/sub_mchid", 32)?;
        let notify_url = fields::optional_text(body, "/notify_url", 256)?;
        if let Some(url) = notify_url {
            fields::check_url(url, "/notify_url")?;
        }
        let (out_trade_no, transaction_id) =
            fields::either(body, "/out_trade_no", "/transaction_id", 32)?;
        // Lock order: transactions, then refunds (as everywhere).
        let mut book = transactions.lock();
        let no = match (transaction_id, out_trade_no) {
            (Some(id), _) => book.by_transaction_id(id).map(|(no, _)| no.to_owned()),
            (None, Some(no)) => Some(no.to_owned()),
            (None, None) => None,
        };
        let trade = no.as_deref().and_then(|no| book.trades.get_mut(no));
        let (Some(no), Some(trade)) = (no.clone(), trade) else {
            return Err(error(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_EXISTS",
                "订单不存在",
            ));
        };
        if trade.partner != sub_mchid.is_some() || (trade.partner && trade.sub_mchid() != sub_mchid)
        {
            return Err(error(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_EXISTS",
                "订单不存在",
            ));
        }
        let mut refunds = self.lock();
        if let Some(existing) = refunds.get(out_refund_no) {
            if existing.request == req.json {
                return Ok(((StatusCode::OK, view(out_refund_no, existing)), None));
            }
            return Err(invalid("退款单号重复，请核实后再试"));
        }
        if !trade.state.paid() {
            return Err(invalid("订单未支付，不能发起退款"));
        }
        if total != trade.total {
            return Err(invalid(&format!(
                "/amount/total {total} is not the order's total ({})",
                trade.total
            )));
        }
        if refund > trade.total - trade.refunded {
            return Err(invalid(&format!(
                "申请退款金额超过订单可退金额 (refundable: {})",
                trade.total - trade.refunded
            )));
        }
        trade.refunded += refund;
        trade.state = State::Refund;
        let create_time = now();
        let record = Refund {
            refund_id: format!("503{}{:018}", date_digits(&create_time), next_id()),
            out_trade_no: no,
            transaction_id: trade.transaction_id.clone().unwrap_or_default(),
            sub_mchid: sub_mchid.map(str::to_owned),
            sp_mchid: trade.mchid().to_owned(),
            refund,
            total,
            success: false,
            create_time,
            success_time: None,
            notify_url: notify_url.map(str::to_owned),
            request: req.json.clone(),
        };
        let answer = view(out_refund_no, &record);
        refunds.insert(out_refund_no.to_owned(), record);
        Ok(((StatusCode::OK, answer), Some(out_refund_no.to_owned())))
    }

    /// `GET v3/refund/domestic/refunds/{out_refund_no}` (`?sub_mchid=` for a
    /// partner's refund).
    pub(crate) fn query(&self, req: &SandboxRequest) -> Reply {
        let no = req.param("out_refund_no").unwrap_or_default();
        let sub_mchid = req.query.get("sub_mchid").map(String::as_str);
        let refunds = self.lock();
        match refunds.get(no) {
            Some(refund) if refund.sub_mchid.as_deref() == sub_mchid => {
                (StatusCode::OK, view(no, refund))
            }
            _ => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在"),
        }
    }

    /// Marks a refund `SUCCESS`; `None` when it is unknown (reset) or done already.
    pub(crate) fn complete(&self, out_refund_no: &str) -> Option<Completed> {
        let mut refunds = self.lock();
        let refund = refunds.get_mut(out_refund_no)?;
        if refund.success {
            return None;
        }
        refund.success = true;
        refund.success_time = Some(now());
        let mut resource = json!({
            "out_trade_no": refund.out_trade_no,
            "transaction_id": refund.transaction_id,
            "out_refund_no": out_refund_no,
            "refund_id": refund.refund_id,
            "refund_status": "SUCCESS",
            "success_time": refund.success_time,
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": refund.total,
                "refund": refund.refund,
                "payer_total": refund.total,
                "payer_refund": refund.refund,
            },
        });
        match &refund.sub_mchid {
            Some(sub) => {
                resource["sp_mchid"] = json!(refund.sp_mchid);
                resource["sub_mchid"] = json!(sub);
            }
            None => resource["mchid"] = json!(refund.sp_mchid),
        }
        Some(Completed {
            resource,
            notify_url: refund.notify_url.clone(),
        })
    }
}

/// Registers the refund routes; each new refund completes `after` its creation.
pub(crate) fn register(app: &App, after: Duration) {
    let (refunds, book, notifier) = (
        app.refunds.clone(),
        app.transactions.clone(),
        app.notifier.clone(),
    );
    app.add_route(Route::new(
        "POST",
        TEMPLATE,
        Arc::new(move |r| {
            let (reply, created) = refunds.create(&book, r);
            if let Some(no) = created {
                let (refunds, sender) = (refunds.clone(), notifier.clone());
                let complete = async move {
                    tokio::time::sleep(after).await;
                    let done = refunds.complete(&no);
                    if let Some(Completed {
                        resource,
                        notify_url: Some(url),
                    }) = done
                    {
                        if let Err(e) = sender.send("REFUND.SUCCESS", &no, &resource, &url) {
                            tracing::warn!(error = %e, "sandbox: cannot send REFUND.SUCCESS");
                        }
                    }
                };
                if let Err(e) = notifier.spawn(complete) {
                    tracing::warn!(error = %e, "sandbox: cannot complete a refund");
                }
            }
            reply
        }),
    ));
    let refunds = app.refunds.clone();
    app.add_route(Route::new(
        "GET",
        &format!("{TEMPLATE}/{{out_refund_no}}"),
        Arc::new(move |r| refunds.query(r)),
    ));
}

/// A refund as the create and query answers show it.
fn view(out_refund_no: &str, refund: &Refund) -> Value {
    let mut answer = json!({
        "refund_id": refund.refund_id,
        "out_refund_no": out_refund_no,
        "transaction_id": refund.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": refund.create_time,
        "status": if refund.success { "SUCCESS" } else { "PROCESSING" },
        "funds_account": "AVAILABLE",
        "amount": {
            "total": refund.total,
            "refund": refund.refund,
            "from": [],
            "payer_total": refund.total,
            "payer_refund": refund.refund,
            "settlement_refund": refund.refund,
            "settlement_total": refund.total,
            "discount_refund": 0,
            "currency": "CNY",
        },
        "promotion_detail": [],
    });
    if let Some(time) = &refund.success_time {
        answer["success_time"] = json!(time);
    }
    if let Some(sub) = &refund.sub_mchid {
        answer["sub_mchid"] = json!(sub);
    }
    answer
}
