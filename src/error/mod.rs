//! The crate's one error type.
//!
//! Each variant is a class of failure a caller acts on differently: fix the code
//! (configuration, template, placeholder, option), retry or give up (transport), treat
//! the answer as untrusted (verification), read WeChat's verdict (API), or fix the type
//! the answer is decoded into (decode, XML decode).

mod api;

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

pub use api::ApiError;

/// A boxed error source, as carried by [`Error::Transport`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `error` and its causes, `: `-separated, skipping a cause its parent already quotes
/// (HTTP stacks often repeat their source in their own message).
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

/// Everything that can go wrong between building a chain and reading its answer.
///
/// `Debug` (what `fn main() -> Result<(), Error>` prints) is as readable as
/// `Display`: the variant and its fields, an answer's status, `code`, `message`,
/// `Request-ID` and a short preview of its body, never its headers (signatures) or
/// anything secret. The whole answer stays available through
/// [`raw_response`](Self::raw_response).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is incomplete or inconsistent (builder checks).
    #[error("configuration error: {0}")]
    Config(String),

    /// A key could not be loaded. `what` names the key (e.g. "merchant private key")
    /// and never contains key material.
    #[error("{what}: {message}")]
    Key {
        /// Which key was being loaded, and from where.
        what: String,
        /// What was wrong with it.
        message: String,
    },

    /// The path template is malformed.
    #[error("template `{template}`: {message}")]
    Template {
        /// The template as written.
        template: String,
        /// What is wrong with it.
        message: String,
    },

    /// A placeholder could not be expanded from the options.
    #[error("template `{template}`: placeholder `{placeholder}` {message}")]
    Placeholder {
        /// The template the placeholder belongs to.
        template: String,
        /// The placeholder's name.
        placeholder: String,
        /// What is wrong with its value.
        message: String,
    },

    /// An option of the request's option map is unknown or has the wrong shape.
    #[error("option `{key}`: {message}")]
    Option {
        /// The option key at fault.
        key: String,
        /// What is wrong with it.
        message: String,
    },

    /// The request could not be sent or its answer not received. The message ends
    /// with the innermost cause (e.g. `operation timed out`, `Connection refused`).
    #[error("transport error ({kind}): {}", with_causes(source.as_ref()))]
    Transport {
        /// Connect, timeout or other.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: BoxError,
    },

    /// A 2xx answer failed the signature check; its body must not be trusted.
    #[error("response verification failed: {rejection}")]
    Verification {
        /// Why the answer was refused.
        rejection: crate::verifier::Rejection,
        /// The raw answer, for logging and diagnosis only.
        response: Box<RawResponse>,
    },

    /// WeChat Pay answered with a non-2xx status.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The (verified) body could not be decoded into the requested type.
    #[error("cannot decode the response body: {source}")]
    Decode {
        /// The decoder's error, with line and column.
        #[source]
        source: serde_json::Error,
        /// The body that failed to decode.
        body: Bytes,
    },

    /// The (verified) body is not XML this crate reads, so [`Response::xml`]
    /// cannot decode it: malformed, too deep or too wide, or carrying a DOCTYPE.
    ///
    /// [`Response::xml`]: crate::Response::xml
    #[error("cannot decode the XML body: {message}")]
    DecodeXml {
        /// What the XML reader refused.
        message: String,
        /// The body that failed to decode.
        body: Bytes,
    },

    /// A notification (callback) failed its signature check, its 300 s window, or
    /// the decryption of its `resource`; nothing in it may be acted on.
    #[error("notification refused: {reason}")]
    Notification {
        /// What was wrong, naming the header or field at fault.
        reason: String,
    },

    /// A downloaded file does not match the `hash_type`/`hash_value` the preceding
    /// call returned, or the hash could not be checked.
    #[error("download integrity check failed: {reason}")]
    Integrity {
        /// What did not match.
        reason: String,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(message) => f.debug_tuple("Config").field(message).finish(),
            Error::Key { what, message } => f
                .debug_struct("Key")
                .field("what", what)
                .field("message", message)
                .finish(),
            Error::Template { template, message } => f
                .debug_struct("Template")
                .field("template", template)
                .field("message", message)
                .finish(),
            Error::Placeholder {
                template,
                placeholder,
                message,
            } => f
                .debug_struct("Placeholder")
                .field("template", template)
                .field("placeholder", placeholder)
                .field("message", message)
                .finish(),
            Error::Option { key, message } => f
                .debug_struct("Option")
                .field("key", key)
                .field("message", message)
                .finish(),
            Error::Transport { kind, source } => f
                .debug_struct("Transport")
                .field("kind", kind)
                .field("message", &with_causes(source.as_ref()))
                .finish(),
            Error::Verification {
                rejection,
                response,
            } => f
                .debug_struct("Verification")
                .field("reason", &rejection.to_string())
                .field("status", &response.status)
                .field("request_id", &request_id(&response.headers))
                .field("body", &Preview(&response.body))
                .finish(),
            Error::Api(api) => fmt::Debug::fmt(api, f),
            Error::Decode { source, body } => f
                .debug_struct("Decode")
                .field("error", &source.to_string())
                .field("body", &Preview(body))
                .finish(),
            Error::DecodeXml { message, body } => f
                .debug_struct("DecodeXml")
                .field("message", message)
                .field("body", &Preview(body))
                .finish(),
            Error::Notification { reason } => f
                .debug_struct("Notification")
                .field("reason", reason)
                .finish(),
            Error::Integrity { reason } => {
                f.debug_struct("Integrity").field("reason", reason).finish()
            }
        }
    }
}

