//! End-to-end benchmark: the client against the sandbox, each in its own process.
//!
//! ```text
//! cargo run --release --example bench_harness            # 5,000 GETs per mode
//! cargo run --release --example bench_harness -- --requests 20000 --no-pin
//! ```
//!
//! The harness re-executes itself three times: once as the sandbox (with its answer
//! signatures cached, so it is not the bottleneck) and once per client mode, sync at
//! concurrency 1 and async at concurrency 16, each sending the same number of GETs of
//! the seed order. On a machine with two or more cores the sandbox is pinned to CPU 1
//! and each client to CPU 0. Each client process reports
//! - requests per second (wall clock, over the measured requests);
//! - its CPU seconds (user + system, `getrusage(RUSAGE_SELF)`) per request;
//! - its peak RSS (`ru_maxrss`);
//! - the CPU time of one RSA-2048 signature with the same key and backend, measured
//!   in the same process just before, and the ratio of the two;
//! - how busy its core was (`requests/s x CPU per request`);
//! - the physical floor of a request, measured the same way: the CPU per iteration
//!   of a loop that does only what no client can skip, one signature, one round
//!   trip of the same number of bytes on a raw loopback socket (blocking at c=1, 16
//!   connections on the same runtime at c=16) to a responder in the sandbox process
//!   that does nothing else, and one verification of an answer;
//!
//! and the sandbox reports how many connections each mode opened.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use wechatpay_chain::crypto::Backend;
use wechatpay_chain::{signer, Client, PrivateKey, PublicKey};
use wechatpay_chain_sandbox::{Sandbox, SandboxKeys, SEED_ORDER};

const TEMPLATE: &str = "v3/discount-card/orders/{out_order_no}";
const WARM_UP: usize = 100;
/// Bytes of the seed GET as reqwest sends it, and of the sandbox's signed answer.
const REQUEST_BYTES: usize = 725;
const ANSWER_BYTES: usize = 1618;
/// Round trips measured for the floor (after `WARM_UP`).
const FLOOR_ROUND_TRIPS: usize = 3_200;

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(cpu) = value("--cpu") {
        pin(cpu.parse()?);
    }
    if flag("--serve-sandbox") {
        return serve_sandbox();
    }
    let requests: usize = value("--requests").map_or(Ok(5_000), |v| v.parse())?;
    if let Some(mode) = value("--client") {
        let url = value("--url").ok_or("--client needs --url")?;
        let echo = value("--echo").ok_or("--client needs --echo")?;
        let report = run_client(&mode, &url, &echo, requests)?;
        println!("{report}");
        return Ok(());
    }
    orchestrate(requests, !flag("--no-pin"))
}

/// Pins this process (every thread it starts afterwards) to one CPU.
fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the call only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("bench_harness: cannot pin to CPU {cpu}; running unpinned");
        }
    }
}

/// User + system CPU seconds and peak RSS (KiB) of this process so far.
fn usage() -> (f64, i64) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss)
}

/// The sandbox process: prints its URL and the raw responder's address, serves
/// until its stdin closes.
fn serve_sandbox() -> Result<(), Failure> {
    let sandbox = Sandbox::builder()
        .cache_signatures(Duration::from_secs(60))
        .start()?;
    let responder = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", sandbox.url());
    println!("{}", responder.local_addr()?);
    std::thread::spawn(move || {
        for stream in responder.incoming().flatten() {
            std::thread::spawn(move || respond_raw(stream));
        }
    });
    std::io::stdout().flush()?;
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(sandbox);
    Ok(())
}

/// Answers every `REQUEST_BYTES` read with `ANSWER_BYTES`, until the peer leaves.
fn respond_raw(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut request = [0u8; REQUEST_BYTES];
    let answer = [b'a'; ANSWER_BYTES];
    while stream.read_exact(&mut request).is_ok() {
        if stream.write_all(&answer).is_err() {
            return;
        }
    }
}

/// The work no client can skip: sign a request, verify an answer.
struct Unavoidable<'a> {
    key: &'a PrivateKey,
    platform: &'a PublicKey,
    answer: String,
    answer_signature: String,
}

impl Unavoidable<'_> {
    fn new(keys: &SandboxKeys) -> Result<Unavoidable<'_>, Failure> {
        let answer = format!("1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{SEED_ORDER}\n");
        let answer_signature = keys.platform_private_key().sign_base64(answer.as_bytes())?;
        Ok(Unavoidable {
            key: keys.merchant_private_key(),
            platform: keys.platform_public_key(),
            answer,
            answer_signature,
        })
    }

    fn sign(&self) {
        std::hint::black_box(self.key.sign_base64(&request_message()).ok());
    }

    fn verify(&self) {
        let ok = self
            .platform
            .verify_base64(self.answer.as_bytes(), &self.answer_signature);
        std::hint::black_box(ok);
    }
}

