//! The payment loop through `Client` against the sandbox: orders created, queried,
//! closed, paid and refunded, with the notifications POSTed to a real `notify_url`
//! handler on loopback that verifies them with `Client::notification`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use wechatpay_chain::{ApiError, Client, Error, Response};
use wechatpay_chain_sandbox::{Sandbox, StatusCode, SEED_ORDER};

const APPID: &str = "wxd678efh567hg6787";
const SUB_MCHID: &str = "1900000109";

/// What the notify handler does with the next request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    /// Holds the connection open without answering, then drops it.
    Hang(Duration),
}

/// A `notify_url` handler on loopback: one thread per connection, the answers
/// scripted (204 once the script is used up), every notification verified with
/// the merchant's client and sent on a channel.
struct NotifyServer {
    url: String,
    events: Receiver<Result<wechatpay_chain::notification::Notification, String>>,
}

impl NotifyServer {
    fn start(client: Client, script: &[Answer]) -> NotifyServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (client, script, tx) = (client.clone(), script.clone(), tx.clone());
                std::thread::spawn(move || serve(stream, &client, &script, &tx));
            }
        });
        NotifyServer { url, events }
    }

    /// The next notification handled, verified (or why not).
    fn next(&self) -> wechatpay_chain::notification::Notification {
        self.events
            .recv_timeout(Duration::from_secs(10))
            .expect("a notification arrives")
            .expect("the notification verifies")
    }
}

fn serve(
    stream: TcpStream,
    client: &Client,
    script: &Mutex<VecDeque<Answer>>,
    events: &Sender<Result<wechatpay_chain::notification::Notification, String>>,
) {
    let Some((headers, body)) = read_request(&stream) else {
        return;
    };
    let answer = script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Answer::Status(204));
    let status = match answer {
        Answer::Hang(how_long) => {
            std::thread::sleep(how_long);
            return;
        }
        Answer::Status(status) => status,
    };
    let verified = client
        .notification::<Value>(&headers, &body)
        .map_err(|e| e.to_string());
    let _ = events.send(verified);
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
}

/// The headers and body of one HTTP/1.1 request with a `content-length`.
fn read_request(stream: &TcpStream) -> Option<(HeaderMap, Bytes)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = HeaderMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.insert(
            HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            HeaderValue::from_str(value.trim()).ok()?,
        );
    }
    let length: usize = headers.get("content-length")?.to_str().ok()?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((headers, Bytes::from(body)))
}

/// Waits (at most 10 s) until `check` answers something.
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn api_error(result: Result<Response, Error>) -> Box<ApiError> {
    match result {
        Err(Error::Api(api)) => api,
        other => panic!("expected an Api error, got {other:?}"),
    }
}

fn json_of(result: Result<Response, Error>) -> Value {
    let response = result.expect("the call succeeds");
    assert!(response.is_verified());
    response.json().unwrap()
}

/// A create body for `kind` (`partner` adds the service-provider fields).
fn order(kind: &str, partner: bool, no: &str, total: i64, notify_url: &str) -> Value {
    let mut body = if partner {
        json!({ "sp_appid": APPID, "sp_mchid": "1900000001", "sub_mchid": SUB_MCHID })
    } else {
        json!({ "appid": APPID, "mchid": "1900000001" })
    };
    body["description"] = json!("Image形象店-深圳腾大-QQ公仔");
    body["out_trade_no"] = json!(no);
    body["notify_url"] = json!(notify_url);
    body["amount"] = json!({ "total": total, "currency": "CNY" });
    match (kind, partner) {
        ("jsapi", false) => body["payer"] = json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }),
        ("jsapi", true) => body["payer"] = json!({ "sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }),
        ("h5", _) => {
            body["scene_info"] =
                json!({ "payer_client_ip": "14.23.150.211", "h5_info": { "type": "Wap" } })
        }
        _ => {}
    }
    body
}

fn create(client: &Client, kind: &str, partner: bool, body: Value) -> Result<Response, Error> {
    let base = if partner {
        "v3/pay/partner/transactions"
    } else {
        "v3/pay/transactions"
    };
    client
        .chain(&format!("{base}/{kind}"))
        .post(json!({ "json": body }))
}