/// The `Request-ID` header of an answer, for quoting to WeChat Pay support.
fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(crate::response::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
}

/// The start of a body, as text, with its length: enough to recognise a gateway
/// page or a truncated answer without dumping megabytes.
pub(crate) struct Preview<'a>(&'a [u8]);

impl fmt::Debug for Preview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 200;
        let text = String::from_utf8_lossy(&self.0[..self.0.len().min(SHOWN)]);
        if self.0.len() > SHOWN {
            write!(f, "{:?}… ({} bytes)", text, self.0.len())
        } else {
            write!(f, "{text:?}")
        }
    }
}

/// The class of a [`Error::Transport`] failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be established.
    Connect,
    /// The request or connection timed out.
    Timeout,
    /// The URL would be rewritten by the HTTP stack, so what is signed would differ
    /// from what is sent.
    Url,
    /// The answer body is larger than the configured maximum.
    BodyTooLarge,
    /// Any other I/O or protocol failure.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Url => "url",
            TransportKind::BodyTooLarge => "body too large",
            TransportKind::Other => "other",
        })
    }
}

/// A raw HTTP answer: status, headers and body exactly as received.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The headers as received.
    pub headers: HeaderMap,
    /// The body as received.
    pub body: Bytes,
}

impl RawResponse {
    /// The parts of an answer as received.
    pub(crate) fn from_http(raw: http::Response<Bytes>) -> RawResponse {
        let (parts, body) = raw.into_parts();
        RawResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

impl Error {
    /// The WeChat error code of an [`Error::Api`], e.g. `"ORDER_NOT_EXIST"`.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.code.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of an answer that was received (API or verification error).
    pub fn status(&self) -> Option<StatusCode> {
        self.raw_response().map(|r| r.status)
    }

    /// The class of a transport failure (connect, timeout, …), for retry decisions.
    pub fn transport_kind(&self) -> Option<TransportKind> {
        match self {
            Error::Transport { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The raw answer behind an API or verification error (PHP's `getResponse()`).
    pub fn raw_response(&self) -> Option<&RawResponse> {
        match self {
            Error::Api(api) => Some(&api.response),
            Error::Verification { response, .. } => Some(response),
            _ => None,
        }
    }

    /// True for a transport failure after a call that is not idempotent (a `POST`,
    /// `PUT` or `PATCH` not marked [`Chain::idempotent`](crate::Chain::idempotent))
    /// was perhaps sent: a timeout, a connection reset or closed before the answer.
    /// WeChat Pay may have acted on it, so it was sent neither again nor to the
    /// backup host; query the state (e.g. by `out_trade_no`) before trying again.
    pub fn may_have_been_delivered(&self) -> bool {
        match self {
            Error::Transport { source, .. } => source.is::<crate::failover::MaybeDelivered>(),
            _ => false,
        }
    }

    /// True for failures that happened before anything was sent (configuration,
    /// key, template, placeholder, option).
    pub fn is_before_send(&self) -> bool {
        matches!(
            self,
            Error::Config(_)
                | Error::Key { .. }
                | Error::Template { .. }
                | Error::Placeholder { .. }
                | Error::Option { .. }
        )
    }

    pub(crate) fn option(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Option {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(crate) fn key(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Key {
            what: what.into(),
            message: message.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
