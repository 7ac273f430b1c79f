//! Every catalogue operation against one sandbox, through a real `Client` on
//! loopback: one valid request each (built here from the catalogue's examples and
//! types), and, where the body has a required member, the same request without it.
//! The expected counts are computed from the catalogue, not from the sandbox.

use std::collections::HashMap;
use std::io::{Read, Write};

use serde_json::{json, Map, Value};
use wechatpay_chain::media::Media;
use wechatpay_chain::{v2, Client, Error};
use wechatpay_chain_catalogue::schema::{self, JsonType, Location, OperationSchema, Schema};
use wechatpay_chain_catalogue::{operations, Operation};
use wechatpay_chain_sandbox::{Sandbox, StatusCode, APIV2_SECRET, SEED_ORDER};

/// APIv2 fields the client writes itself (`nonce_str`, `sign`) or insists on
/// (the merchant id): a request "without" them is not one the client sends.
const V2_CLIENT_FIELDS: &[&str] = &[
    "sign",
    "nonce_str",
    "sign_type",
    "mch_id",
    "mchid",
    "combine_mch_id",
];

/// APIv2 ids WeChat wants one of ("二选一"), though the tables mark each
/// required: leaving one out is no error when the other is there.
const V2_EITHER: &[&str] = &[
    "transaction_id",
    "out_trade_no",
    "refund_id",
    "out_refund_no",
];

/// The payment loop's operations the sandbox answers from its state: a valid
/// request with made-up ids is validated, then meets the state lookup, and WeChat's
/// answer for an unknown order or refund is this 404 code. (`tests/payment_loop.rs`
/// drives them with real state.)
const STATE_LOOKUPS: &[(&str, &str)] = &[
    ("v3/pay/transactions/id/{transaction_id}", "ORDER_NOT_EXIST"),
    (
        "v3/pay/transactions/out-trade-no/{out_trade_no}",
        "ORDER_NOT_EXIST",
    ),
    (
        "v3/pay/transactions/out-trade-no/{out_trade_no}/close",
        "ORDER_NOT_EXIST",
    ),
    (
        "v3/pay/partner/transactions/id/{transaction_id}",
        "ORDER_NOT_EXIST",
    ),
    (
        "v3/pay/partner/transactions/out-trade-no/{out_trade_no}",
        "ORDER_NOT_EXIST",
    ),
    (
        "v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close",
        "ORDER_NOT_EXIST",
    ),
    ("v3/refund/domestic/refunds", "RESOURCE_NOT_EXISTS"),
    (
        "v3/refund/domestic/refunds/{out_refund_no}",
        "RESOURCE_NOT_EXISTS",
    ),
];

/// What WeChat requires that the upstream schema leaves out (an H5 payment needs
/// the payer's IP and the H5 scene's type; upstream's H5 `scene_info` marks
/// neither): the valid request carries it, as a real one must.
const BEYOND_THE_CATALOGUE: &[(&str, &str)] = &[
    ("v3/pay/transactions/h5", H5_SCENE),
    ("v3/pay/partner/transactions/h5", H5_SCENE),
];
const H5_SCENE: &str = r#"{"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}}"#;

/// A merchant order number no other operation of the run uses: the payment loop
/// refuses a second order under one number, and finds it when queried.
fn unique_order_no() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("CATALOGUE{n:08}")
}

/// Body and query members naming the merchant: a valid request names the one the
/// Authorization header signs for (WeChat refuses another).
const MERCHANT_IDS: &[&str] = &["mchid", "sp_mchid"];

