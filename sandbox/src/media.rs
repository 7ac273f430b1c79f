//! Media uploads as WeChat Pay checks them: the `Authorization` signature covers the
//! `meta` part of the `multipart/form-data` body, and the `file` part must hash to the
//! meta's `sha256`.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::routes::{error, Reply, SandboxRequest};
use crate::hex;

/// The upload endpoints the sandbox serves.
pub(crate) const TEMPLATES: [&str; 4] = [
    "v3/merchant/media/upload",
    "v3/merchant/media/video_upload",
    "v3/marketing/favor/media/image-upload",
    "v3/merchant-service/images/upload",
];

/// One part of a multipart body.
#[derive(Debug)]
pub(crate) struct Part<'a> {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) data: &'a [u8],
}

/// The bytes a request's signature covers: the `meta` part of a multipart body,
/// else the body.
pub(crate) fn signed_bytes<'a>(headers: &HeaderMap, body: &'a Bytes) -> Cow<'a, [u8]> {
    let Some(boundary) = boundary(headers) else {
        return Cow::Borrowed(body);
    };
    match parse(&boundary, body) {
        Ok(parts) => match parts.into_iter().find(|p| p.name == "meta") {
            Some(meta) => Cow::Borrowed(meta.data),
            None => Cow::Borrowed(body),
        },
        Err(_) => Cow::Borrowed(body),
    }
}

/// The parts of a `multipart/form-data` body; `None` when the request is not one.
pub(crate) fn parts<'a>(
    headers: &HeaderMap,
    body: &'a [u8],
) -> Option<Result<Vec<Part<'a>>, String>> {
    Some(parse(&boundary(headers)?, body))
}

/// The handler of every upload route.
pub(crate) fn upload(req: &SandboxRequest) -> Reply {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, "PARAM_ERROR", m);
    let Some(boundary) = boundary(&req.headers) else {
        return bad("expected a multipart/form-data body with a boundary".into());
    };
    let parts = match parse(&boundary, &req.body) {
        Ok(parts) => parts,
        Err(m) => return bad(format!("malformed multipart body: {m}")),
    };
    let (Some(meta), Some(file)) = (
        parts.iter().find(|p| p.name == "meta"),
        parts.iter().find(|p| p.name == "file"),
    ) else {
        return bad("the body needs a `meta` part and a `file` part".into());
    };
    let meta: Value = match serde_json::from_slice(meta.data) {
        Ok(meta) => meta,
        Err(e) => return bad(format!("`meta` is not JSON ({e})")),
    };
    let (Some(filename), Some(sha256)) = (meta["filename"].as_str(), meta["sha256"].as_str())
    else {
        return bad("`meta` needs `filename` and `sha256`".into());
    };
    let actual = hex(&Sha256::digest(file.data));
    if !actual.eq_ignore_ascii_case(sha256) {
        return bad(format!(
            "the file's sha256 is {actual}, the meta says {sha256}"
        ));
    }
    if file.filename.as_deref() != Some(filename) {
        return bad("the `file` part's filename differs from the meta's".into());
    }
    let id = &actual[..32];
    if req.path == "v3/marketing/favor/media/image-upload" {
        return (
            StatusCode::OK,
            json!({ "media_url": format!("https://wxpaylogo.qpic.cn/sandbox/{id}") }),
        );
    }
    (
        StatusCode::OK,
        json!({ "media_id": format!("sandbox-{id}") }),
    )
}

fn boundary(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = value.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits a multipart body (RFC 7578) into its parts.
pub(crate) fn parse<'a>(boundary: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>, String> {
    let delimiter = format!("--{boundary}");
    let next = format!("\r\n{delimiter}");
    let start = find(body, delimiter.as_bytes()).ok_or("no opening boundary")?;
    let mut rest = &body[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("no CRLF after a boundary")?;
        let end = find(rest, b"\r\n\r\n").ok_or("a part has no header end")?;
        let headers = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 4..];
        let stop = find(rest, next.as_bytes()).ok_or("a part has no closing boundary")?;
        let data = &rest[..stop];
        rest = &rest[stop + next.len()..];
        let disposition = headers
            .split("\r\n")
            .find_map(|h| {
                let (k, v) = h.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then(|| v.to_owned())
            })
            .ok_or("a part has no Content-Disposition")?;
        let param = |name: &str| {
            disposition.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
            })
        };
        parts.push(Part {
            name: param("name").ok_or("a part has no name")?,
            filename: param("filename"),
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechatpay_chain::media::Media;

    #[test]
    fn reads_back_what_the_client_builds() {
        let media = Media::from_bytes("a.png", b"\r\n--x".to_vec()).unwrap();
        let body = media.multipart("XyZ");
        let parts = parse("XyZ", &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].data, media.meta().as_bytes());
        assert_eq!(parts[1].data, b"\r\n--x");
        assert_eq!(parts[1].filename.as_deref(), Some("a.png"));
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        assert_eq!(
            signed_bytes(&headers, &body).as_ref(),
            media.meta().as_bytes()
        );
    }
}
