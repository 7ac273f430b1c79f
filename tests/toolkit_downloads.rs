//! Downloads WeChat serves unsigned: fetched signed, checked by the hash the
//! preceding call returned, streamed to a writer as they arrive.

mod common;

use serde_json::json;
use sha2::Digest;
use wechatpay_chain::download::{check_hash, DownloadInfo};
use wechatpay_chain::Error;
use wechatpay_chain_sandbox::{Fault, Sandbox, StatusCode};

/// What a bill endpoint answers for 2019-06-11: where to download it, and its hash.
fn bill(client: &wechatpay_chain::Client, endpoint: &str) -> DownloadInfo {
    client
        .chain(endpoint)
        .get(json!({ "query": { "bill_date": "2019-06-11" } }))
        .unwrap()
        .json()
        .unwrap()
}

fn trade_bill(client: &wechatpay_chain::Client) -> DownloadInfo {
    bill(client, "v3/bill/tradebill")
}

#[test]
fn a_bill_downloads_and_matches_its_hash() {
    let sandbox = Sandbox::start().unwrap();
    // Middleware sees each call labelled by its template; a download by its path.
    let labels = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = labels.clone();
    let client = sandbox
        .client_builder()
        .after_verifying(move |call, _| seen.lock().unwrap().push(call.template.clone()))
        .build()
        .unwrap();
    for endpoint in ["v3/bill/tradebill", "v3/bill/fundflowbill"] {
        let info: DownloadInfo = bill(&client, endpoint);
        assert!(
            info.download_url.starts_with(sandbox.url()),
            "{}",
            info.download_url
        );
        assert_eq!(info.hash_type.as_deref(), Some("SHA1"));
        let mut file = Vec::new();
        let n = client.download_to(&info, &mut file).unwrap();
        assert_eq!(n as usize, file.len());
        assert!(String::from_utf8(file.clone())
            .unwrap()
            .contains("2019-06-11"));
        check_hash("SHA1", info.hash_value.as_deref().unwrap(), &file).unwrap();
    }
    // The streamed (unsigned) files have no answer to verify: only their calls show.
    assert_eq!(
        *labels.lock().unwrap(),
        ["v3/bill/tradebill", "v3/bill/fundflowbill"]
    );
    // A failed download shows, under its path (its template is all placeholders).
    let info: DownloadInfo = trade_bill(&client);
    let busy = Fault::status(StatusCode::SERVICE_UNAVAILABLE, "SYSTEM_ERROR");
    sandbox.inject("GET", "v3/billdownload/file", busy, 1);
    let err = client.download_to(&info, Vec::new()).unwrap_err();
    assert_eq!(err.code(), Some("SYSTEM_ERROR"));
    assert_eq!(
        labels.lock().unwrap().last().map(String::as_str),
        Some("v3/billdownload/file")
    );
}

/// `check_hash` against digests computed by coreutils (`printf hello | sha1sum`,
/// `| sha256sum`; `printf '' | sha1sum`), not by the crate.
#[test]
fn check_hash_accepts_the_file_and_nothing_else() {
    const SHA1: &str = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";
    const SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    const SHA1_EMPTY: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    for (kind, hash) in [
        ("SHA1", SHA1),
        ("sha1", &SHA1.to_uppercase()),
        ("SHA-1", SHA1),
        ("SHA256", SHA256),
        ("sha-256", &SHA256.to_uppercase()),
    ] {
        check_hash(kind, hash, b"hello").unwrap_or_else(|e| panic!("{kind} {hash}: {e}"));
    }
    check_hash("SHA1", SHA1_EMPTY, b"").unwrap();
    let refused = |kind: &str, hash: &str, bytes: &[u8]| match check_hash(kind, hash, bytes) {
        Err(wechatpay_chain::Error::Integrity { reason }) => reason,
        other => panic!("{kind} {hash} {bytes:?}: {other:?}"),
    };
    let reason = refused("SHA1", SHA1, b"hellO");
    assert!(
        reason.contains("5-byte file") && reason.contains(SHA1),
        "{reason}"
    );
    assert!(refused("SHA1", SHA1, b"").contains(SHA1_EMPTY));
    assert!(refused("SHA1", &SHA1[..39], b"hello").contains("not the expected"));
    assert!(refused("SHA256", SHA1, b"hello").contains("not the expected"));
    assert!(refused("SHA1", SHA256, b"hello").contains("not the expected"));
    assert!(refused("MD5", "5d41402abc4b2a76b9719d911017c592", b"hello")
        .contains("unknown hash_type `MD5`"));
    // A hostile hash_type is quoted to 96 characters at most.
    let long = "X".repeat(500);
    let reason = refused(&long, SHA1, b"hello");
    assert!(
        reason.contains(&format!("`{}`", "X".repeat(96))),
        "{reason}"
    );
    assert!(!reason.contains(&"X".repeat(97)), "{reason}");
}

