//! The guides in `docs/`, compiled as doctests so that their Rust blocks keep
//! compiling (and, where they do not contact WeChat Pay, running) as the crate changes.
//!
//! Only built under `cfg(doctest)`; nothing here is part of the library.

/// `docs/porting-from-php.md`
#[doc = include_str!("../docs/porting-from-php.md")]
pub struct PortingFromPhp;

/// `docs/discount-card.md`
#[doc = include_str!("../docs/discount-card.md")]
pub struct DiscountCard;

/// `docs/architecture.md`
#[doc = include_str!("../docs/architecture.md")]
pub struct Architecture;
