//! Delivering notifications to a merchant's `notify_url`, as WeChat Pay does: a
//! plain HTTP POST (WeChat -> merchant: nothing is signed with the merchant key),
//! retried after a non-2xx answer, a timeout or a connection failure on WeChat's
//! schedule, compressed. Every attempt and its outcome is recorded.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::certificates::{rfc3339_beijing, APIV3_KEY};
use super::keys::SandboxKeys;
use super::notify;
use super::server::unix_now;
use wechatpay_chain::Error;

const fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// The waits WeChat Pay documents between notification attempts after the first:
/// 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h (16 attempts
/// in all, over about 25 hours).
pub const WECHAT_NOTIFY_SCHEDULE: [Duration; 15] = [
    Duration::from_secs(15),
    Duration::from_secs(15),
    Duration::from_secs(30),
    minutes(3),
    minutes(10),
    minutes(20),
    minutes(30),
    minutes(30),
    minutes(30),
    minutes(60),
    minutes(180),
    minutes(180),
    minutes(180),
    minutes(360),
    minutes(360),
];

/// [`WECHAT_NOTIFY_SCHEDULE`] with every wait divided by `factor` (0 counts as 1):
/// the sandbox's default is 1000 (15 ms, …, 21.6 s; about 90 s in all).
///
/// ```
/// use std::time::Duration;
/// use wechatpay_chain_sandbox::compressed_schedule;
/// assert_eq!(compressed_schedule(1000)[0], Duration::from_millis(15));
/// assert_eq!(compressed_schedule(1000).len(), 15);
/// ```
pub fn compressed_schedule(factor: u32) -> Vec<Duration> {
    WECHAT_NOTIFY_SCHEDULE
        .iter()
        .map(|wait| *wait / factor.max(1))
        .collect()
}

/// The default compression of the schedule.
pub(crate) const DEFAULT_COMPRESSION: u32 = 1000;
/// How long an attempt waits for the merchant's answer by default (WeChat: 5 s).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// One attempt to deliver a notification, as [`Sandbox::deliveries`](crate::Sandbox::deliveries)
/// and `GET /sandbox/deliveries` list it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The notification's `id` (the same on every attempt, so a merchant can
    /// deduplicate).
    pub notification_id: String,
    /// `TRANSACTION.SUCCESS` or `REFUND.SUCCESS`.
    pub event_type: String,
    /// The `out_trade_no` (or `out_refund_no`) the notification is about.
    pub subject: String,
    /// Where it was POSTed.
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The merchant's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why there was no answer (timeout, connection refused, …).
    pub error: Option<String>,
    /// Whether the merchant took it (a 2xx): no further attempt follows.
    pub delivered: bool,
    /// When the attempt was made (RFC 3339, Beijing time, as WeChat writes times).
    pub sent_at: String,
}

impl Delivery {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "notification_id": self.notification_id,
            "event_type": self.event_type,
            "subject": self.subject,
            "url": self.url,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
            "sent_at": self.sent_at,
        })
    }
}

/// Sends notifications and keeps the record of every attempt.
pub(crate) struct Notifier {
    keys: SandboxKeys,
    serial: String,
    /// Built on first use: a TLS-capable client costs about 100 ms to build, more
    /// than the rest of a sandbox's start, and most sandboxes never notify.
    http: OnceLock<Result<reqwest::Client, String>>,
    timeout: Duration,
    schedule: Vec<Duration>,
    log: Mutex<Vec<Delivery>>,
    /// Bumped by a reset: attempts of an older generation are abandoned.
    generation: AtomicU64,
    /// The sandbox's runtime, where deliveries (and refund completions) run.
    runtime: OnceLock<tokio::runtime::Handle>,
    log_requests: bool,
}

