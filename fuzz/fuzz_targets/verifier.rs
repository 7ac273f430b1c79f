//! `cargo +nightly fuzz run verifier`: see `src/lib.rs` for the oracle.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wechatpay_chain_fuzz::verifier(data);
});
