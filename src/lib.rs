//! # wechatpay-chain
//!
//! A WeChat Pay APIv3 client whose centre is a chained, dynamic path builder that
//! mirrors the PHP SDK (wechatpay-php): any endpoint can be called without a typed
//! wrapper, and PHP code ports line by line.
//!
//! ```no_run
//! use serde_json::json;
//! use wechatpay_chain::{chain, Client, PrivateKey, PublicKey};
//!
//! # fn main() -> Result<(), wechatpay_chain::Error> {
//! let client = Client::builder()
//!     .mchid("1900000001")
//!     .serial("3775B6A45ACD588826D15E583A95F5DD00000001")
//!     .private_key(PrivateKey::from_file("apiclient_key.pem")?)
//!     .platform_key("PUB_KEY_ID_0112345678902024000000000000", PublicKey::from_file("pub_key.pem")?)
//!     .build()?;
//!
//! // $instance->chain('v3/discount-card/orders/{out_order_no}')->get([...])
//! let res = client
//!     .chain("v3/discount-card/orders/{out_order_no}")
//!     .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }))?;
//! let order: serde_json::Value = res.json()?;
//!
//! // $instance->v3->discountCard->orders->_out_order_no_->get([...])
//! let res = client.seg("v3").seg("discountCard").seg("orders").seg("_out_order_no_")
//!     .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }))?;
//! let res = chain!(client->v3->discountCard->orders->_out_order_no_)
//!     .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }))?;
//!
//! // $instance['v3/discount-card/orders/{out_order_no}']->get([...])
//! let res = client["v3/discount-card/orders/{out_order_no}"]
//!     .get(json!({ "out_order_no": "233bcbf407e87789b8e471f251774f95" }))?;
//! # Ok(()) }
//! ```
//!
//! ## The pipeline, one module a stage
//! - `template`: path templates, PHP normalisation, RFC 6570 expansion
//!   (`template`), percent-encoding (`encoding`), base URIs (`uri`).
//! - `options`: the untyped option map (`json`, `body`, `query`, `headers`,
//!   `timeout`, `connect_timeout`, `base_uri`, placeholders).
//! - `request`: chain + options -> unsigned `http::Request<Bytes>` (pure).
//! - [`signer`]: the Authorization header (pure; time and nonce are inputs).
//! - [`transport`]: blocking and async senders over `http` types (reqwest by default,
//!   closures in tests).
//! - [`verifier`]: the platform signature and the 300 s window (pure; time is an input).
//! - [`Response`] and [`Error`]: the outcome.
//! - [`crypto`]: keys, nonces, AES-GCM/ECB, RSA-OAEP, the signing backends
//!   (aws-lc by default, pure-Rust `rsa` without the `aws-lc` feature).
//! - [`Middleware`]: hooks named by phase; [`RetryPolicy`]: opt-in retries that
//!   re-sign every attempt; [`failover`]: the primary and backup hosts (WeChat's
//!   cross-city disaster recovery), without ever sending a payment twice.
//! - [`v2`]: APIv2 (XML) on the same chain, chosen by a leading `v2/` segment.
//! - The sandbox (crate `wechatpay-chain-sandbox`): a local WeChat Pay on loopback for tests,
//!   examples and other SDKs.
//!
//! ## The helpers every integration needs
//! - Sensitive fields: [`Client::encrypt`] / [`Client::decrypt`] (RSA-OAEP,
//!   [`crypto::oaep`]).
//! - [`notification`]: verify and decrypt callbacks; the answer WeChat expects.
//! - Platform certificates: [`Client::download_certificates`], with a background
//!   [`Client::refresh_certificates`].
//! - [`media`]: multipart uploads signed over their meta JSON.
//! - [`download`]: unsigned downloads checked by hash, to any writer.
//! - [`pay_sign`]: JSAPI / mini-program and APP payment parameters.
//!
//! ## Features
//!
//! | feature | default | what it does |
//! | --- | --- | --- |
//! | `aws-lc` | on | signs and verifies with aws-lc-rs (already linked by rustls); off, the pure-Rust `rsa` crate does, with byte-identical signatures |
//!
//! The local WeChat Pay simulator is its own crate, `wechatpay-chain-sandbox` (use it
//! as a dev-dependency), and the command line is the `wxpay` package.
//!
//! ## Guides
//! The [`guide`] module renders the guides: [porting from PHP](guide::porting_from_php),
//! [the discount-card walkthrough](guide::discount_card) and
//! [the architecture](guide::architecture).
//!
//! ## Template rules
//! `seg()` and `chain!` normalise each identifier as PHP does (`discountCard` ->
//! `discount-card`, `_out_order_no_` -> `{out_order_no}`); `chain()` and `client[…]`
//! take the template as written. A missing or empty placeholder value, an unknown
//! option key, or a value that would leave the endpoint (`.`/`..`) is an error and
//! nothing is sent.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod blocking;
mod builder;
pub mod certificates;
mod chain;
mod client;
pub mod crypto;
pub mod download;
mod encoding;
mod error;
pub mod failover;
pub mod guide;
pub mod media;
mod middleware;
pub mod notification;
mod options;
pub mod pay_sign;
mod php_text;
mod pipeline;
mod request;
mod response;
mod retry;
mod sensitive;
pub mod signer;
mod template;
pub mod transport;
mod uri;
pub mod v2;
pub mod verifier;

pub use builder::ClientBuilder;
pub use certificates::{CertificateRefresh, PlatformCertificate};
pub use chain::Chain;
pub use client::{Client, DEFAULT_BASE_URI};
pub use crypto::{PrivateKey, PublicKey};
pub use error::{ApiError, BoxError, Error, RawResponse, Result, TransportKind};
pub use failover::{Host, DEFAULT_BACKUP_BASE_URI};
pub use middleware::Middleware;
pub use options::Timeouts;
pub use request::Endpoint;
pub use response::Response;
pub use retry::RetryPolicy;
pub use sensitive::Encrypted;
pub use template::{normalize_segment, EMPTY_SEGMENT};
/// The WeChat Pay endpoint catalogue: every operation's method, path, official name,
/// documentation link and flags (the `wechatpay-chain-catalogue` crate, index only).
/// [`Chain::endpoint`] looks a chain up in it; `chain!` checks paths against it.
pub use wechatpay_chain_catalogue as catalogue;
/// Writes a PHP property chain as a [`Chain`]:
/// `chain!(client->v3->discountCard->orders->_out_order_no_)` is
/// `client.chain("v3/discount-card/orders/{out_order_no}")`.
pub use wechatpay_chain_macros::chain;
