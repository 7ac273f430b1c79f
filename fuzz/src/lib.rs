//! The oracles behind the fuzz targets, driven through the crate's public API.
//!
//! A capturing client aborts every call in its `before_signing` hook, after the
//! template was parsed and expanded and the option map checked, so each input costs
//! no signature and never reaches a transport. A target panics (a finding) when the
//! crate panics or when an oracle below fails.

use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request};
use serde_json::{Map, Value};
use wechatpay_chain::v2;
use wechatpay_chain::verifier::{self, Verifier};
use wechatpay_chain::{normalize_segment, Client, Endpoint, Error, PrivateKey, PublicKey};

const MERCHANT_PRIVATE: &str = include_str!("../../tests/fixtures/keys/merchant_private.pem");
const PLATFORM_PRIVATE: &str = include_str!("../../tests/fixtures/keys/platform_private.pem");
const PLATFORM_PUBLIC: &str = include_str!("../../tests/fixtures/keys/platform_public.pem");
const PUB_KEY_ID: &str = "PUB_KEY_ID_0112345678902024000000000000";

type Captured = Arc<Mutex<Option<Request<Bytes>>>>;

fn capturing() -> &'static (Client, Captured) {
    static CLIENT: OnceLock<(Client, Captured)> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let captured: Captured = Arc::new(Mutex::new(None));
        let slot = captured.clone();
        let client = Client::builder()
            .mchid("1900000001")
            .serial("3775B6A45ACD588826D15E583A95F5DD00000001")
            .private_key(PrivateKey::from_pem(MERCHANT_PRIVATE).expect("fixture key"))
            .platform_key(
                PUB_KEY_ID,
                PublicKey::from_pem(PLATFORM_PUBLIC).expect("fixture key"),
            )
            .before_signing(move |req| {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(req.clone());
                Err(Error::Config("captured".into()))
            })
            .sync_http_client(
                |_: Request<Bytes>| -> Result<http::Response<Bytes>, Error> {
                    panic!("the capturing client never sends")
                },
            )
            .build()
            .expect("fixture client");
        (client, captured)
    })
}

/// Runs a POST through the capturing client: the built request, or the error that
/// stopped the call before signing.
fn build(template: &str, options: Value) -> Result<Request<Bytes>, Error> {
    let (client, captured) = capturing();
    captured.lock().unwrap_or_else(|p| p.into_inner()).take();
    let outcome = client.chain(template).post(options);
    let request = captured.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (outcome, request) {
        (Err(Error::Config(m)), Some(req)) if m == "captured" => Ok(req),
        (Err(e), None) => {
            assert!(e.is_before_send(), "refused after sending: {e:?}");
            Err(e)
        }
        (other, req) => panic!("unexpected: {other:?} (captured: {})", req.is_some()),
    }
}

fn expanded(req: &Request<Bytes>) -> String {
    req.extensions()
        .get::<Endpoint>()
        .map(|e| e.path.clone())
        .expect("the build stage records the endpoint")
}

fn assert_inside(path: &str) {
    assert!(!path.contains('#'), "fragment in {path:?}");
    let path_part = path.split('?').next().unwrap_or_default();
    for seg in path_part.split('/') {
        assert!(
            !seg.is_empty() && seg != "." && seg != "..",
            "segment {seg:?} in {path:?}"
        );
    }
}

/// Placeholder names in a normalised template (`{name}` and `{+name}`).
fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        names.push(
            rest[open + 1..open + close]
                .trim_start_matches('+')
                .to_owned(),
        );
        rest = &rest[open + close + 1..];
    }
    names
}

/// Template parse and expansion. Input: template bytes, a NUL, the value given to
/// every placeholder. Oracle: a built path stays inside the template's segments; with
/// no `{+x}`, it has exactly the template's segment count and no query.
pub fn template(data: &[u8]) {
    let (raw, value) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"v"[..]),
    };
    let raw = String::from_utf8_lossy(raw);
    let value = String::from_utf8_lossy(value).into_owned();
    let (client, _) = capturing();
    let shown = client.chain(&raw).template().to_owned();
    let mut options = Map::new();
    for name in placeholders(&shown) {
        options.insert(name, Value::String(value.clone()));
    }
    if let Ok(req) = build(&raw, Value::Object(options)) {
        let path = expanded(&req);
        assert_inside(&path);
        if !shown.contains("{+") {
            assert_eq!(
                path.split('/').count(),
                shown.split('/').count(),
                "{shown:?} expanded to {path:?}"
            );
            assert!(!path.contains('?'), "{path:?}");
        }
    }
}

/// PHP segment normalisation. Oracle: no ASCII capital left, idempotent, and the
/// chain API takes the segment without panicking.
pub fn segment(data: &[u8]) {
    let seg = String::from_utf8_lossy(data);
    let once = normalize_segment(&seg);
    assert!(!once.bytes().any(|b| b.is_ascii_uppercase()), "{once:?}");
    assert_eq!(normalize_segment(&once), once, "not idempotent");
    let (client, _) = capturing();
    let _ = client.seg(&seg).seg("x").template().len();
}

