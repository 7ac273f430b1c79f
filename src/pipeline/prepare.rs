//! Stages 1 and 2: build the request, shape it, hooks, sign.

use bytes::Bytes;
use http::{Method, Request};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::failover::Host;
use crate::request::{build, Endpoint};
use crate::template::Template;

/// Stage 1 alone: the request as built from the template and options, before
/// hooks and signing (also what `Chain::build_unsigned` benchmarks).
pub(crate) fn build_unsigned(
    client: &Client,
    method: Method,
    template: &Template,
    options: &Value,
) -> Result<Request<Bytes>, Error> {
    build_on(client, Host::Primary, method, template, options)
}

/// Stage 1 for an attempt on `host`.
fn build_on(
    client: &Client,
    host: Host,
    method: Method,
    template: &Template,
    options: &Value,
) -> Result<Request<Bytes>, Error> {
    let inner = &client.inner;
    let v2 = crate::v2::Context {
        mchid: inner.signer.mchid(),
        secret: inner.apiv2_secret.as_ref(),
        has_client_certificate: inner.has_client_certificate,
        nonce: inner.nonce.as_ref(),
    };
    let backup = inner.failover.base(Host::Backup).unwrap_or(&inner.base);
    build(
        method,
        template,
        options,
        inner.failover.base(host).unwrap_or(&inner.base),
        &[&inner.base, backup],
        host,
        &inner.default_headers,
        &v2,
        std::time::Instant::now(),
    )
}

/// Stages 1 and 2 for an attempt on `host`: build, `shape` (media uploads put
/// their multipart body there, downloads their label), `before_signing` hooks,
/// sign, `after_signing` hooks.
pub(crate) fn prepare(
    client: &Client,
    host: Host,
    method: Method,
    template: &Template,
    options: &Value,
    shape: &dyn Fn(&mut Request<Bytes>) -> Result<(), Error>,
) -> Result<Request<Bytes>, Error> {
    let inner = &client.inner;
    let mut request = build_on(client, host, method, template, options)?;
    shape(&mut request)?;
    for m in &inner.middleware {
        m.before_signing(&mut request)?;
    }
    // APIv2 carries its `sign` in the payload, made at build time.
    let apiv2 = request
        .extensions()
        .get::<Endpoint>()
        .is_some_and(|e| e.apiv2);
    if !apiv2 {
        let timestamp = client.now().to_string();
        let nonce = client.fresh_nonce();
        inner.signer.sign(&mut request, &timestamp, &nonce)?;
    }
    for m in &inner.middleware {
        m.after_signing(&request);
    }
    tracing::debug!(method = %request.method(), uri = %request.uri(), "wechatpay request");
    Ok(request)
}

/// The call a prepared request belongs to, as the `after_verifying` hooks see it.
pub(super) fn endpoint_of(request: &Request<Bytes>, host: Host) -> Endpoint {
    request
        .extensions()
        .get::<Endpoint>()
        .cloned()
        .unwrap_or_else(|| {
            // A middleware removed it: rebuilt from what was sent.
            let path = request.uri().path();
            Endpoint {
                method: request.method().clone(),
                template: path.trim_start_matches('/').to_owned(),
                path: path.trim_start_matches('/').to_owned(),
                full_path: path.to_owned(),
                apiv2: false,
                base_uri: match (request.uri().scheme_str(), request.uri().authority()) {
                    (Some(scheme), Some(authority)) => format!("{scheme}://{authority}/").into(),
                    _ => "".into(),
                },
                host,
                started: std::time::Instant::now(),
            }
        })
}
