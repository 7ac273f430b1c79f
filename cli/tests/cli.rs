//! Drives the built `wxpay` binary: a sandbox in the background, requests against it
//! with the keys it wrote, as any other SDK would use them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const WXPAY: &str = env!("CARGO_BIN_EXE_wxpay");
const SEED_ORDER: &str = "233bcbf407e87789b8e471f251774f95";

/// Kills the background server even when an assertion fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxpay-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts `wxpay sandbox --port 0 --keys DIR` and returns it with the base URI it
/// printed on its first line.
fn start_sandbox(keys: &Path) -> (Server, String) {
    start_sandbox_with(keys, &[])
}

/// `wxpay sandbox --port 0 --quiet FLAGS… --keys DIR`, killed when the `Server` drops,
/// with its stdout to read what it prints.
fn spawn_sandbox(keys: &Path, flags: &[&str]) -> (Server, std::process::ChildStdout) {
    let mut child = Command::new(WXPAY)
        .args(["sandbox", "--port", "0", "--quiet"])
        .args(flags)
        .arg("--keys")
        .arg(keys)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wxpay starts");
    let stdout = child.stdout.take().unwrap();
    (Server(child), stdout)
}

fn start_sandbox_with(keys: &Path, flags: &[&str]) -> (Server, String) {
    let (server, stdout) = spawn_sandbox(keys, flags);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let base = first.trim_end().to_owned();
    let scheme = if flags.contains(&"--tls") {
        "https"
    } else {
        "http"
    };
    assert!(
        base.starts_with(&format!("{scheme}://127.0.0.1:")) && base.ends_with('/'),
        "{first:?}"
    );
    (server, base)
}

/// `wxpay request …` configured only through `WECHATPAY_*`, from the keys directory.
fn request(keys: &Path, base: &str, args: &[&str]) -> Output {
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(keys.join("sandbox.json")).unwrap()).unwrap();
    Command::new(WXPAY)
        .arg("request")
        .args(args)
        .env("WECHATPAY_MCHID", info["mchid"].as_str().unwrap())
        .env(
            "WECHATPAY_SERIAL",
            info["merchant_serial"].as_str().unwrap(),
        )
        .env("WECHATPAY_PRIVATE_KEY", keys.join("merchant_private.pem"))
        .env("WECHATPAY_PLATFORM_KEY", keys.join("platform_public.pem"))
        .env(
            "WECHATPAY_PLATFORM_SERIAL",
            info["platform_serial"].as_str().unwrap(),
        )
        .env("WECHATPAY_BASE_URI", base)
        .output()
        .expect("wxpay request runs")
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the answer is printed as JSON")
}

