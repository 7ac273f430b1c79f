//! Cross-city disaster recovery: a primary and a backup host, WeChat Pay's rules for
//! using them, and the one rule that matters most: a payment is never created twice.
//!
//! WeChat Pay serves every merchant from two domains: `api.mch.weixin.qq.com` (the
//! nearest access point, the main channel) and `api2.mch.weixin.qq.com` (another
//! city). Its rules for the merchant side: the backup may carry a small share of
//! traffic (at most 1 %) to prove it works; when the primary fails, the main channel
//! switches to the backup automatically; when the primary recovers, it switches back.
//!
//! Each call is planned here (which host first, whether it may move to the other),
//! each attempt is judged by its outcome (never sent, failed after sending, an
//! unsigned gateway error, an answer), and the main channel is kept
//! in two atomics shared by every clone of the client: no lock on the hot path.
//!
//! Which calls move to the other host, within the same call:
//! - one that provably never reached the server (DNS failure, connection refused,
//!   connect timeout, TLS handshake failure, a pooled connection closed before the
//!   request was written), whatever its method;
//! - an idempotent one (`GET`, `DELETE`, `HEAD`, `OPTIONS`, or a chain marked
//!   [`Chain::idempotent`](crate::Chain::idempotent)) also on any failure after
//!   sending and on an unsigned 502/503/504 from a gateway;
//! - never a `POST`/`PUT`/`PATCH` that may have been delivered: its error says so
//!   ([`Error::may_have_been_delivered`]).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value;

use crate::builder::ClientBuilder;
use crate::client::{Client, DEFAULT_BASE_URI};
use crate::error::{BoxError, Error, TransportKind};
use crate::uri::BaseUri;

/// WeChat Pay's cross-city backup host, the default backup of
/// [`DEFAULT_BASE_URI`].
pub const DEFAULT_BACKUP_BASE_URI: &str = "https://api2.mch.weixin.qq.com/";

/// How long the client stays on the backup before it tries the primary again.
const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(10);

/// WeChat's ceiling, and the default, for the share of calls proving the backup.
const MAX_BACKUP_SHARE: f64 = 0.01;

/// Which of the client's hosts an attempt went to ([`Endpoint::host`](crate::Endpoint::host)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host {
    /// The base URI ([`ClientBuilder::base_uri`]).
    Primary,
    /// The backup base URI ([`ClientBuilder::backup_base_uri`]).
    Backup,
    /// The call's own `base_uri` option: the caller chose the host, failover is off.
    Requested,
}

impl Host {
    fn other(self) -> Host {
        match self {
            Host::Primary => Host::Backup,
            _ => Host::Primary,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Host::Primary => "primary",
            Host::Backup => "backup",
            Host::Requested => "requested",
        })
    }
}

/// The backup as configured on the builder.
#[derive(Debug, Clone, Default)]
enum BackupSetting {
    /// `api2` when the base URI is WeChat's default, else none.
    #[default]
    Default,
    Off,
    Uri(String),
}

/// What the builder collects for failover; checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
pub(crate) struct FailoverSettings {
    backup: BackupSetting,
    probe_interval: Option<Duration>,
    backup_share: Option<f64>,
}

