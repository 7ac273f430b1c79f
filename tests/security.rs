//! The security rules of `docs/security.md` (issue 12), one test or more per rule,
//! each on real HTTP over loopback (mockito, the sandbox or a raw listener).

mod common;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use wechatpay_chain::crypto::ApiV3Key;
use wechatpay_chain::verifier::Rejection;
use wechatpay_chain::{v2, Error, PrivateKey, PublicKey};
use wechatpay_chain_sandbox::{Sandbox, SandboxKeys, APIV2_SECRET, APIV3_KEY};

/// 20,000 levels of `<a>` (140 KB): before the limit, dropping what the reader built
/// overflowed a 2 MiB stack (a tokio worker's) and aborted the process.
fn deep_xml() -> String {
    let depth = 20_000;
    format!(
        "<xml>{}x{}</xml>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    )
}

/// Runs `body` on a thread with a tokio worker's 2 MiB stack and returns its result
/// (a stack overflow would abort the whole process instead).
fn on_small_stack<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(body)
        .expect("spawn a 2 MiB thread")
        .join()
        .expect("the parse panicked")
}

/// Sends `request` (raw HTTP/1.1, `Connection: close`) and returns the answer text.
fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

const DEEP_XML_CHILD: &str = "WECHATPAY_SECURITY_DEEP_XML_CHILD";

/// Rule: XML input has a depth and size limit; nothing recurses in proportion to it.
/// The hostile parts run in a child process: on failure a stack overflow aborts
/// that process, and this test reports it instead of dying with it.
#[test]
fn deep_xml_is_an_error_not_an_abort() {
    if std::env::var_os(DEEP_XML_CHILD).is_some() {
        deep_xml_in_child();
        return;
    }
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "deep_xml_is_an_error_not_an_abort",
            "--nocapture",
        ])
        .env(DEEP_XML_CHILD, "1")
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the child died ({:?}): {stderr}",
        output.status
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("deep XML refused everywhere"),
        "the child did not run the checks: {stderr}"
    );
}

fn deep_xml_in_child() {
    // The reader itself.
    let err = on_small_stack(|| v2::from_xml(&deep_xml()).map(|_| ())).unwrap_err();
    assert!(err.contains("deeper than"), "{err}");

    // An APIv2 notification: unauthenticated bytes from the internet.
    let err = on_small_stack(|| v2::verify_notification(&deep_xml(), APIV2_SECRET).map(|_| ()))
        .unwrap_err();
    assert!(err.to_string().contains("deeper than"), "{err}");

    // An APIv2 answer, parsed before its sign is checked.
    let mut server = mockito::Server::new();
    let _m = server
        .mock("POST", "/pay/orderquery")
        .with_header("Content-Type", "text/xml")
        .with_body(deep_xml())
        .create();
    let url = server.url();
    let err = on_small_stack(move || {
        builder(&url)
            .apiv2_secret(APIV2_SECRET)
            .build()
            .unwrap()
            .chain("v2/pay/orderquery")
            .post(json!({"xml": {"mch_id": MCHID, "out_trade_no": "T1"}}))
            .map(|_| ())
    })
    .unwrap_err();
    assert!(
        matches!(&err, Error::Verification { rejection: Rejection::ApiV2Unreadable { reason }, .. } if reason.contains("deeper than")),
        "{err}"
    );

    // The sandbox's v2 route (its workers have 2 MiB stacks): a FAIL answer, and it
    // keeps serving.
    let sandbox = Sandbox::start().unwrap();
    let body = deep_xml();
    let answer = raw_http(
        sandbox.addr(),
        &format!(
            "POST /pay/micropay HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(
        answer.contains("<return_code>FAIL</return_code>"),
        "{answer}"
    );
    assert!(answer.contains("deeper than"), "{answer}");
    let order = sandbox
        .client()
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options());
    assert!(order.is_ok(), "{order:?}");
    println!("deep XML refused everywhere");
}

