//! Platform certificates: the sandbox serves `v3/certificates` encrypted; the
//! download is verified (bootstrapped by the certificate it brings when its serial
//! is new), decrypted, and its keys verify the sandbox's answers; a background
//! refresh swaps keys into a running client.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use wechatpay_chain::{Client, Error};
use wechatpay_chain_sandbox::{Sandbox, APIV3_KEY};

fn bare_builder(sandbox: &Sandbox) -> wechatpay_chain::ClientBuilder {
    Client::builder()
        .mchid(sandbox.mchid())
        .serial(sandbox.merchant_serial())
        .private_key(sandbox.keys().merchant_private_key().clone())
        .apiv3_key(APIV3_KEY)
        .base_uri(sandbox.url())
}

#[test]
fn the_download_bootstraps_and_its_keys_verify_the_sandbox() {
    let sandbox = Sandbox::builder()
        .sign_with_certificate(true)
        .start()
        .unwrap();
    // A client with no platform key at all: the first download.
    let first = bare_builder(&sandbox)
        .without_platform_keys()
        .build()
        .unwrap();
    assert!(first.platform_serials().is_empty());
    // Nothing else verifies yet.
    let err = first
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .unwrap_err();
    assert!(matches!(err, Error::Verification { .. }), "{err}");

    let certs = first.download_certificates().unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].serial(), PLATFORM_CERT_SERIAL);
    assert!(
        certs[0].expire_time().ends_with("+08:00"),
        "{}",
        certs[0].expire_time()
    );
    assert!(
        certs[0].effective_time().ends_with("+08:00")
            && certs[0].effective_time() < certs[0].expire_time(),
        "{certs:?}"
    );
    assert_eq!(
        format!("{:?}", certs[0]),
        format!(
            "PlatformCertificate {{ serial_no: {PLATFORM_CERT_SERIAL:?}, effective_time: {:?}, expire_time: {:?}, .. }}",
            certs[0].effective_time(),
            certs[0].expire_time()
        )
    );
    assert!(certs[0].not_after().is_some());
    assert_eq!(
        certs[0].pem().trim(),
        fixture("keys/platform_cert.pem").trim()
    );

    first.install_certificates(&certs);
    assert_eq!(
        first.platform_serials(),
        vec![PLATFORM_CERT_SERIAL.to_owned()]
    );
    let order: serde_json::Value = first
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(order["out_order_no"], SEED_ORDER);

    // A client built from the downloaded certificate alone verifies too.
    let second = bare_builder(&sandbox)
        .platform_certificate(certs[0].public_key().clone())
        .build()
        .unwrap();
    assert!(second
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .is_ok());
}

#[test]
fn public_key_mode_works_side_by_side() {
    // The default sandbox signs with the PUB_KEY_ID_: a public-key client downloads
    // the certificate (verified by the key id), then holds both kinds of key.
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let certs = client.download_certificates().unwrap();
    client.install_certificates(&certs);
    let mut serials = client.platform_serials();
    serials.sort();
    assert_eq!(
        serials,
        vec![
            PLATFORM_CERT_SERIAL.to_owned(),
            sandbox.platform_serial().to_owned()
        ]
    );
    // Answers under the key id still verify.
    assert!(client
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .is_ok());
    assert_eq!(client.download_certificates().unwrap().len(), 1);
    // Encryption keeps preferring the key id.
    assert_eq!(
        client.encrypt("x").unwrap().serial,
        sandbox.platform_serial()
    );
}

