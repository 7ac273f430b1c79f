//! The control plane: what a test in another language does to the sandbox, over
//! HTTP, each request signed with the merchant key like any other call.
//!
//! - `POST sandbox/routes` `{"method", "template", "status", "json"}` registers a
//!   route answering `status` (default 200) with `json` (default: no body);
//! - `POST sandbox/faults` injects a fault (see `faults.rs`);
//! - `POST sandbox/pay` `{"out_trade_no"}` pays an order and notifies its
//!   `notify_url`;
//! - `GET sandbox/deliveries` lists the notification attempts;
//! - `GET sandbox/stats` counts connections, requests and signatures;
//! - `POST sandbox/reset` forgets orders, refunds, deliveries, faults and the routes
//!   registered here.

use std::sync::{Arc, PoisonError};

use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::fields;
use super::routes::{error, Reply, Route, SandboxRequest};
use super::server::App;

/// The paths this module answers (the faults and stats routes are registered as
/// ordinary routes).
pub(crate) fn serves(path: &str) -> bool {
    matches!(
        path,
        "sandbox/routes" | "sandbox/pay" | "sandbox/deliveries" | "sandbox/reset"
    )
}

/// Answers one control-plane request (already authenticated).
pub(crate) fn answer(app: &App, req: &SandboxRequest) -> Reply {
    match (&req.method, req.path.as_str()) {
        (&Method::POST, "sandbox/routes") => register(app, req),
        (&Method::POST, "sandbox/pay") => {
            let out_trade_no =
                match fields::body(req).and_then(|b| fields::text(b, "/out_trade_no", 32)) {
                    Ok(no) => no,
                    Err(reply) => return reply,
                };
            match pay(app, out_trade_no) {
                Ok(order) => (StatusCode::OK, order),
                Err(reply) => reply,
            }
        }
        (&Method::GET, "sandbox/deliveries") => {
            let data: Vec<Value> = app
                .notifier
                .deliveries()
                .iter()
                .map(|d| d.to_json())
                .collect();
            (
                StatusCode::OK,
                json!({ "total_count": data.len(), "data": data }),
            )
        }
        (&Method::POST, "sandbox/reset") => {
            reset(app);
            (StatusCode::NO_CONTENT, Value::Null)
        }
        (method, path) => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("the sandbox does not accept {method} /{path}"),
        ),
    }
}

/// Marks an order paid and sends `TRANSACTION.SUCCESS` to its `notify_url`;
/// answers the order as a query would.
pub(crate) fn pay(app: &App, out_trade_no: &str) -> Result<Value, Reply> {
    let (order, url) = app.transactions.pay(out_trade_no)?;
    app.notifier
        .send("TRANSACTION.SUCCESS", out_trade_no, &order, &url)
        .map_err(|e| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                format!("the order is paid but its notification cannot be sent ({e})"),
            )
        })?;
    Ok(order)
}

/// Forgets the state: orders (the discount-card seed order is back as it was),
/// refunds, deliveries (attempts still to come are abandoned), faults and the
/// routes registered over HTTP. Routes registered from Rust stay.
pub(crate) fn reset(app: &App) {
    app.notifier.reset();
    app.refunds.reset();
    app.transactions.reset();
    app.orders.reset();
    app.v2_orders.reset();
    app.faults.clear();
    app.routes
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|route| !route.removable);
}

/// `POST sandbox/routes`.
fn register(app: &App, req: &SandboxRequest) -> Reply {
    let body = match fields::body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let method = match fields::text(body, "/method", 16) {
        Ok(m) => m.to_ascii_uppercase(),
        Err(reply) => return reply,
    };
    if method != "*" && Method::from_bytes(method.as_bytes()).is_err() {
        return fields::param_error("/method", &json!(method), "is not an HTTP method", "body");
    }
    let template = match fields::text(body, "/template", 1024) {
        Ok(t) => t.trim_start_matches('/').to_owned(),
        Err(reply) => return reply,
    };
    let status = match body.get("status") {
        None | Some(Value::Null) => StatusCode::OK,
        Some(v) => match v
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
        {
            Some(status) => status,
            None => return fields::param_error("/status", v, "is not an HTTP status", "body"),
        },
    };
    let answer = body.get("json").cloned().unwrap_or(Value::Null);
    let reply = (status, answer);
    let mut route = Route::new(
        &method,
        &template,
        Arc::new(move |_: &SandboxRequest| reply.clone()) as _,
    );
    route.removable = true;
    app.add_route(route);
    (
        StatusCode::OK,
        json!({ "method": method, "template": template, "status": status.as_u16() }),
    )
}

/// Why the sandbox refused an operation of its own API (e.g.
/// [`Sandbox::pay`](crate::Sandbox::pay)): WeChat's status, code and message, as
/// the HTTP twin answers them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The HTTP status the control plane answers, e.g. 404.
    pub status: StatusCode,
    /// WeChat's error code, e.g. `ORDER_NOT_EXIST`, `ORDERPAID`, `ORDER_CLOSED`.
    pub code: String,
    /// The message.
    pub message: String,
}

impl Refusal {
    pub(crate) fn from_reply((status, body): Reply) -> Refusal {
        let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
        Refusal {
            status,
            code: text("code"),
            message: text("message"),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for Refusal {}
