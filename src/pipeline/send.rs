//! Stage 3: the retry policy outside, failover inside (moving to the other host
//! is part of one try), one transport call per attempt.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request};
use serde_json::Value;

use super::finish::{finish, transport_failed};
use super::prepare::{endpoint_of, prepare};
use crate::client::Client;
use crate::error::Error;
use crate::failover::{self, Call};
use crate::response::Response;
use crate::template::Template;

/// Adjusts each attempt's request between building and signing.
pub(crate) type Shape<'a> = &'a dyn Fn(&mut Request<Bytes>) -> Result<(), Error>;

/// Sends one call on the blocking transport; each attempt is prepared afresh
/// (a new nonce, timestamp and signature).
pub(crate) fn send_blocking(
    client: &Client,
    template: &Template,
    method: Method,
    options: &Value,
    idempotent: bool,
    shape: Shape<'_>,
) -> Result<Response, Error> {
    note_uncatalogued(client, &method, template);
    let policy = client.retry_policy();
    let call = Call::new(&method, idempotent, options);
    policy.run_blocking(policy.attempts_for(&method, idempotent), || {
        failover::send_blocking(client, call, |host| {
            let request = prepare(client, host, method.clone(), template, options, shape)?;
            let endpoint = endpoint_of(&request, host);
            match client.sync_transport().call(request) {
                Ok(raw) => finish(client, &endpoint, raw),
                Err(e) => Err(transport_failed(client, &endpoint, e)),
            }
        })
    })
}

/// The async twin of [`send_blocking`]: the future owns what it needs.
pub(crate) async fn send_async<S>(
    client: Client,
    template: Arc<Template>,
    method: Method,
    options: Value,
    idempotent: bool,
    shape: S,
) -> Result<Response, Error>
where
    S: Fn(&mut Request<Bytes>) -> Result<(), Error> + Send + Sync + 'static,
{
    note_uncatalogued(&client, &method, &template);
    let policy = client.retry_policy();
    let attempts = policy.attempts_for(&method, idempotent);
    let call = Call::new(&method, idempotent, &options);
    policy
        .run_async(attempts, || {
            failover::send_async(&client, call, |host| {
                let prepared = prepare(&client, host, method.clone(), &template, &options, &shape);
                let client = client.clone();
                async move {
                    let request = prepared?;
                    let endpoint = endpoint_of(&request, host);
                    match client.async_transport().call(request).await {
                        Ok(raw) => finish(&client, &endpoint, raw),
                        Err(e) => Err(transport_failed(&client, &endpoint, e)),
                    }
                }
            })
        })
        .await
}

/// One debug line for a call the catalogue does not list (a typo shows here before
/// WeChat's 404; an endpoint newer than the catalogue is sent all the same).
fn note_uncatalogued(client: &Client, method: &Method, template: &Template) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let path = template.as_str();
    let known = client
        .catalogue_entry(path)
        .map(|entry| entry.methods().any(|m| m.as_str() == method.as_str()));
    match known {
        Some(true) => {}
        Some(false) => {
            tracing::debug!(%method, path, "operation not in the WeChat Pay API catalogue: the path has other methods")
        }
        None => {
            let nearest = crate::catalogue::nearest(path, 1);
            tracing::debug!(%method, path, nearest = nearest.first().copied().unwrap_or_default(), "path not in the WeChat Pay API catalogue");
        }
    }
}