impl FailoverSettings {
    /// Checks the settings against the (primary) base URI.
    pub(crate) fn build(&self, primary: &BaseUri) -> Result<Failover, Error> {
        let backup = match &self.backup {
            BackupSetting::Off => None,
            BackupSetting::Default => {
                let default = BaseUri::parse(DEFAULT_BASE_URI).map_err(Error::Config)?;
                if *primary == default {
                    Some(BaseUri::parse(DEFAULT_BACKUP_BASE_URI).map_err(Error::Config)?)
                } else {
                    None
                }
            }
            BackupSetting::Uri(raw) => {
                let backup = BaseUri::parse(raw)
                    .map_err(|m| Error::Config(format!("backup_base_uri: {m}")))?;
                if backup == *primary {
                    return Err(Error::Config(format!(
                        "backup_base_uri: `{raw}` is the base URI itself; name the other city's host (e.g. {DEFAULT_BACKUP_BASE_URI}) or call without_backup()"
                    )));
                }
                Some(backup)
            }
        };
        let probe_interval = self.probe_interval.unwrap_or(DEFAULT_PROBE_INTERVAL);
        if probe_interval.is_zero() {
            return Err(Error::Config(
                "failover_probe_interval: must be longer than zero".into(),
            ));
        }
        let share = self.backup_share.unwrap_or(MAX_BACKUP_SHARE);
        if !(0.0..=MAX_BACKUP_SHARE).contains(&share) {
            return Err(Error::Config(format!(
                "backup_share: {share} is outside 0.0..=0.01; WeChat Pay allows the backup at most 1 % of the traffic"
            )));
        }
        // One call in `every` proves the backup: rounding up keeps the share at or
        // under the one configured.
        let every = if share == 0.0 {
            0
        } else {
            (1.0 / share).ceil() as u64
        };
        Ok(Failover {
            backup,
            probe_interval: probe_interval.as_nanos().min(u128::from(u64::MAX)) as u64,
            every,
            on_backup: AtomicBool::new(false),
            next_probe: AtomicU64::new(0),
            proving: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }
}

/// Failover settings of [`ClientBuilder`]; see the [module](crate::failover) rules.
impl ClientBuilder {
    /// The other city's host, tried when the main channel fails (default
    /// [`DEFAULT_BACKUP_BASE_URI`] when the base URI is WeChat's default, else none).
    /// It is checked like the base URI (https, or http to loopback; a path prefix is
    /// kept).
    ///
    /// The client follows WeChat Pay's rules for its two domains:
    /// - a call that never reached the server (DNS failure, connection refused,
    ///   connect timeout, TLS handshake failure) moves at once to the other host,
    ///   whatever its method; an idempotent call (`GET`, `DELETE`, `HEAD`, or a chain
    ///   marked [`Chain::idempotent`](crate::Chain::idempotent)) also moves on a
    ///   failure after sending (a timeout, a connection closed mid-answer) and on an
    ///   unsigned 502/503/504 from a gateway. A `POST`/`PUT`/`PATCH` that may have been
    ///   delivered is never sent again, to either host: its error says so
    ///   ([`Error::may_have_been_delivered`]). Moving is part of the same call (one
    ///   result, each attempt signed afresh); the [`retry`](Self::retry) policy
    ///   applies after it.
    /// - After the primary failed a call the backup then served, the backup is the
    ///   main channel for every clone of the client
    ///   ([`Client::active_base_uri`]); every
    ///   [`failover_probe_interval`](Self::failover_probe_interval) the next idempotent
    ///   call tries the primary first (falling back to the backup at once), and the
    ///   primary takes over again when it answers. While on the primary, a
    ///   [`backup_share`](Self::backup_share) of idempotent calls (default 1 %) goes
    ///   to the backup to prove it, falling back to the primary silently.
    /// - A call with its own `base_uri` option goes there only.
    /// - Each switch is one `tracing` info event naming the reason; middleware sees
    ///   which host each attempt went to ([`Endpoint::host`](crate::Endpoint::host)).
    ///
    /// ```
    /// # let builder = || wechatpay_chain_sandbox::SandboxKeys::fixture().unwrap().client_builder();
    /// use std::time::Duration;
    /// let client = builder()
    ///     .base_uri("https://api.mch.weixin.qq.com/")
    ///     .backup_base_uri("https://api2.mch.weixin.qq.com/")
    ///     .failover_probe_interval(Duration::from_secs(5))
    ///     .backup_share(0.005)
    ///     .build()?;
    /// assert_eq!(client.active_base_uri(), "https://api.mch.weixin.qq.com/");
    /// assert_eq!(client.backup_base_uri().as_deref(), Some("https://api2.mch.weixin.qq.com/"));
    ///
    /// let refused = builder().backup_base_uri("http://backup.example.com/").build();
    /// assert!(refused.unwrap_err().to_string().contains("backup_base_uri"));
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn backup_base_uri(mut self, uri: impl Into<String>) -> Self {
        self.failover.backup = BackupSetting::Uri(uri.into());
        self
    }

    /// No backup host: every call goes to the base URI only.
    pub fn without_backup(mut self) -> Self {
        self.failover.backup = BackupSetting::Off;
        self
    }

    /// How long the client stays on the backup before the next idempotent call tries
    /// the primary again (default 10 s; zero is refused by [`build`](Self::build)).
    pub fn failover_probe_interval(mut self, interval: Duration) -> Self {
        self.failover.probe_interval = Some(interval);
        self
    }

    /// The share of idempotent calls sent to the backup while the primary is the
    /// main channel, to prove the backup works (default and maximum `0.01`, WeChat's
    /// 1 %; `0.0` sends none). Out of range is refused by [`build`](Self::build).
    pub fn backup_share(mut self, share: f64) -> Self {
        self.failover.backup_share = Some(share);
        self
    }
}

impl Client {
    /// The base URI of the main channel now: the base URI, or the backup after a
    /// failover (until the primary answers a probe again).
    pub fn active_base_uri(&self) -> String {
        let failover = self.failover();
        failover
            .base(failover.main())
            .unwrap_or(self.base())
            .to_string()
    }

    /// The backup base URI, if any ([`ClientBuilder::backup_base_uri`]).
    pub fn backup_base_uri(&self) -> Option<String> {
        self.failover().backup.as_ref().map(BaseUri::to_string)
    }
}

/// The failover state of a client, shared by its clones.
pub(crate) struct Failover {
    backup: Option<BaseUri>,
    /// Nanoseconds.
    probe_interval: u64,
    /// One idempotent call in `every` proves the backup; 0: none.
    every: u64,
    /// Whether the backup is the main channel.
    on_backup: AtomicBool,
    /// When (nanoseconds after `epoch`) the next idempotent call probes the primary.
    next_probe: AtomicU64,
    /// Idempotent calls planned while on the primary, for the backup's share.
    proving: AtomicU64,
    epoch: Instant,
}

impl fmt::Debug for Failover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failover")
            .field("backup", &self.backup)
            .field("main", &self.main())
            .finish_non_exhaustive()
    }
}

