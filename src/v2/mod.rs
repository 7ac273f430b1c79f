//! APIv2 (XML) on the same chain: a path whose first segment is `v2` goes here,
//! with that segment removed, as wechatpay-php does.
//!
//! ```
//! # use serde_json::json;
//! # use wechatpay_chain_sandbox::Sandbox;
//! let sandbox = Sandbox::start()?;
//! let client = sandbox.client();
//! // $instance->v2->pay->micropay->post(['xml' => [...]])
//! let res = client.seg("v2").seg("pay").seg("micropay").post(json!({
//!     "xml": {
//!         "appid": "wx8888888888888888",
//!         "mch_id": sandbox.mchid(),
//!         "body": "image形象店-深圳腾大- QQ公仔",
//!         "out_trade_no": "1217752501201407033233368018",
//!         "total_fee": 888,
//!         "spbill_create_ip": "8.8.8.8",
//!         "auth_code": "120061098828009406",
//!     },
//! }))?;
//! let answer: serde_json::Value = res.xml()?;
//! assert_eq!(answer["result_code"], "SUCCESS");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! - Request: the `xml` option is the payload (for GET, the query); `nonce_str` is
//!   added unless given or `nonceless: true`; `sign` is MD5 or HMAC-SHA256 as
//!   `sign_type` says; `security: true` presents the merchant's client certificate.
//! - Answer: `return_code`/`result_code` other than `SUCCESS` is an [`Error::Api`];
//!   an answer with `return_code` `SUCCESS` but no `result_code` is
//!   [`Error::Verification`] (its outcome is unknown), except for the endpoints
//!   whose answers have none ([`NO_RESULT_CODE`]); then the `sign` is recomputed and
//!   compared in constant time, except for the endpoints WeChat serves unsigned
//!   ([`is_unsigned`]).

mod hash;
mod xml;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::{Map, Value};

pub use hash::{sign, string_to_sign, SignType};
pub use xml::{from_xml, to_xml, MAX_DEPTH, MAX_ELEMENTS};

use crate::crypto::aes_ecb;
use crate::encoding::percent_encode_into;
use crate::error::{ApiError, Error, RawResponse};
use crate::options::RequestOptions;
use crate::response::Response;
use crate::uri::BaseUri;
use crate::verifier::Rejection;

/// Marks a request as APIv2 that must present the merchant's client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCertificate;

/// An APIv2 secret: exactly 32 bytes. `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Checks the length.
    pub fn new(secret: impl Into<String>) -> Result<Secret, Error> {
        let secret = secret.into();
        if secret.len() != 32 {
            return Err(Error::key(
                "APIv2 secret",
                format!("must be exactly 32 bytes, got {}", secret.len()),
            ));
        }
        Ok(Secret(secret))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// What an APIv2 request needs from the client.
pub(crate) struct Context<'a> {
    pub(crate) mchid: &'a str,
    pub(crate) secret: Option<&'a Secret>,
    pub(crate) has_client_certificate: bool,
    pub(crate) nonce: &'a (dyn Fn() -> String + Send + Sync),
}

