//! Faults on demand: the sandbox misbehaves the way gateways, proxies and networks
//! do, so a caller's error handling and retries can be tested against a real server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use super::routes::{error, Reply, Route, SandboxRequest};
use wechatpay_chain::verifier::{NONCE, SERIAL, SIGNATURE, TIMESTAMP};

/// A misbehaviour for [`Sandbox::inject`](super::Sandbox::inject).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answers this status with WeChat's error JSON (`{"code": …, "message": …}`),
    /// signed, instead of serving the request. See [`Fault::status`].
    Status {
        /// The HTTP status, e.g. `503`.
        status: StatusCode,
        /// WeChat's error code, e.g. `SYSTEM_ERROR`.
        code: String,
    },
    /// Waits this long, then serves the request as usual (a slow gateway; the
    /// caller's timeout).
    Delay(Duration),
    /// Serves the request but sends the answer without its `Wechatpay-*` signature
    /// headers (a proxy's or a captive portal's page).
    Unsigned,
    /// Serves the request, then alters the answer's body after signing it (the
    /// signature no longer matches).
    Tampered,
    /// Serves the request with the answer signed ten minutes ago, outside the 300 s
    /// window (a replayed answer, or a skewed clock).
    Stale,
    /// Closes the connection without answering.
    Disconnect,
    /// A gateway in front of WeChat Pay answers this status (502, 503, 504) with an
    /// unsigned HTML page, the request never reaching WeChat Pay: what a client sees
    /// while a data centre is down.
    Gateway(StatusCode),
}

impl Fault {
    /// [`Fault::Status`] from a status and WeChat's error code.
    ///
    /// ```
    /// use wechatpay_chain_sandbox::{Fault, StatusCode};
    /// let busy = Fault::status(StatusCode::SERVICE_UNAVAILABLE, "SYSTEM_ERROR");
    /// assert!(matches!(busy, Fault::Status { .. }));
    /// ```
    pub fn status(status: StatusCode, code: impl Into<String>) -> Fault {
        Fault::Status {
            status,
            code: code.into(),
        }
    }
}

/// How far in the past [`Fault::Stale`] signs.
pub(crate) const STALE_BY: i64 = 600;

/// A fault and how many more requests it applies to.
pub(crate) struct Injected {
    fault: Fault,
    remaining: AtomicUsize,
}

/// The faults waiting for requests, newest first when matching.
#[derive(Default)]
pub(crate) struct Faults {
    /// How many are waiting: requests skip the lock while there are none.
    waiting: AtomicUsize,
    list: Mutex<Vec<Route<Injected>>>,
}

impl Faults {
    pub(crate) fn inject(&self, method: &str, template: &str, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        let injected = Injected {
            fault,
            remaining: AtomicUsize::new(times),
        };
        let mut list = self.lock();
        list.push(Route::new(method, template, injected));
        self.waiting.store(list.len(), Ordering::Release);
    }

    /// The fault the request `method path` meets, if any, counted as used.
    pub(crate) fn take(&self, method: &Method, path: &str) -> Option<Fault> {
        if self.waiting.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut faults = self.lock();
        let segments: Vec<&str> = path.split('/').collect();
        let index = faults
            .iter()
            .rposition(|f| f.allows(method) && f.matches_path(&segments).is_some())?;
        let fault = faults[index].action.fault.clone();
        if faults[index]
            .action
            .remaining
            .fetch_sub(1, Ordering::Relaxed)
            == 1
        {
            faults.remove(index);
            self.waiting.store(faults.len(), Ordering::Release);
        }
        Some(fault)
    }

    /// Forgets every fault still waiting.
    pub(crate) fn clear(&self) {
        let mut list = self.lock();
        list.clear();
        self.waiting.store(0, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Route<Injected>>> {
        self.list.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where other processes (other SDKs' tests, `wxpay request`) inject faults: a
/// signed `POST` with `{"method", "template", "fault", "times"}`, plus `status` and
/// `code` for `"status"`, `delay_ms` for `"delay"`.
pub(crate) const ROUTE: &str = "sandbox/faults";

/// `POST /sandbox/faults`.
pub(crate) fn inject_over_http(faults: &Faults, request: &SandboxRequest) -> Reply {
    match parse(&request.json) {
        Ok((method, template, fault, times)) => {
            let shown = format!("{fault:?}");
            faults.inject(&method, &template, fault, times);
            let answer =
                json!({ "method": method, "template": template, "fault": shown, "times": times });
            (StatusCode::OK, answer)
        }
        Err(message) => error(StatusCode::BAD_REQUEST, "PARAM_ERROR", message),
    }
}

fn parse(json: &Value) -> Result<(String, String, Fault, usize), String> {
    let text = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("`{name}` is required (a string)"))
    };
    let number = |name: &str| {
        json.get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("`{name}` is required (a whole number)"))
    };
    let fault = match text("fault")? {
        "status" => {
            let status = u16::try_from(number("status")?)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or("`status` is not an HTTP status")?;
            Fault::status(status, text("code")?)
        }
        "delay" => Fault::Delay(Duration::from_millis(number("delay_ms")?)),
        "unsigned" => Fault::Unsigned,
        "tampered" => Fault::Tampered,
        "stale" => Fault::Stale,
        "disconnect" => Fault::Disconnect,
        "gateway" => {
            let status = u16::try_from(number("status")?)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or("`status` is not an HTTP status")?;
            Fault::Gateway(status)
        }
        other => {
            return Err(format!(
                "unknown fault `{other}`: status, delay, unsigned, tampered, stale, disconnect or gateway"
            ))
        }
    };
    let times = match json.get("times") {
        None => 1,
        Some(_) => usize::try_from(number("times")?).map_err(|_| "`times` is too large")?,
    };
    Ok((
        text("method")?.to_owned(),
        text("template")?.to_owned(),
        fault,
        times,
    ))
}

/// Takes the signature headers off an answer ([`Fault::Unsigned`]).
pub(crate) fn unsign(headers: &mut HeaderMap) {
    for name in [SIGNATURE, TIMESTAMP, NONCE, SERIAL] {
        headers.remove(name);
    }
}