/// What a call is, as far as failover cares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    /// Safe to send twice (a safe method, or a chain marked idempotent).
    idempotent: bool,
    /// The call names its own `base_uri`: no failover.
    requested: bool,
}

impl Call {
    /// A call of `method`, `marked` idempotent or not, with `options`.
    pub(crate) fn new(method: &Method, marked: bool, options: &Value) -> Call {
        let safe = matches!(
            *method,
            Method::GET | Method::DELETE | Method::HEAD | Method::OPTIONS
        );
        Call {
            idempotent: safe || marked,
            requested: options.get("base_uri").is_some(),
        }
    }
}

/// Why a call goes where it goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// To the main channel.
    Main,
    /// To the primary while on the backup, to see whether it is back.
    Probe,
    /// To the backup while on the primary, to prove it works.
    Prove,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    first: Host,
    /// Where the call may move; none without a backup or with its own base URI.
    other: Option<Host>,
    purpose: Purpose,
}

/// What an attempt's outcome says about its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// An answer (or a success): the host works.
    Answered,
    /// Failed before sending, for a reason of the call's own (configuration,
    /// template, a URL the HTTP stack would rewrite): the other host would fail too.
    Local,
    /// Provably never reached the server.
    NotSent,
    /// Failed after the request was (perhaps) sent: timeout, reset, closed mid-answer.
    AfterSending,
    /// An unsigned 502/503/504: a gateway in front of WeChat Pay failed.
    Gateway,
}