fn query(client: &Client, no: &str) -> Result<Response, Error> {
    client
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
        .get(json!({ "out_trade_no": no, "query": { "mchid": "1900000001" } }))
}

#[test]
fn a_native_order_is_paid_notified_queried_and_refunded() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let shop = NotifyServer::start(client.clone(), &[]);
    let no = "PL2026113000000001";

    let created = json_of(create(
        &client,
        "native",
        false,
        order("native", false, no, 100, &shop.url),
    ));
    let code_url = created["code_url"].as_str().unwrap();
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{created}"
    );
    let unpaid = json_of(query(&client, no));
    assert_eq!(unpaid["trade_state"], "NOTPAY");
    assert_eq!(unpaid["out_trade_no"], no);
    assert!(unpaid.get("transaction_id").is_none(), "{unpaid}");

    let paid = sandbox.pay(no).unwrap();
    let event = shop.next();
    assert_eq!(event.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(event.resource["out_trade_no"], no);
    assert_eq!(event.resource["trade_state"], "SUCCESS");
    assert_eq!(event.resource["transaction_id"], paid["transaction_id"]);
    assert_eq!(event.resource["amount"]["total"], 100);

    let order = json_of(query(&client, no));
    assert_eq!(order["trade_state"], "SUCCESS");
    let transaction_id = order["transaction_id"].as_str().unwrap().to_owned();
    assert_eq!(transaction_id.len(), 28);
    let by_id = json_of(
        client
            .chain("v3/pay/transactions/id/{transaction_id}")
            .get(json!({ "transaction_id": transaction_id, "query": { "mchid": "1900000001" } })),
    );
    assert_eq!(by_id["out_trade_no"], no);

    let refund = |out_refund_no: &str, amount: i64| {
        client
            .chain("v3/refund/domestic/refunds")
            .post(json!({ "json": {
                "transaction_id": transaction_id,
                "out_refund_no": out_refund_no,
                "notify_url": shop.url,
                "amount": { "refund": amount, "total": 100, "currency": "CNY" },
            }}))
    };
    let first = json_of(refund("RF2026113000000001", 30));
    assert_eq!(first["status"], "PROCESSING");
    assert_eq!(first["out_trade_no"], no);
    let event = shop.next();
    assert_eq!(event.event_type, "REFUND.SUCCESS");
    assert_eq!(event.resource["out_refund_no"], "RF2026113000000001");
    assert_eq!(event.resource["refund_status"], "SUCCESS");
    assert_eq!(event.resource["amount"]["refund"], 30);
    let done = json_of(
        client
            .chain("v3/refund/domestic/refunds/{out_refund_no}")
            .get(json!({ "out_refund_no": "RF2026113000000001" })),
    );
    assert_eq!(done["status"], "SUCCESS");
    assert_eq!(done["refund_id"], first["refund_id"]);

    // 30 + 80 > 100: refused; 30 + 70 is exactly what was paid.
    let over = api_error(refund("RF2026113000000002", 80));
    assert_eq!(
        (over.status, over.code.as_deref()),
        (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST"))
    );
    assert!(over.message.unwrap().contains("70"));
    json_of(refund("RF2026113000000003", 70));
    assert_eq!(json_of(query(&client, no))["trade_state"], "REFUND");

    let deliveries = eventually("three deliveries", || {
        let d = sandbox.deliveries();
        (d.len() == 3).then_some(d)
    });
    assert!(deliveries
        .iter()
        .all(|d| d.delivered && d.status == Some(204) && d.attempt == 1));
    assert_eq!(deliveries[0].subject, no);
    assert_eq!(deliveries[0].url, shop.url);
}

#[test]
fn every_kind_and_its_partner_twin_is_created_queried_and_closed() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let mut answered = 0;
    for partner in [false, true] {
        for (i, kind) in ["jsapi", "app", "h5", "native"].into_iter().enumerate() {
            let no = format!("KD{}{i}000000000", u8::from(partner));
            let created = json_of(create(
                &client,
                kind,
                partner,
                order(kind, partner, &no, 1, "https://example.com/n"),
            ));
            let (field, prefix) = match kind {
                "native" => ("code_url", "weixin://wxpay/bizpayurl?pr="),
                "h5" => (
                    "h5_url",
                    "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx",
                ),
                _ => ("prepay_id", "wx"),
            };
            let value = created[field].as_str().unwrap_or_default();
            assert!(
                value.starts_with(prefix),
                "{kind} partner={partner}: {created}"
            );
            let (template, owner) = if partner {
                (
                    "v3/pay/partner/transactions/out-trade-no/{out_trade_no}",
                    json!({ "sp_mchid": "1900000001", "sub_mchid": SUB_MCHID }),
                )
            } else {
                (
                    "v3/pay/transactions/out-trade-no/{out_trade_no}",
                    json!({ "mchid": "1900000001" }),
                )
            };
            let found = json_of(
                client
                    .chain(template)
                    .get(json!({ "out_trade_no": no, "query": owner })),
            );
            assert_eq!(found["trade_state"], "NOTPAY", "{kind} partner={partner}");
            let trade_type = if kind == "h5" {
                "MWEB".to_owned()
            } else {
                kind.to_ascii_uppercase()
            };
            assert_eq!(found["trade_type"], trade_type.as_str());
            if partner {
                assert_eq!(found["sub_mchid"], SUB_MCHID);
                let other = json!({ "sp_mchid": "1900000001", "sub_mchid": "1900000999" });
                let hidden = api_error(
                    client
                        .chain(template)
                        .get(json!({ "out_trade_no": no, "query": other })),
                );
                assert_eq!(hidden.code.as_deref(), Some("ORDER_NOT_EXIST"));
            }
            let close = format!("{template}/close");
            let closed = client
                .chain(&close)
                .post(json!({ "out_trade_no": no, "json": owner }))
                .unwrap();
            assert_eq!(closed.status(), StatusCode::NO_CONTENT);
            let found = json_of(
                client
                    .chain(template)
                    .get(json!({ "out_trade_no": no, "query": owner })),
            );
            assert_eq!(found["trade_state"], "CLOSED");
            let again = api_error(
                client
                    .chain(&close)
                    .post(json!({ "out_trade_no": no, "json": owner })),
            );
            assert_eq!(again.code.as_deref(), Some("ORDER_CLOSED"));
            assert_eq!(sandbox.pay(&no).unwrap_err().code, "ORDER_CLOSED");
            answered += 1;
        }
    }
    assert_eq!(answered, 8);
}

