//! A `notify_url` handler: WeChat Pay POSTs a notification signed with the
//! platform key whose `resource` is encrypted with the APIv3 key. The handler
//! verifies it, decrypts it, acts on it, and answers what WeChat expects: `204`
//! when handled, or a non-2xx `{"code":"FAIL","message":…}`, after which WeChat
//! sends the notification again (15 s, 15 s, 30 s, 3 min, …).
//!
//! ```text
//! cargo run --example notifications
//! ```
//!
//! Runs against the embedded sandbox, which signs and encrypts notifications as
//! WeChat does. `handle` takes and returns `http` types, so it fits any server
//! built on them (axum, hyper, …) once the body has been read into `Bytes`.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use serde::Deserialize;
use serde_json::json;
use wechatpay_chain::notification::{Notification, NotificationAnswer};
use wechatpay_chain::Client;
use wechatpay_chain_sandbox::Sandbox;

/// The fields of the decrypted `resource` this shop uses (a `TRANSACTION.*`
/// resource has more; serde ignores the rest). `serde_json::Value` works too.
#[derive(Debug, Deserialize)]
struct Transaction {
    out_trade_no: String,
    transaction_id: String,
    trade_state: String,
    amount: Amount,
}

#[derive(Debug, Deserialize)]
struct Amount {
    total: u64,
    currency: String,
}

/// The `notify_url` endpoint.
///
/// PHP (wechatpay-php README, "回调通知"), which `client.notification` does in one call:
/// ```php
/// $timeOffsetStatus = 300 >= abs(Formatter::timestamp() - (int)$inWechatpayTimestamp);
/// $verifiedStatus = Rsa::verify(
///     Formatter::joinedByLineFeed($inWechatpayTimestamp, $inWechatpayNonce, $inBody),
///     $inWechatpaySignature, $platformPublicKeyInstance);
/// if ($timeOffsetStatus && $verifiedStatus) {
///     ['resource' => ['ciphertext' => $ciphertext, 'nonce' => $nonce,
///         'associated_data' => $aad]] = (array)json_decode($inBody, true);
///     $inBodyResource = AesGcm::decrypt($ciphertext, $apiv3Key, $nonce, $aad);
/// }
/// ```
fn handle(client: &Client, request: Request<Bytes>) -> Response<Bytes> {
    // The raw body exactly as received: the signature covers these bytes, so a body
    // parsed and re-serialised by a framework would not verify. The platform key is
    // picked by `Wechatpay-Serial`; the APIv3 key comes from the client's builder.
    let event = match client.notification::<Transaction>(request.headers(), request.body()) {
        Ok(event) => event,
        Err(e) => {
            // Forged, tampered, replayed or not ours: act on nothing in it. The
            // answer is 401 for a failed check, 500 for anything else (e.g. no
            // APIv3 key configured), with a message that gives nothing away.
            println!("  refused: {e}");
            return NotificationAnswer::from_error(&e).into_response();
        }
    };
    match fulfil(&event) {
        Ok(()) => NotificationAnswer::success(), // 204, no body
        // {"code":"FAIL",…} with 500: WeChat sends the notification again later.
        // The message goes to WeChat: keep internal details out of it.
        Err(e) => {
            println!("  not processed: {e}");
            NotificationAnswer::failure("系统繁忙")
        }
    }
    .into_response()
}

/// The shop's side: mark the order paid. WeChat resends until it gets a 2xx, so
/// the same event (same `event.id`) can arrive more than once: make this idempotent.
fn fulfil(event: &Notification<Transaction>) -> Result<(), Box<dyn std::error::Error>> {
    let paid = &event.resource;
    println!(
        "  {} ({}) id {} signed by {}",
        event.event_type, event.summary, event.id, event.serial
    );
    // Amounts are in fen (1/100 yuan).
    let (yuan, fen) = (paid.amount.total / 100, paid.amount.total % 100);
    println!(
        "  order {} (transaction {}): {}, {yuan}.{fen:02} {}",
        paid.out_trade_no, paid.transaction_id, paid.trade_state, paid.amount.currency
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end: dropping the sandbox stops it.
    let sandbox = Sandbox::start()?;
    // Configured with the sandbox's APIv3 key; for a real merchant add
    // `.apiv3_key(…)` to the builder (PHP: the `$apiv3Key` of AesGcm::decrypt).
    let client = sandbox.client();

    // What WeChat would POST after a payment: the sandbox encrypts the resource
    // and signs the envelope now.
    let resource = json!({
        "mchid": sandbox.mchid(),
        "appid": "wxd678efh567hg6787",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "4200000000201407033233368018",
        "trade_state": "SUCCESS",
        "amount": { "total": 100, "currency": "CNY" },
    });
    let (headers, body) = sandbox.notification("TRANSACTION.SUCCESS", &resource)?;

    println!("A genuine notification:");
    show(handle(&client, post(headers.clone(), body.clone())?));

    println!("\nThe same notification with its body altered in transit:");
    let tampered = String::from_utf8(body.to_vec())?.replace("支付成功", "支付失败");
    show(handle(&client, post(headers, Bytes::from(tampered))?));

    println!("\nA correctly signed notification replayed ten minutes later:");
    let ten_minutes_ago = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64 - 600;
    let (headers, body) =
        sandbox.notification_at("TRANSACTION.SUCCESS", &resource, ten_minutes_ago)?;
    show(handle(&client, post(headers, body)?));
    Ok(())
}

/// The request a server hands the handler.
fn post(headers: HeaderMap, body: Bytes) -> Result<Request<Bytes>, http::Error> {
    let mut request = Request::post("/wechatpay/notify").body(body)?;
    *request.headers_mut() = headers;
    Ok(request)
}

fn show(response: Response<Bytes>) {
    let status = response.status().as_u16();
    match std::str::from_utf8(response.body()) {
        Ok("") => println!("  -> answered {status}, no body"),
        Ok(body) => println!("  -> answered {status} {body}"),
        Err(_) => println!("  -> answered {status} (binary body)"),
    }
}