impl Verdict {
    /// Judges an attempt's outcome.
    pub(crate) fn of<T>(outcome: &Result<T, Error>) -> Verdict {
        let Err(error) = outcome else {
            return Verdict::Answered;
        };
        match error {
            Error::Transport { kind, source } => match kind {
                TransportKind::Url => Verdict::Local,
                TransportKind::BodyTooLarge => Verdict::Answered,
                TransportKind::Connect => Verdict::NotSent,
                _ if never_sent(source.as_ref()) => Verdict::NotSent,
                _ => Verdict::AfterSending,
            },
            Error::Api(api) if !api.verified && matches!(api.status.as_u16(), 502..=504) => {
                Verdict::Gateway
            }
            e if e.is_before_send() => Verdict::Local,
            _ => Verdict::Answered,
        }
    }

    /// Whether a call that met this may be sent to the other host.
    fn moves(self, call: &Call) -> bool {
        match self {
            Verdict::NotSent => true,
            Verdict::AfterSending | Verdict::Gateway => call.idempotent,
            Verdict::Answered | Verdict::Local => false,
        }
    }
}

/// Whether a transport error proves the request never left: reqwest's connect class
/// (DNS, refused, connect timeout, TLS handshake, proxy tunnel; reqwest reports a
/// connect timeout as a timeout *and* a connect error), or hyper's "canceled", which
/// it gives only to a request it hands back unwritten (a pooled connection that
/// closed first). A whole-request timeout that fires while connecting is not
/// provable, so it counts as sent: set a `connect_timeout` shorter than the
/// `timeout` for slow connects to be recognised.
fn never_sent(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_connect)
        {
            return true;
        }
        if e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_canceled)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

impl Failover {
    /// The base URI of `host`: the backup's, or none for the primary (the client's).
    pub(crate) fn base(&self, host: Host) -> Option<&BaseUri> {
        match host {
            Host::Backup => self.backup.as_ref(),
            _ => None,
        }
    }