#[test]
fn a_reused_out_trade_no_is_refused_as_wechat_refuses_it() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let no = "DUP0000000000001";
    let body = order("jsapi", false, no, 10, "https://example.com/n");
    let first = json_of(create(&client, "jsapi", false, body.clone()));
    // The same request again (a retry) answers the same prepay_id.
    assert_eq!(
        json_of(create(&client, "jsapi", false, body.clone())),
        first
    );
    let mut changed = body.clone();
    changed["amount"]["total"] = json!(11);
    let refused = api_error(create(&client, "jsapi", false, changed));
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code.as_deref(), Some("INVALID_REQUEST"));
    assert!(refused.message.unwrap().contains("商户订单号重复"));
    sandbox.pay(no).unwrap();
    let paid = api_error(create(&client, "jsapi", false, body));
    assert_eq!(paid.code.as_deref(), Some("ORDERPAID"));
    assert_eq!(sandbox.pay(no).unwrap_err().code, "ORDERPAID");
    let close = client
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}/close")
        .post(json!({ "out_trade_no": no, "json": { "mchid": "1900000001" } }));
    assert_eq!(api_error(close).code.as_deref(), Some("ORDERPAID"));
    assert_eq!(
        sandbox.pay("NOSUCHORDER1").unwrap_err().code,
        "ORDER_NOT_EXIST"
    );
}

