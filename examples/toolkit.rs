//! A tour of the helpers around the signed calls: sensitive fields (encrypted for
//! WeChat, decrypted from it), platform certificates, a media upload and a bill
//! download checked against its hash.
//!
//! ```text
//! cargo run --example toolkit
//! ```
//!
//! Runs against the embedded sandbox, which plays WeChat Pay: it checks every
//! signature and serves `v3/certificates`, the media uploads and the bills. The two
//! endpoints it does not serve by itself are added below with `sandbox.route`.

use std::fs::{self, File};

use serde_json::{json, Value};
use wechatpay_chain::crypto::oaep;
use wechatpay_chain::download::DownloadInfo;
use wechatpay_chain::media::Media;
use wechatpay_chain_sandbox::{Sandbox, StatusCode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start()?;
    play_wechat(&sandbox)?;
    let client = sandbox.client();

    println!("1. Sensitive fields");
    // PHP: Rsa::encrypt('张三', $platformPublicKeyInstance)
    let name = client.encrypt("张三")?; // RSA-OAEP with a configured platform key
    let head: String = name.ciphertext.chars().take(24).collect();
    println!("   ciphertext {head}… ({} chars)", name.ciphertext.len());
    println!("   Wechatpay-Serial: {}", name.serial);
    let answer: Value = client
        .chain("v3/applyment4sub/applyment/")
        .post(json!({
            "json": { "business_code": "APL_98761234", "contact_info": { "contact_name": name.ciphertext } },
            // WeChat decrypts with the key this header names (PHP: the same
            // 'headers' => ['Wechatpay-Serial' => …]); every encrypted field of one
            // call must use that one key.
            "headers": { "Wechatpay-Serial": name.serial },
        }))?
        .json()?;
    println!("   accepted: applyment_id {}", answer["applyment_id"]);

    // Answers carry sensitive fields encrypted with the merchant's public key.
    // PHP: Rsa::decrypt($ciphertext, $merchantPrivateKeyInstance)
    let complaint: Value = client
        .chain("v3/merchant-service/complaints-v2/{complaint_id}")
        .get(json!({ "complaint_id": "200201820200101080076610000" }))?
        .json()?;
    let phone = client.decrypt(complaint["payer_phone"].as_str().unwrap_or_default())?;
    println!("   a complaint's payer_phone, decrypted: {phone}");

    println!("\n2. Platform certificates");
    // PHP: composer exec CertificateDownloader.php -- -k $apiv3Key -m $mchid -f … -s … -o …
    // Verified like every answer; each certificate decrypted with the APIv3 key
    // (PHP: AesGcm::decrypt($cert->ciphertext, $apiv3Key, $cert->nonce, …)).
    let certificates = client.download_certificates()?;
    for cert in &certificates {
        println!("   {} expires {}", cert.serial(), cert.expire_time());
    }
    // Into this client and all its clones. A long-running service would rather
    // call `client.refresh_certificates(every)` (examples/async_service.rs).
    client.install_certificates(&certificates);
    let serials = client.platform_serials().join(", ");
    println!("   platform keys now: {serials}");

    // A scratch directory for the file to upload and the bill to download.
    let dir = std::env::temp_dir().join(format!("wechatpay-toolkit-{}", std::process::id()));
    fs::create_dir_all(&dir)?;

    println!("\n3. A media upload");
    let path = dir.join("receipt.jpg");
    fs::write(&path, b"\xFF\xD8\xFF\xE0 not much of a JPEG")?;
    // PHP: $media = new MediaUtil($path); ->post(['body' => $media->getStream(),
    //      'headers' => ['Content-Type' => $media->getContentType()]])
    let media = Media::from_path(&path)?; // or Media::from_bytes(name, bytes)
    println!("   {} meta {}", media.content_type(), media.meta());
    // Multipart, signed over the meta JSON (not the file), as WeChat specifies.
    let uploaded: Value = client
        .chain("v3/merchant/media/upload")
        .upload(&media, Value::Null)?
        .json()?;
    println!("   media_id {}", uploaded["media_id"]);

    println!("\n4. A trade bill");
    // PHP: ->v3->bill->tradebill->get(['query' => ['bill_date' => '2019-06-11']]),
    //      then download_url fetched and its hash compared by hand.
    let info: DownloadInfo = client
        .chain("v3/bill/tradebill")
        .get(json!({ "query": { "bill_date": "2019-06-11", "bill_type": "ALL" } }))?
        .json()?;
    println!("   {}", serde_json::to_string(&info)?);
    // WeChat serves the file unsigned: download_to checks it against that hash.
    // The file streams to the writer, so a mismatch is known only at the end:
    // write under a temporary name and keep the file only on success.
    let partial = dir.join("tradebill-2019-06-11.csv.part");
    let bill = dir.join("tradebill-2019-06-11.csv");
    let bytes = match client.download_to(&info, File::create(&partial)?) {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = fs::remove_file(&partial); // e.g. Error::Integrity
            return Err(e.into());
        }
    };
    fs::rename(&partial, &bill)?;
    println!("   {bytes} bytes, hash checked: {}", bill.display());
    for line in fs::read_to_string(&bill)?.lines().take(2) {
        println!("   | {}…", line.chars().take(60).collect::<String>());
    }

    fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The two endpoints the sandbox does not serve by itself, answered as WeChat would.
fn play_wechat(sandbox: &Sandbox) -> Result<(), wechatpay_chain::Error> {
    // WeChat decrypts sensitive fields with the platform private key, chosen by
    // the Wechatpay-Serial header.
    let platform = sandbox.keys().platform_private_key().clone();
    let serial = sandbox.platform_serial().to_owned();
    sandbox.route("POST", "v3/applyment4sub/applyment/", move |req| {
        let name = &req.json["contact_info"]["contact_name"];
        let opened = oaep::decrypt(&platform, name.as_str().unwrap_or_default());
        match opened {
            Ok(_) if req.header("Wechatpay-Serial") == Some(&serial) => (
                StatusCode::OK,
                json!({ "applyment_id": 2000002124775691_u64 }),
            ),
            _ => {
                let message = "contact_name does not decrypt with the key Wechatpay-Serial names";
                (
                    StatusCode::BAD_REQUEST,
                    json!({ "code": "PARAM_ERROR", "message": message }),
                )
            }
        }
    });
    // And encrypts the fields it sends with the merchant's public key.
    let phone = oaep::encrypt(sandbox.keys().merchant_public_key(), b"13800138000")?;
    sandbox.route(
        "GET",
        "v3/merchant-service/complaints-v2/{id}",
        move |req| {
            let id = req.param("id");
            (
                StatusCode::OK,
                json!({ "complaint_id": id, "payer_phone": phone }),
            )
        },
    );
    Ok(())
}
