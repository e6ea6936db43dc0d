//! The checks WorkOS applies to redirect URIs, CORS origins and the app homepage URL.
//!
//! There is no URL crate among the dependencies, so this holds a small parser for exactly the
//! shape these settings take, `scheme://host[:port][/path][?query][#fragment]`, with the scheme
//! limited to `http` and `https`. It is deliberately stricter than RFC 3986 where WorkOS's
//! settings have no use for the generality (no user info, no empty port, no percent-encoded
//! host) and it never normalises: WorkOS compares stored values as exact strings, so the
//! emulator does too.

use std::fmt;

/// The longest redirect URI, origin or homepage URL accepted.
pub(crate) const MAX_LEN: usize = 2048;

/// Why a value is not an acceptable URL. The display text completes the sentence
/// "<value> is invalid: ...".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlProblem {
    TooLong,
    Whitespace,
    NotAbsolute,
    Scheme,
    UserInfo,
    MissingHost,
    Host,
    Port,
    Wildcard,
    Fragment,
    /// Production environments only accept https URLs on public hosts.
    NotProductionSafe,
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::TooLong => "it is longer than 2048 characters",
            Self::Whitespace => "it contains whitespace or control characters",
            Self::NotAbsolute => "it must be an absolute URL such as https://example.com/callback",
            Self::Scheme => "the scheme must be http or https",
            Self::UserInfo => "user names and passwords are not allowed in the URL",
            Self::MissingHost => "the host is missing",
            Self::Host => "the host is not a valid host name or IP address",
            Self::Port => "the port must be a number from 1 to 65535",
            Self::Wildcard => "a single * is allowed only in the first label of the host",
            Self::Fragment => "fragments (#...) are not allowed",
            Self::NotProductionSafe => {
                "production environments require https and a host other than localhost"
            }
        };
        f.write_str(text)
    }
}

/// The parts of a parsed URL that the checks need; slices of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url<'a> {
    pub secure: bool,
    pub host: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

impl Url<'_> {
    /// Whether the host points at the local machine, which production environments refuse.
    fn is_local(&self) -> bool {
        let host = self.host.to_ascii_lowercase();
        host == "localhost"
            || host.ends_with(".localhost")
            || host == "0.0.0.0"
            || host == "[::1]"
            || host == "[0:0:0:0:0:0:0:1]"
            || is_ipv4(&host) && host.starts_with("127.")
    }

    fn production_safe(&self) -> bool {
        self.secure && !self.is_local()
    }
}

/// Parses `input` as an absolute http(s) URL. `allow_wildcard` permits one `*` in the first
/// label of the host, as WorkOS does for redirect URIs.
pub(crate) fn parse(input: &str, allow_wildcard: bool) -> Result<Url<'_>, UrlProblem> {
    if input.len() > MAX_LEN {
        return Err(UrlProblem::TooLong);
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlProblem::Whitespace);
    }

    let (scheme, rest) = input.split_once("://").ok_or(UrlProblem::NotAbsolute)?;
    let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return Err(UrlProblem::NotAbsolute);
    }
    // Schemes are case-insensitive (RFC 3986 §3.1).
    let secure = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err(UrlProblem::Scheme);
    };

    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after_authority) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(UrlProblem::UserInfo);
    }
    // The port is validated but not kept: no check depends on it.
    let (host, _port) = split_host_port(authority)?;
    check_host(host, allow_wildcard)?;

    let (before_fragment, fragment) = match after_authority.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (after_authority, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    Ok(Url {
        secure,
        host,
        path,
        query,
        fragment,
    })
}

/// Splits `host[:port]`, where the host may be a bracketed IPv6 literal.
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UrlProblem> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(UrlProblem::Host)?;
        let (host, after) = authority.split_at(close + 1);
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or(UrlProblem::Host)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(UrlProblem::MissingHost);
    }
    let port = match port {
        None => None,
        Some(digits) => {
            // `u16::from_str` alone would also accept a leading `+`.
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlProblem::Port);
            }
            match digits.parse::<u16>() {
                Ok(0) | Err(_) => return Err(UrlProblem::Port),
                Ok(port) => Some(port),
            }
        }
    };
    Ok((host, port))
}

/// Accepts DNS names (letters, digits and hyphens in dot-separated labels), IPv4 addresses and
/// bracketed IPv6 literals; with `allow_wildcard`, also one `*` inside the first label.
fn check_host(host: &str, allow_wildcard: bool) -> Result<(), UrlProblem> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(UrlProblem::Host)?;
        let valid = inner.contains(':')
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        return if valid { Ok(()) } else { Err(UrlProblem::Host) };
    }
    if host.len() > 253 {
        return Err(UrlProblem::Host);
    }

    let wildcards = host.matches('*').count();
    if wildcards > 0 {
        let first_label = host.split('.').next().unwrap_or_default();
        let only_label = !host.contains('.');
        if !allow_wildcard || wildcards > 1 || !first_label.contains('*') || only_label {
            return Err(UrlProblem::Wildcard);
        }
    }
    let labels_valid = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
    });
    if labels_valid {
        Ok(())
    } else {
        Err(UrlProblem::Host)
    }
}

fn is_ipv4(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.len() <= 3 && part.parse::<u8>().is_ok())
}

/// Checks a redirect URI: absolute http(s), a host with at most one leading-label wildcard, no
/// fragment; in production also https and not local.
pub(crate) fn check_redirect_uri(input: &str, production: bool) -> Result<(), UrlProblem> {
    let url = parse(input, true)?;
    if url.fragment.is_some() {
        return Err(UrlProblem::Fragment);
    }
    if production && !url.production_safe() {
        return Err(UrlProblem::NotProductionSafe);
    }
    Ok(())
}