#[test]
fn a_wrong_hash_fails_once_the_file_has_streamed() {
    let sandbox = Sandbox::start().unwrap();
    let url = sandbox.url().to_owned();
    sandbox.route("GET", "v3/bill/tradebill", move |_| {
        (
            StatusCode::OK,
            json!({
                "hash_type": "SHA1",
                "hash_value": "0000000000000000000000000000000000000000",
                "download_url": format!("{url}v3/billdownload/file?token=TRADE20190611"),
            }),
        )
    });
    let client = sandbox.client();
    let info: DownloadInfo = trade_bill(&client);
    let mut file = Vec::new();
    let err = client.download_to(&info, &mut file).unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
    assert!(err.to_string().contains("not the expected 0000"), "{err}");
    assert!(err.to_string().contains("discard"), "{err}");
    assert!(
        !file.is_empty(),
        "the bytes streamed before the hash was known"
    );
    file.clear();
    // An unknown hash type is refused too.
    let mut info = info;
    info.hash_type = Some("MD5".into());
    assert!(matches!(
        client.download_to(&info, &mut file),
        Err(Error::Integrity { .. })
    ));
}

#[test]
fn sha256_and_async_writers() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    // Fetch the file's bytes once to compute a SHA-256 for it.
    let url = format!(
        "{}v3/billdownload/file?token=FUNDFLOW20240229",
        sandbox.url()
    );
    let mut bytes = Vec::new();
    let sha1_info = DownloadInfo::unhashed(url.clone());
    // Unsigned and no hash: refused.
    let err = client.download_to(&sha1_info, &mut bytes).unwrap_err();
    assert!(err.to_string().contains("no hash_type"), "{err}");
    let raw = client
        .chain("v3/billdownload/file")
        .get(json!({ "query": "token=FUNDFLOW20240229" }))
        .unwrap();
    assert!(!raw.is_verified());
    let digest = sha2::Sha256::digest(raw.body());
    let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    let info = DownloadInfo::new(url, "SHA256", hex);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut sink: Vec<u8> = Vec::new();
    let n = rt
        .block_on(client.download_to_async(&info, &mut sink))
        .unwrap();
    assert_eq!(n as usize, sink.len());
    assert_eq!(sink, raw.body().as_ref());
}