/// Builds the APIv2 request for `path` (the `v2/` prefix already removed).
pub(crate) fn build(
    method: Method,
    path: &str,
    opts: RequestOptions,
    base: &BaseUri,
    default_headers: &HeaderMap,
    ctx: &Context<'_>,
) -> Result<Request<Bytes>, Error> {
    let secret = ctx.secret.ok_or_else(|| {
        Error::Config("APIv2 calls need the APIv2 secret: ClientBuilder::apiv2_secret(…)".into())
    })?;
    let mut data = opts.xml.clone().unwrap_or_default();
    let given = ["mch_id", "mchid", "combine_mch_id"]
        .iter()
        .find_map(|k| data.get(*k))
        .map(xml::scalar_text);
    if given.as_deref() != Some(ctx.mchid) {
        return Err(Error::option(
            "xml",
            format!(
                "its mch_id ({}) is not this client's mchid {}",
                given.as_deref().unwrap_or("missing"),
                ctx.mchid
            ),
        ));
    }
    let sign_type = match data.get("sign_type") {
        None => SignType::Md5,
        Some(v) => SignType::parse(&xml::scalar_text(v))
            .ok_or_else(|| Error::option("xml.sign_type", "must be `MD5` or `HMAC-SHA256`"))?,
    };
    if !opts.nonceless && !data.contains_key("nonce_str") {
        data.insert("nonce_str".into(), Value::String((ctx.nonce)()));
    }
    if opts.security && !ctx.has_client_certificate {
        return Err(Error::Config(
            "`security: true` needs the merchant's client certificate: ClientBuilder::merchant_certificate(cert_pem, key_pem)".into(),
        ));
    }
    let signature = sign(&data, sign_type, secret.as_str());
    data.insert("sign".into(), Value::String(signature));

    let mut headers = default_headers.clone();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/xml, text/plain, application/x-gzip"),
    );
    let (query, body) = if method == Method::GET {
        let mut q = String::new();
        for (k, v) in &data {
            if v.is_object() || v.is_array() {
                // The sign covers each value as sent; a query has no form for nesting.
                return Err(Error::option(
                    format!("xml.{k}"),
                    "a GET sends the payload as the query, so its values must be scalars",
                ));
            }
            if !q.is_empty() {
                q.push('&');
            }
            percent_encode_into(k.as_bytes(), &mut q);
            q.push('=');
            percent_encode_into(xml::scalar_text(v).as_bytes(), &mut q);
        }
        (Some(q), Bytes::new())
    } else {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        );
        (None, Bytes::from(to_xml(&data)))
    };
    opts.apply_headers(&mut headers);
    let target = base.target(path, query.as_deref());
    let uri = format!("{}{}", base.origin(), target);
    let mut request = Request::builder()
        .method(method)
        .uri(uri.as_str())
        .body(body)
        .map_err(|e| Error::option("xml", format!("builds an invalid request ({e})")))?;
    *request.headers_mut() = headers;
    if opts.security {
        request.extensions_mut().insert(ClientCertificate);
    }
    Ok(request)
}

/// The APIv2 endpoints WeChat answers unsigned (wechatpay-php's list; paths
/// without the `v2/` prefix and without a leading slash).
pub const UNSIGNED: &[&str] = &[
    "mchrisk/querymchrisk",
    "mchrisk/setmchriskcallback",
    "mchrisk/syncmchriskresult",
    "mmpaymkttransfers/gethbinfo",
    "mmpaymkttransfers/gettransferinfo",
    "mmpaymkttransfers/pay_bank",
    "mmpaymkttransfers/promotion/paywwsptrans2pocket",
    "mmpaymkttransfers/promotion/querywwsptrans2pocket",
    "mmpaymkttransfers/promotion/transfers",
    "mmpaymkttransfers/query_bank",
    "mmpaymkttransfers/sendgroupredpack",
    "mmpaymkttransfers/sendminiprogramhb",
    "mmpaymkttransfers/sendredpack",
    "mmpaysptrans/pay_bank",
    "mmpaysptrans/query_bank",
    "papay/entrustweb",
    "papay/h5entrustweb",
    "papay/partner/entrustweb",
    "papay/partner/h5entrustweb",
    "pay/downloadbill",
    "pay/downloadfundflow",
    "payitil/report",
    "risk/getpublickey",
    "risk/getviolation",
    "secapi/mch/submchmanage",
    "xdc/apiv2getsignkey/sign/getsignkey",
];

/// Whether WeChat answers `path` (no `v2/` prefix, no leading slash) unsigned.
pub fn is_unsigned(path: &str) -> bool {
    UNSIGNED.contains(&path)
}

/// The APIv2 endpoints whose answers carry `return_code` but no `result_code`
/// (paths without the `v2/` prefix, matched exactly). From WeChat's documentation as
/// the endpoint catalogue records it (TheNorthMemory/wechatpay-openapi at 4d6325b0,
/// the 200 response schemas of `docs/v2/…`): of its 136 v2 operations, these are the
/// XML answers documented without `result_code`. Five more have none because they
/// are not field answers at all (`appauth/authindex`, `papay/entrustweb` and
/// `papay/partner/entrustweb` are browser pages; `appauth/getaccesstoken` answers
/// JSON; `applyment/micro/signcontract` is deprecated with no documented answer).
pub const NO_RESULT_CODE: &[&str] = &[
    "face/get_wxpayface_authinfo",
    "pay/downloadbill",
    "pay/profitsharingmerchantratioquery",
    "pay/profitsharingorderamountquery",
    "pay/queryexchagerate",
    "sandboxnew/pay/downloadbill",
    "sandboxnew/pay/getsignkey",
    "xdc/apiv2getsignkey/sign/getsignkey",
];

