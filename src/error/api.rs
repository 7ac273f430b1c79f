//! WeChat Pay's verdict on a call: a non-2xx answer, decoded where it is JSON.

use std::fmt;

use http::StatusCode;
use serde_json::Value;

use super::{Preview, RawResponse};
use crate::response::REQUEST_ID;

/// A non-2xx answer from WeChat Pay, with its error JSON decoded where present.
///
/// `Debug` shows the decoded fields and a preview of the body, not the headers.
#[derive(Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// WeChat's error `code` (e.g. `ORDER_NOT_EXIST`), if the body carried one.
    pub code: Option<String>,
    /// WeChat's error `message`, if the body carried one.
    pub message: Option<String>,
    /// WeChat's error `detail` object, if the body carried one.
    pub detail: Option<serde_json::Value>,
    /// The `Request-ID` header, to quote to WeChat Pay support.
    pub request_id: Option<String>,
    /// Whether the answer carried a valid platform signature. WeChat's gateway
    /// often answers errors unsigned; the error is reported either way.
    pub verified: bool,
    /// The raw answer.
    pub response: RawResponse,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WeChat Pay answered {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (Request-ID {id})")?;
        }
        if !self.verified {
            f.write_str(" [unverified]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("detail", &self.detail)
            .field("request_id", &self.request_id)
            .field("verified", &self.verified)
            .field("body", &Preview(&self.response.body))
            .finish()
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// An APIv3 error answer: `code`, `message` and `detail` from its JSON body when
    /// it has one, `Request-ID` from its headers; `verified` says whether its
    /// platform signature checked out.
    pub(crate) fn from_v3(response: RawResponse, verified: bool) -> ApiError {
        let json: Option<Value> = serde_json::from_slice(&response.body).ok();
        let field = |name: &str| {
            json.as_ref()
                .and_then(|j| j.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        ApiError {
            status: response.status,
            code: field("code"),
            message: field("message"),
            detail: json.as_ref().and_then(|j| j.get("detail")).cloned(),
            request_id: response
                .headers
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            verified,
            response,
        }
    }
}
