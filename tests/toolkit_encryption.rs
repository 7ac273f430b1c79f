//! Sensitive fields: RSA-OAEP with the platform key out, the merchant key in.

mod common;

use common::*;
use serde_json::json;
use wechatpay_chain::crypto::oaep;
use wechatpay_chain::{Error, PublicKey};
use wechatpay_chain_sandbox::{Sandbox, StatusCode};

#[test]
fn encrypt_prefers_the_public_key_id_and_round_trips() {
    // Both key forms configured: the PUB_KEY_ID_ key wins.
    let client = client("https://api.mch.weixin.qq.com/");
    let field = client.encrypt("张三").unwrap();
    assert_eq!(field.serial, PUB_KEY_ID);
    assert_eq!(
        oaep::decrypt(&platform_private(), &field.ciphertext).unwrap(),
        "张三".as_bytes()
    );
    assert!(!format!("{field:?}").contains(&field.ciphertext));

    // Certificates only: the certificate is used, by its serial.
    let cert_only = wechatpay_chain::Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(merchant_key())
        .platform_certificate(PublicKey::from_pem(&fixture("keys/platform_cert.pem")).unwrap())
        .build()
        .unwrap();
    let field = cert_only.encrypt(b"6222021234567890").unwrap();
    assert_eq!(field.serial, PLATFORM_CERT_SERIAL);
    assert_eq!(
        oaep::decrypt(&platform_private(), &field.ciphertext).unwrap(),
        b"6222021234567890"
    );

    let named = client.encrypt_with(PLATFORM_CERT_SERIAL, "x").unwrap();
    assert_eq!(named.serial, PLATFORM_CERT_SERIAL);
    let err = client.encrypt_with("NOPE", "x").unwrap_err().to_string();
    assert!(err.contains("`NOPE`") && err.contains(PUB_KEY_ID), "{err}");
}

#[test]
fn decrypt_reads_fields_wechat_encrypted_for_the_merchant() {
    let client = client("https://api.mch.weixin.qq.com/");
    let sealed = oaep::encrypt(&merchant_public(), "13800138000".as_bytes()).unwrap();
    assert_eq!(client.decrypt(&sealed).unwrap(), "13800138000");
    // Encrypted for the platform, not the merchant: refused, nothing leaks.
    let other = oaep::encrypt(&platform_public(), b"secret").unwrap();
    let err = client.decrypt(&other).unwrap_err();
    assert!(matches!(err, Error::Key { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret"));
    let mut tampered = sealed.into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    assert!(client
        .decrypt(&String::from_utf8(tampered).unwrap())
        .is_err());
    assert!(client.decrypt("not base64!").is_err());
}

#[test]
fn an_encrypted_field_reaches_the_sandbox_with_its_serial() {
    let sandbox = Sandbox::start().unwrap();
    let platform = sandbox.keys().platform_private_key().clone();
    sandbox.route("POST", "v3/applyment4sub/applyment/", move |req| {
        let name = req.json["contact_info"]["contact_name"].as_str().unwrap_or("");
        match oaep::decrypt(&platform, name) {
            Ok(plain) => (
                StatusCode::OK,
                json!({ "name": String::from_utf8_lossy(&plain), "serial": req.header("Wechatpay-Serial") }),
            ),
            Err(e) => (StatusCode::BAD_REQUEST, json!({ "code": "PARAM_ERROR", "message": e.to_string() })),
        }
    });
    let client = sandbox.client();
    let name = client.encrypt("李四").unwrap();
    let answer: serde_json::Value = client
        .chain("v3/applyment4sub/applyment/")
        .post(json!({
            "json": { "contact_info": { "contact_name": name.ciphertext } },
            "headers": { "Wechatpay-Serial": name.serial },
        }))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["name"], "李四");
    assert_eq!(answer["serial"], sandbox.platform_serial());
}

#[test]
fn interoperates_with_openssl_oaep_sha1() {
    // printf '13800138000' | openssl pkeyutl -encrypt -pubin -inkey tests/fixtures/keys/merchant_public.pem \
    //   -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 | base64 -w0
    const FROM_OPENSSL: &str = "a4TMh5738JuHhWnpRJCicUx85gMHbFtbk7BIaHIyORctqpCnjnEz+GXq8Gxu9uj01SptvXkyzqD2DNDP8MxBKOrwexCcGv/Xx0VGEJqXdHrGxTXKy+SgaSeONGXsxo9OIwgH//msYoM85sjhj0pwy1+LBzeKWm5fDMrAXeo5qp9GNo2zDh4TL3CKKa+96kFFWMXv+J00VkkhQA2sqJ9NEcZoyyip9jLfA6NhIVGVvLhwAoBH/iHbOpcn4AXPKPZ4sOhlOfDcszVhOWxM692zV55itJzhXeG6N234ebqPoejmWYWlCIAj7o3Qh1R2yzaQ7d4Z19We8J5TGHOPEt+6BQ==";
    let client = client("https://api.mch.weixin.qq.com/");
    assert_eq!(client.decrypt(FROM_OPENSSL).unwrap(), "13800138000");
}