/// Headers of an overseas statement: signed over `{"sha1":"<sha1 of genuine>"}`.
fn statement_headers(genuine: &[u8]) -> Vec<(&'static str, String)> {
    use sha1::Digest;
    let sha1: String = sha1::Sha1::digest(genuine)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut headers = signed_headers(&format!(r#"{{"sha1":"{sha1}"}}"#), now());
    headers.push(("Wechatpay-Statement-Sha1", sha1));
    headers.retain(|(name, _)| *name != "Content-Type");
    headers.push(("Content-Type", "application/octet-stream".into()));
    headers
}

fn statement_mock(
    server: &mut mockito::ServerGuard,
    path: &str,
    body: &[u8],
    genuine: &[u8],
) -> mockito::Mock {
    let mut mock = server.mock("GET", path).with_body(body);
    for (name, value) in statement_headers(genuine) {
        mock = mock.with_header(name, &value);
    }
    mock.expect_at_least(1).create()
}

/// Rule: an overseas statement's body must hash to its signed
/// `Wechatpay-Statement-Sha1` (`v3/statements` and `v3/global/statements`), for a
/// whole answer and for a streamed download (sync and async).
#[test]
fn statements_are_bound_to_their_body() {
    use wechatpay_chain::download::DownloadInfo;
    let genuine = "Date,Amount\n2026-11-01,100.00\n".repeat(50).into_bytes();
    let forged = "Date,Amount\n2026-11-01,999999.00\n"
        .repeat(50)
        .into_bytes();
    let mut server = mockito::Server::new();
    let client = client(&server.url());
    let rt = tokio::runtime::Runtime::new().unwrap();
    for path in ["v3/statements", "v3/global/statements"] {
        let good = format!("/{path}?date=2026-11-01&good=1");
        let bad = format!("/{path}?date=2026-11-01&good=0");
        let _good = statement_mock(&mut server, good.as_str(), &genuine, &genuine);
        let _bad = statement_mock(&mut server, bad.as_str(), &forged, &genuine);
        let call = |query: &str| client.chain(path).get(json!({ "query": query }));

        let res = call("date=2026-11-01&good=1").unwrap();
        assert!(res.is_verified());
        assert_eq!(res.body().as_ref(), genuine.as_slice());
        let err = call("date=2026-11-01&good=0").unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Verification {
                    rejection: Rejection::StatementDigest { .. },
                    ..
                }
            ) && err.to_string().contains("Wechatpay-Statement-Sha1"),
            "{path}: {err}"
        );

        let info =
            |query: &str| DownloadInfo::unhashed(format!("{}{path}?{query}", server.url() + "/"));
        let mut file = Vec::new();
        let n = client
            .download_to(&info("date=2026-11-01&good=1"), &mut file)
            .unwrap();
        assert_eq!(
            (n as usize, file.as_slice()),
            (genuine.len(), genuine.as_slice())
        );
        let err = client
            .download_to(&info("date=2026-11-01&good=0"), Vec::new())
            .unwrap_err();
        assert!(
            matches!(&err, Error::Verification { rejection: Rejection::AlreadyWritten(inner), .. } if matches!(**inner, Rejection::StatementDigest { .. }))
                && err.to_string().contains("discard"),
            "{path}: {err}"
        );
        let mut file = Vec::new();
        rt.block_on(client.download_to_async(&info("date=2026-11-01&good=1"), &mut file))
            .unwrap();
        assert_eq!(file, genuine);
        let err = rt
            .block_on(client.download_to_async(&info("date=2026-11-01&good=0"), Vec::new()))
            .unwrap_err();
        assert!(matches!(err, Error::Verification { .. }), "{path}: {err}");
    }
}

/// A `v3/certificates` listing of `certificate_pem`, encrypted with the sandbox's
/// APIv3 key, signed by `signer` under `signing_serial`.
fn listing_mock(
    server: &mut mockito::ServerGuard,
    certificate_pem: &str,
    signer: &PrivateKey,
    signing_serial: &str,
) -> mockito::Mock {
    let serial = PublicKey::from_pem(certificate_pem)
        .unwrap()
        .serial()
        .unwrap()
        .to_owned();
    listing_mock_as(server, certificate_pem, &serial, signer, signing_serial)
}

