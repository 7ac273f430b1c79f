//! Malformed `chain!` input is a compile error with a message that says what to write
//! instead, pointing at the culprit token. The expected messages are in `tests/ui/`.

#[test]
fn chain_macro_rejects_malformed_input_with_a_spanned_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