/// Whether WeChat's answer for `path` (no `v2/` prefix, no leading slash) has no
/// `result_code`, so `return_code` alone decides.
pub fn has_no_result_code(path: &str) -> bool {
    NO_RESULT_CODE.contains(&path)
}

/// Checks an APIv2 answer for `path` (no `v2/` prefix).
pub(crate) fn verify(
    path: &str,
    raw: http::Response<Bytes>,
    secret: &str,
) -> Result<Response, Error> {
    let (parts, body) = raw.into_parts();
    let raw = RawResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    };
    if !raw.status.is_success() {
        return Err(api_error(raw, None));
    }
    if is_unsigned(path) {
        return Ok(Response::from_raw(raw, false));
    }
    let text = String::from_utf8_lossy(&raw.body);
    let map = match from_xml(&text) {
        Ok(map) => map,
        Err(reason) => {
            return Err(Error::Verification {
                rejection: Rejection::ApiV2Unreadable { reason },
                response: Box::new(raw),
            })
        }
    };
    let field = |k: &str| map.get(k).map(xml::scalar_text);
    if field("return_code").as_deref() != Some("SUCCESS")
        || field("result_code").is_some_and(|c| c != "SUCCESS")
    {
        return Err(api_error(raw, Some(&map)));
    }
    if field("result_code").is_none() && !has_no_result_code(path) {
        return Err(Error::Verification {
            rejection: Rejection::ApiV2NoResultCode,
            response: Box::new(raw),
        });
    }
    let Some(given) = field("sign") else {
        return Err(Error::Verification {
            rejection: Rejection::ApiV2NoSign,
            response: Box::new(raw),
        });
    };
    let expected = sign(&map, SignType::of_sign(&given), secret);
    if !hash::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(Error::Verification {
            rejection: Rejection::ApiV2BadSign,
            response: Box::new(raw),
        });
    }
    Ok(Response::from_raw(raw, true))
}

fn api_error(raw: RawResponse, map: Option<&Map<String, Value>>) -> Error {
    let field = |k: &str| {
        map.and_then(|m| m.get(k))
            .map(xml::scalar_text)
            .filter(|s| !s.is_empty())
    };
    let failed_result = field("return_code").as_deref() == Some("SUCCESS");
    let (code, message) = if failed_result {
        (
            field("err_code").or_else(|| field("result_code")),
            field("err_code_des"),
        )
    } else {
        (field("return_code"), field("return_msg"))
    };
    Error::Api(Box::new(ApiError {
        status: raw.status,
        code,
        message,
        detail: map.map(|m| Value::Object(m.clone())),
        request_id: None,
        verified: false,
        response: raw,
    }))
}

/// Checks an APIv2 notification body (XML) signed with the secret, and returns
/// its fields.
///
/// ```
/// use serde_json::json;
/// use wechatpay_chain::v2;
/// let secret = "exposed_your_key_here_have_risks";
/// let mut data = json!({"return_code": "SUCCESS", "out_trade_no": "1"}).as_object().unwrap().clone();
/// let sign = v2::sign(&data, v2::SignType::Md5, secret);
/// data.insert("sign".into(), sign.into());
/// let fields = v2::verify_notification(&v2::to_xml(&data), secret)?;
/// assert_eq!(fields["out_trade_no"], "1");
/// assert!(v2::verify_notification(&v2::to_xml(&data).replace(">1<", ">2<"), secret).is_err());
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
pub fn verify_notification(body: &str, secret: &str) -> Result<Map<String, Value>, Error> {
    let map = from_xml(body).map_err(|m| Error::option("(notification)", m))?;
    let given = map.get("sign").map(xml::scalar_text).unwrap_or_default();
    let expected = sign(&map, SignType::of_sign(&given), secret);
    if given.is_empty() || !hash::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(Error::option(
            "(notification)",
            "the `sign` does not match its fields",
        ));
    }
    Ok(map)
}

