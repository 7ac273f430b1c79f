//! Every WeChat Pay API operation, known at compile time.
//!
//! The catalogue is generated from [TheNorthMemory/wechatpay-openapi] (MIT; see `NOTICE`)
//! by the workspace's `xtask` and committed, so builds never fetch it. It holds facts
//! only: for each of the 1,155 operations on 1,072 paths (APIv3 `v3/`, APIv2 `v2/`, the
//! Hong Kong `hk/` and cross-border `global/` APIs), its method, path template, short
//! official name, documentation link, deprecation, whether it needs the API client
//! certificate, the host it lives on when not the default, and its content types.
//!
//! | item | what it is for |
//! | --- | --- |
//! | [`operations`], [`entries`] | the whole table, by path then method |
//! | [`find`], [`lookup`] | the entry or operation a template or concrete path calls |
//! | [`check`] | what `chain!` runs at compile time: unknown path or missing method |
//! | [`nearest`] | "did you mean" paths, by segment edit distance |
//! | [`search`] | operations whose path or name contains some words |
//! | [`normalize_segment`] | wechatpay-php's property normalisation, shared by `seg()` and `chain!` |
//! | `schemas` (feature) | parameters and resolved request/response schemas, for the sandbox and the CLI |
//!
//! ```
//! use wechatpay_chain_catalogue::{find, Method};
//!
//! let entry = find("v3/discount-card/orders/233bcbf407e87789b8e471f251774f95").unwrap();
//! assert_eq!(entry.path(), "v3/discount-card/orders/{out_order_no}");
//! assert_eq!(entry.methods().collect::<Vec<_>>(), [Method::Get, Method::Patch]);
//! assert!(entry.operation(Method::Patch).unwrap().deprecated());
//! ```
//!
//! The default build carries the small index only; the `schemas` feature adds the full
//! schemas (a JSON document parsed once, on first use).
//!
//! [TheNorthMemory/wechatpay-openapi]: https://github.com/TheNorthMemory/wechatpay-openapi

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod lookup;
mod method;
mod normalize;
mod operation;
#[cfg(feature = "schemas")]
pub mod schema;

pub use lookup::{check, entries, find, lookup, nearest, operations, search, CheckError};
pub use method::Method;
pub use normalize::{identifier_for, normalize_segment};
pub use operation::{Entry, Operation};

/// The upstream commit of TheNorthMemory/wechatpay-openapi the catalogue was generated
/// from.
pub const UPSTREAM_COMMIT: &str = table::UPSTREAM_COMMIT;

/// The generated table (`data/index.rs`, written by `cargo run -p xtask -- catalogue`).
mod table {
    use crate::method::Method;
    use crate::operation::Operation;

    include!("../data/index.rs");
}
