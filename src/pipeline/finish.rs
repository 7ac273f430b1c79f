//! Stage 4: verify the answer, map API errors, run the `after_verifying` hooks.

use bytes::Bytes;

use crate::client::Client;
use crate::error::{ApiError, Error, RawResponse};
use crate::request::Endpoint;
use crate::response::Response;
use crate::verifier::{self, is_unsigned_download};

/// Verifies the answer and turns it into a [`Response`] or an [`Error`]; the
/// middleware sees the outcome.
pub(crate) fn finish(
    client: &Client,
    endpoint: &Endpoint,
    raw: http::Response<Bytes>,
) -> Result<Response, Error> {
    let outcome = verify(client, endpoint, raw);
    match &outcome {
        Ok(res) => {
            tracing::debug!(status = %res.status(), request_id = res.request_id(), "wechatpay response")
        }
        Err(e) => tracing::debug!(error = %e, "wechatpay response refused"),
    }
    for m in &client.inner.middleware {
        m.after_verifying(endpoint, outcome.as_ref());
    }
    outcome
}

/// Stage 4 when no answer came: the middleware sees the transport error.
pub(crate) fn transport_failed(client: &Client, endpoint: &Endpoint, error: Error) -> Error {
    tracing::debug!(error = %error, "wechatpay transport failed");
    for m in &client.inner.middleware {
        m.after_verifying(endpoint, Err(&error));
    }
    error
}

fn verify(
    client: &Client,
    endpoint: &Endpoint,
    raw: http::Response<Bytes>,
) -> Result<Response, Error> {
    if endpoint.apiv2 {
        let secret = client
            .inner
            .apiv2_secret
            .as_ref()
            .map(|s| s.as_str())
            .unwrap_or_default();
        return crate::v2::verify(&endpoint.path, raw, secret);
    }
    let now = client.now();
    let keys = client.verifier();
    let statement = verifier::is_statement(endpoint.full_path.trim_start_matches('/'));
    let checked = match raw.headers().get(verifier::STATEMENT_SHA1) {
        Some(sha1) if statement => verifier::verify_statement(&keys, &raw, sha1, now),
        _ => keys.verify(raw.headers(), raw.body(), now),
    };
    if raw.status().is_success() {
        return match checked {
            Ok(()) => Ok(Response::new(raw, true)),
            Err(_) if is_unsigned_download(&endpoint.path) => Ok(Response::new(raw, false)),
            Err(rejection) => Err(Error::Verification {
                rejection,
                response: Box::new(RawResponse::from_http(raw)),
            }),
        };
    }
    Err(Error::Api(Box::new(ApiError::from_v3(
        RawResponse::from_http(raw),
        checked.is_ok(),
    ))))
}
