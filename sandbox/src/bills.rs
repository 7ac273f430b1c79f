//! Bills: `GET v3/bill/tradebill` and `v3/bill/fundflowbill` answer (signed) a
//! `download_url` on the sandbox with the file's `hash_type`/`hash_value`;
//! `GET v3/billdownload/file?token=…` serves the file unsigned, as WeChat does.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::json;
use sha1::{Digest, Sha1};

use super::routes::{error, Reply, SandboxRequest};
use crate::hex;

/// The bill endpoints.
pub(crate) const TEMPLATES: [&str; 2] = ["v3/bill/tradebill", "v3/bill/fundflowbill"];
/// The unsigned file endpoint.
pub(crate) const FILE: &str = "v3/billdownload/file";

/// The handler of the bill endpoints.
pub(crate) fn bill(req: &SandboxRequest) -> Reply {
    let date = req.query.get("bill_date").map(String::as_str).unwrap_or("");
    let valid = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !valid {
        return error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "bill_date is required, as YYYY-MM-DD",
        );
    }
    let kind = if req.path.ends_with("fundflowbill") {
        "FUNDFLOW"
    } else {
        "TRADE"
    };
    let token = format!("{kind}{}", date.replace('-', ""));
    let Some(host) = req.header("Host") else {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "no Host header");
    };
    let Some(content) = file(&token) else {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "unknown bill");
    };
    (
        StatusCode::OK,
        json!({
            "hash_type": "SHA1",
            "hash_value": hex(&Sha1::digest(&content)),
            "download_url": format!("http://{host}/{FILE}?token={token}"),
        }),
    )
}

/// The unsigned answer of `v3/billdownload/file`, or `None` when the request is
/// not a download of a known bill (it is then routed as usual).
pub(crate) fn serve_file(path: &str, query: Option<&str>) -> Option<Response<Full<Bytes>>> {
    if path != FILE {
        return None;
    }
    let token = query?.split('&').find_map(|p| p.strip_prefix("token="))?;
    let content = file(token)?;
    let mut response = Response::new(Full::new(content));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Some(response)
}

/// The bill a token names: the same bytes for the same token.
fn file(token: &str) -> Option<Bytes> {
    // Files the generic answers announced (`download_url` of any operation).
    if token.starts_with("SANDBOX") {
        return Some(super::answer::download_content(token));
    }
    let (kind, date) = if let Some(d) = token.strip_prefix("TRADE") {
        ("TRADE", d)
    } else {
        ("FUNDFLOW", token.strip_prefix("FUNDFLOW")?)
    };
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]);
    let text = if kind == "TRADE" {
        format!(
            "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n\
`{day} 10:00:00,`wx8888888888888888,`1900000001,`0,`,`4200000000{date}0001,`sandbox{date}0001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`1.00,`0.00,`0,`0,`0.00,`0.00,`,`,`sandbox goods,`,`0.01000,`0.60%,`1.00,`0.00,`\r\n\
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\
`1,`1.00,`0.00,`0.00,`0.01000,`1.00,`0.00\r\n"
        )
    } else {
        format!(
            "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\r\n\
`{day} 10:00:00,`4200000000{date}0001,`sandbox{date}0001,`交易,`交易,`收入,`1.00,`1.00,`system,`,`sandbox{date}0001\r\n\
资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n\
`1,`1,`1.00,`0,`0.00\r\n"
        )
    };
    Some(Bytes::from(text))
}