/// A valid value of `schema`: the first `enum` value, else the example when it
/// fits, else a value of the type; objects carry their required members.
fn sample(schema: &Schema) -> Value {
    if let Some(first) = schema.one_of.first() {
        return sample(first);
    }
    if let Some(first) = schema.allowed.first() {
        // Some string enums are listed as numbers; send them as the type says.
        return match (schema.json_type, first) {
            (Some(JsonType::String), Value::Number(n)) => Value::String(n.to_string()),
            _ => first.clone(),
        };
    }
    let example = schema.example.clone();
    let is_object = schema.json_type == Some(JsonType::Object)
        || (schema.json_type.is_none() && !schema.properties.is_empty());
    if is_object {
        let mut members = Map::new();
        for name in &schema.required {
            let value = schema.properties.get(name).map_or(json!("sample"), sample);
            members.insert(name.clone(), value);
        }
        return Value::Object(members);
    }
    match schema.json_type {
        Some(JsonType::Integer) => example
            .filter(|v| v.is_i64() || v.is_u64())
            .unwrap_or(json!(1)),
        Some(JsonType::Number) => example.filter(Value::is_number).unwrap_or(json!(1)),
        Some(JsonType::Boolean) => example.filter(Value::is_boolean).unwrap_or(json!(true)),
        Some(JsonType::Array) => Value::Array(schema.items.iter().map(|i| sample(i)).collect()),
        _ => {
            let text = match example {
                Some(Value::String(s)) if !s.is_empty() => s,
                Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                _ => "sample".to_owned(),
            };
            let max = schema.max_length.unwrap_or(u64::MAX) as usize;
            Value::String(text.chars().take(max.max(1)).collect())
        }
    }
}

