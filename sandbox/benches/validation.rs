//! The sandbox's CPU per request, with and without the catalogue's validation and
//! generic answer. `cargo bench -p wechatpay-chain-sandbox --bench validation`
//! (`-- --requests N` to change the count).
//!
//! One signed request per scenario is replayed on one keep-alive connection (a raw
//! socket: the client costs next to nothing), and the CPU of the sandbox's threads
//! is read from `/proc/self/task/*/stat` before and after. Answer signatures are
//! cached (`cache_signatures`), so the RSA signature of the answer, the same in
//! every scenario, does not drown the difference; each request's own signature is
//! still verified.
//!
//! Scenarios, on `POST v3/pay/transactions/native` unless said:
//! - `test route`: a route the test registered answers a fixed body — no
//!   validation, no answer built (the floor);
//! - `catalogue answer`: the full valid order validated, the answer built from the
//!   response schema;
//! - `catalogue refusal`: the order without its last required member, refused;
//! - `built-in handler`: `GET v3/discount-card/orders/{SEED_ORDER}` (its path
//!   parameter validated, then the order book).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wechatpay_chain::signer::Signer;
use wechatpay_chain_sandbox::{Sandbox, StatusCode, SEED_ORDER};

const NATIVE: &str = "/v3/pay/transactions/native";
/// Linux reports thread times in USER_HZ ticks, 100 per second on every arch.
const TICK: Duration = Duration::from_millis(10);

fn order(with_notify_url: bool) -> Vec<u8> {
    let mut order = json!({
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": "1217752501201407033233368018",
        "time_expire": "2018-06-08T10:34:56+08:00",
        "attach": "自定义数据说明",
        "goods_tag": "WXG",
        "amount": { "total": 100, "currency": "CNY" },
        "detail": {
            "cost_price": 608800,
            "invoice_id": "微信123",
            "goods_detail": [{
                "merchant_goods_id": "1246464644",
                "wechatpay_goods_id": "1001",
                "goods_name": "iPhoneX 256G",
                "quantity": 1,
                "unit_price": 528800,
            }],
        },
        "scene_info": { "payer_client_ip": "14.23.150.211", "device_id": "013467007045764" },
        "settle_info": { "profit_sharing": false },
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
    });
    if !with_notify_url {
        order.as_object_mut().map(|o| o.remove("notify_url"));
    }
    serde_json::to_vec(&order).unwrap_or_default()
}

/// The CPU the sandbox's threads (`wechatpay-sandbox`, `-worker`; the kernel keeps
/// 15 bytes of a name) have used so far.
fn sandbox_cpu() -> Duration {
    let mut ticks = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((name, rest)) = stat.split_once(") ") else {
            continue;
        };
        if !name.ends_with("wechatpay-sandb") {
            continue;
        }
        // Fields after the name: state is the 3rd of stat, utime the 14th.
        let fields: Vec<&str> = rest.split(' ').collect();
        let time = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        ticks += time(11).unwrap_or(0) + time(12).unwrap_or(0);
    }
    TICK * u32::try_from(ticks).unwrap_or(u32::MAX)
}

/// A signed request, ready to replay.
fn request(sandbox: &Sandbox, method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let keys = sandbox.keys();
    let signer = Signer::new(
        keys.mchid(),
        keys.merchant_serial(),
        keys.merchant_private_key().clone(),
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let authorization = signer
        .authorization(method, target, body, &now.to_string(), "benchnonce")
        .expect("signs");
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: {authorization}\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        sandbox.addr(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Sends `request` `n` times on one connection; the sandbox CPU per request, and the
/// status of the last answer.
fn replay(sandbox: &Sandbox, request: &[u8], n: usize) -> (Duration, u16) {
    let stream = TcpStream::connect(sandbox.addr()).expect("connects");
    stream.set_nodelay(true).ok();
    let mut writer = stream.try_clone().expect("clones");
    let mut reader = BufReader::new(stream);
    let mut status = 0;
    let mut one = |status: &mut u16| {
        writer.write_all(request).expect("writes");
        let mut line = String::new();
        let mut length = 0usize;
        reader.read_line(&mut line).expect("reads");
        *status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        loop {
            line.clear();
            reader.read_line(&mut line).expect("reads");
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("reads the body");
    };
    // Warm up: the catalogue is parsed and indexed on first use.
    for _ in 0..200 {
        one(&mut status);
    }
    let before = sandbox_cpu();
    for _ in 0..n {
        one(&mut status);
    }
    (
        (sandbox_cpu() - before) / u32::try_from(n).unwrap_or(1),
        status,
    )
}

fn main() {
    let n = std::env::args()
        .skip_while(|a| a != "--requests")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000usize);
    let cached = || {
        Sandbox::builder()
            .cache_signatures(Duration::from_secs(200))
            .start()
            .expect("starts")
    };
    // Interleaved rounds, the minimum kept: the machine is shared, and other load
    // only ever adds CPU (cache misses, migrations) to a round.
    let rounds = 5;
    let names = [
        "test route (no validation)",
        "catalogue answer",
        "catalogue refusal",
        "built-in handler (seed GET)",
    ];
    let mut best = [(Duration::MAX, 0u16); 4];
    let mut all: [Vec<f64>; 4] = Default::default();
    let routed = cached();
    routed.route("POST", NATIVE, |_| {
        (
            StatusCode::OK,
            json!({ "code_url": "weixin://wxpay/bizpayurl/up?pr=NwY5Mz9&groupid=00" }),
        )
    });
    let plain = cached();
    let target = format!("/v3/discount-card/orders/{SEED_ORDER}");
    let requests = [
        (&routed, request(&routed, "POST", NATIVE, &order(true))),
        (&plain, request(&plain, "POST", NATIVE, &order(true))),
        (&plain, request(&plain, "POST", NATIVE, &order(false))),
        (&plain, request(&plain, "GET", &target, b"")),
    ];
    for _ in 0..rounds {
        for (i, (sandbox, req)) in requests.iter().enumerate() {
            let (cpu, status) = replay(sandbox, req, n);
            all[i].push(cpu.as_secs_f64() * 1e6);
            if cpu < best[i].0 {
                best[i] = (cpu, status);
            }
        }
    }
    println!(
        "sandbox CPU per request, {rounds} rounds of {n} requests (cached answer signatures):"
    );
    for (i, name) in names.iter().enumerate() {
        let (cpu, status) = best[i];
        let runs: Vec<String> = all[i].iter().map(|us| format!("{us:.1}")).collect();
        println!(
            "  {name:<30} min {:>6.1} us  (status {status}; rounds: {})",
            cpu.as_secs_f64() * 1e6,
            runs.join(", ")
        );
    }
}
