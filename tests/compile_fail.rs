//! Malformed `chain!` input, a path the endpoint catalogue lacks, or a verb its endpoint
//! does not answer is a compile error with a message that says what to write instead,
//! pointing at the culprit tokens. The expected messages are in `tests/ui/`; the seed's
//! endpoint in every PHP spelling compiles (`tests/ui/pass/`).

#[test]
fn chain_macro_rejects_malformed_input_with_a_spanned_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