/// Decrypts the `req_info` of an APIv2 refund notification (AES-256-ECB keyed with
/// the lower-case hex MD5 of the secret) and returns its fields.
pub fn decrypt_refund_info(req_info: &str, secret: &str) -> Result<Map<String, Value>, Error> {
    use md5::{Digest, Md5};
    let key = crate::encoding::hex(&Md5::digest(secret.as_bytes()));
    let plain = aes_ecb::decrypt(key.as_bytes(), req_info)?;
    from_xml(&String::from_utf8_lossy(&plain)).map_err(|m| Error::option("req_info", m))
}

/// The parameters of `wx.requestPayment` / `WeixinJSBridge` for an APIv2
/// `prepay_id` (`paySign` with MD5 or HMAC-SHA256).
pub fn jsapi_pay_params(
    appid: &str,
    prepay_id: &str,
    sign_type: SignType,
    secret: &str,
    timestamp: i64,
    nonce: &str,
) -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("appId".into(), appid.into());
    params.insert("timeStamp".into(), timestamp.to_string().into());
    params.insert("nonceStr".into(), nonce.into());
    params.insert("package".into(), format!("prepay_id={prepay_id}").into());
    params.insert("signType".into(), sign_type.as_str().into());
    let pay_sign = sign(&params, sign_type, secret);
    params.insert("paySign".into(), pay_sign.into());
    params
}

/// The parameters of an APIv2 APP payment (`PayReq` of the WeChat SDK): `sign`
/// over appid, partnerid (the mchid), prepayid, package `Sign=WXPay`, noncestr and
/// timestamp.
pub fn app_pay_params(
    appid: &str,
    mchid: &str,
    prepay_id: &str,
    sign_type: SignType,
    secret: &str,
    timestamp: i64,
    nonce: &str,
) -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("appid".into(), appid.into());
    params.insert("partnerid".into(), mchid.into());
    params.insert("prepayid".into(), prepay_id.into());
    params.insert("package".into(), "Sign=WXPay".into());
    params.insert("noncestr".into(), nonce.into());
    params.insert("timestamp".into(), timestamp.to_string().into());
    let signature = sign(&params, sign_type, secret);
    params.insert("sign".into(), signature.into());
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refund_info_round_trip() {
        use md5::{Digest, Md5};
        let secret = "exposed_your_key_here_have_risks";
        let key = crate::encoding::hex(&Md5::digest(secret.as_bytes()));
        let sealed =
            aes_ecb::encrypt(key.as_bytes(), b"<root><refund_id>50000</refund_id></root>").unwrap();
        let info = decrypt_refund_info(&sealed, secret).unwrap();
        assert_eq!(info["refund_id"], "50000");
        assert!(decrypt_refund_info(&sealed, "another_secret_of_32_bytes______").is_err());
    }

    #[test]
    fn app_pay_sign_covers_the_six_fields() {
        let secret = "exposed_your_key_here_have_risks";
        let p = app_pay_params(
            "wx1",
            "1900000001",
            "wx2017",
            SignType::HmacSha256,
            secret,
            1414561699,
            "N",
        );
        let mut unsigned = p.clone();
        unsigned.remove("sign");
        assert_eq!(unsigned.len(), 6);
        assert_eq!(p["sign"], sign(&unsigned, SignType::HmacSha256, secret));
        assert_eq!(p["sign"].as_str().unwrap().len(), 64);
    }

    #[test]
    fn jsapi_pay_sign_covers_the_five_fields() {
        let p = jsapi_pay_params(
            "wx1",
            "wx2017",
            SignType::Md5,
            "exposed_your_key_here_have_risks",
            1414561699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        );
        let mut unsigned = p.clone();
        unsigned.remove("paySign");
        assert_eq!(
            p["paySign"],
            sign(&unsigned, SignType::Md5, "exposed_your_key_here_have_risks")
        );
        assert_eq!(p["package"], json!("prepay_id=wx2017"));
    }
}