/// As [`listing_mock`], the certificate listed under `serial`.
fn listing_mock_as(
    server: &mut mockito::ServerGuard,
    certificate_pem: &str,
    serial: &str,
    signer: &PrivateKey,
    signing_serial: &str,
) -> mockito::Mock {
    let nonce = "0123456789ab";
    let ciphertext = ApiV3Key::new(APIV3_KEY)
        .unwrap()
        .encrypt(nonce.as_bytes(), b"certificate", certificate_pem.as_bytes())
        .unwrap();
    let body = json!({"data": [{
        "serial_no": serial,
        "effective_time": "2026-11-27T17:26:40+08:00",
        "expire_time": "2031-11-26T17:26:40+08:00",
        "encrypt_certificate": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": nonce,
            "associated_data": "certificate",
            "ciphertext": ciphertext,
        },
    }]})
    .to_string();
    let ts = now().to_string();
    let answer_nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    let signature = signer
        .sign_base64(&wechatpay_chain::verifier::string_to_verify(
            &ts,
            answer_nonce,
            body.as_bytes(),
        ))
        .unwrap();
    server
        .mock("GET", "/v3/certificates")
        .with_header("Wechatpay-Timestamp", &ts)
        .with_header("Wechatpay-Nonce", answer_nonce)
        .with_header("Wechatpay-Serial", signing_serial)
        .with_header("Wechatpay-Signature", &signature)
        .with_header("Content-Type", "application/json")
        .with_body(body)
        .create()
}

/// A merchant client with the APIv3 key on `base`, without platform keys yet.
fn merchant_builder(base: &str) -> wechatpay_chain::ClientBuilder {
    wechatpay_chain::Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(merchant_key())
        .apiv3_key(APIV3_KEY)
        .base_uri(base)
}

/// Rule: platform certificates are trusted by a chain. A listing signed by a key
/// the client does not trust is refused even when it brings that key's certificate
/// (download, and the background refresh); only a client with no key bootstraps.
#[test]
fn a_certificate_listing_cannot_vouch_for_itself() {
    // An impostor's key pair with its own self-signed certificate.
    let impostor = SandboxKeys::generate().unwrap();
    let impostor_pem = impostor.platform_certificate_pem().unwrap().to_owned();
    let impostor_serial = impostor.platform_certificate_serial().unwrap().to_owned();
    let mut server = mockito::Server::new();
    let forged = listing_mock(
        &mut server,
        &impostor_pem,
        impostor.platform_private_key(),
        &impostor_serial,
    );

    let client = builder(&server.url()).apiv3_key(APIV3_KEY).build().unwrap();
    let before = client.platform_serials();
    let err = client.download_certificates().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Verification {
                rejection: Rejection::UntrustedListing(_),
                ..
            }
        ) && err.to_string().contains("already trusted"),
        "{err}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt.block_on(async {
        let refresh = client
            .refresh_certificates(Duration::from_secs(3600))
            .unwrap();
        refresh.wait_first().await.unwrap_err()
    });
    assert!(err.to_string().contains("already trusted"), "{err}");
    assert_eq!(client.platform_serials(), before, "nothing was installed");

    // Bootstrap: a client that trusts nothing yet takes the listing's own word once...
    let first = merchant_builder(&server.url())
        .without_platform_keys()
        .build()
        .unwrap();
    let certificates = first.download_certificates().unwrap();
    assert_eq!(certificates[0].serial(), impostor_serial);
    first.install_certificates(&certificates);
    // ...and from then on a listing must be signed by what it installed.
    forged.remove();
    let _other = listing_mock(
        &mut server,
        &fixture("keys/platform_cert.pem"),
        &platform_private(),
        PLATFORM_CERT_SERIAL,
    );
    let err = first.download_certificates().unwrap_err();
    assert!(err.to_string().contains("already trusted"), "{err}");
}

