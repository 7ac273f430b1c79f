//! Stage one of the pipeline: a chain and its options become an unsigned
//! `http::Request<Bytes>`. Pure: no clock, no randomness, no I/O.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::Value;

use crate::error::Error;
use crate::failover::Host;
use crate::options::{as_map, Body, RequestOptions};
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
    /// The base URI this attempt went to (`https://api2.mch.weixin.qq.com/` when it
    /// went to the backup host).
    pub base_uri: Arc<str>,
    /// Which of the client's hosts this attempt went to (see
    /// [`ClientBuilder::backup_base_uri`](crate::ClientBuilder::backup_base_uri)).
    pub host: Host,
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

/// Builds the unsigned request for `method` on `template` with `options`, sent to
/// `base` (the client's `host`) unless the `base_uri` option names another, which
/// must be a WeChat Pay host or one of `own` (the client's base and backup);
/// `started` is only recorded.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    method: Method,
    template: &Template,
    options: &Value,
    base: &BaseUri,
    own: &[&BaseUri],
    host: Host,
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
    if let Some(requested) = &own_base {
        // The Authorization header goes only to WeChat Pay.
        if !crate::uri::is_allowed_host(requested, own) {
            return Err(Error::option(
                "base_uri",
                format!(
                    "`{}` is not a WeChat Pay host (*.{}) nor this client's base host{}; the signed Authorization header goes nowhere else",
                    requested.host(),
                    crate::uri::WECHATPAY_DOMAIN,
                    if crate::uri::is_loopback(requested.host()) {
                        " (loopback is allowed only when the client's base is loopback)"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    let host = if own_base.is_some() {
        Host::Requested
    } else {
        host
    };
    let base = own_base.as_ref().unwrap_or(base);
    let base_uri = base.shown().clone();
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
        base_uri,
        host,
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
    // Only `json` implies its type; a raw `body` carries what its `headers` say, as
    // Guzzle sends it.
    let body = match &opts.body {
        Some(Body::Json(b)) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            b.clone()
        }
        Some(Body::Raw(b)) => b.clone(),
        None => Bytes::new(),
    };
    opts.apply_headers(&mut headers);

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
            &[&base()],
            Host::Primary,
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
    fn a_raw_body_carries_only_the_type_its_headers_give() {
        let t = Template::parse("v3/marketing/favor/media/image-upload").unwrap();
        let bare = b(Method::POST, &t, &json!({"body": "a=1"})).unwrap();
        assert!(bare.headers().get("content-type").is_none());
        assert_eq!(bare.body().as_ref(), b"a=1");
        let typed = b(
            Method::POST,
            &t,
            &json!({"body": "<xml/>", "headers": {"Content-Type": "text/xml"}}),
        )
        .unwrap();
        assert_eq!(typed.headers()["content-type"], "text/xml");
        assert_eq!(typed.headers().get_all("content-type").iter().count(), 1);
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
        let endpoint = req.extensions().get::<Endpoint>().unwrap();
        assert_eq!(endpoint.full_path, "/hk/v3/statements");
        assert_eq!(&*endpoint.base_uri, "https://apihk.mch.weixin.qq.com/hk/");
        assert_eq!(endpoint.host, Host::Requested);
    }

    #[test]
    fn v2_paths_need_the_apiv2_secret() {
        let t = Template::parse("{ver}/pay/micropay").unwrap();
        let e = b(Method::POST, &t, &json!({"ver": "V2"})).unwrap_err();
        assert!(e.to_string().contains("apiv2_secret"), "{e}");
    }
}
