//! The guides, rendered here so they read on docs.rs beside the API, and compiled as
//! doctests so their Rust blocks keep compiling (and, where they do not contact
//! WeChat Pay, running) as the crate changes. Nothing here is code.
//!
//! - [`porting_from_php`]: every wechatpay-php construct beside its Rust twin.
//! - [`discount_card`]: the seed endpoints in all twelve styles.
//! - [`architecture`]: the crates, and the pipeline in the order a call runs it.

#[doc = include_str!("../docs/porting-from-php.md")]
pub mod porting_from_php {}

#[doc = include_str!("../docs/discount-card.md")]
pub mod discount_card {}

#[doc = include_str!("../docs/architecture.md")]
pub mod architecture {}
