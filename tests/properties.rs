//! Property tests: nothing panics on any input, expansion never leaves the
//! template's own segments, and the verifier never accepts a body that was not signed.
//!
//! The pipeline is driven through the public API. A `before_signing` hook captures the
//! built (unsigned) request and aborts the call, so template parsing, expansion and the
//! option map run exactly as in production, without a signature per case. One property
//! uses a signing client whose transport counts the requests that reach it.
//!
//! Every property runs a fixed number of cases (`CASES`), so CI is deterministic in
//! length; `docs/security.md` records the totals.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::*;
use http::{HeaderMap, HeaderValue, Request};
use proptest::prelude::*;
use serde_json::{Map, Value};
use wechatpay_chain::verifier::{self, Rejection, Verifier};
use wechatpay_chain::{normalize_segment, Client, Endpoint, Error, TransportKind};

/// Cases per property in CI. `WECHATPAY_PROPTEST_CASES=N` runs longer by hand (the
/// extended figure in `docs/security.md`); CI never sets it.
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    let cases = std::env::var("WECHATPAY_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig {
        // No regression files written into the tree by CI runs.
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

type Captured = Arc<Mutex<Option<Request<Bytes>>>>;

thread_local! {
    static CAPTURING: (Client, Captured) = new_capturing_client();
}

/// This thread's capturing client (one per test thread: tests run in parallel).
fn capturing_client() -> (Client, Captured) {
    CAPTURING.with(|(client, captured)| (client.clone(), captured.clone()))
}

/// A client whose `before_signing` hook keeps the built request and aborts the call
/// with `Config("captured")`; its transports fail the test if reached.
fn new_capturing_client() -> (Client, Captured) {
    let captured: Captured = Arc::new(Mutex::new(None));
    let slot = captured.clone();
    let client = builder("https://api.mch.weixin.qq.com/")
        .before_signing(move |req| {
            *slot.lock().unwrap() = Some(req.clone());
            Err(Error::Config("captured".into()))
        })
        .sync_http_client(
            |_req: Request<Bytes>| -> Result<http::Response<Bytes>, Error> {
                panic!("the capturing client never sends")
            },
        )
        .build()
        .unwrap();
    (client, captured)
}

/// Runs a GET on `template` with `options` through the capturing client: the built
/// request, or the error that stopped it earlier.
fn build(
    client: &Client,
    captured: &Captured,
    template: &str,
    options: Value,
) -> Result<Request<Bytes>, Error> {
    captured.lock().unwrap().take();
    let outcome = client.chain(template).get(options);
    let request = captured.lock().unwrap().take();
    match (outcome, request) {
        (Err(Error::Config(m)), Some(req)) if m == "captured" => Ok(req),
        (Err(e), None) => Err(e),
        (other, req) => panic!("unexpected outcome {other:?} (captured: {})", req.is_some()),
    }
}

fn expanded_path(req: &Request<Bytes>) -> String {
    req.extensions()
        .get::<Endpoint>()
        .expect("the build stage records the endpoint")
        .path
        .clone()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The segments of `path` but a final empty one: one trailing slash is kept and
/// sent by design (DESIGN.md, as PHP sends it), e.g. `v3/ecommerce/applyments/`.
fn inner_segments(path: &str) -> impl Iterator<Item = &str> {
    path.strip_suffix('/').unwrap_or(path).split('/')
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// Strings heavy in the characters the parser treats specially.
fn template_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9{}<>+#?./%_~:;,=*&!@ -]{0,40}",
        "(/?([a-z0-9]{1,6}|\\{[a-z_+#.;?]{0,6}\\}|<[a-z_]{0,6}>|%[0-9a-fA-FgG]{0,2}|\\.{1,3})){1,6}/?",
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        any::<String>().prop_map(Value::String),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(Value::String("https://api2.mch.weixin.qq.com/".into())),
        Just(Value::String("http://127.0.0.1:1/".into())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((option_key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Option keys: every accepted one, the APIv2 ones, the template's placeholder, typos
/// and arbitrary text.
fn option_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "json",
            "body",
            "query",
            "headers",
            "timeout",
            "connect_timeout",
            "base_uri",
            "xml",
            "nonceless",
            "security",
            "id",
            "jsno",
            "Content-Type",
            "Authorization",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

const ACCEPTED_V3: &[&str] = &[
    "json",
    "body",
    "query",
    "headers",
    "timeout",
    "connect_timeout",
    "base_uri",
    "id",
];

proptest! {
    #![proptest_config(config())]

    /// PHP normalisation never panics, never leaves an ASCII capital, and applying
    /// it twice changes nothing.
    #[test]
    fn normalize_segment_is_total_and_idempotent(seg in template_like()) {
        let once = normalize_segment(&seg);
        prop_assert!(!once.bytes().any(|b| b.is_ascii_uppercase()), "{once}");
        prop_assert_eq!(normalize_segment(&once), once.clone());
        // Through the chain API as well: a template or a clear error, no panic.
        let (client, _) = capturing_client();
        let _ = client.seg(&seg).seg(&seg).template().to_owned();
    }

    /// Any text as a template: parsing never panics, a parsed template prints a text
    /// that parses to itself, and any options expand to a path or a clear error.
    #[test]
    fn any_template_and_options_never_panic(raw in template_like(), value in json_value()) {
        let (client, captured) = capturing_client();
        let chain = client.chain(&raw);
        let shown = chain.template().to_owned();
        let options = match value {
            Value::Object(_) | Value::Null => value,
            other => {
                let mut map = Map::new();
                for name in ["id", "x", "a"] {
                    map.insert(name.to_owned(), other.clone());
                }
                Value::Object(map)
            }
        };
        match build(&client, &captured, &raw, options) {
            Ok(req) => {
                let path = expanded_path(&req);
                let path_part = path.split('?').next().unwrap();
                for seg in inner_segments(path_part) {
                    prop_assert!(!seg.is_empty() && seg != "." && seg != "..", "{path}");
                }
                prop_assert!(!path.contains('#'), "{path}");
                // A template that built a request prints a text that parses to itself.
                let again = client.chain(&shown);
                prop_assert_eq!(again.template(), shown.as_str());
            }
            Err(e) => {
                prop_assert!(e.is_before_send(), "{e:?}");
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// A `{x}` value stays inside its own segment: the path has the template's
    /// segments, literals unchanged, each value percent-encoded (no raw `/`, `?`, `#`)
    /// and decoding back to the value. Only an empty, `.` or `..` value is refused.
    #[test]
    fn simple_expansion_stays_in_its_segment(
        segments in prop::collection::vec(
            prop_oneof![
                "[a-z0-9][a-z0-9_-]{0,7}".prop_map(|s| (s, false)),
                Just(("{p}".to_owned(), true)),
                Just(("<q>".to_owned(), true)),
            ],
            1..6,
        ),
        p in prop_oneof![any::<String>(), Just(".".to_owned()), Just("..".to_owned()), "[./?#%]{0,4}"],
        q in prop_oneof![any::<String>(), "[a-z/?#&=%. ]{0,8}"],
    ) {
        let mut segments = segments;
        segments.insert(0, ("v3".to_owned(), false));
        let template = segments.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join("/");
        let (client, captured) = capturing_client();
        let uses = |name: &str| segments.iter().any(|(s, _)| s.contains(name));
        let mut options = Map::new();
        if uses("{p}") {
            options.insert("p".into(), Value::String(p.clone()));
        }
        if uses("<q>") {
            options.insert("q".into(), Value::String(q.clone()));
        }
        let options = Value::Object(options);
        let refused = |v: &str| v.is_empty() || v == "." || v == "..";
        let should_fail = (uses("{p}") && refused(&p)) || (uses("<q>") && refused(&q));
        match build(&client, &captured, &template, options) {
            Ok(req) => {
                prop_assert!(!should_fail, "{template} expanded with p={p:?} q={q:?}");
                let path = expanded_path(&req);
                let pieces: Vec<&str> = path.split('/').collect();
                prop_assert_eq!(pieces.len(), segments.len(), "{}", path);
                for ((seg, is_var), piece) in segments.iter().zip(&pieces) {
                    if *is_var {
                        prop_assert!(piece.chars().all(|c| is_unreserved(c) || c == '%'), "{piece}");
                        let want = if seg == "{p}" { &p } else { &q };
                        prop_assert_eq!(percent_decode(piece), want.as_bytes().to_vec());
                    } else {
                        prop_assert_eq!(*piece, seg.as_str());
                    }
                }
                prop_assert!(req.uri().query().is_none(), "{}", req.uri());
            }
            Err(e) => {
                prop_assert!(should_fail, "{template}: {e}");
                prop_assert!(matches!(e, Error::Placeholder { .. }), "{e:?}");
            }
        }
    }

    /// `{+x}` may add segments by design, but never an empty, `.` or `..` one, never a
    /// fragment, and never a raw `%` that is not its own encoding; and a plain value
    /// (unreserved segments joined by `/`) always builds.
    #[test]
    fn reserved_expansion_never_escapes(
        value in prop_oneof![
            any::<String>(),
            "[a-z./?#%]{0,10}",
            "[a-z0-9_-]{1,6}(/[a-zA-Z0-9._~-]{1,6}){0,3}",
        ]
    ) {
        let (client, captured) = capturing_client();
        let options = serde_json::json!({ "path": value.clone() });
        let plain = value.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.chars().all(is_unreserved)
        });
        let built = build(&client, &captured, "v3/files/{+path}", options);
        if let Err(e) = &built {
            prop_assert!(!plain, "{value:?} is plain yet refused: {e}");
        }
        if let Ok(req) = built {
            let path = expanded_path(&req);
            prop_assert!(path.starts_with("v3/files/"), "{path}");
            prop_assert!(!path.contains('#'), "{path}");
            let path_part = path.split('?').next().unwrap();
            for seg in inner_segments(path_part) {
                prop_assert!(!seg.is_empty() && seg != "." && seg != "..", "{path}");
            }
            // Every `%` in the output starts an escape of the value's own bytes.
            let tail = &path["v3/files/".len()..];
            prop_assert_eq!(percent_decode(tail), value.as_bytes().to_vec());
        }
    }

    /// The option map: any map either builds a request consistent with it or is
    /// refused before sending; an unknown key, or `json` with `body`, is always
    /// refused.
    #[test]
    fn options_map_is_total_and_strict(
        entries in prop::collection::vec((option_key(), json_value()), 0..6),
        id in "[a-z0-9]{1,8}",
    ) {
        let mut map: Map<String, Value> = entries.into_iter().collect();
        map.entry("id").or_insert(Value::String(id));
        let unknown = map.keys().any(|k| !ACCEPTED_V3.contains(&k.as_str()));
        let both = map.contains_key("json") && map.contains_key("body");
        let (client, captured) = capturing_client();
        match build(&client, &captured, "v3/things/{id}", Value::Object(map.clone())) {
            Ok(req) => {
                prop_assert!(!unknown && !both, "{map:?} built a request");
                if let Some(json) = map.get("json") {
                    let want = serde_json::to_vec(json).unwrap();
                    prop_assert_eq!(req.body().as_ref(), want.as_slice());
                    prop_assert_eq!(&req.headers()["content-type"], "application/json");
                }
                if let Some(Value::String(body)) = map.get("body") {
                    prop_assert_eq!(req.body().as_ref(), body.as_bytes());
                }
                if map.get("json").is_none() && map.get("body").is_none() {
                    prop_assert!(req.body().is_empty());
                }
                prop_assert!(req.headers().get("authorization").is_none());
            }
            Err(e) => prop_assert!(e.is_before_send(), "{e:?}"),
        }
    }

    /// With a signing client: a call the option map refuses never reaches the
    /// transport, and a call that reaches it was valid.
    #[test]
    fn refused_options_never_reach_the_transport(
        entries in prop::collection::vec((option_key(), json_value()), 0..4),
    ) {
        let reached = Arc::new(AtomicUsize::new(0));
        let counter = reached.clone();
        let client = builder("https://api.mch.weixin.qq.com/")
            .sync_http_client(move |_req: Request<Bytes>| -> Result<http::Response<Bytes>, Error> {
                counter.fetch_add(1, Ordering::SeqCst);
                Err(Error::Transport { kind: TransportKind::Other, source: "reached".into() })
            })
            .build()
            .unwrap();
        let mut map: Map<String, Value> = entries.into_iter().collect();
        map.entry("id").or_insert(Value::from(7));
        let unknown = map.keys().any(|k| !ACCEPTED_V3.contains(&k.as_str()));
        let outcome = client.chain("v3/things/{id}").post(Value::Object(map.clone()));
        let sent = reached.load(Ordering::SeqCst);
        match outcome {
            Err(Error::Transport { .. }) => prop_assert_eq!(sent, 1),
            Err(e) => {
                prop_assert!(e.is_before_send(), "{e:?}");
                prop_assert_eq!(sent, 0, "a refused call reached the transport");
            }
            Ok(res) => prop_assert!(false, "no answer expected: {res:?}"),
        }
        if unknown {
            prop_assert_eq!(sent, 0, "an unknown key reached the transport: {:?}", map);
        }
    }
}

/// How a signed answer is tampered with.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit { index: usize, bit: u8 },
    Append(u8),
    Truncate(usize),
    ReplaceBody(Vec<u8>),
    Nonce(String),
    TimestampShift(i64),
    ForeignSignature(Vec<u8>),
    Serial(String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(index, bit)| Mutation::FlipBit { index, bit }),
        any::<u8>().prop_map(Mutation::Append),
        any::<usize>().prop_map(Mutation::Truncate),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Mutation::ReplaceBody),
        "[0-9A-Za-z]{1,32}".prop_map(Mutation::Nonce),
        prop_oneof![-300i64..=-1, 1i64..=300].prop_map(Mutation::TimestampShift),
        prop::collection::vec(any::<u8>(), 256).prop_map(Mutation::ForeignSignature),
        "[0-9A-Z_]{1,40}".prop_map(Mutation::Serial),
    ]
}

fn signed(body: &[u8], ts: i64, nonce: &str) -> HeaderMap {
    let sig = platform_private()
        .sign_base64(&verifier::string_to_verify(&ts.to_string(), nonce, body))
        .unwrap();
    let mut h = HeaderMap::new();
    h.insert(verifier::TIMESTAMP, ts.into());
    h.insert(verifier::NONCE, HeaderValue::from_str(nonce).unwrap());
    h.insert(verifier::SERIAL, HeaderValue::from_static(PUB_KEY_ID));
    h.insert(verifier::SIGNATURE, HeaderValue::from_str(&sig).unwrap());
    h
}

fn platform_verifier() -> Verifier {
    let mut v = Verifier::new();
    v.add(PUB_KEY_ID, platform_public());
    v
}

proptest! {
    #![proptest_config(config())]

    /// A random body signed by the platform key verifies; any tampering with the body,
    /// nonce, timestamp, signature or serial is refused.
    #[test]
    fn verifier_accepts_only_what_was_signed(
        body in prop::collection::vec(any::<u8>(), 0..512),
        nonce in "[0-9A-Za-z]{32}",
        skew in -300i64..=300,
        change in mutation(),
    ) {
        use base64::Engine as _;
        let now = 1_700_000_000i64;
        let ts = now + skew;
        let v = platform_verifier();
        let headers = signed(&body, ts, &nonce);
        prop_assert_eq!(v.verify(&headers, &body, now), Ok(()));

        let mut h = headers.clone();
        let mut b = body.clone();
        match &change {
            Mutation::FlipBit { index, bit } => {
                if b.is_empty() {
                    b.push(1 << bit);
                } else {
                    let i = index % b.len();
                    b[i] ^= 1 << bit;
                }
            }
            Mutation::Append(x) => b.push(*x),
            Mutation::Truncate(n) => {
                if b.is_empty() {
                    b.push(b'x');
                } else {
                    b.truncate(n % b.len());
                }
            }
            Mutation::ReplaceBody(other) => {
                if *other == body {
                    b.push(b'!');
                } else {
                    b = other.clone();
                }
            }
            Mutation::Nonce(n) => {
                let n = if *n == nonce { format!("{n}0") } else { n.clone() };
                h.insert(verifier::NONCE, HeaderValue::from_str(&n).unwrap());
            }
            Mutation::TimestampShift(d) => {
                h.insert(verifier::TIMESTAMP, (ts + d).into());
            }
            Mutation::ForeignSignature(raw) => {
                let sig = base64::engine::general_purpose::STANDARD.encode(raw);
                h.insert(verifier::SIGNATURE, HeaderValue::from_str(&sig).unwrap());
            }
            Mutation::Serial(s) => {
                let s = if s == PUB_KEY_ID { format!("{s}0") } else { s.clone() };
                h.insert(verifier::SERIAL, HeaderValue::from_str(&s).unwrap());
            }
        }
        let verdict = v.verify(&h, &b, now);
        prop_assert!(verdict.is_err(), "{change:?} was accepted");
        match change {
            Mutation::Serial(_) => {
                let unknown = matches!(verdict, Err(Rejection::UnknownSerial { .. }));
                prop_assert!(unknown, "{:?}", verdict);
            }
            Mutation::TimestampShift(_) => {
                let refused = matches!(
                    verdict,
                    Err(Rejection::BadSignature { .. } | Rejection::Stale { .. })
                );
                prop_assert!(refused, "{:?}", verdict);
            }
            _ => {
                let bad = matches!(verdict, Err(Rejection::BadSignature { .. }));
                prop_assert!(bad, "{:?}", verdict);
            }
        }
    }

    /// Arbitrary headers, body and clock: the verifier answers, never panics, and
    /// never accepts (nothing here was signed).
    #[test]
    fn verifier_is_total_on_garbage(
        ts in prop_oneof![
            "[ -~]{0,24}",
            any::<i64>().prop_map(|n| n.to_string()),
            Just("99999999999999999999999".to_owned()),
        ],
        nonce in "[ -~]{0,40}",
        serial in prop_oneof![Just(PUB_KEY_ID.to_owned()), "[ -~]{0,40}"],
        signature in "[ -~]{0,400}",
        body in prop::collection::vec(any::<u8>(), 0..256),
        now in any::<i64>(),
        drop in prop::option::of(0usize..4),
    ) {
        let v = platform_verifier();
        let mut h = HeaderMap::new();
        let names = [verifier::TIMESTAMP, verifier::NONCE, verifier::SERIAL, verifier::SIGNATURE];
        for (i, (name, value)) in names.iter().zip([&ts, &nonce, &serial, &signature]).enumerate() {
            if drop != Some(i) {
                h.insert(*name, HeaderValue::from_str(value).unwrap());
            }
        }
        let verdict = v.verify(&h, &body, now);
        prop_assert!(verdict.is_err());
        if let Err(reason) = verdict {
            prop_assert!(!reason.to_string().is_empty());
        }
    }

    /// XML-like input built from tags, text, CDATA, references and declarations, up
    /// to 40 levels deep: the APIv2 reader answers, never panics, accepts no nesting
    /// past its limit, and what it accepts writes back to XML it reads again (the
    /// oracle of the `xml` fuzz target).
    #[test]
    fn xml_reader_is_total_and_bounded(
        parts in prop::collection::vec(prop_oneof![
            "[a-z]{1,3}".prop_map(|n| format!("<{n}>")),
            "[a-z]{1,3}".prop_map(|n| format!("</{n}>")),
            "[a-z]{1,3}".prop_map(|n| format!("<{n}/>")),
            "[ -~]{0,8}",
            "[ -~]{0,8}".prop_map(|t| format!("<![CDATA[{t}]]>")),
            prop::sample::select(vec!["&amp;", "&lt;", "&#x4E2D;", "&e;", "<!DOCTYPE x>", "<?xml version=\"1.0\"?>", "<!-- c -->", "]]>"]).prop_map(str::to_owned),
            (1usize..40).prop_map(|d| "<a>".repeat(d)),
            (1usize..40).prop_map(|d| "</a>".repeat(d)),
        ], 0..24),
    ) {
        let text = format!("<xml>{}</xml>", parts.concat());
        if let Ok(map) = wechatpay_chain::v2::from_xml(&text) {
            prop_assert!(map_depth(&map) < wechatpay_chain::v2::MAX_DEPTH, "{text}");
            let written = wechatpay_chain::v2::to_xml(&map);
            prop_assert!(wechatpay_chain::v2::from_xml(&written).is_ok(), "{written}");
        }
    }
}

/// Levels of maps in `map` (1 when flat).
fn map_depth(map: &Map<String, Value>) -> usize {
    1 + map
        .values()
        .filter_map(Value::as_object)
        .map(map_depth)
        .max()
        .unwrap_or(0)
}
