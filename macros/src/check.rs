//! The compile-time check of a parsed chain against the endpoint catalogue.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use syn::Error;
use wechatpay_chain_catalogue::{check, CheckError, Method};

use crate::{Parsed, UNCHECKED};

/// Refuses a path the catalogue lacks, or a verb its endpoint does not answer.
pub(crate) fn against_catalogue(parsed: &Parsed) -> Result<(), Error> {
    let method = parsed.verb_name.as_ref().and_then(|name| {
        let name = name.to_string();
        Method::parse(name.strip_suffix("_async").unwrap_or(&name))
    });
    let escape = format!(
        "for an endpoint newer than the catalogue (wechatpay-openapi {}), write \
         `chain!({UNCHECKED} client->...)`",
        &wechatpay_chain_catalogue::UPSTREAM_COMMIT[..8]
    );
    match check(&parsed.template, method) {
        Ok(_) => Ok(()),
        Err(error @ CheckError::MissingMethod { .. }) => {
            let span = parsed
                .verb_name
                .as_ref()
                .map_or_else(Span::call_site, Ident::span);
            Err(Error::new(span, format!("{error}; {escape}")))
        }
        Err(error) => {
            // `…/applyment` for `…/applyment/`: say how a chain ends with a slash.
            let slash = match &error {
                CheckError::UnknownPath { template, nearest }
                    if nearest.first() == Some(&format!("{template}/").as_str()) =>
                {
                    format!(
                        "; WeChat wants it with a trailing slash: end the chain with `->{}`",
                        wechatpay_chain_catalogue::EMPTY_SEGMENT
                    )
                }
                _ => String::new(),
            };
            // Underline the whole path, first segment to last.
            let (first, last) = parsed.segment_spans;
            let range: TokenStream = [Ident::new("a", first), Ident::new("b", last)]
                .into_iter()
                .map(TokenTree::Ident)
                .collect();
            Err(Error::new_spanned(
                range,
                format!("{error}{slash}; {escape}"),
            ))
        }
    }
}
