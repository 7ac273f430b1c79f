//! `cargo +nightly fuzz run segment`: see `src/lib.rs` for the oracle.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wechatpay_chain_fuzz::segment(data);
});