/// A sample as text (a path segment, a query parameter, an XML element).
fn text(schema: &Schema) -> String {
    match sample(schema) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Whether `value` has every required member of `schema`, of its type, at every
/// depth. The error names the first member that does not.
fn conforms(schema: &Schema, value: &Value, at: &str) -> Result<(), String> {
    if let Some(first) = schema.one_of.first() {
        if schema.one_of.iter().any(|s| conforms(s, value, at).is_ok()) {
            return Ok(());
        }
        return conforms(first, value, at);
    }
    let typed = match schema.json_type {
        Some(JsonType::String) => value.is_string(),
        Some(JsonType::Integer) => value.is_i64() || value.is_u64(),
        Some(JsonType::Number) => value.is_number(),
        Some(JsonType::Boolean) => value.is_boolean(),
        Some(JsonType::Array) => value.is_array(),
        Some(JsonType::Object) => value.is_object(),
        _ => true,
    };
    if !typed {
        return Err(format!("{at} is {value}, not a {:?}", schema.json_type));
    }
    if let Value::Object(members) = value {
        for name in &schema.required {
            let member = members
                .get(name)
                .ok_or_else(|| format!("{at}/{name} is missing"))?;
            if let Some(s) = schema.properties.get(name) {
                conforms(s, member, &format!("{at}/{name}"))?;
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, &schema.items) {
        for (i, v) in items.iter().enumerate() {
            conforms(item, v, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

/// A request built for one operation.
struct Built {
    /// The option map of the chain call (placeholders, `query`, `json` or `xml`).
    options: Map<String, Value>,
    /// The body member left out of the invalid twin, when there is one.
    required: Option<String>,
}

/// The `{placeholder}` names of a template.
fn placeholders(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

fn v3_request(op: &Operation, schema: &OperationSchema, mchid: &str) -> Built {
    let mut options = Map::new();
    for name in placeholders(op.path()) {
        let documented = schema
            .parameters_in(Location::Path)
            .find(|p| p.name == name);
        let value = if op.path().starts_with("v3/discount-card/orders/") {
            // The discount-card orders are stateful: the seed's order exists.
            SEED_ORDER.to_owned()
        } else if name == "out_trade_no" {
            unique_order_no()
        } else {
            documented.map_or("sample1".into(), |p| text(&p.schema))
        };
        options.insert(name.to_owned(), Value::String(value));
    }
    let query: Map<String, Value> = schema
        .parameters_in(Location::Query)
        .filter(|p| p.required)
        .map(|p| {
            let value = if MERCHANT_IDS.contains(&p.name.as_str()) {
                mchid.to_owned()
            } else {
                text(&p.schema)
            };
            (p.name.clone(), Value::String(value))
        })
        .collect();
    if !query.is_empty() {
        options.insert("query".into(), Value::Object(query));
    }
    let mut required = None;
    if let Some(body) = &schema.body {
        let mut json = sample(body);
        // Members the path carries are not repeated (the discount-card PATCH
        // refuses them).
        if let Value::Object(members) = &mut json {
            members.retain(|k, _| !options.contains_key(k));
            for id in MERCHANT_IDS {
                if let Some(value) = members.get_mut(*id) {
                    *value = Value::String(mchid.to_owned());
                }
            }
            if let Some(value) = members.get_mut("out_trade_no") {
                *value = Value::String(unique_order_no());
            }
            for (path, scene) in BEYOND_THE_CATALOGUE {
                if *path == op.path() {
                    let scene: Value = serde_json::from_str(scene).unwrap();
                    members.insert("scene_info".into(), scene);
                }
            }
            // WeChat wants one of the pair ("二选一") where the schema marks neither.
            let pair = ["out_trade_no", "transaction_id"];
            if pair.iter().all(|k| !members.contains_key(*k)) {
                if let Some(member) = body.properties.get(pair[0]) {
                    members.insert(pair[0].to_owned(), sample(member));
                }
            }
        }
        options.insert("json".into(), json);
        required = body
            .required
            .iter()
            .find(|r| !options.contains_key(r.as_str()))
            .cloned();
    }
    Built { options, required }
}

fn v2_request(op: &Operation, schema: &OperationSchema, mchid: &str) -> Built {
    let mut fields = Map::new();
    let mut required = None;
    if let Some(body) = &schema.body {
        for name in &body.required {
            if V2_CLIENT_FIELDS.contains(&name.as_str()) {
                continue;
            }
            let value = body.properties.get(name).map_or("sample".into(), text);
            fields.insert(name.clone(), Value::String(value));
            if !V2_EITHER.contains(&name.as_str()) {
                required.get_or_insert_with(|| name.clone());
            }
        }
    }
    for p in schema.parameters_in(Location::Query).filter(|p| p.required) {
        fields.insert(p.name.clone(), Value::String(text(&p.schema)));
    }
    let id_field = ["mchid", "combine_mch_id"]
        .into_iter()
        .find(|k| {
            schema
                .body
                .as_ref()
                .is_some_and(|b| b.properties.contains_key(*k))
        })
        .unwrap_or("mch_id");
    fields.insert(id_field.into(), Value::String(mchid.into()));
    if op.path() == "v2/pay/orderquery" {
        // Stateful: query the order the (earlier) micropay example paid.
        let paid = schema::all()
            .ok()
            .and_then(|all| all.iter().find(|s| s.path == "v2/pay/micropay"))
            .and_then(|s| s.body.as_ref()?.properties.get("out_trade_no"))
            .map_or("sample".into(), text);
        fields.insert("out_trade_no".into(), Value::String(paid));
    }
    let mut options = Map::new();
    options.insert("xml".into(), Value::Object(fields));
    Built { options, required }
}

fn send(
    client: &Client,
    op: &Operation,
    options: Value,
) -> Result<wechatpay_chain::Response, Error> {
    client
        .chain(op.path())
        .request(op.method().as_str(), options)
}

/// What one operation's valid request is answered with, checked against the
/// catalogue. `Err` says how it differs.
fn check_valid(
    client: &Client,
    op: &Operation,
    schema: &OperationSchema,
    built: &Built,
) -> Result<(), String> {
    // The documented 2xx, else the one documented answer (an authorisation
    // page's 302).
    let success = schema
        .success()
        .or(schema.responses.first())
        .ok_or("no documented answer")?;
    let expected = StatusCode::from_u16(success.status).map_err(|e| e.to_string())?;
    let options = Value::Object(built.options.clone());
    if op.is_v2() {
        return check_v2(client, op, success.schema.as_ref(), expected, options);
    }
    let multipart = op.consumes().contains(&"multipart/form-data");
    let answer = if multipart {
        let file = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
        let plain = Media::from_bytes("sample.jpg", file.clone()).map_err(|e| e.to_string())?;
        // Required text fields of the form travel in the meta (the SDKs' form).
        let mut meta = json!({ "filename": plain.filename(), "sha256": plain.sha256() });
        for p in schema.parameters_in(Location::FormData) {
            if p.required && p.schema.json_type != Some(JsonType::File) && p.name != "meta" {
                meta[&p.name] = Value::String(text(&p.schema));
            }
        }
        let media = plain.with_meta(&meta);
        client.chain(op.path()).upload(&media, options)
    } else {
        send(client, op, options)
    };
    let res = answer.map_err(|e| format!("{e}"))?;
    if res.status() != expected {
        return Err(format!("answered {}, documented {expected}", res.status()));
    }
    if expected == StatusCode::NO_CONTENT {
        return if res.body().is_empty() {
            Ok(())
        } else {
            Err("a 204 with a body".into())
        };
    }
    let produces_file = !op
        .produces()
        .iter()
        .any(|t| t.contains("json") || t.contains("xml"));
    if produces_file {
        return if res.body().is_empty() {
            Err("an empty download".into())
        } else {
            Ok(())
        };
    }
    let Some(response_schema) = &success.schema else {
        return Ok(());
    };
    if !res.is_verified() && !wechatpay_chain::verifier::is_unsigned_download(op.path()) {
        return Err("an unsigned answer".into());
    }
    let body: Value = res.json().map_err(|e| e.to_string())?;
    conforms(response_schema, &body, "")?;
    // Members named like a path parameter or a top-level request member echo it.
    let sent = built.options.get("json").and_then(Value::as_object);
    for (name, member) in &response_schema.properties {
        let given = built
            .options
            .get(name)
            .or_else(|| sent.and_then(|s| s.get(name)));
        let (Some(given), Some(got)) = (given, body.get(name)) else {
            continue;
        };
        let scalar = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        if member.json_type == Some(JsonType::String) && scalar(given) != scalar(got) {
            return Err(format!("/{name} is {got}, the request said {given}"));
        }
    }
    Ok(())
}

fn check_v2(
    client: &Client,
    op: &Operation,
    response_schema: Option<&Schema>,
    expected: StatusCode,
    options: Value,
) -> Result<(), String> {
    let answer = send(client, op, options);
    if expected == StatusCode::FOUND {
        // An authorisation page: the client does not follow redirects.
        return match answer {
            Err(Error::Api(api)) if api.status == StatusCode::FOUND => Ok(()),
            other => Err(format!("expected a 302, got {other:?}")),
        };
    }
    let json_answer = op.produces().iter().any(|t| t.contains("json"));
    let fields: Map<String, Value> = match answer {
        Ok(res) if res.status() == expected => {
            if !res.is_verified() && !v2::is_unsigned(op.path().trim_start_matches("v2/")) {
                return Err("an unsigned APIv2 answer".into());
            }
            res.xml().map_err(|e| e.to_string())?
        }
        // The client reads APIv2 answers as XML; this one is JSON, as documented.
        Err(Error::Verification { response, .. }) if json_answer => {
            serde_json::from_slice(&response.body).map_err(|e| e.to_string())?
        }
        Ok(res) => return Err(format!("answered {}", res.status())),
        Err(e) => return Err(e.to_string()),
    };
    // The client leaves the codes of unsigned endpoints to the caller.
    for code in ["return_code", "result_code"] {
        if !json_answer && fields.get(code).is_some_and(|c| c != "SUCCESS") {
            return Err(format!("{code} is {:?}", fields.get(code)));
        }
    }
    if let Some(schema) = response_schema {
        for name in &schema.required {
            // Repeated fields: `refund_id_$n` is sent as `refund_id_0`, ….
            let name = name.replace("$n", "0").replace("$m", "0");
            if !fields.contains_key(&name) {
                return Err(format!("{name} is missing"));
            }
        }
    }
    Ok(())
}

/// The APIv2 image upload, which the client has no helper for: a hand-built,
/// hand-signed multipart request on a raw socket.
fn v2_upload(sandbox: &Sandbox) -> Result<(), String> {
    let mut signed = Map::new();
    signed.insert("mch_id".into(), json!(sandbox.mchid()));
    signed.insert(
        "media_hash".into(),
        json!("0cc175b9c0f1b6a831c399e269772661"),
    );
    signed.insert("sign_type".into(), json!("MD5"));
    let sign = v2::sign(&signed, v2::SignType::Md5, APIV2_SECRET);
    signed.insert("sign".into(), json!(sign));
    let mut body = Vec::new();
    for (k, v) in &signed {
        let v = v.as_str().unwrap_or_default();
        write!(
            body,
            "--B\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .map_err(|e| e.to_string())?;
    }
    body.extend_from_slice(
        b"--B\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\na\r\n--B--\r\n",
    );
    let mut stream = std::net::TcpStream::connect(sandbox.addr()).map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST /secapi/mch/uploadmedia HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        sandbox.addr(),
        body.len()
    )
    .and_then(|()| stream.write_all(&body))
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let xml = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let fields = v2::verify_notification(xml, APIV2_SECRET).map_err(|e| e.to_string())?;
    match fields.get("media_id") {
        Some(_) if fields["result_code"] == "SUCCESS" => Ok(()),
        _ => Err(format!("answered {xml}")),
    }
}

/// The invalid twin: the body without `missing`. Refused as specified when it is a
/// 400 `PARAM_ERROR` whose detail names `/missing` in the body (APIv3), or a
/// `result_code=FAIL` `PARAM_ERROR` naming it (APIv2).
fn check_refused(
    client: &Client,
    op: &Operation,
    built: &Built,
    missing: &str,
) -> Result<(), String> {
    let mut options = built.options.clone();
    let key = if op.is_v2() { "xml" } else { "json" };
    if let Some(Value::Object(body)) = options.get_mut(key) {
        body.remove(missing);
    }
    let answer = send(client, op, Value::Object(options));
    let unsigned = v2::is_unsigned(op.path().trim_start_matches("v2/"));
    if let (true, Ok(res)) = (op.is_v2() && unsigned, &answer) {
        // The client returns unsigned APIv2 answers as they are: read the codes.
        let fields: Map<String, Value> = res.xml().map_err(|e| e.to_string())?;
        let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default();
        return if text("result_code") == "FAIL"
            && text("err_code") == "PARAM_ERROR"
            && text("err_code_des").contains(missing)
        {
            Ok(())
        } else {
            Err(format!("not refused: {fields:?}"))
        };
    }
    let api = match answer {
        Err(Error::Api(api)) => api,
        other => return Err(format!("not refused: {other:?}")),
    };
    if api.code.as_deref() != Some("PARAM_ERROR") {
        return Err(format!("refused with {api}"));
    }
    let message = api.message.clone().unwrap_or_default();
    if op.is_v2() {
        return if message.contains(missing) {
            Ok(())
        } else {
            Err(format!("the message does not name {missing}: {message}"))
        };
    }
    let pointer = format!("/{missing}");
    let detail = api.detail.clone().unwrap_or(Value::Null);
    if api.status != StatusCode::BAD_REQUEST
        || !message.contains(&pointer)
        || detail["field"] != json!(pointer)
        || detail["location"] != "body"
        || detail["issue"].as_str().is_none_or(str::is_empty)
    {
        return Err(format!("{} {message} {detail}", api.status));
    }
    Ok(())
}

#[test]
fn every_catalogue_operation_answers_and_validates() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let total = operations().len();
    // Computed from the catalogue alone: the operations whose body has a required
    // member a client can leave out (not one the path carries; for APIv2 not one
    // the client writes itself).
    let expected_refusals = operations()
        .iter()
        .filter(|op| {
            let Some(body) = schema::of(op).and_then(|s| s.body.as_ref()) else {
                return false;
            };
            let placeholders = placeholders(op.path());
            body.required.iter().any(|r| {
                if op.is_v2() {
                    !V2_CLIENT_FIELDS.contains(&r.as_str()) && !V2_EITHER.contains(&r.as_str())
                } else {
                    !placeholders.contains(&r.as_str())
                }
            })
        })
        .count();

    // The stateful micropay pays the order the orderquery example asks for,
    // whichever worker gets to the query first.
    let micropay = operations()
        .iter()
        .find(|op| op.path() == "v2/pay/micropay")
        .unwrap();
    let paid = v2_request(micropay, schema::of(micropay).unwrap(), sandbox.mchid());
    check_valid(&client, micropay, schema::of(micropay).unwrap(), &paid).unwrap();

    // Modestly concurrent: a few clients, each on a contiguous share.
    let workers = 4;
    let share = operations().len().div_ceil(workers);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = operations()
            .chunks(share)
            .map(|ops| {
                let (sandbox, client) = (&sandbox, client.clone());
                scope.spawn(move || run(sandbox, &client, ops))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = Tally::default();
    for t in tallies {
        all.answered += t.answered;
        all.from_state += t.from_state;
        all.validated += t.validated;
        all.refused += t.refused;
        all.failures.extend(t.failures);
        for (k, v) in t.by_family {
            *all.by_family.entry(k).or_default() += v;
        }
    }
    let Tally {
        answered,
        from_state,
        validated,
        refused,
        failures,
        by_family,
    } = all;
    eprintln!(
        "catalogue: {answered}/{total} answered as documented ({by_family:?}), \
         {from_state} of them by the payment loop's state lookup; \
         {validated} sent without a required body member, {refused} refused correctly \
         (the catalogue has {expected_refusals} such operations)"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(answered, total);
    assert_eq!(from_state, STATE_LOOKUPS.len());
    assert_eq!(validated, expected_refusals);
    assert_eq!(refused, expected_refusals);
}

#[derive(Default)]
struct Tally {
    answered: usize,
    from_state: usize,
    validated: usize,
    refused: usize,
    failures: Vec<String>,
    by_family: HashMap<&'static str, usize>,
}

/// A valid request to a stateful operation with made-up ids: validated (no 400),
/// then refused by the state lookup with WeChat's 404 `code`.
fn check_state_lookup(
    client: &Client,
    op: &Operation,
    built: &Built,
    code: &str,
) -> Result<(), String> {
    match send(client, op, Value::Object(built.options.clone())) {
        Err(Error::Api(api))
            if api.status == StatusCode::NOT_FOUND && api.code.as_deref() == Some(code) =>
        {
            Ok(())
        }
        Err(e) => Err(format!(
            "expected 404 {code} from the state lookup, got {e}"
        )),
        Ok(res) => Err(format!(
            "expected 404 {code} from the state lookup, got {}",
            res.status()
        )),
    }
}

/// Sends each operation's valid request and, where there is one, its invalid twin.
fn run(sandbox: &Sandbox, client: &Client, ops: &'static [Operation]) -> Tally {
    let mut tally = Tally::default();
    for op in ops {
        let Some(schema) = schema::of(op) else {
            tally.failures.push(format!("{op}: no schema"));
            continue;
        };
        let outcome = if op.path() == "v2/secapi/mch/uploadmedia" {
            v2_upload(sandbox)
        } else {
            let built = if op.is_v2() {
                v2_request(op, schema, sandbox.mchid())
            } else {
                v3_request(op, schema, sandbox.mchid())
            };
            let state = STATE_LOOKUPS.iter().find(|(path, _)| *path == op.path());
            let valid = match state {
                Some((_, code)) => {
                    tally.from_state += 1;
                    check_state_lookup(client, op, &built, code)
                }
                None => check_valid(client, op, schema, &built),
            };
            if let Some(missing) = &built.required {
                tally.validated += 1;
                match check_refused(client, op, &built, missing) {
                    Ok(()) => tally.refused += 1,
                    Err(e) => tally.failures.push(format!("{op} without {missing}: {e}")),
                }
            }
            valid
        };
        match outcome {
            Ok(()) => {
                tally.answered += 1;
                *tally
                    .by_family
                    .entry(op.path().split('/').next().unwrap_or(""))
                    .or_default() += 1;
            }
            Err(e) => tally.failures.push(format!("{op}: {e}")),
        }
    }
    tally
}
