//! sandbox (being written)

/// Placeholder.
pub const PLACEHOLDER: u8 = 0;
