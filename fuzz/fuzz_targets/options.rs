//! `cargo +nightly fuzz run options`: see `src/lib.rs` for the oracle.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wechatpay_chain_fuzz::options(data);
});