#[test]
fn bad_requests_name_the_field_and_change_nothing() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let no = "BAD0000000000001";
    let mut body = order("native", false, no, 10, "https://example.com/n");
    body["amount"].as_object_mut().unwrap().remove("total");
    let missing = api_error(create(&client, "native", false, body.clone()));
    assert_eq!(
        (missing.status, missing.code.as_deref()),
        (StatusCode::BAD_REQUEST, Some("PARAM_ERROR"))
    );
    let detail = missing.detail.unwrap();
    assert_eq!(
        (detail["field"].as_str(), detail["location"].as_str()),
        (Some("/amount/total"), Some("body"))
    );
    body["amount"]["total"] = json!("10");
    let typed = api_error(create(&client, "native", false, body.clone()));
    assert!(typed.message.unwrap().contains("integer"));
    body["amount"]["total"] = json!(10);
    body["mchid"] = json!("1900000002");
    let other = api_error(create(&client, "native", false, body));
    assert_eq!(other.code.as_deref(), Some("INVALID_REQUEST"));
    let no_mchid = api_error(
        client
            .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
            .get(json!({ "out_trade_no": no })),
    );
    assert_eq!(no_mchid.detail.unwrap()["location"], "query");
    // None of these created the order.
    assert_eq!(
        api_error(query(&client, no)).code.as_deref(),
        Some("ORDER_NOT_EXIST")
    );
}

#[test]
fn refunds_need_a_paid_order_of_this_merchant() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let refund = |no: &str| {
        client
            .chain("v3/refund/domestic/refunds")
            .post(json!({ "json": {
                "out_trade_no": no, "out_refund_no": "RF0000000000001",
                "amount": { "refund": 1, "total": 10, "currency": "CNY" },
            }}))
    };
    let unknown = api_error(refund("NOSUCHORDER1"));
    assert_eq!(
        (unknown.status, unknown.code.as_deref()),
        (StatusCode::NOT_FOUND, Some("RESOURCE_NOT_EXISTS"))
    );
    json_of(create(
        &client,
        "app",
        false,
        order("app", false, "RFD000000000001", 10, "https://example.com/n"),
    ));
    let unpaid = api_error(refund("RFD000000000001"));
    assert_eq!(unpaid.code.as_deref(), Some("INVALID_REQUEST"));
    let query = client
        .chain("v3/refund/domestic/refunds/{out_refund_no}")
        .get(json!({ "out_refund_no": "RF0000000000001" }));
    assert_eq!(
        api_error(query).code.as_deref(),
        Some("RESOURCE_NOT_EXISTS")
    );
    sandbox.pay("RFD000000000001").unwrap();
    let created = json_of(refund("RFD000000000001"));
    assert_eq!(created["status"], "PROCESSING");
    let done = eventually("the refund to succeed", || {
        let now = json_of(
            client
                .chain("v3/refund/domestic/refunds/{out_refund_no}")
                .get(json!({ "out_refund_no": "RF0000000000001" })),
        );
        (now["status"] == "SUCCESS").then_some(now)
    });
    assert!(done["success_time"].is_string());
}

#[test]
fn a_failing_notify_url_is_retried_on_the_schedule_and_every_attempt_is_recorded() {
    let sandbox = Sandbox::builder()
        .notify_schedule([Duration::from_millis(10); 3])
        .start()
        .unwrap();
    let client = sandbox.client();
    let shop = NotifyServer::start(client.clone(), &[Answer::Status(500), Answer::Status(503)]);
    let no = "RTY0000000000001";
    json_of(create(
        &client,
        "native",
        false,
        order("native", false, no, 5, &shop.url),
    ));
    sandbox.pay(no).unwrap();
    // Each attempt is signed afresh and verifies; the notification id stays.
    let ids: Vec<String> = (0..3).map(|_| shop.next().id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let deliveries = eventually("three attempts", || {
        let d = sandbox.deliveries();
        (d.len() == 3).then_some(d)
    });
    let outcomes: Vec<(u32, Option<u16>, bool)> = deliveries
        .iter()
        .map(|d| (d.attempt, d.status, d.delivered))
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, Some(500), false),
            (2, Some(503), false),
            (3, Some(204), true)
        ]
    );
    assert!(deliveries.iter().all(|d| d.notification_id == ids[0]));
}

#[test]
fn a_notify_url_that_does_not_answer_in_time_is_retried() {
    let sandbox = Sandbox::builder()
        .notify_schedule([Duration::from_millis(10)])
        .notify_timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    let client = sandbox.client();
    let shop = NotifyServer::start(client.clone(), &[Answer::Hang(Duration::from_secs(3))]);
    json_of(create(
        &client,
        "native",
        false,
        order("native", false, "HNG0000000000001", 5, &shop.url),
    ));
    sandbox.pay("HNG0000000000001").unwrap();
    assert_eq!(shop.next().event_type, "TRANSACTION.SUCCESS");
    let deliveries = eventually("two attempts", || {
        let d = sandbox.deliveries();
        (d.len() == 2).then_some(d)
    });
    assert!(
        deliveries[0]
            .error
            .as_deref()
            .unwrap()
            .contains("timed out"),
        "{deliveries:?}"
    );
    assert_eq!(
        (deliveries[0].status, deliveries[1].status),
        (None, Some(204))
    );
}

