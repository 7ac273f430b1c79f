//! Media uploads: multipart signed over the meta JSON; the sandbox checks the
//! signature over the meta and the file's sha256.

mod common;

use bytes::Bytes;
use serde_json::{json, Value};
use wechatpay_chain::media::Media;
use wechatpay_chain::signer::SignOver;
use wechatpay_chain::Error;
use wechatpay_chain_sandbox::Sandbox;

fn jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    v
}

#[test]
fn uploads_reach_every_media_endpoint() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let media = Media::from_bytes("receipt.jpg", jpeg()).unwrap();
    for endpoint in [
        "v3/merchant/media/upload",
        "v3/merchant/media/video_upload",
        "v3/merchant-service/images/upload",
    ] {
        let answer: Value = client
            .chain(endpoint)
            .upload(&media, Value::Null)
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            answer["media_id"],
            format!("sandbox-{}", &media.sha256()[..32]),
            "{endpoint}"
        );
    }
    let answer: Value = client
        .upload("v3/marketing/favor/media/image-upload", &media)
        .unwrap()
        .json()
        .unwrap();
    assert!(answer["media_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
}

#[test]
fn uploads_from_a_path_and_async() {
    let sandbox = Sandbox::start().unwrap();
    let path = std::env::temp_dir().join(format!("wxpay-media-{}.png", std::process::id()));
    std::fs::write(&path, b"\x89PNG\r\n\x1a\nsandbox").unwrap();
    let media = Media::from_path(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(media.content_type(), "image/png");
    assert!(media.filename().starts_with("wxpay-media-"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = sandbox.client();
    let answer: Value = rt
        .block_on(
            client
                .chain("v3/merchant/media/upload")
                .upload_async(media.clone(), Value::Null),
        )
        .unwrap()
        .json()
        .unwrap();
    assert!(answer["media_id"].as_str().is_some());
    // The blocking twin works inside a runtime too (on a helper thread).
    let answer: Value = rt
        .block_on(async {
            client
                .chain("v3/merchant/media/upload")
                .upload(&media, Value::Null)
        })
        .unwrap()
        .json()
        .unwrap();
    assert!(answer["media_id"].as_str().is_some());
    assert!(Media::from_path("/nonexistent/file.jpg")
        .unwrap_err()
        .to_string()
        .contains("/nonexistent/file.jpg"));
}

#[test]
fn the_sandbox_checks_the_meta_signature_and_the_sha256() {
    let sandbox = Sandbox::start().unwrap();
    // A meta whose sha256 is not the file's: signed correctly, refused by content.
    let media = Media::from_bytes("a.jpg", jpeg())
        .unwrap()
        .with_meta(&json!({ "filename": "a.jpg", "sha256": "00".repeat(32) }));
    let err = sandbox
        .client()
        .chain("v3/merchant/media/upload")
        .upload(&media, Value::Null)
        .unwrap_err();
    assert_eq!(err.code(), Some("PARAM_ERROR"), "{err}");
    assert!(err.to_string().contains("sha256"), "{err}");

    // Signed over other bytes than the meta sent: SIGN_ERROR.
    let tampering = sandbox
        .client_builder()
        .before_signing(|req| {
            req.extensions_mut()
                .insert(SignOver(Bytes::from_static(b"{\"filename\":\"b.jpg\"}")));
            Ok(())
        })
        .build()
        .unwrap();
    let media = Media::from_bytes("a.jpg", jpeg()).unwrap();
    let err = tampering
        .chain("v3/merchant/media/upload")
        .upload(&media, Value::Null)
        .unwrap_err();
    assert_eq!(err.code(), Some("SIGN_ERROR"), "{err}");

    // A custom meta with extra fields is sent and signed as given.
    let media = Media::from_bytes("card.jpg", jpeg()).unwrap();
    let sha = media.sha256().to_owned();
    let media = media
        .with_meta(&json!({ "bank_type": "ICBC_DEBIT", "filename": "card.jpg", "sha256": sha }));
    assert!(media.meta().starts_with("{\"bank_type\""));
    assert!(sandbox
        .client()
        .chain("v3/merchant/media/upload")
        .upload(&media, Value::Null)
        .is_ok());
}

#[test]
fn options_that_would_replace_the_body_are_refused() {
    let sandbox = Sandbox::start().unwrap();
    let media = Media::from_bytes("a.jpg", jpeg()).unwrap();
    let err = sandbox
        .client()
        .chain("v3/merchant/media/upload")
        .upload(&media, json!({ "json": { "x": 1 } }))
        .unwrap_err();
    assert!(matches!(err, Error::Option { .. }), "{err:?}");
    // Headers and placeholders are fine.
    let ok = sandbox.client().chain("v3/merchant/media/{kind}").upload(
        &media,
        json!({ "kind": "upload", "headers": { "X-Trace": "1" } }),
    );
    assert!(ok.is_ok(), "{ok:?}");
}
