//! `cargo +nightly fuzz run xml`: see `src/lib.rs` for the oracle.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wechatpay_chain_fuzz::xml(data);
});