/// Why a CORS origin was refused: not an origin at all, or an origin production refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OriginProblem {
    NotAnOrigin,
    NotProductionSafe,
}

/// Checks a CORS origin: scheme, host and optional port only. Even a lone `/` path is refused,
/// because browsers send origins without one and a stored trailing slash would never match.
pub(crate) fn check_origin(input: &str, production: bool) -> Result<(), OriginProblem> {
    let url = parse(input, false).map_err(|_| OriginProblem::NotAnOrigin)?;
    if !url.path.is_empty() || url.query.is_some() || url.fragment.is_some() {
        return Err(OriginProblem::NotAnOrigin);
    }
    if production && !url.production_safe() {
        return Err(OriginProblem::NotProductionSafe);
    }
    Ok(())
}

/// Checks an app homepage URL: absolute http(s) without wildcards; fragments are allowed since
/// a homepage link may point into a page. In production also https and not local.
pub(crate) fn check_homepage_url(input: &str, production: bool) -> Result<(), UrlProblem> {
    let url = parse(input, false)?;
    if production && !url.production_safe() {
        return Err(UrlProblem::NotProductionSafe);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_parts() {
        let url = parse("https://app.example.com:8443/cb/x?a=1#top", false).expect("valid");
        assert_eq!(
            url,
            Url {
                secure: true,
                host: "app.example.com",
                path: "/cb/x",
                query: Some("a=1"),
                fragment: Some("top"),
            }
        );
        let url = parse("http://[::1]:3000", false).expect("valid");
        assert_eq!((url.host, url.path), ("[::1]", ""));
    }

    #[test]
    fn redirect_uris() {
        let ok = [
            "http://localhost:3000/callback",
            "https://example.com",
            "https://*.preview.example.com/callback",
            "https://pr-*.example.com/api/auth/callback?x=1",
            "HTTPS://Example.com/Callback",
            "http://127.0.0.1:5173/callback",
        ];
        for uri in ok {
            assert_eq!(check_redirect_uri(uri, false), Ok(()), "{uri}");
        }
        let bad = [
            ("", UrlProblem::NotAbsolute),
            ("/callback", UrlProblem::NotAbsolute),
            ("example.com/callback", UrlProblem::NotAbsolute),
            ("ftp://example.com", UrlProblem::Scheme),
            ("myapp://callback", UrlProblem::Scheme),
            ("https://", UrlProblem::MissingHost),
            ("https:///callback", UrlProblem::MissingHost),
            ("https://:443/", UrlProblem::MissingHost),
            ("https://exa mple.com", UrlProblem::Whitespace),
            ("https://example.com/\n", UrlProblem::Whitespace),
            ("https://user:pw@example.com", UrlProblem::UserInfo),
            ("https://example.com:", UrlProblem::Port),
            ("https://example.com:0", UrlProblem::Port),
            ("https://example.com:70000", UrlProblem::Port),
            ("https://example.com:+80", UrlProblem::Port),
            ("https://exa_mple.com", UrlProblem::Host),
            ("https://example..com", UrlProblem::Host),
            ("https://example.com./", UrlProblem::Host),
            ("https://-a.example.com", UrlProblem::Host),
            ("https://[::1", UrlProblem::Host),
            ("https://a.*.example.com", UrlProblem::Wildcard),
            ("https://**.example.com", UrlProblem::Wildcard),
            ("https://*", UrlProblem::Wildcard),
            ("https://example.com/cb#frag", UrlProblem::Fragment),
        ];
        for (uri, problem) in bad {
            assert_eq!(check_redirect_uri(uri, false), Err(problem), "{uri}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_LEN));
        assert_eq!(check_redirect_uri(&long, false), Err(UrlProblem::TooLong));
    }

    #[test]
    fn production_refuses_http_and_local_hosts() {
        for uri in [
            "http://example.com/callback",
            "https://localhost:3000/callback",
            "https://LOCALHOST/callback",
            "https://app.localhost/callback",
            "https://127.0.0.1/callback",
            "https://[::1]/callback",
        ] {
            assert_eq!(
                check_redirect_uri(uri, true),
                Err(UrlProblem::NotProductionSafe),
                "{uri}"
            );
        }
        assert_eq!(check_redirect_uri("https://example.com/cb", true), Ok(()));
        assert_eq!(
            check_redirect_uri("https://127.example.com/cb", true),
            Ok(())
        );
    }

    #[test]
    fn origins() {
        for origin in [
            "https://example.com",
            "http://localhost:3000",
            "http://[::1]:80",
        ] {
            assert_eq!(check_origin(origin, false), Ok(()), "{origin}");
        }
        for origin in [
            "https://example.com/",
            "https://example.com/app",
            "https://example.com?",
            "https://example.com#",
            "https://*.example.com",
            "example.com",
            "ftp://example.com",
            "https://",
        ] {
            assert_eq!(
                check_origin(origin, false),
                Err(OriginProblem::NotAnOrigin),
                "{origin}"
            );
        }
        assert_eq!(
            check_origin("http://example.com", true),
            Err(OriginProblem::NotProductionSafe)
        );
        assert_eq!(
            check_origin("https://localhost", true),
            Err(OriginProblem::NotProductionSafe)
        );
    }

    #[test]
    fn homepage_urls() {
        assert_eq!(check_homepage_url("http://localhost:3000/", false), Ok(()));
        assert_eq!(
            check_homepage_url("https://example.com/#start", true),
            Ok(())
        );
        assert_eq!(
            check_homepage_url("https://*.example.com/", false),
            Err(UrlProblem::Wildcard)
        );
        assert_eq!(
            check_homepage_url("http://localhost:3000/", true),
            Err(UrlProblem::NotProductionSafe)
        );
    }
}
