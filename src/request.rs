//! Stage one of the pipeline: a chain and its options become an unsigned
//! `http::Request<Bytes>`. Pure: no clock, no randomness, no I/O.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::Value;

use crate::error::Error;
use crate::options::{as_map, RequestOptions};
use crate::template::Template;
use crate::uri::BaseUri;
use crate::v2;

/// The APIv3 `Accept` header, as wechatpay-php sends it: JSON first, then the
/// types WeChat's downloads and images come as.
pub(crate) const ACCEPT_V3: &str =
    "application/json, text/plain, application/x-gzip, application/pdf, image/png, image/*;q=0.5";

/// What the later stages, and middleware, need to know about one attempt of a
/// call, kept in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// The HTTP method.
    pub method: Method,
    /// The template the call was built from, as the chain holds it
    /// (`v3/discount-card/orders/{out_order_no}`; for a download, its path): a
    /// label with few values, e.g. for metrics.
    pub template: String,
    /// The expanded path, without base prefix or leading slash
    /// (`v3/discount-card/orders/233b…`).
    pub path: String,
    /// The full path as sent, base prefix included, no query (`/hk/v3/statements`).
    pub full_path: String,
    /// Whether the path selected APIv2 (its `v2/` prefix is not part of `path`).
    pub apiv2: bool,
    /// When the attempt was built, before signing.
    pub started: Instant,
}

impl Endpoint {
    /// Time since the attempt was built: once its outcome is known
    /// ([`Middleware::after_verifying`](crate::Middleware::after_verifying)), how
    /// long signing, the round trip and verification took.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Builds the unsigned request for `method` on `template` with `options`; `started`
/// is only recorded.
pub(crate) fn build(
    method: Method,
    template: &Template,
    options: &Value,
    base: &BaseUri,
    default_headers: &HeaderMap,
    v2: &v2::Context<'_>,
    started: Instant,
) -> Result<Request<Bytes>, Error> {
    let map = as_map(options)?;
    let empty = serde_json::Map::new();
    let path = template.expand(map.unwrap_or(&empty))?;
    // The first segment selects the protocol, in any case, as wechatpay-php does.
    let apiv2 = path
        .split('/')
        .next()
        .is_some_and(|first| first.eq_ignore_ascii_case("v2"));
    let opts = RequestOptions::parse(template, map, apiv2)?;
    let timeouts = opts.timeouts();
    let own_base = opts.base_uri.clone();
    let base = own_base.as_ref().unwrap_or(base);
    let (mut request, path) = if apiv2 {
        let path = path.get(3..).unwrap_or_default().to_owned();
        let request = v2::build(method.clone(), &path, opts, base, default_headers, v2)?;
        (request, path)
    } else {
        let request = build_v3(
            method.clone(),
            template,
            &path,
            &opts,
            base,
            default_headers,
        )?;
        (request, path)
    };
    let full_path = request.uri().path().to_owned();
    request.extensions_mut().insert(timeouts);
    request.extensions_mut().insert(Endpoint {
        method,
        template: template.as_str().to_owned(),
        path,
        full_path,
        apiv2,
        started,
    });
    Ok(request)
}

/// The APIv3 request: JSON body, query, headers.
fn build_v3(
    method: Method,
    template: &Template,
    path: &str,
    opts: &RequestOptions,
    base: &BaseUri,
    default_headers: &HeaderMap,
) -> Result<Request<Bytes>, Error> {
    let target = base.target(path, opts.query.as_deref());
    let uri = format!("{}{}", base.origin(), target);

    let mut headers = default_headers.clone();
    let body = match &opts.body {
        Some(b) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            b.bytes().clone()
        }
        None => Bytes::new(),
    };
    for (name, value) in &opts.headers {
        headers.insert(name.clone(), value.clone());
    }

    let mut request = Request::builder()
        .method(method)
        .uri(uri.as_str())
        .body(body)
        .map_err(|e| Error::Template {
            template: template.to_string(),
            message: format!("expands to an invalid URI `{uri}` ({e})"),
        })?;
    *request.headers_mut() = headers;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> BaseUri {
        BaseUri::parse("https://api.mch.weixin.qq.com/").unwrap()
    }

    fn b(method: Method, t: &Template, options: &Value) -> Result<Request<Bytes>, Error> {
        let nonce = || "N".to_string();
        let ctx = v2::Context {
            mchid: "1900000001",
            secret: None,
            has_client_certificate: false,
            nonce: &nonce,
        };
        build(
            method,
            t,
            options,
            &base(),
            &HeaderMap::new(),
            &ctx,
            Instant::now(),
        )
    }

    #[test]
    fn builds_target_headers_and_body() {
        let t = Template::parse("v3/discount-card/orders/{out_order_no}").unwrap();
        let req = b(Method::PATCH, &t, &json!({"out_order_no": "abc", "json": {"a": 1}, "query": {"x": "y z"}, "headers": {"Wechatpay-Serial": "S"}}))
        .unwrap();
        assert_eq!(
            req.uri().to_string(),
            "https://api.mch.weixin.qq.com/v3/discount-card/orders/abc?x=y%20z"
        );
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(req.headers()["wechatpay-serial"], "S");
        assert_eq!(req.body().as_ref(), b"{\"a\":1}");
        let ep = req.extensions().get::<Endpoint>().unwrap();
        assert_eq!(ep.path, "v3/discount-card/orders/abc");
    }

    #[test]
    fn per_request_base_uri_keeps_its_prefix() {
        let t = Template::parse("v3/statements").unwrap();
        let req = b(
            Method::GET,
            &t,
            &json!({"base_uri": "https://apihk.mch.weixin.qq.com/hk/"}),
        )
        .unwrap();
        assert_eq!(
            req.uri().to_string(),
            "https://apihk.mch.weixin.qq.com/hk/v3/statements"
        );
        assert!(req.headers().get("content-type").is_none());
        assert_eq!(
            req.extensions().get::<Endpoint>().unwrap().full_path,
            "/hk/v3/statements"
        );
    }

    #[test]
    fn v2_paths_need_the_apiv2_secret() {
        let t = Template::parse("{ver}/pay/micropay").unwrap();
        let e = b(Method::POST, &t, &json!({"ver": "V2"})).unwrap_err();
        assert!(e.to_string().contains("apiv2_secret"), "{e}");
    }
}
