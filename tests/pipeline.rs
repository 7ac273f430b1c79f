//! The pipeline around the core: middleware phases, base URI prefixes, queries,
//! timeouts and connection failures, on real loopback sockets.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use http::HeaderValue;
use mockito::Mock;
use serde_json::{json, Value};
use wechatpay_chain::{Error, TransportKind};

fn signed_mock(
    server: &mut mockito::ServerGuard,
    method: &str,
    target: &str,
    body: &str,
) -> mockito::Mock {
    let mut mock = server.mock(method, target).with_body(body);
    for (k, v) in signed_headers(body, now()) {
        mock = mock.with_header(k, &v);
    }
    mock
}

fn auth_valid(req: &mockito::Request) -> bool {
    let body = req.body().map(|b| b.as_slice()).unwrap_or_default();
    let auth = req.header("authorization");
    auth.len() == 1
        && authorization_is_valid(
            req.method(),
            req.path_and_query(),
            body,
            auth[0].to_str().unwrap_or_default(),
        )
}

#[test]
fn middleware_runs_by_phase_and_the_signature_covers_what_it_changed() {
    let mut server = mockito::Server::new();
    let mock = signed_mock(
        &mut server,
        "POST",
        "/v3/marketing/favor/users/o1/coupons",
        "{}",
    )
    .match_header("x-trace", "t-1")
    .match_body(r#"{"stock_id":"9856000","trace":"t-1"}"#)
    .match_request(auth_valid)
    .expect(1)
    .create();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let client = builder(&server.url())
        .before_signing(|req| {
            req.headers_mut()
                .insert("x-trace", HeaderValue::from_static("t-1"));
            let mut body: Value = serde_json::from_slice(req.body()).unwrap();
            body["trace"] = json!("t-1");
            *req.body_mut() = serde_json::to_vec(&body).unwrap().into();
            Ok(())
        })
        .after_verifying(move |call, outcome| {
            assert!(outcome.is_ok());
            assert_eq!(call.method, http::Method::POST);
            assert_eq!(call.template, "v3/marketing/favor/users/{openid}/coupons");
            assert_eq!(call.path, "v3/marketing/favor/users/o1/coupons");
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    client
        .chain("v3/marketing/favor/users/{openid}/coupons")
        .post(json!({"openid": "o1", "json": {"stock_id": "9856000"}}))
        .unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    mock.assert();
}

#[test]
fn a_hook_error_aborts_the_call_unsent() {
    let client = builder("http://127.0.0.1:9/")
        .before_signing(|_| Err(Error::Config("refused by policy".into())))
        .build()
        .unwrap();
    let err = client
        .chain("v3/certificates")
        .get(Value::Null)
        .unwrap_err();
    assert!(err.to_string().contains("refused by policy"), "{err}");
}

#[test]
fn base_uri_prefix_and_queries_are_signed_as_sent() {
    let mut server = mockito::Server::new();
    let object = signed_mock(
        &mut server,
        "GET",
        "/hk/v3/global/transactions/out-trade-no/T%201?mchid=1900000001&note=%E5%85%88%20a",
        "{}",
    )
    .match_request(auth_valid)
    .expect(1)
    .create();
    let ready = signed_mock(
        &mut server,
        "GET",
        "/hk/v3/global/refunds?limit=10&offset=0",
        "{}",
    )
    .match_request(auth_valid)
    .expect(1)
    .create();
    let client = client(&format!("{}/hk/", server.url()));
    client
        .chain("v3/global/transactions/out-trade-no/{out_trade_no}")
        .get(json!({"out_trade_no": "T 1", "query": {"mchid": "1900000001", "note": "先 a"}}))
        .unwrap();
    client
        .seg("v3")
        .seg("global")
        .seg("refunds")
        .get(json!({"query": "?limit=10&offset=0"}))
        .unwrap();
    object.assert();
    ready.assert();
}

#[test]
fn lower_case_method_names_and_the_request_verb_work() {
    let mut server = mockito::Server::new();
    let mock = signed_mock(&mut server, "PUT", "/v3/x", "{}")
        .match_request(auth_valid)
        .expect(2)
        .create();
    let client = client(&server.url());
    client
        .chain("v3/x")
        .request("put", json!({"json": {}}))
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(
        client
            .chain("v3/x")
            .request_async(http::Method::PUT, json!({"json": {}})),
    )
    .unwrap();
    mock.assert();
}

/// Records what `after_verifying` saw, shared through an `Arc` (itself a middleware).
#[derive(Default)]
struct Outcomes(std::sync::Mutex<Vec<(String, Option<TransportKind>)>>);

impl wechatpay_chain::Middleware for Outcomes {
    fn after_verifying(
        &self,
        call: &wechatpay_chain::Endpoint,
        outcome: Result<&wechatpay_chain::Response, &Error>,
    ) {
        let kind = outcome.err().and_then(Error::transport_kind);
        let line = format!("{} {}", call.method, call.template);
        self.0.lock().unwrap().push((line, kind));
    }
}

#[test]
fn a_refused_connection_is_a_connect_error_sync_and_async() {
    // Bind then drop: the port is free and nothing listens on it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let outcomes = Arc::new(Outcomes::default());
    let client = builder(&format!("http://127.0.0.1:{port}/"))
        .middleware(outcomes.clone())
        .build()
        .unwrap();
    let err = transport_error(
        client.chain("v3/certificates").get(Value::Null),
        TransportKind::Connect,
    );
    // The message reaches the innermost cause, not just "error sending request".
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    transport_error(
        rt.block_on(client.chain("v3/certificates").get_async(Value::Null)),
        TransportKind::Connect,
    );
    // The middleware saw both attempts end without an answer.
    assert_eq!(
        *outcomes.0.lock().unwrap(),
        vec![
            (
                "GET v3/certificates".to_owned(),
                Some(TransportKind::Connect)
            );
            2
        ]
    );
}

#[test]
fn a_silent_server_is_a_timeout_sync_and_async() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and read, never answer; bounded to the two connections of this test.
    let silent = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = stream.read(&mut buf);
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(2));
    });
    let client = client(&format!("http://127.0.0.1:{port}/"));
    let started = Instant::now();
    let err = transport_error(
        client.chain("v3/certificates").get(json!({"timeout": 0.3})),
        TransportKind::Timeout,
    );
    assert!(err.to_string().contains("timed out"), "{err}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    transport_error(
        rt.block_on(
            client
                .chain("v3/certificates")
                .get_async(json!({"timeout": 0.3})),
        ),
        TransportKind::Timeout,
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout was not applied"
    );
    silent.join().unwrap();
}

