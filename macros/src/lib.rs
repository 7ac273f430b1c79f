//! The `chain!` macro of [wechatpay-chain]: PHP property chains, written almost verbatim,
//! turned into a path template at compile time.
//!
//! This crate is an implementation detail. Depend on `wechatpay-chain`, which re-exports
//! the macro as `wechatpay_chain::chain`.
//!
//! ```
//! use wechatpay_chain::chain;
//! # let client = wechatpay_chain_sandbox::SandboxKeys::fixture()?.client_builder().build()?;
//!
//! // PHP: $instance->v3->discountCard->orders->_out_order_no_
//! let chain = chain!(client->v3->discountCard->orders->_out_order_no_);
//! // is:
//! let same = client.chain("v3/discount-card/orders/{out_order_no}");
//! assert_eq!(chain.template(), same.template());
//! # Ok::<_, wechatpay_chain::Error>(())
//! ```
//!
//! # Normalisation
//!
//! Every identifier segment is normalised with wechatpay-php's rule, the same rule the
//! library's `Chain::seg` applies at run time:
//!
//! 1. a leading ASCII capital is lowered;
//! 2. every other ASCII capital `X` becomes `-x`;
//! 3. then a whole segment `_name_` (starts and ends with `_`, at least three
//!    characters) becomes the placeholder `{name}`.
//!
//! Digits, `_` inside words and lower case pass through. Raw identifiers lose their
//! `r#` prefix. String-literal segments are inserted as written, with no normalisation.
//!
//! | segment            | template          |
//! | ------------------ | ----------------- |
//! | `v3`               | `v3`              |
//! | `discountCard`     | `discount-card`   |
//! | `complaintsV2`     | `complaints-v2`   |
//! | `WeChatPay`        | `we-chat-pay`     |
//! | `_out_order_no_`   | `{out_order_no}`  |
//! | `_outOrderNo_`     | `{out-order-no}`  |
//! | `applyment4sub`    | `applyment4sub`   |
//! | `pay_bank`         | `pay_bank`        |
//! | `r#type`           | `type`            |
//! | `"{stock_id}"`     | `{stock_id}`      |
//!
//! Note the fourth placeholder row: as in PHP, `_outOrderNo_` names the option
//! `out-order-no`, so prefer `_out_order_no_` for WeChat's snake_case parameters.
//!
//! [wechatpay-chain]: https://example.invalid/wechatpay-chain

#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate proc_macro;

mod check;

