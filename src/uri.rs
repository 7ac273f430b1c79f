//! Base URIs: scheme, authority and an optional path prefix (`https://host/hk/`).

use std::fmt;
use std::sync::Arc;

/// A validated base URI.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BaseUri {
    /// `scheme://authority`, no trailing slash.
    origin: String,
    /// The path prefix with a leading slash and no trailing one, or empty.
    prefix: String,
    /// `origin + prefix + "/"`, made once: every attempt's [`Endpoint`](crate::Endpoint)
    /// names its base URI without an allocation.
    shown: Arc<str>,
}

impl BaseUri {
    /// Parses and checks a base URI. `http://` is only accepted for loopback hosts,
    /// so credentials and payment data never cross a network in clear text.
    pub(crate) fn parse(raw: &str) -> Result<BaseUri, String> {
        let uri: http::Uri = raw
            .parse()
            .map_err(|e| format!("`{raw}` is not a valid URI ({e})"))?;
        let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
        let Some(authority) = uri.authority() else {
            return Err(format!(
                "`{raw}` has no host; write e.g. `https://api.mch.weixin.qq.com/`"
            ));
        };
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(format!(
                    "`{raw}` uses plain http to a non-loopback host; use https"
                ))
            }
            _ => {
                return Err(format!(
                    "`{raw}` must start with https:// (or http:// to loopback)"
                ))
            }
        }
        if uri.query().is_some() || raw.contains('#') {
            return Err(format!("`{raw}` must not carry a query or fragment"));
        }
        if authority.as_str().contains('@') {
            return Err(format!("`{raw}` must not carry user information"));
        }
        let prefix = uri.path().trim_end_matches('/');
        let origin = format!("{scheme}://{}", authority.as_str().to_ascii_lowercase());
        Ok(BaseUri {
            shown: format!("{origin}{prefix}/").into(),
            origin,
            prefix: prefix.to_owned(),
        })
    }

    /// The request target for an expanded path (no leading slash) and query.
    pub(crate) fn target(&self, path: &str, query: Option<&str>) -> String {
        let mut t =
            String::with_capacity(self.prefix.len() + path.len() + 2 + query.map_or(0, str::len));
        t.push_str(&self.prefix);
        t.push('/');
        t.push_str(path);
        if let Some(q) = query {
            // A `{+x}` value may already have opened the query.
            t.push(if path.contains('?') { '&' } else { '?' });
            t.push_str(q);
        }
        t
    }

    /// `scheme://authority`.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// The base URI as written back (`https://host/prefix/`), shared.
    pub(crate) fn shown(&self) -> &Arc<str> {
        &self.shown
    }
}

impl fmt::Display for BaseUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for BaseUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Whether `host` is loopback: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_kept_and_slashes_normalised() {
        let b = BaseUri::parse("https://api.mch.weixin.qq.com/hk/").unwrap();
        assert_eq!(b.target("v3/x", Some("a=1")), "/hk/v3/x?a=1");
        assert_eq!(b.origin(), "https://api.mch.weixin.qq.com");
        let b = BaseUri::parse("https://api.mch.weixin.qq.com").unwrap();
        assert_eq!(b.target("v3/x", None), "/v3/x");
        assert_eq!(b.to_string(), "https://api.mch.weixin.qq.com/");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(BaseUri::parse("http://127.0.0.1:8080/").is_ok());
        assert!(BaseUri::parse("http://localhost/").is_ok());
        assert!(BaseUri::parse("http://[::1]:9/").is_ok());
        let e = BaseUri::parse("http://example.com/").unwrap_err();
        assert!(e.contains("use https"), "{e}");
        assert!(BaseUri::parse("ftp://example.com/").is_err());
        assert!(BaseUri::parse("/relative").is_err());
        assert!(BaseUri::parse("https://a/?x=1").is_err());
        assert!(BaseUri::parse("https://u:p@a/").is_err());
    }
}