/// Rule: a listed serial must be the serial of the certificate it lists (else an
/// answer naming that serial would be checked with another key); the refusal
/// quotes at most 64 characters of the listed serial.
#[test]
fn a_listing_entry_names_its_own_certificate() {
    let mut server = mockito::Server::new();
    let client = builder(&server.url()).apiv3_key(APIV3_KEY).build().unwrap();
    let pem = fixture("keys/platform_cert.pem");
    let long = "F".repeat(100);
    for listed in ["5157F09EFDC096DE15EBE81A47057A7200000000", long.as_str()] {
        let mock = listing_mock_as(&mut server, &pem, listed, &platform_private(), PUB_KEY_ID);
        let err = client.download_certificates().unwrap_err().to_string();
        let quoted = &listed[..listed.len().min(64)];
        assert!(
            err.contains(&format!("platform certificate {quoted}:"))
                && err.contains(&format!(
                    "the certificate inside carries serial {PLATFORM_CERT_SERIAL}; the listing says otherwise"
                )),
            "{err}"
        );
        mock.remove();
    }
    // Listed under its own serial, the same certificate is accepted.
    let _mock = listing_mock(&mut server, &pem, &platform_private(), PUB_KEY_ID);
    let certs = client.download_certificates().unwrap();
    assert_eq!(certs[0].serial(), PLATFORM_CERT_SERIAL);
}

/// Rule: bootstrap takes a listing's word only when the certificate it brings
/// verifies it: a listing naming that certificate's serial but signed by another
/// key is refused, and nothing is installed.
#[test]
fn a_bootstrap_listing_must_verify_with_what_it_brings() {
    let mut server = mockito::Server::new();
    let _mock = listing_mock_as(
        &mut server,
        &fixture("keys/platform_cert.pem"),
        PLATFORM_CERT_SERIAL,
        &merchant_key(),
        PLATFORM_CERT_SERIAL,
    );
    let first = merchant_builder(&server.url())
        .without_platform_keys()
        .build()
        .unwrap();
    let err = first.download_certificates().unwrap_err();
    assert!(
        matches!(&err, Error::Verification { rejection, .. } if rejection.to_string().contains("the certificates it brings do not verify it: the signature does not match the body")),
        "{err}"
    );
    assert!(first.platform_serials().is_empty());
}

/// Rule: a downloaded certificate never silently becomes the key sensitive fields
/// are encrypted to, even one valid longer than the configured key.
#[test]
fn downloaded_certificates_never_become_the_encryption_key() {
    let configured = SandboxKeys::generate().unwrap();
    let configured_cert = configured.platform_certificate().unwrap().clone();
    let configured_serial = configured.platform_certificate_serial().unwrap().to_owned();
    let rotated = PublicKey::from_pem(&fixture("keys/platform_cert.pem")).unwrap();
    assert!(
        rotated.not_after() > configured_cert.not_after(),
        "the downloaded certificate must be the one valid longer"
    );
    let mut server = mockito::Server::new();
    // A genuine rotation: the new certificate, signed by the trusted one.
    let _listing = listing_mock(
        &mut server,
        &fixture("keys/platform_cert.pem"),
        configured.platform_private_key(),
        &configured_serial,
    );
    let client = merchant_builder(&server.url())
        .platform_certificate(configured_cert)
        .build()
        .unwrap();
    assert_eq!(client.encrypt("x").unwrap().serial, configured_serial);
    let certificates = client.download_certificates().unwrap();
    client.install_certificates(&certificates);
    assert!(client
        .platform_serials()
        .contains(&PLATFORM_CERT_SERIAL.to_owned()));
    assert_eq!(client.encrypt("x").unwrap().serial, configured_serial);
    // The caller may choose the new one by name.
    assert_eq!(
        client
            .encrypt_with(PLATFORM_CERT_SERIAL, "x")
            .unwrap()
            .serial,
        PLATFORM_CERT_SERIAL
    );

    // A bootstrapped client has no configured key: encrypt says how to name one.
    let first = merchant_builder(&server.url())
        .without_platform_keys()
        .build()
        .unwrap();
    server.reset();
    let _listing = listing_mock(
        &mut server,
        &fixture("keys/platform_cert.pem"),
        &platform_private(),
        PLATFORM_CERT_SERIAL,
    );
    first.install_certificates(&first.download_certificates().unwrap());
    let err = first.encrypt("x").unwrap_err();
    assert!(err.to_string().contains("encrypt_with"), "{err}");
}

