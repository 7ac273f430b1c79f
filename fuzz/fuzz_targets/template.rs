//! `cargo +nightly fuzz run template`: see `src/lib.rs` for the oracle.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wechatpay_chain_fuzz::template(data);
});
