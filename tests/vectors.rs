//! The conformance vectors of `tests/fixtures/vectors.json` (a copy of
//! `shared/vectors/`), reproduced byte for byte through the whole client pipeline
//! with the clock and nonce pinned and a closure transport (no server).

mod common;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::*;
use serde_json::{Map, Value};
use wechatpay_chain::verifier::{Rejection, Verifier};
use wechatpay_chain::{signer, Error, PublicKey};

fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).unwrap()
}

fn str_of<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {case}"))
}

/// The options a caller would pass for a request case.
fn options_for(case: &Value) -> Value {
    let mut options: Map<String, Value> =
        case["path_params"].as_object().cloned().unwrap_or_default();
    if let Some(pairs) = case["query"].as_array() {
        let mut query = Map::new();
        for pair in pairs {
            query.insert(pair[0].as_str().unwrap().into(), pair[1].clone());
        }
        options.insert("query".into(), Value::Object(query));
    }
    let body = str_of(case, "body");
    if !body.is_empty() {
        // A caller passes JSON; the client must serialise it to exactly these bytes.
        options.insert("json".into(), serde_json::from_str(body).unwrap());
    }
    Value::Object(options)
}

#[test]
fn every_request_case_is_reproduced_byte_for_byte() {
    let v = vectors();
    let cases = v["request_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let name = str_of(case, "name");
        let ts: i64 = str_of(case, "timestamp").parse().unwrap();
        let nonce = str_of(case, "nonce_str").to_owned();
        let seen: Arc<Mutex<Option<http::Request<Bytes>>>> = Arc::default();
        let sink = seen.clone();
        let client = builder("https://api.mch.weixin.qq.com/")
            .clock(move || ts)
            .nonce_source(move || nonce.clone())
            .sync_http_client(move |req: http::Request<Bytes>| {
                *sink.lock().unwrap() = Some(req);
                let body = "{}";
                let mut res = http::Response::builder().status(200);
                for (k, v) in signed_headers(body, ts) {
                    res = res.header(k, v);
                }
                Ok::<_, Error>(res.body(Bytes::from(body)).unwrap())
            })
            .build()
            .unwrap();

        let method = str_of(case, "method");
        client
            .chain(str_of(case, "path_template"))
            .request(method, options_for(case))
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        let req = seen.lock().unwrap().take().unwrap();
        let target = req.uri().path_and_query().unwrap().as_str();
        assert_eq!(
            target,
            str_of(case, "request_target"),
            "{name}: request target"
        );
        assert_eq!(
            req.body().as_ref(),
            str_of(case, "body").as_bytes(),
            "{name}: body"
        );

        let auth = req.headers()["authorization"].to_str().unwrap();
        let mut got = authorization_fields(auth);
        // The order this crate sends, as PHP and Node do.
        let order: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            order,
            ["mchid", "serial_no", "timestamp", "nonce_str", "signature"],
            "{name}"
        );
        let mut want = authorization_fields(str_of(case, "authorization"));
        got.sort();
        want.sort();
        assert_eq!(got, want, "{name}: Authorization fields");

        let sts = signer::string_to_sign(
            method,
            target,
            str_of(case, "timestamp"),
            str_of(case, "nonce_str"),
            req.body(),
        );
        assert_eq!(
            String::from_utf8(sts).unwrap(),
            str_of(case, "string_to_sign"),
            "{name}: string to sign"
        );
    }
}

#[test]
fn signer_alone_reproduces_each_signature() {
    let v = vectors();
    let s = signer::Signer::new(MCHID, MERCHANT_SERIAL, merchant_key());
    let cases = v["request_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let header = s
            .authorization(
                str_of(case, "method"),
                str_of(case, "request_target"),
                str_of(case, "body").as_bytes(),
                str_of(case, "timestamp"),
                str_of(case, "nonce_str"),
            )
            .unwrap();
        let sig = authorization_fields(&header)
            .into_iter()
            .find(|(k, _)| k == "signature")
            .unwrap()
            .1;
        assert_eq!(sig, str_of(case, "signature"), "{}", str_of(case, "name"));
    }
}