/// A mockito server whose catch-all counts every request that reaches it.
fn catch_all(server: &mut mockito::ServerGuard) -> mockito::Mock {
    server
        .mock("GET", mockito::Matcher::Any)
        .with_status(599)
        .expect(0)
        .create()
}

/// Rule: the Authorization header goes only to WeChat Pay. A per-request
/// `base_uri` elsewhere is an option error naming the host, and nothing is sent.
#[test]
fn a_per_request_base_uri_goes_only_to_wechat_pay() {
    let mut base = mockito::Server::new();
    let mut elsewhere = mockito::Server::new();
    let nothing_at_base = catch_all(&mut base);
    let loopback_client = client(&base.url());
    let production = client("https://api.mch.weixin.qq.com/");
    let chain = |c: &wechatpay_chain::Client| c.chain("v3/pay/transactions/id/{id}");

    for (c, uri, host) in [
        (
            &loopback_client,
            "https://evil.example.com/",
            "evil.example.com",
        ),
        (
            &loopback_client,
            "https://api.mch.weixin.qq.com.evil.com/",
            "api.mch.weixin.qq.com.evil.com",
        ),
        (
            &loopback_client,
            "https://mch.weixin.qq.com/",
            "mch.weixin.qq.com",
        ),
        (&production, &elsewhere.url(), "127.0.0.1"),
    ] {
        let err = chain(c)
            .get(json!({ "id": "1", "base_uri": uri }))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Option { key, message } if key == "base_uri" && message.contains(host)),
            "{uri}: {err}"
        );
        assert!(err.is_before_send());
    }
    // WeChat Pay's other hosts are accepted (built, not sent: no network here).
    for uri in [
        "https://api2.mch.weixin.qq.com/",
        "https://fraud.mch.weixin.qq.com/",
        "https://apihk.mch.weixin.qq.com/hk/",
    ] {
        let req = chain(&production)
            .build_unsigned(http::Method::GET, &json!({ "id": "1", "base_uri": uri }))
            .unwrap();
        assert!(req.uri().to_string().starts_with(uri), "{}", req.uri());
    }
    // A loopback client may use another loopback host (e.g. a second sandbox), and
    // the signed call arrives there.
    let there = elsewhere
        .mock("GET", "/v3/pay/transactions/id/1")
        .match_request(|r| r.header("authorization").len() == 1)
        .with_status(404)
        .create();
    let err = chain(&loopback_client)
        .get(json!({ "id": "1", "base_uri": elsewhere.url() }))
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err}");
    there.assert();
    nothing_at_base.assert();
}

/// Rule: what is signed is what is sent: the `headers` option cannot set the
/// headers that frame or route the request.
#[test]
fn the_headers_option_refuses_framing_headers() {
    let mut server = mockito::Server::new();
    let nothing = catch_all(&mut server);
    let client = client(&server.url());
    for name in [
        "Authorization",
        "Host",
        "content-length",
        "Transfer-Encoding",
        "CONNECTION",
    ] {
        let err = client
            .chain("v3/marketing/favor/stocks")
            .get(json!({ "headers": { name: "1" } }))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Option { key, .. } if *key == format!("headers.{name}")),
            "{name}: {err}"
        );
    }
    nothing.assert();
}