#[test]
fn a_download_that_does_not_verify_or_decrypt_is_refused() {
    let sandbox = Sandbox::start().unwrap();
    // Another APIv3 key: the certificate does not decrypt.
    let wrong_key = sandbox
        .client_builder()
        .apiv3_key("0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();
    let err = wrong_key.download_certificates().unwrap_err().to_string();
    assert!(err.contains("does not authenticate"), "{err}");

    // A listing whose certificate is genuine but whose answer is signed by another
    // key under the certificate's serial: the bootstrap check (a client with no
    // platform key yet) fails. The forgery is answered by a closure transport.
    let forged = forged_answer(&sandbox);
    let client = bare_builder(&sandbox)
        .without_platform_keys()
        .sync_http_client(move |_req: http::Request<bytes::Bytes>| Ok(forged.clone()))
        .build()
        .unwrap();
    let err = client.download_certificates().unwrap_err();
    assert!(matches!(err, Error::Verification { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("certificates it brings do not verify"),
        "{err}"
    );

    // Without an APIv3 key: a configuration error naming it.
    let no_key = Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(merchant_key())
        .platform_key(PUB_KEY_ID, platform_public())
        .base_uri(sandbox.url())
        .build()
        .unwrap();
    let err = no_key.download_certificates().unwrap_err().to_string();
    assert!(err.contains("APIv3 key"), "{err}");
}

/// The sandbox's own listing, fetched through a verified call.
fn sandbox_listing(sandbox: &Sandbox) -> serde_json::Value {
    let client = sandbox.client_builder().platform_certificate(
        wechatpay_chain::PublicKey::from_pem(&fixture("keys/platform_cert.pem")).unwrap(),
    );
    client
        .build()
        .unwrap()
        .chain("v3/certificates")
        .get(json!(null))
        .unwrap()
        .json()
        .unwrap()
}

/// A genuine listing signed by the merchant key (not the platform's) under the
/// certificate's serial.
fn forged_answer(sandbox: &Sandbox) -> http::Response<bytes::Bytes> {
    let body = sandbox_listing(sandbox).to_string();
    let ts = now().to_string();
    let nonce = "F".repeat(32);
    let sig = merchant_key()
        .sign_base64(&wechatpay_chain::verifier::string_to_verify(
            &ts,
            &nonce,
            body.as_bytes(),
        ))
        .unwrap();
    http::Response::builder()
        .status(200)
        .header("Wechatpay-Timestamp", ts)
        .header("Wechatpay-Nonce", nonce)
        .header("Wechatpay-Serial", PLATFORM_CERT_SERIAL)
        .header("Wechatpay-Signature", sig)
        .body(bytes::Bytes::from(body))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_refresh_swaps_keys_without_dropping_requests() {
    let sandbox = Sandbox::builder()
        .sign_with_certificate(true)
        .start_async()
        .await
        .unwrap();
    // Starts with no platform key: the sandbox's answers (signed under the
    // certificate) fail until the refresh bootstraps and installs the certificate;
    // later refreshes are verified with it.
    // Every verified answer, in order: a certificate listing (after which the
    // refresh installs a new key set) or an order.
    let log: Arc<std::sync::Mutex<Vec<&'static str>>> = Arc::default();
    let seen = log.clone();
    let client = bare_builder(&sandbox)
        .without_platform_keys()
        .after_verifying(move |call, outcome| {
            if outcome.is_ok() {
                let what = if call.path == "v3/certificates" {
                    "listing"
                } else {
                    "order"
                };
                seen.lock().unwrap().push(what);
            }
        })
        .build()
        .unwrap();
    assert!(client
        .chain("v3/discount-card/orders/{out_order_no}")
        .get_async(seed_get_options())
        .await
        .is_err());

    let refresh = client
        .refresh_certificates(Duration::from_millis(50))
        .unwrap();
    assert_eq!(refresh.wait_first().await.unwrap(), 1);
    assert!(client
        .platform_serials()
        .contains(&PLATFORM_CERT_SERIAL.to_owned()));

    // Requests keep succeeding while the refresh swaps the key set under them. They
    // go on until the log shows an order, then a listing (its key set is installed
    // before the next download starts), another listing, then an order: the first
    // order was verified with the old key set, the last with a swapped-in one.
    let first_call = log.lock().unwrap().len();
    let ok = Arc::new(AtomicUsize::new(0));
    let mut calls = Vec::new();
    while !swapped_between_orders(&log.lock().unwrap()[first_call..]) {
        assert!(
            calls.len() < 2000,
            "the refresh never swapped keys during the calls"
        );
        let client = client.clone();
        let ok = ok.clone();
        calls.push(tokio::spawn(async move {
            let res = client
                .chain("v3/discount-card/orders/{out_order_no}")
                .get_async(seed_get_options())
                .await;
            if res.is_ok() {
                ok.fetch_add(1, Ordering::Relaxed);
            }
            res.map(|_| ())
        }));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sent = calls.len();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(ok.load(Ordering::Relaxed), sent);
    assert!(swapped_between_orders(&log.lock().unwrap()[first_call..]));

    assert!(!refresh.is_finished());
    refresh.stop();
    // The keys stay after stopping.
    assert!(client
        .platform_serials()
        .contains(&PLATFORM_CERT_SERIAL.to_owned()));
}

/// Whether `log` has an order, later a listing, a later listing, then an order.
fn swapped_between_orders(log: &[&str]) -> bool {
    let after = |from: usize, what: &str| {
        log[from..]
            .iter()
            .position(|w| *w == what)
            .map(|i| from + i + 1)
    };
    after(0, "order")
        .and_then(|i| after(i, "listing"))
        .and_then(|i| after(i, "listing"))
        .and_then(|i| after(i, "order"))
        .is_some()
}

/// The refresh ends on its own once the client and its clones are gone (it holds
/// no strong reference), and reports so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_ends_with_its_client() {
    let sandbox = Sandbox::start_async().await.unwrap();
    let client = builder(sandbox.url()).apiv3_key(APIV3_KEY).build().unwrap();
    let refresh = client
        .refresh_certificates(Duration::from_millis(20))
        .unwrap();
    assert_eq!(refresh.wait_first().await.unwrap(), 1);
    assert!(!refresh.is_finished());
    drop(client);
    // Waits for the next tick to notice (bounded, not timed).
    let mut polls = 0;
    while !refresh.is_finished() {
        polls += 1;
        assert!(polls < 1000, "the refresh outlived its client");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn refresh_needs_a_runtime() {
    let client = client("https://api.mch.weixin.qq.com/");
    let err = client
        .refresh_certificates(Duration::from_secs(60))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tokio runtime"), "{err}");
}

#[test]
fn generated_keys_come_with_a_self_signed_certificate() {
    let keys = wechatpay_chain_sandbox::SandboxKeys::generate().unwrap();
    let serial = keys.platform_certificate_serial().unwrap().to_owned();
    assert_eq!(serial.len(), 40, "{serial}");
    let sandbox = Sandbox::builder()
        .keys(keys)
        .sign_with_certificate(true)
        .start()
        .unwrap();
    let first = bare_builder(&sandbox)
        .without_platform_keys()
        .build()
        .unwrap();
    let certs = first.download_certificates().unwrap();
    assert_eq!(certs[0].serial(), serial);
    first.install_certificates(&certs);
    assert!(first
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(seed_get_options())
        .is_ok());
    assert_eq!(
        sandbox.client().encrypt("x").unwrap().serial,
        sandbox.platform_serial()
    );
}

/// Rule: installing drops certificates expired by the client's clock, to the
/// second (kept at their `notAfter`, dropped one second later), along with an
/// expired configured certificate; a `PUB_KEY_ID_…` key (no expiry) stays.
#[test]
fn installing_drops_certificates_expired_by_the_clients_clock() {
    let sandbox = Sandbox::start().unwrap();
    let certificates = sandbox.client().download_certificates().unwrap();
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0].serial(), PLATFORM_CERT_SERIAL);
    let not_after = certificates[0]
        .not_after()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let both = vec![PLATFORM_CERT_SERIAL.to_owned(), PUB_KEY_ID.to_owned()];
    for (at, kept) in [
        (not_after - 1, true),
        (not_after, true),
        (not_after + 1, false),
    ] {
        // Configured with the certificate too: an expired one goes as well.
        let client = builder(sandbox.url())
            .apiv3_key(APIV3_KEY)
            .clock(move || at)
            .build()
            .unwrap();
        assert_eq!(client.platform_serials(), both);
        client.install_certificates(&certificates);
        let expected = if kept {
            both.clone()
        } else {
            vec![PUB_KEY_ID.to_owned()]
        };
        assert_eq!(
            client.platform_serials(),
            expected,
            "at notAfter{:+}",
            at - not_after
        );
    }
}

/// Rule: a stopped refresh never downloads again. On tokio's paused clock (time
/// jumps to the next timer whenever the runtime is idle, so no real waiting), an
/// hour after `stop()` the refresh, every minute before, has made no further attempt.
#[tokio::test(start_paused = true)]
async fn a_stopped_refresh_never_downloads_again() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    // Nothing listens on port 1: each attempt fails at once.
    let client = builder("http://127.0.0.1:1/")
        .apiv3_key(APIV3_KEY)
        .before_signing(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .build()
        .unwrap();
    let refresh = client
        .refresh_certificates(Duration::from_secs(60))
        .unwrap();
    assert!(refresh.wait_first().await.is_err());
    let before = attempts.load(Ordering::SeqCst);
    assert!(before >= 1);
    // The refresh does run on this clock: a minute later it has tried again.
    tokio::time::sleep(Duration::from_secs(61)).await;
    let running = attempts.load(Ordering::SeqCst);
    assert!(running > before, "{running} attempts, {before} before");
    refresh.stop();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(attempts.load(Ordering::SeqCst), running);
}
