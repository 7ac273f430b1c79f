//! Cross-city disaster recovery against two real sandboxes sharing keys: the primary
//! and the backup host (issue 16).
//!
//! Every wait is a poll with a bounded deadline; nothing asserts how long anything
//! took.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wechatpay_chain::download::DownloadInfo;
use wechatpay_chain::{ClientBuilder, Endpoint, Error, Host, Response, TransportKind};
use wechatpay_chain_sandbox::{Fault, Sandbox, SandboxKeys, StatusCode, SEED_ORDER};

const ORDER: &str = "v3/discount-card/orders/{out_order_no}";
const NATIVE: &str = "v3/pay/transactions/native";
/// The longest any poll waits before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);
const PROBE: Duration = Duration::from_millis(100);

fn keys() -> SandboxKeys {
    SandboxKeys::fixture().expect("fixture keys")
}

/// A sandbox with the shared keys, on `port` (0: any).
fn sandbox_on(port: u16) -> Sandbox {
    Sandbox::builder()
        .keys(keys())
        .port(port)
        .cache_signatures(Duration::from_secs(60))
        .start()
        .expect("sandbox starts")
}

/// Counts the `POST`s to [`NATIVE`] a sandbox served, and answers them.
fn count_native(sandbox: &Sandbox) -> Arc<AtomicUsize> {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    sandbox.route("POST", NATIVE, move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        (
            StatusCode::OK,
            json!({ "code_url": "weixin://wxpay/bizpayurl?pr=sandbox" }),
        )
    });
    seen
}

/// Records which host each attempt went to, and whether it failed.
#[derive(Default)]
struct Attempts(Mutex<Vec<(Host, Arc<str>, bool)>>);

impl Attempts {
    fn hook(self: &Arc<Self>) -> impl Fn(&Endpoint, Result<&Response, &Error>) + Send + Sync {
        let this = self.clone();
        move |call, outcome| {
            let mut seen = this.0.lock().unwrap();
            seen.push((call.host, call.base_uri.clone(), outcome.is_ok()));
        }
    }

    fn take(&self) -> Vec<(Host, Arc<str>, bool)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A client of `primary` (a base URI) with `backup` as its backup host.
fn builder(primary: &str, backup: &str) -> ClientBuilder {
    keys()
        .client_builder()
        .base_uri(primary)
        .backup_base_uri(backup)
        .failover_probe_interval(PROBE)
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
}

/// A loopback base URI nothing listens on (connections are refused).
fn refused_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/")
}

