//! Pay signs: the parameters a front end passes to WeChat to pay a prepay order,
//! signed with the merchant key (RSASSA-PKCS1-v1_5, SHA-256, base64).
//!
//! - JSAPI and mini programs (`wx.requestPayment`, `WeixinJSBridge`): `appId`,
//!   `timeStamp`, `nonceStr`, `package` = `prepay_id=…`, `signType` = `RSA`, and
//!   `paySign` over `appId\ntimeStamp\nnonceStr\npackage\n`.
//! - APP (`PayReq` of the OpenSDK): `appid`, `partnerid`, `prepayid`, `package` =
//!   `Sign=WXPay`, `noncestr`, `timestamp`, and `sign` over
//!   `appid\ntimestamp\nnoncestr\nprepayid\n`.
//!
//! The functions here take the time and nonce (pure, testable); the [`Client`]
//! methods use the client's clock and nonce source.

use serde::Serialize;

use crate::client::Client;
use crate::crypto::PrivateKey;
use crate::error::Error;

/// The parameters of `wx.requestPayment` (mini programs) and
/// `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` (JSAPI). Serialises with
/// WeChat's camelCase names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JsapiPayParams {
    /// `appId`.
    pub app_id: String,
    /// `timeStamp`, unix seconds as a string.
    pub time_stamp: String,
    /// `nonceStr`.
    pub nonce_str: String,
    /// `package`: `prepay_id=…`.
    pub package: String,
    /// `signType`: `RSA`.
    pub sign_type: String,
    /// `paySign`.
    pub pay_sign: String,
}

/// The parameters of an APP payment (`PayReq`). Serialises with WeChat's
/// lower-case names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppPayParams {
    /// `appid`.
    pub appid: String,
    /// `partnerid`: the merchant id.
    pub partnerid: String,
    /// `prepayid`.
    pub prepayid: String,
    /// `package`: `Sign=WXPay`.
    pub package: String,
    /// `noncestr`.
    pub noncestr: String,
    /// `timestamp`, unix seconds as a string.
    pub timestamp: String,
    /// `sign`.
    pub sign: String,
}

/// Signs the pieces, each followed by `\n`.
fn sign_lines(key: &PrivateKey, pieces: &[&str]) -> Result<String, Error> {
    let mut message = String::new();
    for piece in pieces {
        message.push_str(piece);
        message.push('\n');
    }
    key.sign_base64(message.as_bytes())
}

/// The JSAPI / mini-program parameters at a given time and nonce.
///
/// ```
/// use wechatpay_chain::{pay_sign, PrivateKey, PublicKey};
/// let key = PrivateKey::from_file("tests/fixtures/keys/merchant_private.pem")?;
/// let p = pay_sign::jsapi(&key, "wx8888888888888888", "wx201410272009395522657a690389285100", 1414561699, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?;
/// assert_eq!(p.package, "prepay_id=wx201410272009395522657a690389285100");
/// let message = "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n";
/// assert!(key.public_key().verify_base64(message.as_bytes(), &p.pay_sign));
/// assert_eq!(serde_json::to_value(&p)?["signType"], "RSA");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub fn jsapi(
    key: &PrivateKey,
    app_id: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<JsapiPayParams, Error> {
    let time_stamp = timestamp.to_string();
    let package = format!("prepay_id={prepay_id}");
    let pay_sign = sign_lines(key, &[app_id, &time_stamp, nonce, &package])?;
    Ok(JsapiPayParams {
        app_id: app_id.to_owned(),
        time_stamp,
        nonce_str: nonce.to_owned(),
        package,
        sign_type: "RSA".to_owned(),
        pay_sign,
    })
}

/// The APP parameters at a given time and nonce; `partner_id` is the merchant id.
///
/// ```
/// use wechatpay_chain::{pay_sign, PrivateKey};
/// let key = PrivateKey::from_file("tests/fixtures/keys/merchant_private.pem")?;
/// let p = pay_sign::app(&key, "wx8888888888888888", "1900000109", "WX1217752501201407033233368018", 1412000000, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?;
/// assert_eq!(p.package, "Sign=WXPay");
/// let message = "wx8888888888888888\n1412000000\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nWX1217752501201407033233368018\n";
/// assert!(key.public_key().verify_base64(message.as_bytes(), &p.sign));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub fn app(
    key: &PrivateKey,
    app_id: &str,
    partner_id: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<AppPayParams, Error> {
    let timestamp = timestamp.to_string();
    let sign = sign_lines(key, &[app_id, &timestamp, nonce, prepay_id])?;
    Ok(AppPayParams {
        appid: app_id.to_owned(),
        partnerid: partner_id.to_owned(),
        prepayid: prepay_id.to_owned(),
        package: "Sign=WXPay".to_owned(),
        noncestr: nonce.to_owned(),
        timestamp,
        sign,
    })
}

impl Client {
    /// The `wx.requestPayment` / JSAPI parameters for a prepay id (from
    /// `v3/pay/transactions/jsapi`), signed with the merchant key now.
    ///
    /// ```
    /// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder().build()?;
    /// let params = client.jsapi_pay_params("wx8888888888888888", "wx201410272009395522657a690389285100")?;
    /// let for_the_page = serde_json::to_string(&params)?; // {"appId":…,"paySign":…}
    /// assert!(for_the_page.contains("\"paySign\""));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn jsapi_pay_params(&self, app_id: &str, prepay_id: &str) -> Result<JsapiPayParams, Error> {
        jsapi(
            self.signer().key(),
            app_id,
            prepay_id,
            self.now(),
            &self.fresh_nonce(),
        )
    }

    /// The APP payment parameters for a prepay id (from `v3/pay/transactions/app`),
    /// with this client's mchid as `partnerid`, signed with the merchant key now.
    ///
    /// ```
    /// # let client = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder().build()?;
    /// let params = client.app_pay_params("wx8888888888888888", "WX1217752501201407033233368018")?;
    /// assert_eq!(params.partnerid, client.mchid());
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn app_pay_params(&self, app_id: &str, prepay_id: &str) -> Result<AppPayParams, Error> {
        app(
            self.signer().key(),
            app_id,
            self.mchid(),
            prepay_id,
            self.now(),
            &self.fresh_nonce(),
        )
    }
}