#[test]
fn redirects_are_not_followed() {
    let mut server = mockito::Server::new();
    let redirect = server
        .mock("GET", "/v3/x")
        .with_status(302)
        .with_header("Location", "https://attacker.invalid/steal")
        .expect(1)
        .create();
    let client = client(&server.url());
    let err = client.chain("v3/x").get(Value::Null).unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FOUND), "{err:?}");
    redirect.assert();
}

#[test]
fn index_chains_are_interned_and_clones_outlive_the_client() {
    let mut server = mockito::Server::new();
    let mock: Mock = signed_mock(&mut server, "GET", "/v3/x/1", "{}")
        .expect(1)
        .create();
    let client = client(&server.url());
    let a: *const _ = &client["v3/x/{id}"];
    let b: *const _ = &client["v3/x/{id}"];
    assert_eq!(a, b, "the same template is interned once");
    let chain = client["v3/x/{id}"].clone();
    drop(client);
    chain.get(json!({"id": 1})).unwrap();
    mock.assert();
}

#[test]
fn client_and_chain_are_send_sync_and_keys_load_from_php_file_urls() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<wechatpay_chain::Client>();
    assert_send_sync::<wechatpay_chain::Chain>();

    let path = format!(
        "file://{}/tests/fixtures/keys/merchant_private.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let key = wechatpay_chain::PrivateKey::from_file(&path).unwrap();
    let sig = key.sign_base64(b"x").unwrap();
    assert!(merchant_public().verify_base64(b"x", &sig));
    let cert = format!(
        "{}/tests/fixtures/keys/platform_cert.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let cert = wechatpay_chain::PublicKey::from_file(cert).unwrap();
    assert_eq!(cert.serial(), Some(PLATFORM_CERT_SERIAL));
}

#[test]
fn an_answer_over_the_body_limit_is_refused_sync_and_async() {
    let mut server = mockito::Server::new();
    let big = "x".repeat(64 * 1024);
    let declared = server
        .mock("GET", "/v3/big")
        .with_body(&big)
        .expect(2)
        .create();
    // Chunked: no Content-Length, so the limit is enforced while reading.
    let chunked = server
        .mock("GET", "/v3/chunked")
        .with_chunked_body(move |w| {
            for _ in 0..64 {
                w.write_all(&[b'y'; 1024])?;
            }
            Ok(())
        })
        .expect(2)
        .create();
    let client = builder(&server.url())
        .max_body_size(16 * 1024)
        .build()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for path in ["v3/big", "v3/chunked"] {
        let err = client.chain(path).get(Value::Null).unwrap_err();
        assert_eq!(
            err.transport_kind(),
            Some(TransportKind::BodyTooLarge),
            "{path}: {err:?}"
        );
        let err = rt
            .block_on(client.chain(path).get_async(Value::Null))
            .unwrap_err();
        assert_eq!(
            err.transport_kind(),
            Some(TransportKind::BodyTooLarge),
            "{path}: {err:?}"
        );
    }
    declared.assert();
    chunked.assert();
}

/// With `proxy`, requests go to the proxy in absolute form, signed over the path
/// (nothing listens at the base URI here); the password never shows.
#[test]
fn requests_go_through_the_configured_proxy() {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let proxy = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let body = r#"{"data":[]}"#;
        let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", body.len());
        for (k, v) in signed_headers(body, now()) {
            answer.push_str(&format!("{k}: {v}\r\n"));
        }
        answer.push_str("\r\n");
        answer.push_str(body);
        stream.write_all(answer.as_bytes()).unwrap();
        String::from_utf8(head).unwrap()
    });
    let client = builder("http://127.0.0.2:9/")
        .proxy(format!("http://user:s3cret@127.0.0.1:{port}"))
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains("s3cret"));
    let res = client.chain("v3/certificates").get(Value::Null).unwrap();
    assert!(res.is_verified());
    let head = proxy.join().unwrap();
    assert!(
        head.starts_with("GET http://127.0.0.2:9/v3/certificates HTTP/1.1\r\n"),
        "{head}"
    );
    let lower = head.to_ascii_lowercase();
    // reqwest sends the credentials as Proxy-Authorization (base64 of user:s3cret).
    assert!(
        lower.contains("proxy-authorization: basic dxnlcjpzm2nyzxq="),
        "{head}"
    );
    let auth = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("authorization: ")
                .or(l.strip_prefix("Authorization: "))
        })
        .unwrap();
    assert!(authorization_is_valid("GET", "/v3/certificates", b"", auth));

    let err = builder("http://127.0.0.2:9/")
        .proxy("http://user:s3cret@[::1")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("proxy"), "{err}");
    assert!(!err.to_string().contains("s3cret") && !format!("{err:?}").contains("s3cret"));
}