fn platform_verifier() -> Verifier {
    let mut verifier = Verifier::new();
    verifier.add(PUB_KEY_ID, platform_public());
    verifier.add(
        PLATFORM_CERT_SERIAL,
        PublicKey::from_pem(&fixture("keys/platform_cert.pem")).unwrap(),
    );
    verifier
}

fn response_headers(case: &Value) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for (k, v) in case["headers"].as_object().unwrap() {
        headers.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.as_str().unwrap().parse().unwrap(),
        );
    }
    headers
}

/// A verifier's `Debug` names its serials, sorted, and nothing of the keys.
#[test]
fn a_verifier_shows_its_serials_only() {
    assert_eq!(
        format!("{:?}", platform_verifier()),
        format!("Verifier {{ serials: [{PLATFORM_CERT_SERIAL:?}, {PUB_KEY_ID:?}] }}")
    );
}

#[test]
fn every_response_case_is_accepted_or_rejected_as_it_says() {
    let v = vectors();
    let verifier = platform_verifier();
    let cases = v["response_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = str_of(case, "name");
        let ts: i64 = case["headers"]["Wechatpay-Timestamp"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let body = str_of(case, "body");
        let outcome = verifier.verify(&response_headers(case), body.as_bytes(), ts);
        // Each case is refused for its own reason: a tampered body by the key its
        // serial names, a genuine signature under an unknown serial before any key
        // is tried.
        let serial = str_of(&case["headers"], "Wechatpay-Serial").to_owned();
        let expected = match (str_of(case, "expected"), name) {
            ("accept", "valid") => Ok(()),
            ("reject", "tampered_body") => Err(Rejection::BadSignature { serial }),
            ("reject", "wrong_serial") => Err(Rejection::UnknownSerial {
                serial,
                known: vec![PLATFORM_CERT_SERIAL.into(), PUB_KEY_ID.into()],
            }),
            other => panic!("a response case this test does not know: {other:?}"),
        };
        assert_eq!(outcome, expected, "{name}");
        let headers = response_headers(case);
        let stv = wechatpay_chain::verifier::string_to_verify(
            headers["wechatpay-timestamp"].to_str().unwrap(),
            headers["wechatpay-nonce"].to_str().unwrap(),
            body.as_bytes(),
        );
        assert_eq!(
            String::from_utf8(stv).unwrap(),
            str_of(case, "string_to_verify"),
            "{name}"
        );
    }
}

/// The same response cases through the client pipeline: accepted answers decode,
/// rejected ones are verification errors that never hand the body over.
#[test]
fn response_cases_through_the_client() {
    let v = vectors();
    let cases = v["response_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = str_of(case, "name").to_owned();
        let ts: i64 = case["headers"]["Wechatpay-Timestamp"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let headers = response_headers(case);
        let body = Bytes::from(str_of(case, "body").to_owned());
        let client = builder("https://api.mch.weixin.qq.com/")
            .clock(move || ts)
            .sync_http_client(move |_req: http::Request<Bytes>| {
                let mut res = http::Response::builder()
                    .status(200)
                    .body(body.clone())
                    .unwrap();
                *res.headers_mut() = headers.clone();
                Ok::<_, Error>(res)
            })
            .build()
            .unwrap();
        let outcome = client
            .chain("v3/discount-card/orders/{out_order_no}")
            .get(seed_get_options());
        match str_of(case, "expected") {
            "accept" => {
                let order: Value = outcome.unwrap().json().unwrap();
                assert_eq!(order["total_amount"], 100, "{name}");
            }
            _ => {
                // The typed reason: a tampered body fails the signature, a wrong
                // serial names no key (and the text says so too).
                let (expected, needle) = match name.as_str() {
                    "tampered_body" => (
                        matches!(
                            &outcome,
                            Err(Error::Verification {
                                rejection: Rejection::BadSignature { .. },
                                ..
                            })
                        ),
                        "the signature does not match the body",
                    ),
                    _ => (
                        matches!(
                            &outcome,
                            Err(Error::Verification {
                                rejection: Rejection::UnknownSerial { .. },
                                ..
                            })
                        ),
                        "names no configured platform key",
                    ),
                };
                assert!(expected, "{name}: {outcome:?}");
                assert!(
                    matches!(&outcome, Err(Error::Verification { rejection, .. }) if rejection.to_string().contains(needle)),
                    "{name}: {outcome:?}"
                );
            }
        }
    }
}