/// A sandbox retrying on `schedule`, with the native order `out_trade_no` created and
/// paid: its notify_url is a port that was free a moment ago (connections refused).
fn paid_to_a_closed_port<const N: usize>(schedule: [Duration; N], out_trade_no: &str) -> Sandbox {
    let sandbox = Sandbox::builder()
        .notify_schedule(schedule)
        .start()
        .unwrap();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/notify");
    json_of(create(
        &sandbox.client(),
        "native",
        false,
        order("native", false, out_trade_no, 5, &url),
    ));
    sandbox.pay(out_trade_no).unwrap();
    sandbox
}

#[test]
fn an_unreachable_notify_url_is_tried_as_often_as_the_schedule_says() {
    let sandbox = paid_to_a_closed_port([Duration::from_millis(5); 2], "UNR0000000000001");
    let deliveries = eventually("three attempts", || {
        let d = sandbox.deliveries();
        (d.len() == 3).then_some(d)
    });
    assert!(deliveries
        .iter()
        .all(|d| !d.delivered && d.status.is_none() && d.error.is_some()));
    assert_eq!(
        deliveries.iter().map(|d| d.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn the_control_plane_registers_pays_lists_and_resets_over_http() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let shop = NotifyServer::start(client.clone(), &[]);
    let registered = json_of(client.chain("sandbox/routes").post(json!({ "json": {
        "method": "GET", "template": "v3/marketing/favor/stocks/{stock_id}",
        "status": 200, "json": { "stock_id": "9856000", "status": "running" },
    }})));
    assert_eq!(
        registered["template"],
        "v3/marketing/favor/stocks/{stock_id}"
    );
    let stock = json_of(
        client
            .chain("v3/marketing/favor/stocks/{stock_id}")
            .get(json!({ "stock_id": "1" })),
    );
    assert_eq!(stock["status"], "running");

    json_of(create(
        &client,
        "native",
        false,
        order("native", false, "CTL0000000000001", 8, &shop.url),
    ));
    let paid = json_of(
        client
            .chain("sandbox/pay")
            .post(json!({ "json": { "out_trade_no": "CTL0000000000001" } })),
    );
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(shop.next().resource["out_trade_no"], "CTL0000000000001");
    let twice = api_error(
        client
            .chain("sandbox/pay")
            .post(json!({ "json": { "out_trade_no": "CTL0000000000001" } })),
    );
    assert_eq!(twice.code.as_deref(), Some("ORDERPAID"));
    let listed = eventually("the delivery listed", || {
        let listed = json_of(client.chain("sandbox/deliveries").get(json!({})));
        (listed["total_count"] == 1).then_some(listed)
    });
    assert_eq!(listed["data"][0]["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(listed["data"][0]["delivered"], true);

    // Unsigned control requests are refused like any other.
    let unsigned = unsigned_post(sandbox.addr(), "/sandbox/reset");
    assert!(unsigned.starts_with("HTTP/1.1 401"), "{unsigned}");

    let reset = client.chain("sandbox/reset").post(json!({})).unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api_error(query(&client, "CTL0000000000001"))
            .code
            .as_deref(),
        Some("ORDER_NOT_EXIST")
    );
    assert!(sandbox.deliveries().is_empty());
    // The route registered over HTTP is gone: the catalogue answers again, and
    // validates first (the route never did): the query's required member is missing.
    let gone = api_error(
        client
            .chain("v3/marketing/favor/stocks/{stock_id}")
            .get(json!({ "stock_id": "1" })),
    );
    assert_eq!(gone.code.as_deref(), Some("PARAM_ERROR"));
    assert_eq!(
        gone.detail.as_ref().map(|d| (&d["field"], &d["location"])),
        Some((&json!("stock_creator_mchid"), &json!("query")))
    );
    // The seed's discount-card order is still there.
    let seed = client
        .chain("v3/discount-card/orders/{out_order_no}")
        .get(json!({ "out_order_no": SEED_ORDER }));
    assert_eq!(json_of(seed)["out_order_no"], SEED_ORDER);
}

/// A POST without Authorization, written by hand; the status line and headers.
fn unsigned_post(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn a_partner_order_is_found_by_id_and_refunded_under_its_sub_merchant() {
    let sandbox = Sandbox::start().unwrap();
    let client = sandbox.client();
    let no = "PTN0000000000001";
    json_of(create(
        &client,
        "app",
        true,
        order("app", true, no, 50, "https://example.com/n"),
    ));
    let transaction_id = sandbox.pay(no).unwrap()["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = json!({ "sp_mchid": "1900000001", "sub_mchid": SUB_MCHID });
    let by_id = json_of(
        client
            .chain("v3/pay/partner/transactions/id/{transaction_id}")
            .get(json!({ "transaction_id": transaction_id, "query": owner })),
    );
    assert_eq!(
        (
            by_id["out_trade_no"].as_str(),
            by_id["trade_state"].as_str()
        ),
        (Some(no), Some("SUCCESS"))
    );
    // A direct query does not see a partner's order.
    assert_eq!(
        api_error(query(&client, no)).code.as_deref(),
        Some("ORDER_NOT_EXIST")
    );

    let refund = |sub_mchid: Option<&str>| {
        let mut body = json!({
            "out_trade_no": no, "out_refund_no": "PTNRF00000000001",
            "amount": { "refund": 50, "total": 50, "currency": "CNY" },
        });
        if let Some(sub) = sub_mchid {
            body["sub_mchid"] = json!(sub);
        }
        client
            .chain("v3/refund/domestic/refunds")
            .post(json!({ "json": body }))
    };
    assert_eq!(
        api_error(refund(None)).code.as_deref(),
        Some("RESOURCE_NOT_EXISTS")
    );
    let created = json_of(refund(Some(SUB_MCHID)));
    assert_eq!(
        (created["status"].as_str(), created["sub_mchid"].as_str()),
        (Some("PROCESSING"), Some(SUB_MCHID))
    );
    let refund_query = |sub: Option<&str>| {
        let mut options = json!({ "out_refund_no": "PTNRF00000000001" });
        if let Some(sub) = sub {
            options["query"] = json!({ "sub_mchid": sub });
        }
        client
            .chain("v3/refund/domestic/refunds/{out_refund_no}")
            .get(options)
    };
    assert_eq!(json_of(refund_query(Some(SUB_MCHID)))["out_trade_no"], no);
    assert_eq!(
        api_error(refund_query(None)).code.as_deref(),
        Some("RESOURCE_NOT_EXISTS")
    );
    // Everything paid is refunded: one more fen is too much.
    let mut more = json!({
        "out_trade_no": no, "out_refund_no": "PTNRF00000000002", "sub_mchid": SUB_MCHID,
        "amount": { "refund": 1, "total": 50, "currency": "CNY" },
    });
    let over = api_error(
        client
            .chain("v3/refund/domestic/refunds")
            .post(json!({ "json": more.clone() })),
    );
    assert_eq!(over.code.as_deref(), Some("INVALID_REQUEST"));
    more["amount"]["refund"] = json!(i64::MAX);
    let huge = api_error(
        client
            .chain("v3/refund/domestic/refunds")
            .post(json!({ "json": more.clone() })),
    );
    assert_eq!(huge.code.as_deref(), Some("INVALID_REQUEST"));
    more["amount"]["total"] = json!(49);
    let wrong_total = api_error(
        client
            .chain("v3/refund/domestic/refunds")
            .post(json!({ "json": more })),
    );
    assert!(wrong_total.message.unwrap().contains("/amount/total"));
}

#[test]
fn reset_abandons_the_retries_still_to_come() {
    let sandbox = paid_to_a_closed_port([Duration::from_millis(20); 50], "RST0000000000001");
    eventually("a first failed attempt", || {
        (!sandbox.deliveries().is_empty()).then_some(())
    });
    sandbox.reset();
    // Ten retry periods later, nothing more was tried.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        sandbox.deliveries().is_empty(),
        "{:?}",
        sandbox.deliveries()
    );
}