/// Client CPU seconds per iteration of a loop doing one raw round trip to the
/// responder, and the same with `unavoidable`'s signature and verification
/// before and after each trip: blocking on one connection (`sync`), or 16
/// connections driven by one current-thread runtime (`async`).
fn round_trip_cpu(
    mode: &str,
    responder: &str,
    unavoidable: &Unavoidable<'_>,
) -> Result<(f64, f64), Failure> {
    let per_trip = |cpu: f64| cpu / FLOOR_ROUND_TRIPS as f64;
    if mode == "sync" {
        let mut stream = TcpStream::connect(responder)?;
        stream.set_nodelay(true)?;
        let mut trips = |n: usize, crypto: bool| -> std::io::Result<f64> {
            let (request, mut answer) = ([b'q'; REQUEST_BYTES], [0u8; ANSWER_BYTES]);
            let (before, _) = usage();
            for _ in 0..n {
                if crypto {
                    unavoidable.sign();
                }
                stream.write_all(&request)?;
                stream.read_exact(&mut answer)?;
                if crypto {
                    unavoidable.verify();
                }
            }
            Ok(usage().0 - before)
        };
        trips(WARM_UP, true)?;
        let alone = trips(FLOOR_ROUND_TRIPS, false)?;
        let floor = trips(FLOOR_ROUND_TRIPS, true)?;
        return Ok((per_trip(alone), per_trip(floor)));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut streams = Vec::new();
        for _ in 0..16 {
            let stream = tokio::net::TcpStream::connect(responder).await?;
            stream.set_nodelay(true)?;
            streams.push(stream);
        }
        trips(&mut streams, WARM_UP, Some(unavoidable)).await?;
        let (before, _) = usage();
        trips(&mut streams, FLOOR_ROUND_TRIPS, None).await?;
        let (middle, _) = usage();
        trips(&mut streams, FLOOR_ROUND_TRIPS, Some(unavoidable)).await?;
        let (after, _) = usage();
        Ok((per_trip(middle - before), per_trip(after - middle)))
    })
}

/// `n` round trips spread over `streams`, all in flight together, each with the
/// unavoidable work around it when given.
async fn trips(
    streams: &mut [tokio::net::TcpStream],
    n: usize,
    unavoidable: Option<&Unavoidable<'_>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let each = n / streams.len();
    futures::future::try_join_all(streams.iter_mut().map(|stream| async move {
        let (request, mut answer) = ([b'q'; REQUEST_BYTES], [0u8; ANSWER_BYTES]);
        for _ in 0..each {
            unavoidable.inspect(|u| u.sign());
            stream.write_all(&request).await?;
            stream.read_exact(&mut answer).await?;
            unavoidable.inspect(|u| u.verify());
        }
        Ok::<_, std::io::Error>(())
    }))
    .await
    .map(drop)
}

/// A seed-order GET's string to sign.
fn request_message() -> Vec<u8> {
    signer::string_to_sign(
        "GET",
        "/v3/discount-card/orders/233bcbf407e87789b8e471f251774f95",
        "1554208460",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        b"",
    )
}

fn client_for(url: &str) -> Result<Client, Failure> {
    let keys = SandboxKeys::fixture()?;
    Ok(Client::builder()
        .mchid(keys.mchid())
        .serial(keys.merchant_serial())
        .private_key(keys.merchant_private_key().clone())
        .platform_key(keys.platform_serial(), keys.platform_public_key().clone())
        .base_uri(url)
        .build()?)
}

/// CPU seconds of one signature of a seed-order GET's string to sign.
fn signature_cpu(key: &PrivateKey, backend: Backend, n: usize) -> f64 {
    let message = request_message();
    for _ in 0..n / 10 {
        let _ = key.sign_base64_with(backend, &message);
    }
    let (before, _) = usage();
    for _ in 0..n {
        let _ = std::hint::black_box(key.sign_base64_with(backend, &message));
    }
    (usage().0 - before) / n as f64
}

/// CPU seconds of one verification of an answer's signature (platform key).
fn verification_cpu(unavoidable: &Unavoidable<'_>, n: usize) -> f64 {
    for _ in 0..n / 10 {
        unavoidable.verify();
    }
    let (before, _) = usage();
    for _ in 0..n {
        unavoidable.verify();
    }
    (usage().0 - before) / n as f64
}