    fn main(&self) -> Host {
        if self.on_backup.load(Ordering::Relaxed) {
            Host::Backup
        } else {
            Host::Primary
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64
    }

    /// Where a call goes first, and whether it may move.
    fn plan(&self, call: &Call) -> Plan {
        if self.backup.is_none() || call.requested {
            return Plan {
                first: Host::Primary,
                other: None,
                purpose: Purpose::Main,
            };
        }
        let main = self.main();
        if call.idempotent {
            if main == Host::Backup && self.probe_due() {
                return Plan {
                    first: Host::Primary,
                    other: Some(Host::Backup),
                    purpose: Purpose::Probe,
                };
            }
            if main == Host::Primary && self.proves_backup() {
                return Plan {
                    first: Host::Backup,
                    other: Some(Host::Primary),
                    purpose: Purpose::Prove,
                };
            }
        }
        Plan {
            first: main,
            other: Some(main.other()),
            purpose: Purpose::Main,
        }
    }

    /// Whether this call is the one probe of the interval now ending (one call wins
    /// the slot; the others go to the backup as usual).
    fn probe_due(&self) -> bool {
        let due = self.next_probe.load(Ordering::Relaxed);
        let now = self.now();
        now >= due
            && self
                .next_probe
                .compare_exchange(
                    due,
                    now.saturating_add(self.probe_interval),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    fn proves_backup(&self) -> bool {
        self.every != 0
            && self.proving.fetch_add(1, Ordering::Relaxed) % self.every == self.every - 1
    }

    /// After the first attempt: where the call moves, if it does.
    fn after_first(&self, plan: &Plan, call: &Call, verdict: Verdict) -> Option<Host> {
        if plan.purpose == Purpose::Probe && verdict == Verdict::Answered {
            self.switch_to(Host::Primary, &"the primary answered a probe");
        }
        plan.other.filter(|_| verdict.moves(call))
    }

    /// After the call moved from `plan.first`, which failed with `failure`, to
    /// `moved_to`, whose attempt ended in `verdict`.
    fn after_move(&self, plan: &Plan, moved_to: Host, failure: Failure<'_>, verdict: Verdict) {
        if verdict != Verdict::Answered {
            // Both failed: nothing says which host is better.
            return;
        }
        let reason = failure.describe(plan.first);
        match plan.purpose {
            Purpose::Main => self.switch_to(moved_to, &reason),
            Purpose::Probe => {
                tracing::debug!(%reason, "wechatpay failover: the primary failed its probe; staying on the backup");
            }
            Purpose::Prove => {
                tracing::warn!(%reason, "wechatpay failover: the backup failed a proving call; the primary served it");
            }
        }
    }

    /// Makes `to` the main channel; one info event per actual switch.
    fn switch_to(&self, to: Host, reason: &dyn fmt::Display) {
        let on_backup = to == Host::Backup;
        if self
            .on_backup
            .compare_exchange(!on_backup, on_backup, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        if on_backup {
            let next = self.now().saturating_add(self.probe_interval);
            self.next_probe.store(next, Ordering::Relaxed);
        }
        tracing::info!(
            from = %to.other(),
            to = %to,
            backup = self.backup.as_ref().map_or("", |b| &**b.shown()),
            reason = %reason,
            "wechatpay failover: the main channel switched hosts"
        );
    }
}

/// Sends one call with failover: `attempt(host)` builds, signs, sends and verifies
/// one attempt on `host`.
pub(crate) fn send_blocking<T>(
    client: &Client,
    call: Call,
    attempt: impl FnMut(Host) -> Result<T, Error>,
) -> Result<T, Error> {
    send_blocking_unless(client, call, attempt, &|| false)
}

/// [`send_blocking`], where `committed()` says the failed attempt already handed
/// part of its answer on (a download written to its destination) and cannot move.
pub(crate) fn send_blocking_unless<T>(
    client: &Client,
    call: Call,
    mut attempt: impl FnMut(Host) -> Result<T, Error>,
    committed: &dyn Fn() -> bool,
) -> Result<T, Error> {
    let failover = client.failover();
    let plan = failover.plan(&call);
    let first = attempt(plan.first);
    let verdict = Verdict::of(&first);
    let moved = failover
        .after_first(&plan, &call, verdict)
        .filter(|_| !committed());
    let (Some(to), Err(error)) = (moved, &first) else {
        return conclude(first, verdict, &call);
    };
    let second = attempt(to);
    let second_verdict = Verdict::of(&second);
    failover.after_move(&plan, to, Failure(verdict, error), second_verdict);
    conclude(second, second_verdict, &call)
}

/// The async twin of [`send_blocking`].
pub(crate) async fn send_async<T, F, Fut>(
    client: &Client,
    call: Call,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(Host) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let failover = client.failover();
    let plan = failover.plan(&call);
    let first = attempt(plan.first).await;
    let verdict = Verdict::of(&first);
    let moved = failover.after_first(&plan, &call, verdict);
    let (Some(to), Err(error)) = (moved, &first) else {
        return conclude(first, verdict, &call);
    };
    let second = attempt(to).await;
    let second_verdict = Verdict::of(&second);
    failover.after_move(&plan, to, Failure(verdict, error), second_verdict);
    conclude(second, second_verdict, &call)
}

/// An attempt's failure, judged.
#[derive(Clone, Copy)]
struct Failure<'a>(Verdict, &'a Error);

impl Failure<'_> {
    /// Why `host` failed, for the switch event: the class of failure and its
    /// innermost cause, never the URL (a download's query holds its token).
    fn describe(self, host: Host) -> String {
        let Failure(verdict, error) = self;
        let class = match verdict {
            Verdict::NotSent => "was not reached",
            Verdict::AfterSending => "failed after the request was sent",
            Verdict::Gateway => "answered through a failing gateway",
            Verdict::Answered | Verdict::Local => "failed",
        };
        let detail = match error {
            Error::Api(api) => api.status.to_string(),
            Error::Transport { source, .. } => {
                let mut cause: &(dyn std::error::Error + 'static) = source.as_ref();
                while let Some(next) = cause.source() {
                    cause = next;
                }
                cause.to_string()
            }
            other => other.to_string(),
        };
        format!("the {host} host {class} ({detail})")
    }
}

/// The call's result; a failure after sending of a call that is not idempotent says
/// it may have been delivered (it was not sent again).
fn conclude<T>(outcome: Result<T, Error>, verdict: Verdict, call: &Call) -> Result<T, Error> {
    match outcome {
        Err(Error::Transport { kind, source })
            if verdict == Verdict::AfterSending && !call.idempotent =>
        {
            Err(Error::Transport {
                kind,
                source: Box::new(MaybeDelivered(source)),
            })
        }
        other => other,
    }
}

/// The cause of a transport failure after a request that is not idempotent was
/// (perhaps) sent: WeChat Pay may have acted on it.
#[derive(Debug)]
pub(crate) struct MaybeDelivered(BoxError);

impl fmt::Display for MaybeDelivered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request may have been delivered, so it was not sent again (query its state before trying again)")
    }
}

impl std::error::Error for MaybeDelivered {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn primary() -> BaseUri {
        BaseUri::parse(DEFAULT_BASE_URI).expect("default base")
    }