use heck::ToSnakeCase;
use proc_macro2::{Delimiter, Group, Ident, Literal, Spacing, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::{Error, Lit, LitStr};

/// Writes a WeChat Pay path as a PHP property chain.
///
/// `chain!(receiver->seg->seg…)` expands to `receiver.chain("seg/seg/…")`, where the
/// template is computed at compile time with PHP's normalisation (see the
/// [crate docs](crate)). The receiver is anything with a `chain(&self, &str)` method: a
/// `Client`, a `&Client` or a `Chain`.
///
/// # Grammar
///
/// ```text
/// chain!( [unchecked] RECEIVER ( SEP SEGMENT )+ [ SEP VERB ( ARGS ) ] )
///
/// RECEIVER := ident | self | &ident | &(expr) | (expr)
/// SEP      := ->  |  .                      (the two may be mixed)
/// SEGMENT  := ident | r#ident | "literal" | {"literal"}
/// VERB     := get | post | put | patch | delete | request, each also with _async,
///             in snake_case or PHP camelCase (patchAsync)
/// ```
///
/// * An identifier segment is normalised: `discountCard` -> `discount-card`,
///   `_out_order_no_` -> `{out_order_no}`, `r#type` -> `type`.
/// * A string segment, `->"…"` or PHP's brace form `->{"…"}`, is inserted as written:
///   `->{"{stock_id}"}` -> `{stock_id}`. It may hold inner `/` but must not be empty,
///   start or end with `/`, or contain `//`. Integer segments are refused: write `->"3"`.
/// * An expression receiver must be parenthesised: `chain!((self.client)->v3->pay)`,
///   since `self.client.v3` would read `client` as a path segment.
/// * An optional final verb call is appended unchanged, with its name converted to
///   snake_case: `->patchAsync(opts)` becomes `.patch_async(opts)`. Put `.await`, `?` and
///   any further calls after the macro.
///
/// Malformed input is a compile error pointing at the offending token.
///
/// # Checked against the catalogue
///
/// The template must be a WeChat Pay API path of the endpoint catalogue
/// (`wechatpay-chain-catalogue`, every operation of wechatpay-openapi): a misspelt path
/// is a compile error naming the normalised path and up to three nearest real ones,
/// and a verb the endpoint does not answer (`->delete(...)` on a GET/PATCH path) is a
/// compile error listing the methods it has. Placeholders match whatever their names
/// (`_id_` fits `{transaction_id}`), and a string segment may spell a value out
/// (`->"9856000"`). `request(...)` is not checked, its method being a run-time value.
///
/// For an endpoint newer than the catalogue, put `unchecked` before the receiver:
/// `chain!(unchecked client->v3->brandNew->thing)`. `client.chain()`, `seg()` and
/// indexing are never checked at build time.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use wechatpay_chain::chain;
/// # let sandbox = wechatpay_chain_sandbox::Sandbox::start()?;
/// # let client = sandbox.client();
///
/// // client.chain("v3/discount-card/orders/{out_order_no}").get(json!({...}))
/// let res = chain!(client->v3->discountCard->orders->_out_order_no_->get(json!({
///     "out_order_no": "233bcbf407e87789b8e471f251774f95",
/// })))?;
/// assert_eq!(res.status(), 200);
///
/// // The dotted spelling, without a verb: the chain itself (in async code,
/// // `….getAsync(json!({…}))).await?`).
/// let order = chain!(client.v3.discountCard.orders._out_order_no_);
/// assert_eq!(order.template(), "v3/discount-card/orders/{out_order_no}");
///
/// // PHP's brace form for odd segments, and an expression receiver:
/// struct App { wechat: wechatpay_chain::Client }
/// let app = App { wechat: client.clone() };
/// let stock = chain!((app.wechat)->v3->marketing->favor->stocks->{"{stock_id}"});
/// assert_eq!(stock.template(), "v3/marketing/favor/stocks/{stock_id}");
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
#[proc_macro]
pub fn chain(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    match expand(input.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// The marker that skips the catalogue check: `chain!(unchecked client->v3->...)`.
const UNCHECKED: &str = "unchecked";

/// Parses, checks against the catalogue unless marked `unchecked`, and expands.
fn expand(input: TokenStream) -> Result<TokenStream, Error> {
    let mut tokens: Vec<TokenTree> = input.into_iter().collect();
    // `unchecked` is the marker only when a receiver follows it; `unchecked->v3` is a
    // receiver named `unchecked`.
    let unchecked = matches!(tokens.first(), Some(TokenTree::Ident(i)) if i == UNCHECKED)
        && tokens.len() > 1
        && separator(&tokens, 1).is_none();
    if unchecked {
        tokens.remove(0);
    }
    let parsed = parse(tokens.into_iter().collect())?;
    if !unchecked {
        check::against_catalogue(&parsed)?;
    }
    let Parsed {
        receiver,
        template,
        verb,
        ..
    } = parsed;
    let template = LitStr::new(&template, Span::call_site());
    let verb = verb.map(|call| quote!(.#call));
    Ok(quote!(#receiver.chain(#template) #verb))
}

/// What `chain!` parsed.
pub(crate) struct Parsed {
    /// The receiver tokens.
    receiver: TokenStream,
    /// The normalised template.
    template: String,
    /// The verb call (`patch_async(opts)`, name already snake_case), if one ends the
    /// chain.
    verb: Option<TokenStream>,
    /// The verb's snake_case name, for the catalogue check.
    verb_name: Option<Ident>,
    /// The spans of the first and the last path segment.
    segment_spans: (Span, Span),
}

/// The verbs a chain may end with, after snake_case conversion.
const VERBS: [&str; 12] = [
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "request",
    "get_async",
    "post_async",
    "put_async",
    "patch_async",
    "delete_async",
    "request_async",
];

const ACCEPTED_VERBS: &str = "get, post, put, patch, delete, request, or one of these \
    with `_async` (PHP spelling such as `patchAsync` works too)";

/// Parses the macro input into receiver, template and optional verb call.
fn parse(input: TokenStream) -> Result<Parsed, Error> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let mut pos = 0;
    let receiver = parse_receiver(&tokens, &mut pos)?;
    let mut segments: Vec<String> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut verb: Option<(Ident, TokenStream)> = None;

    while pos < tokens.len() {
        if let Some((name, _)) = &verb {
            return Err(Error::new(
                name.span(),
                format!(
                    "the verb call `{name}(...)` must be the last item of the chain; put \
                     `.await`, `?` and further calls after the macro: \
                     `chain!(client->v3->...->{name}(opts)).await`"
                ),
            ));
        }
        let sep_span = tokens[pos].span();
        let Some(width) = separator(&tokens, pos) else {
            return Err(bad_separator(&tokens, pos, segments.is_empty()));
        };
        let sep = if width == 2 { "->" } else { "." };
        pos += width;
        let Some(token) = tokens.get(pos) else {
            return Err(Error::new(
                sep_span,
                format!(
                    "trailing `{sep}`: a path segment must follow it; remove it or add a \
                     segment such as `{sep}orders`"
                ),
            ));
        };
        pos += 1;
        spans.push(token.span());
        match token {
            TokenTree::Ident(ident) => {
                if let Some(TokenTree::Group(args)) = tokens.get(pos) {
                    if args.delimiter() == Delimiter::Parenthesis {
                        pos += 1;
                        verb = Some(parse_verb(ident, args)?);
                        spans.pop();
                        continue;
                    }
                }
                segments.push(wechatpay_chain_catalogue::normalize_segment(
                    &ident.unraw().to_string(),
                ));
            }
            TokenTree::Literal(literal) => segments.push(literal_segment(literal, sep)?),
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                segments.push(brace_segment(group, sep)?);
            }
            other => {
                return Err(Error::new(
                    other.span(),
                    format!(
                        "expected a path segment after `{sep}`, found {}; write an \
                         identifier (`{sep}orders`) or a string literal \
                         (`{sep}\"{{out_order_no}}\"`)",
                        describe(&tokens, pos - 1)
                    ),
                ));
            }
        }
    }

    if segments.is_empty() {
        return Err(match verb {
            Some((name, _)) => Error::new(
                name.span(),
                format!(
                    "the chain has no path segment before `{name}(...)`; write \
                     `chain!(client->v3->...->{name}(opts))`"
                ),
            ),
            None => Error::new(
                tokens.first().map_or_else(Span::call_site, TokenTree::span),
                "the chain has no path segment after its receiver; write \
                 `chain!(client->v3->discountCard->orders)`",
            ),
        });
    }

    // `_empty_` normalises to "" (a trailing slash); anywhere else it would make `//`.
    if segments[..segments.len() - 1].iter().any(String::is_empty) {
        return Err(Error::new(
            Span::call_site(),
            "`_empty_` (a trailing slash) must be the last segment of the chain",
        ));
    }
    let first = spans.first().copied().unwrap_or_else(Span::call_site);
    let last = spans.last().copied().unwrap_or(first);
    let verb_name = verb.as_ref().map(|(name, _)| name.clone());
    Ok(Parsed {
        receiver,
        template: segments.join("/"),
        verb: verb.map(|(name, args)| quote!(#name #args)),
        verb_name,
        segment_spans: (first, last),
    })
}

/// Parses `ident`, `&ident`, `&(expr)` or `(expr)`, advancing `pos` past it.
fn parse_receiver(tokens: &[TokenTree], pos: &mut usize) -> Result<TokenStream, Error> {
    const EXPECTED: &str = "expected a receiver: an identifier (`client`, `self`), \
        `&client`, or a parenthesised expression such as `(app.wechat)`";
    let Some(first) = tokens.first() else {
        return Err(Error::new(
            Span::call_site(),
            "empty `chain!` input; write a receiver and a PHP property chain, such as \
             `chain!(client->v3->discountCard->orders->_out_order_no_)`",
        ));
    };
    match first {
        TokenTree::Ident(_) => {
            *pos = 1;
            Ok(first.to_token_stream())
        }
        TokenTree::Group(group) if group.delimiter() == Delimiter::Parenthesis => {
            *pos = 1;
            Ok(first.to_token_stream())
        }
        TokenTree::Punct(amp) if amp.as_char() == '&' => match tokens.get(1) {
            Some(inner @ TokenTree::Ident(_)) => {
                *pos = 2;
                // Parenthesised so that `.chain(...)` applies to the reference, not the
                // other way round (`&client.chain(..)` would borrow the result).
                let inner = quote!(#amp #inner);
                Ok(Group::new(Delimiter::Parenthesis, inner).to_token_stream())
            }
            Some(inner @ TokenTree::Group(group))
                if group.delimiter() == Delimiter::Parenthesis =>
            {
                *pos = 2;
                let inner = quote!(#amp #inner);
                Ok(Group::new(Delimiter::Parenthesis, inner).to_token_stream())
            }
            Some(other) => Err(Error::new(other.span(), EXPECTED)),
            None => Err(Error::new(amp.span(), EXPECTED)),
        },
        other => Err(Error::new(other.span(), EXPECTED)),
    }
}

/// The width of the separator at `pos`: 2 for `->`, 1 for `.`, `None` if there is none.
fn separator(tokens: &[TokenTree], pos: usize) -> Option<usize> {
    match &tokens[pos] {
        TokenTree::Punct(p) if p.as_char() == '.' => {
            // `..` is a range, not two separators.
            match (p.spacing(), tokens.get(pos + 1)) {
                (Spacing::Joint, Some(TokenTree::Punct(next))) if next.as_char() == '.' => None,
                _ => Some(1),
            }
        }
        TokenTree::Punct(p) if p.as_char() == '-' && p.spacing() == Spacing::Joint => {
            match tokens.get(pos + 1) {
                Some(TokenTree::Punct(next)) if next.as_char() == '>' => Some(2),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The error for a token where `->` or `.` was expected.
fn bad_separator(tokens: &[TokenTree], pos: usize, after_receiver: bool) -> Error {
    let token = &tokens[pos];
    if after_receiver {
        if let TokenTree::Group(group) = token {
            if group.delimiter() == Delimiter::Parenthesis {
                return Error::new(
                    token.span(),
                    "a call cannot be the receiver as written; wrap the expression in \
                     parentheses: `chain!((make_client())->v3->...)`",
                );
            }
        }
    }
    Error::new(
        token.span(),
        format!(
            "expected `->` or `.` between path segments, found {}; write \
             `client->v3->orders` or `client.v3.orders`",
            describe(tokens, pos)
        ),
    )
}

/// Converts a verb name and checks it, returning the snake_case name and its arguments.
fn parse_verb(ident: &Ident, args: &Group) -> Result<(Ident, TokenStream), Error> {
    let raw = ident.unraw().to_string();
    let name = raw.to_snake_case();
    if !VERBS.contains(&name.as_str()) {
        return Err(Error::new(
            ident.span(),
            format!(
                "unknown verb `{raw}`: a chain may end only in a call to {ACCEPTED_VERBS}; \
                 for a path segment named `{raw}`, drop the parentheses"
            ),
        ));
    }
    Ok((Ident::new(&name, ident.span()), args.to_token_stream()))
}

/// A `->"literal"` segment, inserted as written after validation.
fn literal_segment(literal: &Literal, sep: &str) -> Result<String, Error> {
    match Lit::new(literal.clone()) {
        Lit::Str(s) => checked_string(&s, sep),
        Lit::Int(_) | Lit::Float(_) => Err(Error::new(
            literal.span(),
            format!(
                "a number cannot be a path segment; write it as a string literal: \
                 `{sep}\"{literal}\"`"
            ),
        )),
        _ => Err(Error::new(
            literal.span(),
            format!(
                "expected a path segment after `{sep}`, found the literal `{literal}`; \
                 write an identifier or a double-quoted string literal such as \
                 `{sep}\"{{stock_id}}\"`"
            ),
        )),
    }
}

/// PHP's brace form `->{"literal"}`.
fn brace_segment(group: &Group, sep: &str) -> Result<String, Error> {
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    if let [TokenTree::Literal(literal)] = inner.as_slice() {
        if let Lit::Str(s) = Lit::new(literal.clone()) {
            return checked_string(&s, sep);
        }
    }
    Err(Error::new(
        group.span(),
        format!(
            "expected a single double-quoted string literal inside `{{...}}`, as in \
             `{sep}{{\"{{stock_id}}\"}}`"
        ),
    ))
}

/// Validates a string segment's value: not empty, no `/` at its ends, no `//`.
fn checked_string(s: &LitStr, sep: &str) -> Result<String, Error> {
    if !s.suffix().is_empty() {
        return Err(Error::new(
            s.span(),
            "a string segment cannot have a literal suffix; remove the suffix",
        ));
    }
    let value = s.value();
    if value.is_empty() {
        return Err(Error::new(
            s.span(),
            format!(
                "empty string segment; remove it or write a segment such as \
                 `{sep}\"{{stock_id}}\"`"
            ),
        ));
    }
    if value.starts_with('/') || value.ends_with('/') || value.contains("//") {
        let fixed = value
            .split('/')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        return Err(Error::new(
            s.span(),
            format!(
                "string segment {value:?} has an empty path part (a `/` at an end, or \
                 `//`); `{sep}` already separates segments, so write \"{fixed}\""
            ),
        ));
    }
    Ok(value)
}

/// A short human description of the token at `pos`, for error messages.
fn describe(tokens: &[TokenTree], pos: usize) -> String {
    match &tokens[pos] {
        TokenTree::Group(group) => match group.delimiter() {
            Delimiter::Parenthesis => "`(...)`".to_owned(),
            Delimiter::Bracket => "`[...]`".to_owned(),
            Delimiter::Brace => "`{...}`".to_owned(),
            Delimiter::None => format!("`{}`", group.stream()),
        },
        TokenTree::Punct(_) => {
            let mut text = String::new();
            for token in &tokens[pos..] {
                let TokenTree::Punct(p) = token else { break };
                text.push(p.as_char());
                if p.spacing() == Spacing::Alone {
                    break;
                }
            }
            format!("`{text}`")
        }
        other => format!("`{other}`"),
    }
}

#[cfg(test)]
mod tests;