/// One client process: measures a signature, a verification and a raw round trip,
/// then the requests. Prints JSON.
fn run_client(mode: &str, url: &str, responder: &str, requests: usize) -> Result<Value, Failure> {
    let client = client_for(url)?;
    let keys = SandboxKeys::fixture()?;
    let key = keys.merchant_private_key();
    let sign = signature_cpu(key, key.backend(), 1_000);
    let sign_rsa = signature_cpu(key, Backend::Rsa, 200);
    let unavoidable = Unavoidable::new(&keys)?;
    let verify = verification_cpu(&unavoidable, 2_000);
    let (round_trip, floor) = round_trip_cpu(mode, responder, &unavoidable)?;
    let options = json!({ "out_order_no": SEED_ORDER });

    let (cpu, wall, failures) = match mode {
        "sync" => {
            let chain = client.chain(TEMPLATE);
            let mut failures = 0;
            for _ in 0..WARM_UP {
                chain.get(options.clone())?;
            }
            let (before, _) = usage();
            let start = Instant::now();
            for _ in 0..requests {
                match client.chain(TEMPLATE).get(options.clone()) {
                    Ok(r) if r.status() == 200 => {}
                    _ => failures += 1,
                }
            }
            let wall = start.elapsed();
            (usage().0 - before, wall, failures)
        }
        "async" => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let run = |n: usize| {
                    let client = client.clone();
                    let options = options.clone();
                    stream::iter(0..n)
                        .map(move |_| client.chain(TEMPLATE).get_async(options.clone()))
                        .buffer_unordered(16)
                        .filter(|r| {
                            futures::future::ready(!r.as_ref().is_ok_and(|r| r.status() == 200))
                        })
                        .count()
                };
                run(WARM_UP).await;
                let (before, _) = usage();
                let start = Instant::now();
                let failures = run(requests).await;
                let wall = start.elapsed();
                (usage().0 - before, wall, failures)
            })
        }
        other => return Err(format!("unknown mode {other}").into()),
    };
    let (_, rss_kib) = usage();
    let per_request = cpu / requests as f64;
    let rps = requests as f64 / wall.as_secs_f64();
    Ok(json!({
        "mode": mode,
        "requests": requests,
        "failures": failures,
        "requests_per_s": rps,
        "cpu_per_request_us": per_request * 1e6,
        "sign_us": sign * 1e6,
        "sign_rsa_us": sign_rsa * 1e6,
        "backend": key.backend().name(),
        "ratio": per_request / sign,
        "verify_us": verify * 1e6,
        "round_trip_us": round_trip * 1e6,
        "floor_us": floor * 1e6,
        "floor_ratio": floor / sign,
        "over_floor": per_request / floor,
        "core_busy": rps * per_request,
        "peak_rss_mib": rss_kib as f64 / 1024.0,
    }))
}

struct Server {
    child: Child,
    client: Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn sandbox_stats(server: &Server) -> Result<Value, Failure> {
    Ok(server
        .client
        .chain("sandbox/stats")
        .get(json!(null))?
        .json()?)
}

fn orchestrate(requests: usize, pin_cpus: bool) -> Result<(), Failure> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = pin_cpus && cores >= 2;
    let exe = std::env::current_exe()?;
    let cpu_args = |cpu: &str| -> Vec<String> {
        if pinned {
            vec!["--cpu".into(), cpu.into()]
        } else {
            Vec::new()
        }
    };

    let mut child = Command::new(&exe)
        .arg("--serve-sandbox")
        .args(cpu_args("1"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no sandbox stdout")?).lines();
    let mut line = || lines.next().ok_or("the sandbox process ended early");
    let url = line()??.trim().to_owned();
    let responder = line()??.trim().to_owned();
    let server = Server {
        client: client_for(&url)?,
        child,
    };

    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    println!(
        "machine: {cores} CPUs ({model}); sandbox {}; {requests} GETs of the seed order per mode (after {WARM_UP} warm-up requests)",
        if pinned {
            "on CPU 1, client on CPU 0"
        } else {
            "and client unpinned"
        }
    );
    println!();
    println!("| mode | backend | requests/s | client CPU/request | one RSA-2048 signature | ratio | verify, round trip alone | floor: all three in one loop | floor ratio | CPU / floor | client core busy | peak RSS | connections opened | failures |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (mode, label) in [("sync", "sync, c=1"), ("async", "async, c=16")] {
        let before = sandbox_stats(&server)?["connections"].as_u64().unwrap_or(0);
        let out = Command::new(&exe)
            .args([
                "--client",
                mode,
                "--url",
                &url,
                "--echo",
                &responder,
                "--requests",
            ])
            .arg(requests.to_string())
            .args(cpu_args("0"))
            .stderr(Stdio::inherit())
            .output()?;
        if !out.status.success() {
            return Err(format!("the {mode} client failed ({})", out.status).into());
        }
        let r: Value = serde_json::from_slice(&out.stdout)?;
        // The stats request itself reuses the harness's own connection.
        let opened = sandbox_stats(&server)?["connections"]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(before);
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {label} | {} | {:.0} | {:.0} us | {:.0} us (`rsa`: {:.0} us) | {:.3} | {:.1} us, {:.1} us | {:.0} us | {:.3} | {:.3} | {:.2} | {:.1} MiB | {opened} | {} |",
            r["backend"].as_str().unwrap_or("?"),
            f("requests_per_s"),
            f("cpu_per_request_us"),
            f("sign_us"),
            f("sign_rsa_us"),
            f("ratio"),
            f("verify_us"),
            f("round_trip_us"),
            f("floor_us"),
            f("floor_ratio"),
            f("over_floor"),
            f("core_busy"),
            f("peak_rss_mib"),
            r["failures"],
        );
    }
    let stats = sandbox_stats(&server)?;
    println!();
    println!(
        "sandbox: {} connections, {} requests, {} fresh signatures, {} cached",
        stats["connections"], stats["requests"], stats["signatures"], stats["cached_signatures"]
    );
    Ok(())
}