    fn settings(f: impl FnOnce(&mut FailoverSettings)) -> Result<Failover, Error> {
        let mut s = FailoverSettings::default();
        f(&mut s);
        s.build(&primary())
    }

    fn config_error(result: Result<Failover, Error>) -> String {
        match result {
            Err(Error::Config(m)) => m,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn the_default_base_has_api2_as_backup_and_others_none() {
        let f = settings(|_| {}).expect("defaults");
        assert_eq!(
            f.backup.as_ref().map(BaseUri::to_string).as_deref(),
            Some(DEFAULT_BACKUP_BASE_URI)
        );
        let other = BaseUri::parse("http://127.0.0.1:9/").expect("loopback");
        let f = FailoverSettings::default()
            .build(&other)
            .expect("no backup");
        assert!(f.backup.is_none());
        let f = settings(|s| s.backup = BackupSetting::Off).expect("off");
        assert!(f.backup.is_none());
    }

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        for share in [0.02, -0.001, f64::NAN, f64::INFINITY] {
            let m = config_error(settings(|s| s.backup_share = Some(share)));
            assert!(m.contains("backup_share") && m.contains("1 %"), "{m}");
        }
        let m = config_error(settings(|s| s.probe_interval = Some(Duration::ZERO)));
        assert!(m.contains("failover_probe_interval"), "{m}");
        let m = config_error(settings(|s| {
            s.backup = BackupSetting::Uri("http://api2.mch.weixin.qq.com/".into())
        }));
        assert!(m.contains("backup_base_uri") && m.contains("https"), "{m}");
        let m = config_error(settings(|s| {
            s.backup = BackupSetting::Uri(DEFAULT_BASE_URI.into())
        }));
        assert!(m.contains("the base URI itself"), "{m}");
    }

    #[test]
    fn the_backup_share_is_one_call_in_every_hundred_at_most() {
        let get = Call::new(&Method::GET, false, &Value::Null);
        for (share, calls, expected) in [(0.01, 1000, 10), (0.003, 1000, 2), (0.0, 1000, 0)] {
            let f = settings(|s| s.backup_share = Some(share)).expect("share");
            let to_backup = (0..calls)
                .filter(|_| f.plan(&get).first == Host::Backup)
                .count();
            assert_eq!(to_backup, expected, "share {share}");
        }
        // Writes never prove the backup: only idempotent calls do.
        let f = settings(|_| {}).expect("defaults");
        let post = Call::new(&Method::POST, false, &Value::Null);
        assert!((0..500).all(|_| f.plan(&post).first == Host::Primary));
    }

    #[test]
    fn a_call_with_its_own_base_uri_does_not_move() {
        let f = settings(|_| {}).expect("defaults");
        let options = serde_json::json!({ "base_uri": "https://apihk.mch.weixin.qq.com/" });
        let plan = f.plan(&Call::new(&Method::GET, false, &options));
        assert_eq!(plan.other, None);
    }

    #[test]
    fn on_the_backup_one_call_per_interval_probes_the_primary() {
        let f = settings(|s| s.probe_interval = Some(Duration::from_secs(3600))).expect("set");
        f.switch_to(Host::Backup, &"test");
        let get = Call::new(&Method::GET, false, &Value::Null);
        let post = Call::new(&Method::POST, false, &Value::Null);
        // The interval has not elapsed since the switch: everything on the backup.
        assert!((0..50).all(|_| f.plan(&get).first == Host::Backup));
        f.next_probe.store(0, Ordering::Relaxed);
        assert_eq!(f.plan(&post).first, Host::Backup, "writes do not probe");
        let plan = f.plan(&get);
        assert_eq!((plan.first, plan.purpose), (Host::Primary, Purpose::Probe));
        assert_eq!(f.plan(&get).first, Host::Backup, "one probe per interval");
        f.after_first(&plan, &get, Verdict::Answered);
        assert_eq!(f.main(), Host::Primary);
    }

    #[test]
    fn what_moves_and_what_does_not() {
        let transport = |kind| -> Result<(), Error> {
            Err(Error::Transport {
                kind,
                source: "x".into(),
            })
        };
        let api = |status: u16, verified: bool| -> Result<(), Error> {
            Err(Error::Api(Box::new(crate::error::ApiError {
                status: StatusCode::from_u16(status).expect("status"),
                code: None,
                message: None,
                detail: None,
                request_id: None,
                verified,
                response: crate::error::RawResponse {
                    status: StatusCode::from_u16(status).expect("status"),
                    headers: Default::default(),
                    body: Default::default(),
                },
            })))
        };
        let get = Call::new(&Method::GET, false, &Value::Null);
        let post = Call::new(&Method::POST, false, &Value::Null);
        let marked = Call::new(&Method::POST, true, &Value::Null);
        let cases = [
            (
                transport(TransportKind::Connect),
                Verdict::NotSent,
                [true, true, true],
            ),
            (
                transport(TransportKind::Timeout),
                Verdict::AfterSending,
                [true, false, true],
            ),
            (
                transport(TransportKind::Other),
                Verdict::AfterSending,
                [true, false, true],
            ),
            (
                transport(TransportKind::Url),
                Verdict::Local,
                [false, false, false],
            ),
            (
                transport(TransportKind::BodyTooLarge),
                Verdict::Answered,
                [false, false, false],
            ),
            (api(503, false), Verdict::Gateway, [true, false, true]),
            (api(502, false), Verdict::Gateway, [true, false, true]),
            (api(503, true), Verdict::Answered, [false, false, false]),
            (api(500, false), Verdict::Answered, [false, false, false]),
            (
                Err(Error::Config("x".into())),
                Verdict::Local,
                [false, false, false],
            ),
            (Ok(()), Verdict::Answered, [false, false, false]),
        ];
        for (outcome, verdict, moves) in cases {
            assert_eq!(Verdict::of(&outcome), verdict, "{outcome:?}");
            let got = [&get, &post, &marked].map(|c| verdict.moves(c));
            assert_eq!(got, moves, "{outcome:?}");
        }
    }

    #[test]
    fn a_write_failing_after_sending_says_it_may_have_been_delivered() {
        let post = Call::new(&Method::POST, false, &Value::Null);
        let failed = || -> Result<(), Error> {
            Err(Error::Transport {
                kind: TransportKind::Timeout,
                source: "operation timed out".into(),
            })
        };
        let e = conclude(failed(), Verdict::AfterSending, &post).expect_err("failed");
        assert!(e.may_have_been_delivered());
        assert_eq!(e.transport_kind(), Some(TransportKind::Timeout));
        let text = e.to_string();
        assert!(text.contains("may have been delivered"), "{text}");
        assert!(text.ends_with("operation timed out"), "{text}");
        let get = Call::new(&Method::GET, false, &Value::Null);
        let e = conclude(failed(), Verdict::AfterSending, &get).expect_err("failed");
        assert!(!e.may_have_been_delivered());
    }
}