const ACCEPTED: &[&str] = &[
    "json",
    "body",
    "query",
    "headers",
    "timeout",
    "connect_timeout",
    "base_uri",
    "id",
];

/// The option map. Input: any JSON. Oracle: a request is built only when every key
/// is accepted and `json`/`body` are not both given; its body is what was given.
pub fn options(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let built = build("v3/things/{id}", value.clone());
    if let Ok(req) = built {
        let map = value.as_object().cloned().unwrap_or_default();
        assert!(
            map.keys().all(|k| ACCEPTED.contains(&k.as_str())),
            "built with {map:?}"
        );
        assert!(!(map.contains_key("json") && map.contains_key("body")));
        if let Some(json) = map.get("json") {
            let want = serde_json::to_vec(json).expect("a Value serialises");
            assert_eq!(req.body().as_ref(), want.as_slice());
        }
        assert_inside(&expanded(&req));
    }
}

struct Signed {
    headers: HeaderMap,
    body: Vec<u8>,
    now: i64,
    verifier: Verifier,
}

fn signed() -> &'static Signed {
    static SIGNED: OnceLock<Signed> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let now = 1_700_000_000i64;
        let body = br#"{"out_order_no":"233bcbf407e87789b8e471f251774f95","amount":100}"#.to_vec();
        let nonce = "4E0C2F1A9B8D7C6E5F4A3B2C1D0E9F8A";
        let key = PrivateKey::from_pem(PLATFORM_PRIVATE).expect("fixture key");
        let sig = key
            .sign_base64(&verifier::string_to_verify(&now.to_string(), nonce, &body))
            .expect("signs");
        let mut headers = HeaderMap::new();
        headers.insert(verifier::TIMESTAMP, now.into());
        headers.insert(verifier::NONCE, HeaderValue::from_static(nonce));
        headers.insert(verifier::SERIAL, HeaderValue::from_static(PUB_KEY_ID));
        headers.insert(
            verifier::SIGNATURE,
            HeaderValue::from_str(&sig).expect("base64 is a header value"),
        );
        let mut verifier = Verifier::new();
        verifier.add(
            PUB_KEY_ID,
            PublicKey::from_pem(PLATFORM_PUBLIC).expect("fixture key"),
        );
        Signed {
            headers,
            body,
            now,
            verifier,
        }
    })
}

/// The response verifier. Input: a selector byte and replacement bytes for one part
/// of a validly signed answer (body, timestamp, nonce, serial, signature, or the
/// clock). Oracle: the answer verifies only if what was signed is unchanged.
pub fn verifier(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let s = signed();
    let mut headers = s.headers.clone();
    let mut body = s.body.clone();
    let mut now = s.now;
    let names = [
        verifier::TIMESTAMP,
        verifier::NONCE,
        verifier::SERIAL,
        verifier::SIGNATURE,
    ];
    match which % 7 {
        0 => body = rest.to_vec(),
        5 => {
            let mut n = [0u8; 8];
            for (d, b) in n.iter_mut().zip(rest) {
                *d = *b;
            }
            now = i64::from_le_bytes(n);
        }
        6 => {
            headers.remove(names[usize::from(rest.first().copied().unwrap_or(0)) % 4]);
        }
        k => {
            let Ok(v) = HeaderValue::from_bytes(rest) else {
                return;
            };
            headers.insert(names[usize::from(k) - 1], v);
        }
    }
    if let Ok(()) = s.verifier.verify(&headers, &body, now) {
        assert_eq!(body, s.body, "accepted a body that was not signed");
        for name in names {
            let got = headers.get(name).map(|v| v.as_bytes());
            let want = s.headers.get(name).map(|v| v.as_bytes());
            let (got, want) = if name == verifier::SIGNATURE {
                // Surrounding whitespace is not part of base64; the bytes are equal.
                (got.map(|g| g.trim_ascii()), want.map(|w| w.trim_ascii()))
            } else {
                (got, want)
            };
            assert_eq!(got, want, "accepted a changed `{name}`");
        }
        assert!(now.abs_diff(s.now) <= 300, "accepted at {now}");
    } else if which % 7 == 0 && body == s.body {
        panic!("refused the signed answer");
    }
}

/// The APIv2 XML reader (answers and notifications, read before any sign check).
/// Input: any bytes as text. Oracle: no panic and no stack overflow; what it accepts
/// nests no deeper than the limit, and writing it back gives XML it reads again.
pub fn xml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(map) = v2::from_xml(&text) else {
        return;
    };
    // The root is one level; its children start the second.
    assert!(
        depth_of_map(&map) < v2::MAX_DEPTH,
        "accepted nesting deeper than the limit"
    );
    let written = v2::to_xml(&map);
    if let Err(e) = v2::from_xml(&written) {
        panic!("reading back what was written failed: {e}: {written}");
    }
}

/// How many levels of maps `map` holds (1 for a flat map).
fn depth_of_map(map: &Map<String, Value>) -> usize {
    // Iterative, like the reader: the oracle must not overflow where the reader did not.
    let mut deepest = 0;
    let mut pending = vec![(map, 1usize)];
    while let Some((m, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        for v in m.values() {
            if let Value::Object(child) = v {
                pending.push((child, depth + 1));
            }
        }
    }
    deepest
}