/// Rule: credentials in a rejected base URI are never echoed, by the builder, the
/// option or its `Debug`.
#[test]
fn credentials_in_a_base_uri_are_never_echoed() {
    let secret = "s3cr3tPassw0rd";
    let mut texts = Vec::new();
    for uri in [
        format!("https://merchant:{secret}@api.mch.weixin.qq.com/"),
        format!("http://merchant:{secret}@example.com/"),
        format!("ftp://merchant:{secret}@example.com/"),
        format!("merchant:{secret}@example.com"),
    ] {
        let b = builder(&uri);
        texts.push(format!("{b:?}"));
        let err = b.build().unwrap_err();
        texts.push(format!("{err} {err:?}"));
        let err = client("https://api.mch.weixin.qq.com/")
            .chain("v3/certificates")
            .get(json!({ "base_uri": uri }))
            .unwrap_err();
        assert!(matches!(err, Error::Option { .. }), "{err}");
        texts.push(format!("{err} {err:?}"));
        let err = client("https://api.mch.weixin.qq.com/")
            .download_to(
                &wechatpay_chain::download::DownloadInfo::new(uri, "SHA1", "00"),
                Vec::new(),
            )
            .unwrap_err();
        texts.push(format!("{err} {err:?}"));
    }
    for text in texts {
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("***"), "{text}");
    }
}

/// A loopback server answering each connection with `answer` (after reading the
/// request head); returns its base URI.
fn raw_server(answer: impl Fn(&mut std::net::TcpStream) + Send + Sync + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                answer(&mut stream);
            });
        }
    });
    base
}