impl Notifier {
    pub(crate) fn new(
        keys: SandboxKeys,
        serial: String,
        schedule: Vec<Duration>,
        timeout: Duration,
        log_requests: bool,
    ) -> Notifier {
        Notifier {
            keys,
            serial,
            http: OnceLock::new(),
            timeout,
            schedule,
            log: Mutex::default(),
            generation: AtomicU64::new(0),
            runtime: OnceLock::new(),
            log_requests,
        }
    }

    fn http(&self) -> Result<&reqwest::Client, String> {
        let built = self.http.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                // A notify_url on loopback must not go through a proxy of the
                // environment.
                .no_proxy()
                .build()
                .map_err(|e| format!("cannot build the notification client ({e})"))
        });
        built.as_ref().map_err(Clone::clone)
    }

    /// Called once by the server thread when its runtime is up.
    pub(crate) fn set_runtime(&self, handle: tokio::runtime::Handle) {
        let _ = self.runtime.set(handle);
    }

    /// Runs `task` on the sandbox's runtime.
    pub(crate) fn spawn<F>(&self, task: F) -> Result<(), Error>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let runtime = self
            .runtime
            .get()
            .ok_or_else(|| Error::Config("the sandbox runtime is not running".into()))?;
        runtime.spawn(task);
        Ok(())
    }

    /// Builds the notification of `event_type` about `subject` and delivers it to
    /// `url` in the background, retrying on the schedule.
    pub(crate) fn send(
        self: &Arc<Self>,
        event_type: &str,
        subject: &str,
        resource: &Value,
        url: &str,
    ) -> Result<(), Error> {
        let body = notify::envelope(APIV3_KEY, event_type, resource, unix_now())?;
        let id = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let template = Delivery {
            notification_id: id,
            event_type: event_type.to_owned(),
            subject: subject.to_owned(),
            url: url.to_owned(),
            attempt: 0,
            status: None,
            error: None,
            delivered: false,
            sent_at: String::new(),
        };
        let notifier = self.clone();
        let generation = self.generation.load(Ordering::Acquire);
        self.spawn(async move { notifier.deliver(template, body, generation).await })
    }

    async fn deliver(self: Arc<Self>, template: Delivery, body: bytes::Bytes, generation: u64) {
        let waits = std::iter::once(Duration::ZERO).chain(self.schedule.iter().copied());
        for (attempt, wait) in (1..).zip(waits) {
            tokio::time::sleep(wait).await;
            if self.generation.load(Ordering::Acquire) != generation {
                return;
            }
            let mut record = template.clone();
            record.attempt = attempt;
            record.sent_at = rfc3339_beijing(SystemTime::now());
            match self.attempt(&template.url, &body).await {
                Ok(status) => {
                    record.status = Some(status);
                    record.delivered = (200..300).contains(&status);
                }
                Err(why) => record.error = Some(why),
            }
            if self.log_requests {
                eprintln!(
                    "notify {} #{attempt} -> {}: {}",
                    record.event_type,
                    record.url,
                    record.status.map_or_else(
                        || record.error.clone().unwrap_or_default(),
                        |s| s.to_string()
                    )
                );
            }
            let delivered = record.delivered;
            {
                let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
                if self.generation.load(Ordering::Acquire) != generation {
                    return;
                }
                log.push(record);
            }
            if delivered {
                return;
            }
        }
    }

    /// One POST, signed now; the status, or why there is none.
    async fn attempt(&self, url: &str, body: &bytes::Bytes) -> Result<u16, String> {
        let headers = notify::sign(&self.keys, &self.serial, body, unix_now())
            .map_err(|e| format!("cannot sign the notification ({e})"))?;
        let sent = self
            .http()?
            .post(url)
            .headers(headers)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) if e.is_timeout() => Err("timed out waiting for the answer".into()),
            Err(e) => Err(describe(&e)),
        }
    }

    /// Every attempt so far, oldest first.
    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the record and abandons the attempts still to come.
    pub(crate) fn reset(&self) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        log.clear();
    }
}

/// A transport error with its causes (reqwest's own text stops at "error sending
/// request"), without the URL (the record has it already).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
