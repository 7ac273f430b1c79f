//! Retries: off by default; an opt-in policy for transport failures and 5xx answers.
//!
//! A retry runs the whole pipeline again (build, hooks, sign, send, verify), so every
//! attempt carries a fresh nonce and timestamp and a fresh signature: WeChat Pay
//! refuses a replayed nonce, and a stale timestamp would fail its 300 s window.
//!
//! Only calls that are safe to repeat are retried: `GET` and `DELETE`, or any chain the
//! caller marked with [`Chain::idempotent`](crate::Chain::idempotent) (e.g. a `POST`
//! whose body carries an idempotency key such as `out_trade_no`). A `POST`, `PUT` or
//! `PATCH` is otherwise sent once, whatever the policy.

use std::future::Future;
use std::time::Duration;

use http::Method;

use crate::error::{Error, TransportKind};

/// When and how often a failed call is tried again.
///
/// The default, [`RetryPolicy::none`], sends every call once. Set a policy with
/// [`ClientBuilder::retry`](crate::ClientBuilder::retry):
///
/// ```
/// use std::time::Duration;
/// use wechatpay_chain::RetryPolicy;
///
/// let policy = RetryPolicy::exponential(3)          // at most 3 attempts in all
///     .base_delay(Duration::from_millis(200))       // 200 ms, 400 ms, … before jitter
///     .max_delay(Duration::from_secs(2));
/// assert_eq!(policy.max_attempts(), 3);
/// // Equal jitter: the wait before retry `n` lies in [step/2, step].
/// let wait = policy.delay(1);
/// assert!(wait >= Duration::from_millis(100) && wait <= Duration::from_millis(200));
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
///
/// What is retried: a transport failure of kind [`TransportKind::Connect`],
/// [`TransportKind::Timeout`] or [`TransportKind::Other`] (a reset, a connection closed
/// mid-answer), and an [`Error::Api`] whose status is 5xx. Never retried: errors before
/// sending (template, option, configuration), a verification failure (a forged or
/// stale answer is not a transient fault), a 4xx, a body over the size limit, a URL
/// the HTTP layer would rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::none()
    }
}

