//! The pipeline every verb of every chain goes through, in its order:
//!
//! 1. [`prepare`]: build the request from the template and options (pure), let the
//!    caller shape it (media bodies, download labels), run the `before_signing`
//!    hooks, sign (APIv3; APIv2 signs its payload while building), run the
//!    `after_signing` hooks;
//! 2. [`send`]: the retry policy around failover around one attempt, each attempt
//!    prepared afresh and handed to the blocking or async transport;
//! 3. [`finish`]: verify the answer, map a non-2xx answer to [`Error::Api`]
//!    (see [`ApiError`](crate::ApiError)), run the `after_verifying` hooks.
//!
//! Blocking and async verbs share every stage but the transport call.
//!
//! [`Error::Api`]: crate::Error::Api

mod finish;
mod prepare;
mod send;

pub(crate) use finish::{finish, transport_failed};
pub(crate) use prepare::{build_unsigned, prepare};
pub(crate) use send::{send_async, send_blocking, Shape};