/// Rule: no call waits forever. Defaults connect 5 s and 30 s a call, shown by the
/// client; the per-call option and the builder override them; a streamed download
/// is bounded between chunks, not in total.
#[test]
fn no_call_waits_forever() {
    // The defaults, as the client configured its transport.
    let shown = format!("{:?}", client("https://api.mch.weixin.qq.com/"));
    assert!(shown.contains("timeout: Some(30s)"), "{shown}");
    assert!(shown.contains("connect_timeout: Some(5s)"), "{shown}");
    let shown = format!(
        "{:?}",
        builder("https://api.mch.weixin.qq.com/")
            .timeout(Duration::from_secs(7))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    );
    assert!(
        shown.contains("timeout: Some(7s)") && shown.contains("connect_timeout: Some(2s)"),
        "{shown}"
    );

    // A server that accepts and never answers: the per-call option ends the wait
    // (the default would, after 30 s).
    let silent = raw_server(|_| std::thread::sleep(Duration::from_secs(60)));
    let err = client(&silent)
        .chain("v3/certificates")
        .get(json!({ "timeout": 0.3 }))
        .unwrap_err();
    assert_eq!(
        err.transport_kind(),
        Some(wechatpay_chain::TransportKind::Timeout),
        "{err}"
    );

    // A file trickling in, 8 chunks 150 ms apart: longer in total than the 500 ms
    // timeout, never idle that long.
    let chunk = "0123456789abcdef".repeat(64);
    let file = chunk.repeat(8);
    let body = chunk.clone();
    let trickle = raw_server(move |stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        );
        for _ in 0..8 {
            std::thread::sleep(Duration::from_millis(150));
            let _ = stream.write_all(format!("{:x}\r\n{body}\r\n", body.len()).as_bytes());
            let _ = stream.flush();
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    let sha1: String = {
        use sha1::Digest;
        sha1::Sha1::digest(file.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let short = |base: &str| {
        builder(base)
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap()
    };
    let info = wechatpay_chain::download::DownloadInfo::new(
        format!("{trickle}v3/billdownload/file?token=T"),
        "SHA1",
        &sha1,
    );
    let mut out = Vec::new();
    short(&trickle).download_to(&info, &mut out).unwrap();
    assert_eq!(out, file.as_bytes());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut out = Vec::new();
    rt.block_on(short(&trickle).download_to_async(&info, &mut out))
        .unwrap();
    assert_eq!(out, file.as_bytes());

    // A file that stops arriving: the idle timeout ends the wait.
    let stall = raw_server(move |stream| {
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
        let _ = stream.flush();
        std::thread::sleep(Duration::from_secs(60));
    });
    let info = wechatpay_chain::download::DownloadInfo::new(
        format!("{stall}v3/billdownload/file?token=T"),
        "SHA1",
        &sha1,
    );
    let err = short(&stall).download_to(&info, Vec::new()).unwrap_err();
    assert_eq!(
        err.transport_kind(),
        Some(wechatpay_chain::TransportKind::Timeout),
        "{err}"
    );
    let err = rt
        .block_on(short(&stall).download_to_async(&info, Vec::new()))
        .unwrap_err();
    assert_eq!(
        err.transport_kind(),
        Some(wechatpay_chain::TransportKind::Timeout),
        "{err}"
    );
}

/// Rule: an APIv2 answer with `return_code` SUCCESS and no `result_code` is an
/// error, except for the endpoints whose answers have none (`v2::NO_RESULT_CODE`,
/// matched exactly).
#[test]
fn apiv2_answers_without_result_code() {
    let mut server = mockito::Server::new();
    let client = builder(&server.url())
        .apiv2_secret(APIV2_SECRET)
        .build()
        .unwrap();
    let signed_answer = |fields: Value| {
        let mut map = fields.as_object().unwrap().clone();
        let sign = v2::sign(&map, v2::SignType::Md5, APIV2_SECRET);
        map.insert("sign".into(), sign.into());
        v2::to_xml(&map)
    };
    let answer = signed_answer(json!({
        "return_code": "SUCCESS", "return_msg": "OK", "appid": "wx1", "mch_id": MCHID,
        "fee_type": "USD", "rate_time": "20261130", "rate": "723000000",
    }));
    for path in [
        "pay/orderquery",
        "pay/queryexchagerate",
        "pay/queryexchagerate/x",
        "v2/pay/queryexchagerate",
    ] {
        let _m = server
            .mock("POST", format!("/{path}").as_str())
            .with_body(&answer)
            .create();
        let outcome = client
            .chain(&format!("v2/{path}"))
            .post(json!({"xml": {"appid": "wx1", "mch_id": MCHID, "fee_type": "USD", "date": "20261130"}}));
        if v2::has_no_result_code(path) {
            let res = outcome.unwrap();
            assert!(res.is_verified());
            assert_eq!(res.xml::<Value>().unwrap()["rate"], "723000000");
        } else {
            let err = outcome.unwrap_err();
            assert!(
                matches!(
                    &err,
                    Error::Verification {
                        rejection: Rejection::ApiV2NoResultCode,
                        ..
                    }
                ) && err.to_string().contains("no `result_code`"),
                "{path}: {err}"
            );
        }
    }
    assert!(v2::has_no_result_code("pay/queryexchagerate"));
    assert!(!v2::has_no_result_code("pay/orderquery"));
}

/// Footgun: `client[&format!(…)]` interned every distinct string forever. Past the
/// bound, indexing gives a chain whose verbs say to use placeholders (nothing
/// sent); templates interned before keep working, and `chain()` is unbounded.
#[test]
fn indexing_with_formatted_templates_is_bounded() {
    let mut server = mockito::Server::new();
    let _ok = server
        .mock("GET", mockito::Matcher::Regex("^/v3/orders/".into()))
        .with_status(404)
        .create();
    let client = client(&server.url());
    for i in 0..4096 {
        assert!(client[&format!("v3/orders/{i}")]
            .template()
            .ends_with(&i.to_string()));
    }
    let err = client[&format!("v3/orders/{}", 4096)]
        .get(Value::Null)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Template { message, .. } if message.contains("placeholders")),
        "{err}"
    );
    assert!(err.is_before_send());
    // Interned before the bound: still a working chain (the server answers 404).
    let err = client["v3/orders/7"].get(Value::Null).unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err}");
    // chain() is not bounded: it parses past the limit.
    let err = client.chain("v3/orders/5000").get(Value::Null).unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err}");
}

