//! A whole Native payment against the sandbox, notifications included: the shop
//! creates an order and shows its QR code, the payer pays (the sandbox plays the
//! payer), WeChat Pay POSTs `TRANSACTION.SUCCESS` to the shop's `notify_url` (a real
//! HTTP server on loopback here), the shop verifies it, queries the order, refunds
//! it and receives `REFUND.SUCCESS`.
//!
//! ```text
//! cargo run --example payment_flow
//! ```
//!
//! Against WeChat Pay the same code runs with a merchant's client and a public
//! `notify_url`; only `sandbox.pay` (the payer's scan) has no counterpart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use serde_json::{json, Value};
use wechatpay_chain::notification::{Notification, NotificationAnswer};
use wechatpay_chain::Client;
use wechatpay_chain_sandbox::Sandbox;

/// The shop's `notify_url` handler: verify and decrypt, act, answer 204. Anything
/// that does not verify is refused (401), and WeChat would send it again.
fn handle(
    client: &Client,
    request: Request<Bytes>,
    shop: &Sender<Notification>,
) -> Response<Bytes> {
    // The raw body as received: the signature covers these bytes.
    let outcome = client.notification::<Value>(request.headers(), request.body());
    let answer = NotificationAnswer::from_result(&outcome);
    if let Ok(event) = outcome {
        // A real shop records the payment (idempotently: WeChat may resend the
        // same `event.id`) before answering.
        let _ = shop.send(event);
    }
    answer.into_response()
}

/// A minimal HTTP/1.1 server on loopback for the handler (any framework works:
/// axum, hyper, actix…; it only has to hand over the raw body and headers).
fn serve_notifications(client: Client) -> std::io::Result<(String, Receiver<Notification>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/wechatpay/notify", listener.local_addr()?);
    let (shop, events) = channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (client, shop) = (client.clone(), shop.clone());
            std::thread::spawn(move || {
                if let Err(e) = answer_one(stream, &client, &shop) {
                    eprintln!("notify_url: {e}");
                }
            });
        }
    });
    Ok((url, events))
}

fn answer_one(
    stream: TcpStream,
    client: &Client,
    shop: &Sender<Notification>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = HeaderMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.insert(
            HeaderName::from_bytes(name.trim().as_bytes())?,
            HeaderValue::from_str(value.trim())?,
        );
    }
    let length: usize = match headers.get("content-length") {
        Some(v) => v.to_str()?.parse()?,
        None => 0,
    };
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let mut request = Request::post("/wechatpay/notify").body(Bytes::from(body))?;
    *request.headers_mut() = headers;
    let response = handle(client, request, shop);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        response.status(),
        response.body().len()
    )?;
    stream.write_all(response.body())?;
    Ok(())
}

/// A JSON string field for printing.
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start()?;
    let client = sandbox.client();
    let (notify_url, notifications) = serve_notifications(client.clone())?;
    let wait = || notifications.recv_timeout(Duration::from_secs(10));
    let out_trade_no = "1217752501201407033233368018";

    // 1. Native下单: the answer's code_url becomes the QR code the payer scans.
    let created: Value = client
        .chain("v3/pay/transactions/native")
        .post(json!({ "json": {
            "appid": "wxd678efh567hg6787",
            "mchid": sandbox.mchid(),
            "description": "Image形象店-深圳腾大-QQ公仔",
            "out_trade_no": out_trade_no,
            "notify_url": notify_url,
            "amount": { "total": 100, "currency": "CNY" },
        }}))?
        .json()?;
    println!(
        "1. order {out_trade_no} created; QR code: {}",
        text(&created["code_url"])
    );

    // 2. The payer scans and pays (the sandbox's part).
    sandbox.pay(out_trade_no)?;

    // 3. WeChat POSTs TRANSACTION.SUCCESS to the notify_url; the handler verified it.
    let paid = wait()?;
    println!(
        "2. {} ({}) for {}: {}",
        paid.event_type,
        paid.summary,
        text(&paid.resource["out_trade_no"]),
        text(&paid.resource["trade_state"])
    );

    // 4. Query the order (as a shop does when a notification is late).
    let order: Value = client
        .chain("v3/pay/transactions/out-trade-no/{out_trade_no}")
        .get(json!({ "out_trade_no": out_trade_no, "query": { "mchid": sandbox.mchid() } }))?
        .json()?;
    println!(
        "3. query: {} ({}), transaction {}",
        text(&order["trade_state"]),
        text(&order["trade_state_desc"]),
        text(&order["transaction_id"])
    );

    // 5. Refund it in full: PROCESSING now, REFUND.SUCCESS when the money is back.
    let refund: Value = client
        .chain("v3/refund/domestic/refunds")
        .post(json!({ "json": {
            "transaction_id": order["transaction_id"],
            "out_refund_no": "1217752501201407033233368019",
            "reason": "商品已售完",
            "notify_url": notify_url,
            "amount": { "refund": 100, "total": 100, "currency": "CNY" },
        }}))?
        .json()?;
    println!(
        "4. refund {}: {}",
        text(&refund["out_refund_no"]),
        text(&refund["status"])
    );
    let refunded = wait()?;
    println!(
        "5. {} ({}) for {}: {}",
        refunded.event_type,
        refunded.summary,
        text(&refunded.resource["out_refund_no"]),
        text(&refunded.resource["refund_status"])
    );

    // Each attempt is recorded once the handler's answer is read.
    let mut deliveries = sandbox.deliveries();
    for _ in 0..100 {
        if deliveries.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        deliveries = sandbox.deliveries();
    }
    println!("Notifications delivered:");
    for delivery in deliveries {
        println!(
            "   {} -> {} attempt {}: {:?}",
            delivery.event_type, delivery.url, delivery.attempt, delivery.status
        );
    }
    Ok(())
}
