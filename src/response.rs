//! A verified answer.

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, RawResponse};

/// The `Request-ID` header WeChat Pay adds to every answer.
pub const REQUEST_ID: &str = "Request-ID";

/// A 2xx answer whose signature was checked (or an unsigned download, see
/// [`Response::is_verified`]).
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    verified: bool,
}

impl Response {
    pub(crate) fn new(raw: http::Response<Bytes>, verified: bool) -> Self {
        let (parts, body) = raw.into_parts();
        Response {
            status: parts.status,
            headers: parts.headers,
            body,
            verified,
        }
    }

    pub(crate) fn from_raw(raw: RawResponse, verified: bool) -> Self {
        Response {
            status: raw.status,
            headers: raw.headers,
            body: raw.body,
            verified,
        }
    }

    /// Reads an APIv2 XML answer as a map of its fields, decoded into any
    /// `T: DeserializeOwned` (e.g. `serde_json::Value`). Every value is a string,
    /// as WeChat sends them.
    pub fn xml<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let map = crate::v2::from_xml(&self.text()).map_err(|message| Error::DecodeXml {
            message,
            body: self.body.clone(),
        })?;
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|source| Error::Decode {
            source,
            body: self.body.clone(),
        })
    }

    /// The HTTP status (PHP's `getStatusCode()`).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers as received.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body bytes (PHP's `(string) $response->getBody()`).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as text; invalid UTF-8 is replaced, not an error.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Decodes the JSON body into any `T: DeserializeOwned`
    /// (PHP's `json_decode((string) $response->getBody(), true)`).
    ///
    /// An empty body (e.g. `204 No Content`) decodes as JSON `null`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|source| Error::Decode {
            source,
            body: self.body.clone(),
        })
    }

    /// The `Request-ID` header, to quote to WeChat Pay support.
    pub fn request_id(&self) -> Option<&str> {
        self.headers.get(REQUEST_ID).and_then(|v| v.to_str().ok())
    }

    /// True when the platform signature was checked. False only for the downloads
    /// WeChat serves unsigned ([`crate::verifier::is_unsigned_download`]), which the
    /// caller checks by the hash the preceding call returned.
    pub fn is_verified(&self) -> bool {
        self.verified
    }

    /// The parts, for callers that need to own them.
    pub fn into_raw(self) -> RawResponse {
        RawResponse {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}