#[test]
fn credentials_go_only_to_the_base_uri() {
    let sandbox = Sandbox::start().unwrap();
    let info = DownloadInfo::new(
        "https://evil.example/v3/billdownload/file?token=x",
        "SHA1",
        "00",
    );
    let err = sandbox.client().download_to(&info, Vec::new()).unwrap_err();
    assert!(matches!(err, Error::Option { .. }), "{err:?}");
    assert!(err.to_string().contains("base URI"), "{err}");
    // Path tricks are refused before sending.
    let info = DownloadInfo::new(
        format!("{}v3/../v3/billdownload/file", sandbox.url()),
        "SHA1",
        "00",
    );
    assert!(sandbox
        .client()
        .download_to(&info, Vec::new())
        .unwrap_err()
        .is_before_send());
    // So are malformed escapes, named as such (`%+1` is not two hex digits).
    for bad in ["%zz", "%4", "%+1", "%FF"] {
        let info = DownloadInfo::new(
            format!("{}v3/billdownload/file{bad}", sandbox.url()),
            "SHA1",
            "00",
        );
        let err = sandbox.client().download_to(&info, Vec::new()).unwrap_err();
        assert!(err.is_before_send(), "{bad}: {err:?}");
        assert!(
            err.to_string().contains("malformed or non-UTF-8 escape"),
            "{bad}: {err}"
        );
    }
    // A URL that is the base alone, or that carries a fragment, has no path to call.
    let before = sandbox.stats().requests;
    for bad in [
        sandbox.url().to_owned(),
        format!("{}?token=x", sandbox.url()),
        format!("{}v3/billdownload/file#part", sandbox.url()),
    ] {
        let info = DownloadInfo::new(bad.clone(), "SHA1", "00");
        let err = sandbox.client().download_to(&info, Vec::new()).unwrap_err();
        assert!(err.is_before_send(), "{bad}: {err:?}");
        assert!(
            err.to_string().contains("has no usable path"),
            "{bad}: {err}"
        );
    }
    assert_eq!(sandbox.stats().requests, before, "nothing was sent");
}

#[test]
fn a_signed_endpoint_stays_signature_checked() {
    // A download_url pointing at a signed endpoint: its answer is verified as usual,
    // and the hash still applies.
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let url = format!(
        "{}v3/discount-card/orders/{}",
        sandbox.url(),
        common::SEED_ORDER
    );
    let mut out = Vec::new();
    let n = client
        .download_to(&DownloadInfo::unhashed(url.clone()), &mut out)
        .unwrap();
    assert!(n > 0 && String::from_utf8_lossy(&out).contains(common::SEED_ORDER));
    let err = client
        .download_to(&DownloadInfo::new(url.clone(), "SHA256", "ab"), Vec::new())
        .unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }));
    // The same async: verified whole, so no hash is needed.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut out = Vec::new();
    let n = rt
        .block_on(client.download_to_async(&DownloadInfo::unhashed(url), &mut out))
        .unwrap();
    assert!(n > 0 && String::from_utf8_lossy(&out).contains(common::SEED_ORDER));
}

/// A file larger than the body limit streams through, sync and async, and an
/// error answer on the download URL is still an `Api` error.
#[test]
fn a_large_file_streams_past_the_body_limit() {
    use sha2::Digest;
    let mut server = mockito::Server::new();
    let file: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
    let sha256 = sha2::Sha256::digest(&file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let big = server
        .mock("GET", "/v3/billdownload/file?token=BIG")
        .with_body(file.clone())
        .expect(2)
        .create();
    let gone = server
        .mock("GET", "/v3/billdownload/file?token=GONE")
        .with_status(404)
        .with_body(r#"{"code":"NO_STATEMENT_EXIST","message":"账单不存在"}"#)
        .create();
    let client = common::builder(&server.url())
        .max_body_size(16 * 1024)
        .build()
        .unwrap();
    let info = DownloadInfo::new(
        format!("{}/v3/billdownload/file?token=BIG", server.url()),
        "SHA256",
        &sha256,
    );
    let mut out = Vec::new();
    assert_eq!(
        client.download_to(&info, &mut out).unwrap(),
        file.len() as u64
    );
    assert_eq!(out, file);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut out = Vec::new();
    let n = rt
        .block_on(client.download_to_async(&info, &mut out))
        .unwrap();
    assert_eq!(n, file.len() as u64);
    assert_eq!(out, file);

    let info = DownloadInfo::new(
        format!("{}/v3/billdownload/file?token=GONE", server.url()),
        "SHA256",
        &sha256,
    );
    let err = client.download_to(&info, Vec::new()).unwrap_err();
    assert_eq!(err.code(), Some("NO_STATEMENT_EXIST"), "{err:?}");
    big.assert();
    gone.assert();
}