impl RetryPolicy {
    /// The default: every call is sent once.
    pub const fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            jitter: true,
        }
    }

    /// Up to `max_attempts` attempts in all (the first one included; 0 counts as 1),
    /// waiting an exponentially growing, jittered delay between them: the step before
    /// retry `n` is `base_delay * 2^(n-1)` capped at `max_delay` (defaults 100 ms and
    /// 5 s), and the wait is drawn uniformly from `[step/2, step]`.
    pub const fn exponential(max_attempts: u32) -> Self {
        let mut policy = RetryPolicy::none();
        policy.max_attempts = if max_attempts == 0 { 1 } else { max_attempts };
        policy
    }

    /// The step before the first retry (default 100 ms).
    pub const fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The largest step between two attempts (default 5 s).
    pub const fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Waits exactly the step, with no jitter (for tests; production code should keep
    /// the jitter so that many clients do not retry in lock-step).
    pub const fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// The largest number of attempts, the first one included.
    pub const fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The un-jittered step before retry `retry` (1 for the first retry).
    pub fn step(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(31);
        self.base_delay
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The wait before retry `retry` (1 for the first retry), jitter applied.
    pub fn delay(&self, retry: u32) -> Duration {
        let step = self.step(retry);
        if !self.jitter {
            return step;
        }
        let half = step / 2;
        let spread = (step - half).as_nanos() as u64;
        let offset = if spread == 0 {
            0
        } else {
            random_u64() % (spread + 1)
        };
        half + Duration::from_nanos(offset)
    }

    /// Whether `error` is a failure this policy retries (a transport failure other
    /// than an oversized body or a rewritten URL, or a 5xx answer).
    pub fn is_retryable(error: &Error) -> bool {
        match error {
            Error::Transport { kind, .. } => matches!(
                kind,
                TransportKind::Connect | TransportKind::Timeout | TransportKind::Other
            ),
            Error::Api(api) => api.status.is_server_error(),
            _ => false,
        }
    }

    /// How many attempts a call with `method` gets: `max_attempts` for `GET`,
    /// `DELETE` (and `HEAD`/`OPTIONS`) or a chain marked idempotent, else one.
    pub(crate) fn attempts_for(&self, method: &Method, idempotent: bool) -> u32 {
        let safe = matches!(
            *method,
            Method::GET | Method::DELETE | Method::HEAD | Method::OPTIONS
        );
        if safe || idempotent {
            self.max_attempts.max(1)
        } else {
            1
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts run out,
    /// sleeping the thread between attempts.
    pub(crate) fn run_blocking<T>(
        &self,
        attempts: u32,
        mut attempt: impl FnMut() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut tried = 1;
        loop {
            match attempt() {
                Err(e) if tried < attempts && Self::is_retryable(&e) => {
                    let wait = self.delay(tried);
                    log_retry(&e, tried, attempts, wait);
                    std::thread::sleep(wait);
                    tried += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// The async twin of [`run_blocking`](Self::run_blocking); the waits do not block
    /// the executor.
    pub(crate) async fn run_async<T, F, Fut>(
        self,
        attempts: u32,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut tried = 1;
        loop {
            match attempt().await {
                Err(e) if tried < attempts && Self::is_retryable(&e) => {
                    let wait = self.delay(tried);
                    log_retry(&e, tried, attempts, wait);
                    sleep_async(wait).await;
                    tried += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

fn log_retry(error: &Error, tried: u32, attempts: u32, wait: Duration) {
    tracing::debug!(
        error = %error,
        attempt = tried,
        of = attempts,
        wait_ms = wait.as_millis() as u64,
        "wechatpay call failed; retrying with a fresh signature"
    );
}

/// Sleeps without assuming a Tokio timer: the async verbs may run on any executor
/// (or a Tokio runtime built without `enable_time`, where `tokio::time::sleep` would
/// panic), so a short-lived thread wakes the task. Retries are rare; the thread costs
/// less than a request.
async fn sleep_async(wait: Duration) {
    if wait.is_zero() {
        return;
    }
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("wechatpay-retry-timer".into())
        .spawn(move || {
            std::thread::sleep(wait);
            let _ = tx.send(());
        });
    if spawned.is_ok() {
        let _ = rx.await;
    }
}

fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    if getrandom::fill(&mut buf).is_err() {
        // Jitter only spreads load; a clock-derived value is good enough here.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        return u64::from(nanos);
    }
    u64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_double_up_to_the_cap() {
        let p = RetryPolicy::exponential(10)
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(500))
            .without_jitter();
        let steps: Vec<u128> = (1..=5).map(|n| p.delay(n).as_millis()).collect();
        assert_eq!(steps, [100, 200, 400, 500, 500]);
        assert_eq!(p.step(u32::MAX), Duration::from_millis(500));
    }

    #[test]
    fn jitter_stays_within_half_to_full_step() {
        let p = RetryPolicy::exponential(4).base_delay(Duration::from_millis(80));
        for n in 1..=3 {
            let step = p.step(n);
            for _ in 0..200 {
                let d = p.delay(n);
                assert!(d >= step / 2 && d <= step, "{d:?} for step {step:?}");
            }
        }
    }

    #[test]
    fn only_safe_or_marked_methods_get_retries() {
        let p = RetryPolicy::exponential(3);
        assert_eq!(p.attempts_for(&Method::GET, false), 3);
        assert_eq!(p.attempts_for(&Method::DELETE, false), 3);
        assert_eq!(p.attempts_for(&Method::POST, false), 1);
        assert_eq!(p.attempts_for(&Method::PATCH, false), 1);
        assert_eq!(p.attempts_for(&Method::POST, true), 3);
        assert_eq!(RetryPolicy::none().attempts_for(&Method::GET, true), 1);
        assert_eq!(RetryPolicy::exponential(0).max_attempts(), 1);
    }

    #[test]
    fn what_is_retryable() {
        let transport = |kind| Error::Transport {
            kind,
            source: "x".into(),
        };
        assert!(RetryPolicy::is_retryable(&transport(
            TransportKind::Connect
        )));
        assert!(RetryPolicy::is_retryable(&transport(
            TransportKind::Timeout
        )));
        assert!(RetryPolicy::is_retryable(&transport(TransportKind::Other)));
        assert!(!RetryPolicy::is_retryable(&transport(
            TransportKind::BodyTooLarge
        )));
        assert!(!RetryPolicy::is_retryable(&transport(TransportKind::Url)));
        assert!(!RetryPolicy::is_retryable(&Error::Config("x".into())));
    }
}