#[test]
fn wxpay_request_against_wxpay_sandbox_with_its_keys() {
    let keys = temp_dir("keys");
    let (server, base) = start_sandbox(&keys);
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(keys.join("sandbox.json")).unwrap()).unwrap();
    assert_eq!(info["base_uri"], base.as_str());
    for file in [
        "merchant_private.pem",
        "merchant_public.pem",
        "platform_private.pem",
        "platform_public.pem",
    ] {
        assert!(keys.join(file).is_file(), "{file} written");
    }

    let template = "v3/discount-card/orders/{out_order_no}";
    let set = format!("out_order_no={SEED_ORDER}");
    let order = stdout_json(&request(&keys, &base, &["GET", template, "--set", &set]));
    assert_eq!(order["out_order_no"], SEED_ORDER);
    assert_eq!(order["objectives"], serde_json::json!([]));

    let body = r#"{"rewards":[{"reward_serial_no":"578354","reward_id":123456,"description":"购买商品","reward_type":"INCREASE","count":1,"amount":100,"reward_time":"2015-05-20T13:29:35.120+08:00"}]}"#;
    let patched = stdout_json(&request(
        &keys,
        &base,
        &["PATCH", template, "--set", &set, "--json", body],
    ));
    assert_eq!(patched["out_order_no"], SEED_ORDER);
    let order = stdout_json(&request(&keys, &base, &["GET", template, "--set", &set]));
    assert_eq!(order["total_amount"], 100);

    // Errors go to stderr with WeChat's code, and the exit status is 1.
    let out = request(
        &keys,
        &base,
        &["GET", template, "--set", "out_order_no=123"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ORDER_NOT_EXIST") && stderr.contains("Request-ID"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // Faults are injected over HTTP, here through `wxpay request` itself.
    let fault = r#"{"method":"GET","template":"v3/discount-card/orders/{out_order_no}","fault":"status","status":503,"code":"SYSTEM_ERROR"}"#;
    let injected = stdout_json(&request(
        &keys,
        &base,
        &["POST", "sandbox/faults", "--json", fault],
    ));
    assert_eq!(injected["times"], 1);
    let out = request(&keys, &base, &["GET", template, "--set", &set]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("503") && stderr.contains("SYSTEM_ERROR"),
        "{stderr}"
    );
    let order = stdout_json(&request(&keys, &base, &["GET", template, "--set", &set]));
    assert_eq!(order["out_order_no"], SEED_ORDER);

    drop(server);
    // A second start reuses the keys it wrote.
    let (server, base) = start_sandbox(&keys);
    let order = stdout_json(&request(&keys, &base, &["GET", template, "--set", &set]));
    assert_eq!(order["out_order_no"], SEED_ORDER);
    drop(server);
    std::fs::remove_dir_all(&keys).unwrap();
}

#[test]
fn wxpay_request_with_an_embedded_sandbox() {
    let out = Command::new(WXPAY)
        .args([
            "request",
            "GET",
            "v3/discount-card/orders/<out_order_no>",
            "--sandbox",
        ])
        .args(["--set", &format!("out_order_no={SEED_ORDER}")])
        .env_remove("WECHATPAY_MCHID")
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out)["out_order_no"], SEED_ORDER);
}

#[test]
fn wxpay_request_names_missing_configuration() {
    let out = Command::new(WXPAY)
        .args(["request", "GET", "v3/certificates"])
        .env_remove("WECHATPAY_MCHID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WECHATPAY_MCHID"), "{stderr}");
}