/// Polls `done` until it holds, failing the test after [`DEADLINE`].
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn native_order() -> Value {
    json!({ "json": { "appid": "wxd678efh567hg6787", "mchid": "1900000001",
        "description": "Image形象店-深圳腾大-QQ公仔", "out_trade_no": "1217752501201407033233368018",
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php", "amount": { "total": 100 } } })
}

#[test]
fn sixteen_concurrent_gets_ride_out_the_primary_going_down_and_coming_back() {
    let primary = sandbox_on(0);
    let port = primary.addr().port();
    let primary_url = primary.url().to_owned();
    let backup = sandbox_on(0);
    let client = builder(&primary_url, backup.url())
        // Proving calls would blur which host carried what.
        .backup_share(0.0)
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (client, stop, calls, failures) = (
                client.clone(),
                stop.clone(),
                calls.clone(),
                failures.clone(),
            );
            runtime.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let outcome = client
                        .chain(ORDER)
                        .get_async(json!({ "out_order_no": SEED_ORDER }))
                        .await;
                    match outcome {
                        Ok(res) if res.status() == 200 => {}
                        Ok(res) => failures.lock().unwrap().push(format!("{}", res.status())),
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    wait_for("traffic on the primary", || primary.stats().requests >= 100);
    assert_eq!(
        backup.stats().requests,
        0,
        "the backup idles while the primary serves"
    );
    primary.shutdown();
    wait_for("the switch to the backup", || {
        client.active_base_uri() == backup.url()
    });
    let served = backup.stats().requests;
    wait_for("traffic on the backup", || {
        backup.stats().requests >= served + 200
    });

    let restarted = sandbox_on(port);
    assert_eq!(restarted.url(), primary_url);
    wait_for("the switch back to the primary", || {
        client.active_base_uri() == primary_url
    });
    wait_for("traffic on the restarted primary", || {
        restarted.stats().requests >= 200
    });
    stop.store(true, Ordering::Relaxed);
    runtime.block_on(async {
        for worker in workers {
            worker.await.unwrap();
        }
    });
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed calls of {}: {:?}",
        failures.len(),
        calls.load(Ordering::Relaxed),
        &failures[..failures.len().min(5)]
    );
}

#[test]
fn in_steady_state_the_backup_carries_at_most_one_percent() {
    let primary = sandbox_on(0);
    let backup = sandbox_on(0);
    let attempts = Arc::new(Attempts::default());
    let client = builder(primary.url(), backup.url())
        .after_verifying(attempts.hook())
        .build()
        .unwrap();
    let calls = 500;
    for _ in 0..calls {
        let res = client
            .chain(ORDER)
            .get(json!({ "out_order_no": SEED_ORDER }))
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let on_backup = backup.stats().requests;
    assert!(
        (1..=calls / 100).contains(&on_backup),
        "the backup served {on_backup} of {calls}"
    );
    assert_eq!(primary.stats().requests + on_backup, calls);
    // Middleware saw the same split, each attempt naming its host.
    let seen = attempts.take();
    let to_backup = seen
        .iter()
        .filter(|(host, ..)| *host == Host::Backup)
        .count();
    assert_eq!(to_backup as u64, on_backup);
    assert!(seen.iter().all(|(host, base, ok)| *ok
        && &**base
            == if *host == Host::Backup {
                backup.url()
            } else {
                primary.url()
            }));
    assert_eq!(client.active_base_uri(), primary.url());

    // A share of 0 sends the backup nothing.
    let quiet = builder(primary.url(), backup.url())
        .backup_share(0.0)
        .build()
        .unwrap();
    let before = backup.stats().requests;
    for _ in 0..300 {
        quiet
            .chain(ORDER)
            .get(json!({ "out_order_no": SEED_ORDER }))
            .unwrap();
    }
    assert_eq!(backup.stats().requests, before);
}

#[test]
fn a_post_that_timed_out_after_delivery_is_not_sent_to_the_backup() {
    let primary = sandbox_on(0);
    let backup = sandbox_on(0);
    let at_backup = count_native(&backup);
    let client = builder(primary.url(), backup.url())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // The primary receives each order, then is too slow to answer in time.
    primary.inject("POST", NATIVE, Fault::Delay(Duration::from_secs(2)), 3);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sync = client.chain(NATIVE).post(native_order());
    let not_sync = runtime.block_on(client.chain(NATIVE).post_async(native_order()));
    for outcome in [sync, not_sync] {
        let err = outcome.unwrap_err();
        assert_eq!(err.transport_kind(), Some(TransportKind::Timeout), "{err}");
        assert!(err.may_have_been_delivered(), "{err}");
        assert!(err.to_string().contains("may have been delivered"), "{err}");
    }
    wait_for("both to reach the primary", || {
        primary.stats().received == 2
    });
    assert_eq!(
        at_backup.load(Ordering::SeqCst),
        0,
        "a delivered POST was resent"
    );
    assert_eq!(backup.stats().received, 0);
    assert_eq!(client.active_base_uri(), primary.url());

    // The same POST marked idempotent (WeChat dedupes by out_trade_no) may move.
    let res = client
        .chain(NATIVE)
        .idempotent()
        .post(native_order())
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(primary.stats().received, 3);
    assert_eq!(at_backup.load(Ordering::SeqCst), 1);
}

#[test]
fn a_post_closed_without_an_answer_is_not_resent_but_a_get_moves() {
    let primary = sandbox_on(0);
    let backup = sandbox_on(0);
    let at_backup = count_native(&backup);
    let client = builder(primary.url(), backup.url())
        .backup_share(0.0)
        .build()
        .unwrap();
    primary.inject("POST", NATIVE, Fault::Disconnect, 1);
    let err = client.chain(NATIVE).post(native_order()).unwrap_err();
    assert!(err.may_have_been_delivered(), "{err}");
    assert_eq!(at_backup.load(Ordering::SeqCst), 0);

    // A GET is safe to repeat: it moves, and the backup becomes the main channel.
    primary.inject("GET", ORDER, Fault::Disconnect, 1);
    let res = client
        .chain(ORDER)
        .get(json!({ "out_order_no": SEED_ORDER }))
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(backup.stats().requests, 1);
    assert_eq!(client.active_base_uri(), backup.url());
}

#[test]
fn a_post_refused_at_connect_goes_to_the_backup_and_succeeds() {
    let backup = sandbox_on(0);
    let at_backup = count_native(&backup);
    let primary = refused_base();
    let attempts = Arc::new(Attempts::default());
    let client = builder(&primary, backup.url())
        .after_verifying(attempts.hook())
        .build()
        .unwrap();
    let res = client.chain(NATIVE).post(native_order()).unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(at_backup.load(Ordering::SeqCst), 1);
    assert_eq!(client.active_base_uri(), backup.url());
    let seen = attempts.take();
    assert_eq!(
        seen.iter().map(|(h, _, ok)| (*h, *ok)).collect::<Vec<_>>(),
        [(Host::Primary, false), (Host::Backup, true)]
    );
    assert_eq!(&*seen[0].1, primary);

    // Async alike, on a fresh client (each clone shares the state; this one starts
    // on the primary).
    let client = builder(&primary, backup.url()).build().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let res = runtime
        .block_on(client.chain(NATIVE).post_async(native_order()))
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(at_backup.load(Ordering::SeqCst), 2);
    assert_eq!(client.clone().active_base_uri(), backup.url());
}

/// Fills a listener's accept queue so that a further connection attempt gets no
/// answer, as an unreachable host behaves, on loopback.
fn unanswered() -> (TcpListener, Vec<TcpStream>, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4096 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => fillers.push(s),
            Err(_) => break,
        }
    }
    (listener, fillers, addr)
}

#[test]
fn a_post_whose_connect_timed_out_goes_to_the_backup() {
    let (listener, fillers, addr) = unanswered();
    let backup = sandbox_on(0);
    let at_backup = count_native(&backup);
    // reqwest reports a connect timeout as a timeout; it still never reached the
    // server, so even a POST moves.
    let client = builder(&format!("http://{addr}/"), backup.url())
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let res = client.chain(NATIVE).post(native_order()).unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(at_backup.load(Ordering::SeqCst), 1);
    drop(fillers);
    drop(listener);
}

/// A POST to a host whose TLS certificate the client does not trust: the handshake
/// fails, nothing is sent, so even a POST moves.
#[test]
fn a_post_whose_tls_handshake_failed_goes_to_the_backup() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::Read;

    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let certs = vec![CertificateDer::from_pem_slice(&fixture("platform_cert.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(&fixture("platform_private.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, stream);
        let mut buf = [0u8; 1024];
        // Whether any request bytes crossed the session.
        matches!(tls.read(&mut buf), Ok(n) if n > 0)
    });
    let backup = sandbox_on(0);
    let at_backup = count_native(&backup);
    let client = builder(&format!("https://{addr}/"), backup.url())
        .build()
        .unwrap();
    let res = client.chain(NATIVE).post(native_order()).unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(at_backup.load(Ordering::SeqCst), 1);
    assert!(
        !server.join().unwrap(),
        "a request crossed an untrusted session"
    );
}

#[test]
fn an_unsigned_gateway_error_moves_a_get_but_not_a_post() {
    let primary = sandbox_on(0);
    let backup = sandbox_on(0);
    let at_backup = count_native(&backup);
    let client = builder(primary.url(), backup.url())
        .backup_share(0.0)
        .build()
        .unwrap();
    primary.inject("POST", NATIVE, Fault::Gateway(StatusCode::BAD_GATEWAY), 1);
    let err = client.chain(NATIVE).post(native_order()).unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert!(!err.may_have_been_delivered());
    assert_eq!(at_backup.load(Ordering::SeqCst), 0);

    // A signed 503 is WeChat Pay's own answer: the host works, nothing moves.
    primary.inject(
        "GET",
        ORDER,
        Fault::status(StatusCode::SERVICE_UNAVAILABLE, "SYSTEM_ERROR"),
        1,
    );
    let err = client
        .chain(ORDER)
        .get(json!({ "out_order_no": SEED_ORDER }))
        .unwrap_err();
    assert_eq!(err.code(), Some("SYSTEM_ERROR"));
    assert_eq!(backup.stats().requests, 0);

    for status in [
        StatusCode::BAD_GATEWAY,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::GATEWAY_TIMEOUT,
    ] {
        primary.inject("GET", ORDER, Fault::Gateway(status), 1);
        let res = client
            .chain(ORDER)
            .get(json!({ "out_order_no": SEED_ORDER }))
            .unwrap();
        assert_eq!(res.status(), 200, "{status}");
    }
    assert_eq!(backup.stats().requests, 3);
}

#[test]
fn a_per_request_base_uri_bypasses_failover() {
    let backup = sandbox_on(0);
    let primary = sandbox_on(0);
    let client = builder(primary.url(), backup.url()).build().unwrap();
    let err = client
        .chain(ORDER)
        .get(json!({ "out_order_no": SEED_ORDER, "base_uri": refused_base() }))
        .unwrap_err();
    assert_eq!(err.transport_kind(), Some(TransportKind::Connect), "{err}");
    assert_eq!(backup.stats().requests, 0);
    assert_eq!(client.active_base_uri(), primary.url());
}

#[test]
fn certificates_downloads_and_apiv2_use_the_backup_too() {
    let backup = sandbox_on(0);
    let client = builder(&refused_base(), backup.url()).build().unwrap();
    let certificates = client.download_certificates().unwrap();
    assert_eq!(certificates.len(), 1);
    assert_eq!(client.active_base_uri(), backup.url());

    // The listing names a file on the backup; the download follows it there.
    let info: DownloadInfo = client
        .chain("v3/bill/tradebill")
        .get(json!({ "query": { "bill_date": "2019-06-11" } }))
        .unwrap()
        .json()
        .unwrap();
    assert!(
        info.download_url.starts_with(backup.url()),
        "{}",
        info.download_url
    );
    let mut file = Vec::new();
    let n = client.download_to(&info, &mut file).unwrap();
    assert_eq!(n as usize, file.len());

    // A file on the primary's URL, fetched while the primary is down, comes from
    // the backup (async this time).
    let dead = refused_base();
    let client = builder(&dead, backup.url()).build().unwrap();
    let on_primary = DownloadInfo::new(
        info.download_url.replacen(backup.url(), &dead, 1),
        info.hash_type.clone().unwrap(),
        info.hash_value.clone().unwrap(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut again = Vec::new();
    runtime
        .block_on(client.download_to_async(&on_primary, &mut again))
        .unwrap();
    assert_eq!(again, file);

    // APIv2 (XML, signed in the payload) moves like any call that was never sent.
    let client = builder(&refused_base(), backup.url()).build().unwrap();
    let res = client
        .chain("v2/pay/micropay")
        .post(json!({ "xml": { "appid": "wx8888888888888888", "mch_id": client.mchid(),
            "body": "image形象店-深圳腾大- QQ公仔", "out_trade_no": "F1", "total_fee": 888,
            "fee_type": "CNY", "spbill_create_ip": "8.8.8.8", "auth_code": "120061098828009406" } }))
        .unwrap();
    let answer: Value = res.xml().unwrap();
    assert_eq!(answer["result_code"], "SUCCESS");
    assert_eq!(client.active_base_uri(), backup.url());
}

/// A file streams to its writer as it arrives: it moves to the other host only
/// while nothing has been written.
#[test]
fn a_download_moves_only_before_its_first_byte_was_written() {
    use std::io::{Read, Write};

    let backup = sandbox_on(0);
    let listing: DownloadInfo = backup
        .client()
        .chain("v3/bill/tradebill")
        .get(json!({ "query": { "bill_date": "2019-06-11" } }))
        .unwrap()
        .json()
        .unwrap();
    let on = |base: &str| {
        DownloadInfo::new(
            listing.download_url.replacen(backup.url(), base, 1),
            listing.hash_type.clone().unwrap(),
            listing.hash_value.clone().unwrap(),
        )
    };

    // Refused at connect: nothing written, the backup serves the file.
    let dead = refused_base();
    let client = builder(&dead, backup.url()).build().unwrap();
    let mut file = Vec::new();
    let n = client.download_to(&on(&dead), &mut file).unwrap();
    assert!(n > 0 && n as usize == file.len());
    let served = backup.stats().received;

    // Cut after the first bytes: they are written, so the download fails there.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let cut = format!("http://{}/", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).unwrap();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789")
            .unwrap();
    });
    let client = builder(&cut, backup.url())
        .backup_share(0.0)
        .build()
        .unwrap();
    let mut partial = Vec::new();
    let err = client.download_to(&on(&cut), &mut partial).unwrap_err();
    server.join().unwrap();
    assert!(err.transport_kind().is_some(), "{err}");
    assert_eq!(partial, b"0123456789");
    assert_eq!(backup.stats().received, served, "the cut download moved");
}

#[test]
fn each_switch_is_one_info_event_and_the_primary_takes_over_again() {
    let backup = sandbox_on(0);
    let primary = sandbox_on(0);
    let port = primary.addr().port();
    let primary_url = primary.url().to_owned();
    primary.shutdown();
    let attempts = Arc::new(Attempts::default());
    let client = builder(&primary_url, backup.url())
        .backup_share(0.0)
        .after_verifying(attempts.hook())
        .build()
        .unwrap();
    captured();
    // Other tests switch their own clients: this client's events name its backup.
    let events = || {
        let text = String::from_utf8_lossy(&captured().lock().unwrap()).into_owned();
        text.lines()
            .filter(|l| l.contains("main channel switched") && l.contains(backup.url()))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let get = || {
        client
            .chain(ORDER)
            .get(json!({ "out_order_no": SEED_ORDER }))
    };
    {
        for _ in 0..20 {
            assert_eq!(get().unwrap().status(), 200);
        }
        let switched = events();
        assert_eq!(switched.len(), 1, "{switched:?}");
        assert!(switched[0].contains("to=backup"), "{}", switched[0]);
        // The reason names the failure, not the URL (a download's query holds a token).
        assert!(
            switched[0].contains("the primary host was not reached"),
            "{}",
            switched[0]
        );
        assert!(!switched[0].contains("/v3/"), "{}", switched[0]);
        // While the primary is down, probes fail over silently.
        attempts.take();
        wait_for("a few failed probes", || {
            assert_eq!(get().unwrap().status(), 200);
            let seen = attempts.0.lock().unwrap();
            seen.iter()
                .filter(|(host, _, ok)| *host == Host::Primary && !ok)
                .count()
                >= 3
        });
        assert_eq!(events().len(), 1);

        let restarted = sandbox_on(port);
        wait_for("the switch back", || {
            assert_eq!(get().unwrap().status(), 200);
            client.active_base_uri() == primary_url
        });
        let switched = events();
        assert_eq!(switched.len(), 2, "{switched:?}");
        assert!(switched[1].contains("to=primary"), "{}", switched[1]);
        assert!(switched[1].contains("answered a probe"), "{}", switched[1]);
        let before = restarted.stats().requests;
        assert_eq!(get().unwrap().status(), 200);
        assert_eq!(restarted.stats().requests, before + 1);
    }
    // Debug names both hosts.
    let shown = format!("{client:?}");
    assert!(
        shown.contains(&primary_url) && shown.contains(backup.url()),
        "{shown}"
    );
}

/// What the process's `tracing` subscriber (info and up, installed on first use)
/// has written.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        log
    })
}

/// A `tracing` writer into a shared buffer.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