/// Footgun: blocking verbs inside a runtime. They work from any thread (a worker
/// of a multi-thread or a current-thread runtime, `spawn_blocking`,
/// `block_in_place`), never panicking or deadlocking; a download's writer need not
/// be `Send`.
#[test]
fn blocking_verbs_work_from_any_thread() {
    let sandbox = Sandbox::start().unwrap();
    let call = |client: &wechatpay_chain::Client| {
        let order: Value = client
            .chain("v3/discount-card/orders/{out_order_no}")
            .get(seed_get_options())
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(order["out_order_no"], SEED_ORDER);
        let info: wechatpay_chain::download::DownloadInfo = client
            .chain("v3/bill/tradebill")
            .get(json!({ "query": { "bill_date": "2019-06-11" } }))
            .unwrap()
            .json()
            .unwrap();
        // Not `Send`: the sink stays on the calling thread.
        let file = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        struct RcWriter(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for RcWriter {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.borrow_mut().write(b)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let n = client.download_to(&info, RcWriter(file.clone())).unwrap();
        assert_eq!(n as usize, file.borrow().len());
        true
    };
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = sandbox.client();
    // Directly on a runtime thread, both flavours.
    assert!(multi.block_on(async { call(&client) }));
    assert!(current.block_on(async { call(&client) }));
    let c = client.clone();
    assert!(multi.block_on(async move { tokio::spawn(async move { call(&c) }).await.unwrap() }));
    // Tokio's own places for blocking code.
    let c = client.clone();
    assert!(
        multi.block_on(async move { tokio::task::spawn_blocking(move || call(&c)).await.unwrap() })
    );
    let c = client.clone();
    assert!(multi.block_on(async move { tokio::task::block_in_place(|| call(&c)) }));
    // And plainly, outside any runtime.
    assert!(call(&client));
}

/// Footgun: `Debug` of an error (what `main` prints) is as readable as `Display`
/// plus the fields a developer needs, without the raw headers or signatures.
#[test]
fn error_debug_is_readable_and_holds_no_signatures() {
    let body = r#"{"code":"ORDER_NOT_EXIST","message":"订单不存在"}"#;
    let headers = signed_headers(body, now());
    let signature = headers
        .iter()
        .find(|(n, _)| *n == "Wechatpay-Signature")
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut server = mockito::Server::new();
    let mut mock = server
        .mock("GET", "/v3/orders/1")
        .with_status(404)
        .with_body(body);
    for (name, value) in &headers {
        mock = mock.with_header(*name, value);
    }
    let _m = mock.create();
    let _v = server
        .mock("GET", "/v3/orders/2")
        .with_header("Wechatpay-Signature", &signature)
        .with_body("{}")
        .create();
    let client = client(&server.url());
    let api = client.chain("v3/orders/1").get(Value::Null).unwrap_err();
    let forged = client.chain("v3/orders/2").get(Value::Null).unwrap_err();
    for (err, needles) in [
        (
            &api,
            &[
                "Api",
                "404",
                "ORDER_NOT_EXIST",
                "订单不存在",
                "08F78BB5AF0610D302A0CD9A0B",
                "verified: true",
            ][..],
        ),
        (
            &forged,
            &["Verification", "200", "no `Wechatpay-Nonce` header"][..],
        ),
    ] {
        for text in [format!("{err:?}"), format!("{err:#?}")] {
            for needle in needles {
                assert!(text.contains(needle), "`{needle}` not in {text}");
            }
            assert!(!text.contains(&signature[..24]), "a signature in {text}");
            // No header dump: neither the header map's form nor a nonce's value.
            assert!(
                !text.contains("\"wechatpay-timestamp\""),
                "headers in {text}"
            );
            assert!(
                !text.contains("4E0C2F1A9B8D7C6E5F4A3B2C1D0E9F8A"),
                "headers in {text}"
            );
        }
    }
}