#[test]
fn wxpay_certificates_writes_the_pem_files() {
    let dir = std::env::temp_dir().join(format!("wxpay-certs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new(WXPAY)
        .args(["certificates", "--sandbox", "--output"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("serial=7132D72A03E93CDDF8C03BBD1F37EEDF00000001"),
        "{stdout}"
    );
    assert!(stdout.contains("expire="), "{stdout}");
    let pem =
        std::fs::read_to_string(dir.join("wechatpay_7132D72A03E93CDDF8C03BBD1F37EEDF00000001.pem"))
            .unwrap();
    assert_eq!(
        pem.trim(),
        wechatpay_chain_sandbox::SandboxKeys::fixture()
            .unwrap()
            .platform_certificate_pem()
            .unwrap()
            .trim()
    );
    let _ = std::fs::remove_dir_all(&dir);

    // Without the merchant configuration: a clear error naming the flag.
    let out = std::process::Command::new(WXPAY)
        .args(["certificates", "--output", "/nonexistent"])
        .env_clear()
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mchid"));
}

/// `wxpay sandbox --tls` writes the CA and the merchant client certificate into the
/// keys directory; a client configured only from those files refunds over HTTPS.
#[test]
fn wxpay_sandbox_tls_writes_what_clients_need() {
    use wechatpay_chain_sandbox::{SandboxKeys, CA_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE};
    let keys = temp_dir("tls");
    std::fs::create_dir_all(&keys).unwrap();
    // The fixture keys, so nothing is generated but the TLS material.
    let fixture = SandboxKeys::fixture().unwrap();
    for (name, pem) in [
        ("merchant_private.pem", fixture.merchant_private_pem()),
        ("merchant_public.pem", fixture.merchant_public_pem()),
        ("platform_private.pem", fixture.platform_private_pem()),
        ("platform_public.pem", fixture.platform_public_pem()),
    ] {
        std::fs::write(keys.join(name), pem).unwrap();
    }
    let (server, base) = start_sandbox_with(&keys, &["--tls"]);
    let read = |name: &str| std::fs::read_to_string(keys.join(name)).unwrap();
    let client = fixture
        .client_builder()
        .base_uri(base.as_str())
        .root_certificate(read(CA_FILE))
        .merchant_certificate(read(CLIENT_CERT_FILE), read(CLIENT_KEY_FILE))
        .build()
        .unwrap();
    let xml = serde_json::json!({
        "appid": "wx8888888888888888",
        "mch_id": fixture.mchid(),
        "body": "cli",
        "out_trade_no": "CLI-TLS-1",
        "total_fee": 888,
        "spbill_create_ip": "127.0.0.1",
        "auth_code": "120061098828009406",
        "out_refund_no": "CLI-TLS-R1",
        "refund_fee": 100,
    });
    let paid: Value = client
        .chain("v2/pay/micropay")
        .post(serde_json::json!({ "xml": xml }))
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(paid["result_code"], "SUCCESS", "{paid}");
    let refunded: Value = client
        .chain("v2/secapi/pay/refund")
        .post(serde_json::json!({ "xml": xml, "security": true }))
        .unwrap()
        .xml()
        .unwrap();
    assert_eq!(refunded["result_code"], "SUCCESS", "{refunded}");
    let info: Value = serde_json::from_str(&read("sandbox.json")).unwrap();
    assert_eq!(info["base_uri"], base.as_str());

    // `wxpay request` reaches it from the keys directory alone…
    let set = format!("out_order_no={SEED_ORDER}");
    let get = [
        "GET",
        "v3/discount-card/orders/{out_order_no}",
        "--set",
        &set,
    ];
    let order = stdout_json(&request_dir(&keys, &get));
    assert_eq!(order["out_order_no"], SEED_ORDER, "{order}");
    // …or from the variables with --ca; without it the server is not trusted.
    let ca = keys.join(CA_FILE);
    let with_ca = [&get[..], &["--ca", ca.to_str().unwrap()]].concat();
    assert_eq!(stdout_json(&request(&keys, &base, &with_ca)), order);
    let untrusted = stderr_of(&request(&keys, &base, &get));
    assert!(untrusted.contains("certificate"), "{untrusted}");
    let missing = [&get[..], &["--ca", "/nonexistent/ca.pem"]].concat();
    let missing = stderr_of(&request(&keys, &base, &missing));
    assert!(
        missing.contains("--ca") && missing.contains("/nonexistent/ca.pem"),
        "{missing}"
    );
    // --print-env names the CA too.
    let (_env_server, stdout) = spawn_sandbox(&keys, &["--tls", "--print-env"]);
    let ca_line = BufReader::new(stdout)
        .lines()
        .take(8)
        .map(Result::unwrap)
        .find(|line| line.starts_with("WECHATPAY_CA="));
    assert_eq!(
        ca_line,
        Some(format!(
            "WECHATPAY_CA={}",
            keys.canonicalize().unwrap().join(CA_FILE).display()
        ))
    );
    drop(server);
}

#[test]
fn wxpay_sandbox_tls_needs_a_keys_directory() {
    let out = Command::new(WXPAY)
        .args(["sandbox", "--tls"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--keys"), "{stderr}");
}

/// Rule: `wxpay certificates --platform-key` verifies the download with that key.
#[test]
fn wxpay_certificates_verifies_with_the_given_platform_key() {
    let sandbox = wechatpay_chain_sandbox::Sandbox::start().unwrap(); // signs with its PUB_KEY_ID_
    let fixture = sandbox.keys();
    let keys = temp_dir("platform-key-files");
    std::fs::create_dir_all(&keys).unwrap();
    for (file, pem) in [
        ("merchant_private.pem", fixture.merchant_private_pem()),
        ("platform_public.pem", fixture.platform_public_pem()),
        (
            "platform_cert.pem",
            fixture.platform_certificate_pem().unwrap(),
        ),
    ] {
        std::fs::write(keys.join(file), pem).unwrap();
    }
    let keys = keys.display().to_string();
    let out = temp_dir("platform-key-out");
    let run = |extra: &[&str]| {
        Command::new(WXPAY)
            .args(["certificates", "--output"])
            .arg(&out)
            .args([
                "--mchid",
                sandbox.mchid(),
                "--serial",
                sandbox.merchant_serial(),
                "--apiv3-key",
                wechatpay_chain_sandbox::APIV3_KEY,
            ])
            .args(["--private-key", &format!("{keys}/merchant_private.pem")])
            .args(["--base-uri", sandbox.url()])
            .args(extra)
            .env_clear()
            .output()
            .unwrap()
    };
    // Another key than the one signing: refused, nothing written.
    let refused = run(&["--platform-key", &format!("{keys}/platform_cert.pem")]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("already trusted"), "{stderr}");
    assert!(!out
        .join(format!(
            "wechatpay_{}.pem",
            fixture.platform_certificate_serial().unwrap()
        ))
        .exists());
    // The signing key, by its id: accepted.
    let accepted = run(&[
        "--platform-key",
        &format!("{keys}/platform_public.pem"),
        "--platform-serial",
        sandbox.platform_serial(),
    ]);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    assert!(out
        .join(format!(
            "wechatpay_{}.pem",
            fixture.platform_certificate_serial().unwrap()
        ))
        .exists());
    let _ = std::fs::remove_dir_all(&out);
}

/// Starts `wxpay sandbox --keys DIR --print-env` and returns it with the
/// variables it printed.
fn start_sandbox_env(keys: &Path) -> (Server, Vec<(String, String)>) {
    let (server, stdout) = spawn_sandbox(keys, &["--print-env"]);
    let mut lines = BufReader::new(stdout).lines();
    let vars: Vec<(String, String)> = (0..7)
        .map(|_| {
            let line = lines.next().unwrap().unwrap();
            let (name, value) = line.split_once('=').expect("NAME=value");
            (name.to_owned(), value.to_owned())
        })
        .collect();
    (server, vars)
}

/// `wxpay request … --sandbox-dir DIR`, with no WECHATPAY_* in the environment.
fn request_dir(keys: &Path, args: &[&str]) -> Output {
    Command::new(WXPAY)
        .arg("request")
        .args(args)
        .arg("--sandbox-dir")
        .arg(keys)
        .env_clear()
        .output()
        .expect("wxpay request runs")
}

fn stderr_of(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "the call fails");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn two_sandboxes_on_one_keys_dir_verify_alike() {
    let keys = temp_dir("shared");
    let (primary, primary_base) = start_sandbox(&keys);
    let (backup, backup_base) = start_sandbox(&keys);
    assert_ne!(primary_base, backup_base);
    // One merchant configuration, read once from DIR, verifies both hosts' answers.
    let template = "v3/discount-card/orders/{out_order_no}";
    let set = format!("out_order_no={SEED_ORDER}");
    for base in [&primary_base, &backup_base] {
        let order = stdout_json(&request(&keys, base, &["GET", template, "--set", &set]));
        assert_eq!(order["out_order_no"], SEED_ORDER, "{base}");
    }
    // sandbox.json names the host started last.
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(keys.join("sandbox.json")).unwrap()).unwrap();
    assert_eq!(info["base_uri"], backup_base.as_str());
    // …and `--sandbox-dir` reaches it, here to download its platform certificate.
    let certs = keys.join("certs");
    let out = Command::new(WXPAY)
        .args(["certificates", "--output"])
        .arg(&certs)
        .arg("--sandbox-dir")
        .arg(&keys)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("serial="));
    drop((primary, backup));
    std::fs::remove_dir_all(&keys).unwrap();
}

#[test]
fn print_env_lines_configure_wxpay_request() {
    let keys = temp_dir("env");
    let (server, vars) = start_sandbox_env(&keys);
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "WECHATPAY_BASE_URI",
            "WECHATPAY_MCHID",
            "WECHATPAY_SERIAL",
            "WECHATPAY_PRIVATE_KEY",
            "WECHATPAY_PLATFORM_KEY",
            "WECHATPAY_PLATFORM_SERIAL",
            "WECHATPAY_APIV3_KEY",
        ]
    );
    let out = Command::new(WXPAY)
        .args(["request", "GET", "v3/discount-card/orders/{out_order_no}"])
        .args(["--set", &format!("out_order_no={SEED_ORDER}")])
        .env_clear()
        .envs(vars.iter().map(|(n, v)| (n, v)))
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out)["out_order_no"], SEED_ORDER);
    drop(server);

    // --print-env names key files, so it needs --keys.
    let out = Command::new(WXPAY)
        .args(["sandbox", "--print-env"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keys"));
    std::fs::remove_dir_all(&keys).unwrap();
}

#[test]
fn cli_errors_name_the_flags() {
    let template = "v3/discount-card/orders/{out_order_no}";
    let missing = Command::new(WXPAY)
        .args(["request", "GET", template, "--sandbox"])
        .output()
        .unwrap();
    let stderr = stderr_of(&missing);
    assert!(stderr.contains("--set out_order_no=…"), "{stderr}");
    assert!(!stderr.contains("options"), "{stderr}");
    let stray = Command::new(WXPAY)
        .args(["request", "GET", "v3/certificates", "--sandbox"])
        .args(["--set", "out_order_no=1"])
        .output()
        .unwrap();
    let stderr = stderr_of(&stray);
    assert!(
        stderr.contains("--set out_order_no") && stderr.contains("has no placeholder"),
        "{stderr}"
    );
    let no_dir = request_dir(
        Path::new("/nonexistent-wxpay-dir"),
        &["GET", "v3/certificates"],
    );
    let stderr = stderr_of(&no_dir);
    assert!(
        stderr.contains("--sandbox-dir") && stderr.contains("sandbox.json"),
        "{stderr}"
    );
}

/// Accepts one notification on loopback, answers 204, hands over its headers and
/// body.
fn receive_one(listener: TcpListener) -> std::thread::JoinHandle<(http::HeaderMap, Vec<u8>)> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("POST /notify "), "{line}");
        let mut headers = http::HeaderMap::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let Some((name, value)) = line.trim_end().split_once(':') else {
                break;
            };
            headers.insert(
                http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                http::HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
        let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            .unwrap();
        (headers, body)
    })
}

