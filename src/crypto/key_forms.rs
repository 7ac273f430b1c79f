//! The string forms of a key that wechatpay-php's `Rsa::from` accepts besides a
//! plain PEM: `private.pkcs1://…`-style base64 DER, bare base64 DER, and PEM whose
//! base64 is not wrapped at 64 columns. Errors never echo the input.

use base64::Engine as _;

use crate::error::Error;

const B64: base64::engine::general_purpose::GeneralPurpose =
    base64::engine::general_purpose::STANDARD;

/// The DER structures a base64 key form may hold.
#[derive(Clone, Copy)]
pub(super) enum DerForm {
    Pkcs8,
    Pkcs1,
    Spki,
}

impl DerForm {
    pub(super) fn name(self) -> &'static str {
        match self {
            DerForm::Pkcs8 => "PKCS#8",
            DerForm::Pkcs1 => "PKCS#1",
            DerForm::Spki => "SPKI",
        }
    }
}

/// One kind of key's forms: its schemes and what bare base64 DER may hold.
pub(super) struct Kind {
    /// `"private key"` or `"public key"`, for errors.
    name: &'static str,
    schemes: [(&'static str, DerForm); 2],
    bare: &'static [DerForm],
}

/// `private.pkcs1://`, `private.pkcs8://`; bare DER is PKCS#8 or PKCS#1.
pub(super) const PRIVATE: Kind = Kind {
    name: "private key",
    schemes: [
        ("private.pkcs1://", DerForm::Pkcs1),
        ("private.pkcs8://", DerForm::Pkcs8),
    ],
    bare: &[DerForm::Pkcs8, DerForm::Pkcs1],
};

/// `public.spki://`, `public.pkcs1://`; bare DER is SPKI or PKCS#1.
pub(super) const PUBLIC: Kind = Kind {
    name: "public key",
    schemes: [
        ("public.spki://", DerForm::Spki),
        ("public.pkcs1://", DerForm::Pkcs1),
    ],
    bare: &[DerForm::Spki, DerForm::Pkcs1],
};

/// What a key string is, by `Rsa::from`'s rules.
pub(super) enum Form<'a> {
    /// `file:///path`: a file to read.
    File(&'a str),
    /// A PEM block, to read as is and, failing that, rewrapped.
    Pem(&'a str),
    /// Decoded base64 DER: what it is called in errors, and what it may hold.
    Der {
        what: String,
        der: Vec<u8>,
        forms: &'a [DerForm],
    },
}

/// Classifies `thing` as one of `kind`'s forms; an unknown scheme is an error
/// naming the forms there are (never the input).
pub(super) fn classify<'a>(thing: &'a str, kind: &'a Kind) -> Result<Form<'a>, Error> {
    let thing = thing.trim();
    if thing.starts_with("file://") {
        return Ok(Form::File(thing));
    }
    if thing.contains("-----BEGIN") {
        return Ok(Form::Pem(thing));
    }
    let scheme = kind
        .schemes
        .iter()
        .find_map(|(scheme, form)| Some((*scheme, thing.strip_prefix(scheme)?, form)));
    let (what, rest, forms) = match scheme {
        Some((scheme, rest, form)) => (
            format!("{} (`{scheme}…`)", kind.name),
            rest,
            std::slice::from_ref(form),
        ),
        None => {
            if let Some((scheme, _)) = thing.split_once("://") {
                let [(a, _), (b, _)] = kind.schemes;
                return Err(Error::key(
                    kind.name,
                    format!(
                        "`{}://…` is not a {} form; use a PEM, `file://`, `{a}` or `{b}`",
                        shown_scheme(scheme),
                        kind.name
                    ),
                ));
            }
            (format!("{} (bare base64 DER)", kind.name), thing, kind.bare)
        }
    };
    let der = decode_der(rest, &what)?;
    Ok(Form::Der { what, der, forms })
}

/// The first of `forms` that `parse` reads, else the last error, naming the form.
pub(super) fn first_readable<T>(
    forms: &[DerForm],
    what: &str,
    key: &str,
    parse: impl Fn(DerForm) -> Result<T, String>,
) -> Result<T, Error> {
    let mut last = String::new();
    for form in forms {
        match parse(*form) {
            Ok(parsed) => return Ok(parsed),
            Err(e) => last = format!("invalid {} RSA {key} ({e})", form.name()),
        }
    }
    Err(Error::key(what, last))
}

/// Reads `pem` with `read`, and when that fails, its rewrapped twin (see
/// [`rewrap_pem`]); the first error when neither reads.
pub(super) fn with_rewrap<T>(
    pem: &str,
    read: impl Fn(&str) -> Result<T, Error>,
) -> Result<T, Error> {
    read(pem).or_else(|e| rewrap_pem(pem).map_or(Err(e), |wrapped| read(&wrapped)))
}

/// The PEM with its base64 rewrapped at 64 columns, as PHP's `Rsa::from` does
/// before OpenSSL reads it (a key pasted on one line, or with CRLF); `None` when
/// it is not one PEM block or already wrapped alike.
fn rewrap_pem(text: &str) -> Option<String> {
    let begin = text.find("-----BEGIN ")?;
    let after = &text[begin + 11..];
    let label_end = after.find("-----")?;
    let label = &after[..label_end];
    let body_and_end = &after[label_end + 5..];
    let end = body_and_end.find(&format!("-----END {label}-----"))?;
    let body: String = body_and_end[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).ok()?);
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    (pem.trim() != text.trim()).then_some(pem)
}

/// Decodes the base64 of a key form (line breaks allowed, as PHP wraps it).
fn decode_der(text: &str, what: &str) -> Result<Vec<u8>, Error> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(Error::key(what, "holds no key data"));
    }
    B64.decode(compact.as_bytes())
        .map_err(|_| Error::key(what, "is not valid base64 DER"))
}

/// A scheme as shown in an error: short, and only when it looks like one (a key
/// pasted by mistake is not echoed).
fn shown_scheme(scheme: &str) -> &str {
    let plausible = scheme.len() <= 16
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if plausible {
        scheme
    } else {
        "…"
    }
}
