//! Base URIs: scheme, authority and an optional path prefix (`https://host/hk/`).

use std::fmt;
use std::sync::Arc;

/// A validated base URI.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BaseUri {
    /// `scheme://authority`, no trailing slash.
    origin: String,
    /// The host alone (lower case, no brackets, no port).
    host: String,
    /// The path prefix with a leading slash and no trailing one, or empty.
    prefix: String,
    /// `origin + prefix + "/"`, made once: every attempt's [`Endpoint`](crate::Endpoint)
    /// names its base URI without an allocation.
    shown: Arc<str>,
}

impl BaseUri {
    /// Parses and checks a base URI. `http://` is only accepted for loopback hosts,
    /// so credentials and payment data never cross a network in clear text.
    /// Errors show the URI with any user information masked: it may hold a password.
    pub(crate) fn parse(raw: &str) -> Result<BaseUri, String> {
        let shown = without_userinfo(raw);
        let uri: http::Uri = raw
            .parse()
            .map_err(|e| format!("`{shown}` is not a valid URI ({e})"))?;
        let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
        let Some(authority) = uri.authority() else {
            return Err(format!(
                "`{shown}` has no host; write e.g. `https://api.mch.weixin.qq.com/`"
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
                    "`{shown}` uses plain http to a non-loopback host; use https"
                ))
            }
            _ => {
                return Err(format!(
                    "`{shown}` must start with https:// (or http:// to loopback)"
                ))
            }
        }
        if uri.query().is_some() || raw.contains('#') {
            return Err(format!("`{shown}` must not carry a query or fragment"));
        }
        // Any `@` before the query: user information, or a password whose unencoded
        // `/` made it look like a path.
        if raw
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .contains('@')
        {
            return Err(format!(
                "`{shown}` must not carry user information (credentials go nowhere in a URI)"
            ));
        }
        if authority.port().is_some() && authority.port_u16().is_none() {
            return Err(format!("`{shown}` has an invalid port"));
        }
        let prefix = uri.path().trim_end_matches('/');
        let origin = format!("{scheme}://{}", authority.as_str().to_ascii_lowercase());
        Ok(BaseUri {
            shown: format!("{origin}{prefix}/").into(),
            origin,
            host,
            prefix: prefix.to_owned(),
        })
    }

    /// The host, lower case, without brackets or port.
    pub(crate) fn host(&self) -> &str {
        &self.host
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

    /// The path prefix, with a leading slash and no trailing one (`/hk`), or empty.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
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

/// WeChat Pay's API domain: a per-request `base_uri` on one of its subdomains may
/// receive the signed Authorization header.
pub(crate) const WECHATPAY_DOMAIN: &str = "mch.weixin.qq.com";

/// Whether a per-request `base_uri` may receive this client's signed requests: a
/// subdomain of [`WECHATPAY_DOMAIN`], the host of one of the client's own bases
/// (`own`: its base URI, and its backup when it has one), or a loopback host when
/// the client's own base is loopback (the sandbox, tests). The single place that
/// decides where the Authorization header may go.
pub(crate) fn is_allowed_host(candidate: &BaseUri, own: &[&BaseUri]) -> bool {
    let host = candidate.host();
    host.strip_suffix(WECHATPAY_DOMAIN)
        .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
        || own.iter().any(|base| base.host() == host)
        || (is_loopback(host) && own.iter().any(|base| is_loopback(base.host())))
}

/// `raw` with the user information of its authority (`user:password@`) masked, for
/// messages: what is shown of a URI never holds a password. Everything up to the
/// last `@` before any query is masked, so a password holding an unencoded `/` is
/// hidden too (at the price of masking a path's `@`, which base URIs do not have).
pub(crate) fn without_userinfo(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let end = raw[start..]
        .find(['?', '#'])
        .map_or(raw.len(), |i| start + i);
    match raw[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..start], &raw[start + at..]),
        None => raw.to_owned(),
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

    #[test]
    fn allowed_hosts_are_wechat_pay_the_own_bases_and_loopback_for_loopback() {
        let b = |s: &str| BaseUri::parse(s).unwrap();
        let production = b("https://api.mch.weixin.qq.com/");
        let custom = b("https://pay.example.com/");
        let sandbox = b("http://127.0.0.1:9/");
        for (candidate, own, allowed) in [
            ("https://api2.mch.weixin.qq.com/", &production, true),
            ("https://fraud.mch.weixin.qq.com/", &custom, true),
            ("https://apihk.mch.weixin.qq.com/hk/", &production, true),
            ("https://pay.example.com/other/", &custom, true),
            ("http://localhost:8/", &sandbox, true),
            ("https://mch.weixin.qq.com/", &production, false),
            ("https://evilmch.weixin.qq.com/", &production, false),
            (
                "https://api.mch.weixin.qq.com.evil.com/",
                &production,
                false,
            ),
            ("https://example.com/", &production, false),
            ("http://127.0.0.1:8/", &production, false),
            ("https://pay.example.com/", &production, false),
        ] {
            assert_eq!(
                is_allowed_host(&b(candidate), &[own]),
                allowed,
                "{candidate} for {own}"
            );
        }
    }

    #[test]
    fn user_information_is_masked_in_messages() {
        for raw in [
            "https://user:s3cret@evil.example.com/",
            "http://user:s3cret@example.com/",
            "ftp://user:s3cret@example.com/",
            "user:s3cret@example.com",
            "https://user:s3cret@",
        ] {
            let e = BaseUri::parse(raw).unwrap_err();
            assert!(!e.contains("s3cret"), "{e}");
            assert!(e.contains("***@"), "{e}");
        }
        assert_eq!(without_userinfo("https://h/p?q=@"), "https://h/p?q=@");
        assert_eq!(
            without_userinfo("https://u:pa/ss@h/?q=@"),
            "https://***@h/?q=@"
        );
        assert!(!BaseUri::parse("https://u:pa/ss@h/")
            .unwrap_err()
            .contains("pa/ss"));
    }
}
