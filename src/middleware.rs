//! User middleware, named by the phase it runs in.
//!
//! The pipeline is build -> [`Middleware::before_signing`] -> sign ->
//! [`Middleware::after_signing`] -> transport -> verify -> [`Middleware::after_verifying`].
//! Signing and verifying themselves are not replaceable: a hook can add headers
//! before the signature is computed, observe what is sent, and observe the outcome
//! of every attempt, including one that got no answer (a timeout, a refused
//! connection).

use bytes::Bytes;
use http::Request;

use crate::error::Error;
use crate::request::Endpoint;
use crate::response::Response;

/// A hook into the request pipeline. Every method has a no-op default.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use wechatpay_chain::Endpoint;
/// use wechatpay_chain::{Error, Middleware, Response};
///
/// /// Logs each failed attempt with its endpoint and duration; counts them.
/// #[derive(Default)]
/// struct Failures(AtomicUsize);
/// impl Middleware for Failures {
///     fn after_verifying(&self, call: &Endpoint, outcome: Result<&Response, &Error>) {
///         if let Err(e) = outcome {
///             self.0.fetch_add(1, Ordering::Relaxed);
///             eprintln!("{} {} failed after {:?}: {e}", call.method, call.template, call.elapsed());
///         }
///     }
/// }
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// Runs on the built request before it is signed; may change headers, URI or
    /// body (the signature covers the result). An error aborts the call unsent.
    fn before_signing(&self, request: &mut Request<Bytes>) -> Result<(), Error> {
        let _ = request;
        Ok(())
    }

    /// Observes the signed request just before it is sent.
    fn after_signing(&self, request: &Request<Bytes>) {
        let _ = request;
    }

    /// Observes the outcome of each attempt (each retry is one): the verified
    /// answer, or the error it ended in: [`Error::Verification`] or [`Error::Api`]
    /// for an answer, [`Error::Transport`] when none came (nothing was verified).
    /// Not called when a `before_signing` hook refused the request.
    fn after_verifying(&self, call: &Endpoint, outcome: Result<&Response, &Error>) {
        let _ = (call, outcome);
    }
}

/// A shared middleware (e.g. metrics read elsewhere) is a middleware.
impl<M: Middleware + ?Sized> Middleware for std::sync::Arc<M> {
    fn before_signing(&self, request: &mut Request<Bytes>) -> Result<(), Error> {
        (**self).before_signing(request)
    }

    fn after_signing(&self, request: &Request<Bytes>) {
        (**self).after_signing(request)
    }

    fn after_verifying(&self, call: &Endpoint, outcome: Result<&Response, &Error>) {
        (**self).after_verifying(call, outcome)
    }
}

pub(crate) struct BeforeSigning<F>(pub(crate) F);

impl<F> Middleware for BeforeSigning<F>
where
    F: Fn(&mut Request<Bytes>) -> Result<(), Error> + Send + Sync + 'static,
{
    fn before_signing(&self, request: &mut Request<Bytes>) -> Result<(), Error> {
        (self.0)(request)
    }
}

pub(crate) struct AfterVerifying<F>(pub(crate) F);

impl<F> Middleware for AfterVerifying<F>
where
    F: Fn(&Endpoint, Result<&Response, &Error>) + Send + Sync + 'static,
{
    fn after_verifying(&self, call: &Endpoint, outcome: Result<&Response, &Error>) {
        (self.0)(call, outcome)
    }
}