#[test]
fn the_payment_loop_through_wxpay_and_the_control_plane() {
    let keys = temp_dir("loop");
    let (server, _base) = start_sandbox(&keys);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let notify_url = format!("http://{}/notify", listener.local_addr().unwrap());
    let received = receive_one(listener);

    let order = serde_json::json!({
        "appid": "wxd678efh567hg6787", "mchid": "1900000001", "description": "QQ公仔",
        "out_trade_no": "CLI0000000000001", "notify_url": notify_url,
        "amount": { "total": 100, "currency": "CNY" },
    })
    .to_string();
    let created = stdout_json(&request_dir(
        &keys,
        &["POST", "v3/pay/transactions/native", "--json", &order],
    ));
    assert!(created["code_url"]
        .as_str()
        .unwrap()
        .starts_with("weixin://"));
    let query = [
        "GET",
        "v3/pay/transactions/out-trade-no/{out_trade_no}",
        "--set",
        "out_trade_no=CLI0000000000001",
        "--query",
        "mchid=1900000001",
    ];
    assert_eq!(
        stdout_json(&request_dir(&keys, &query))["trade_state"],
        "NOTPAY"
    );

    let pay = r#"{"out_trade_no":"CLI0000000000001"}"#;
    let paid = stdout_json(&request_dir(&keys, &["POST", "sandbox/pay", "--json", pay]));
    assert_eq!(paid["trade_state"], "SUCCESS");
    // The merchant's handler verifies the notification with the keys in DIR.
    let (headers, body) = received.join().unwrap();
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(keys.join("sandbox.json")).unwrap()).unwrap();
    let merchant = wechatpay_chain::Client::builder()
        .mchid(info["mchid"].as_str().unwrap())
        .serial(info["merchant_serial"].as_str().unwrap())
        .private_key(
            wechatpay_chain::PrivateKey::from_file(keys.join("merchant_private.pem")).unwrap(),
        )
        .platform_key(
            info["platform_serial"].as_str().unwrap(),
            wechatpay_chain::PublicKey::from_file(keys.join("platform_public.pem")).unwrap(),
        )
        .apiv3_key(wechatpay_chain_sandbox::APIV3_KEY)
        .build()
        .unwrap();
    let event = merchant.notification::<Value>(&headers, &body).unwrap();
    assert_eq!(event.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(event.resource["transaction_id"], paid["transaction_id"]);
    assert_eq!(
        stdout_json(&request_dir(&keys, &query))["trade_state"],
        "SUCCESS"
    );
    let again = stderr_of(&request_dir(&keys, &["POST", "sandbox/pay", "--json", pay]));
    assert!(again.contains("ORDERPAID"), "{again}");

    let refund = r#"{"out_trade_no":"CLI0000000000001","out_refund_no":"CLIRF000000001","amount":{"refund":100,"total":100,"currency":"CNY"}}"#;
    let refunded = stdout_json(&request_dir(
        &keys,
        &["POST", "v3/refund/domestic/refunds", "--json", refund],
    ));
    assert_eq!(refunded["status"], "PROCESSING");

    // The attempt is recorded once the handler's answer is read: wait for it.
    let mut deliveries = Value::Null;
    for _ in 0..100 {
        deliveries = stdout_json(&request_dir(&keys, &["GET", "sandbox/deliveries"]));
        if deliveries["total_count"] == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(deliveries["total_count"], 1, "{deliveries}");
    assert_eq!(deliveries["data"][0]["status"], 204);
    assert_eq!(deliveries["data"][0]["delivered"], true);

    let route = r#"{"method":"POST","template":"v3/marketing/busifavor/coupons/use","status":200,"json":{"wechatpay_use_time":"2020-05-20T13:29:35+08:00"}}"#;
    stdout_json(&request_dir(
        &keys,
        &["POST", "sandbox/routes", "--json", route],
    ));
    let used = stdout_json(&request_dir(
        &keys,
        &["POST", "v3/marketing/busifavor/coupons/use", "--json", "{}"],
    ));
    assert_eq!(used["wechatpay_use_time"], "2020-05-20T13:29:35+08:00");
    let stats = stdout_json(&request_dir(&keys, &["GET", "sandbox/stats"]));
    assert!(stats["requests"].as_u64().unwrap() >= 9, "{stats}");

    let reset = request_dir(&keys, &["POST", "sandbox/reset"]);
    assert!(reset.status.success() && reset.stdout.is_empty());
    assert!(stderr_of(&request_dir(&keys, &query)).contains("ORDER_NOT_EXIST"));
    drop(server);
    std::fs::remove_dir_all(&keys).unwrap();
}

#[test]
fn wxpay_endpoints_lists_matching_operations() {
    let out = Command::new(WXPAY)
        .args(["endpoints", "discount-card", "orders/{"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    // The seed's two operations, as upstream names and links them (read off its YAML).
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(
        lines[0][..3],
        [
            "GET",
            "v3/discount-card/orders/{out_order_no}",
            "通过先享卡订单号查询订单API (deprecated)"
        ]
    );
    assert_eq!(
        lines[1][..3],
        [
            "PATCH",
            "v3/discount-card/orders/{out_order_no}",
            "更新先享卡订单API (deprecated)"
        ]
    );
    assert!(
        lines
            .iter()
            .all(|l| l[3].starts_with("https://pay.weixin.qq.com/")),
        "{stdout}"
    );

    // By official name, too; and without a query, every operation.
    let out = Command::new(WXPAY)
        .args(["endpoints", "Native下单"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("POST\tv3/pay/transactions/native\t")),
        "{stdout}"
    );
    let out = Command::new(WXPAY).arg("endpoints").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1155);

    let out = Command::new(WXPAY)
        .args(["endpoints", "v3/discount-cards/order"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no WeChat Pay operation matches `v3/discount-cards/order`"),
        "{stderr}"
    );
}

#[test]
fn wxpay_request_suggests_the_nearest_paths_on_a_404() {
    let out = Command::new(WXPAY)
        .args([
            "request",
            "GET",
            "v3/discount-cards/orders/{out_order_no}",
            "--sandbox",
        ])
        .args(["--set", &format!("out_order_no={SEED_ORDER}")])
        .env_remove("WECHATPAY_MCHID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("404"), "{stderr}");
    assert!(
        stderr.contains(
            "hint: `v3/discount-cards/orders/{out_order_no}` is not in the WeChat Pay API \
             catalogue; nearest: v3/discount-card/orders/{out_order_no}"
        ),
        "{stderr}"
    );
}
