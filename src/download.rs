//! Downloads WeChat Pay serves unsigned (bill and fund-flow files, complaint
//! images, transfer and invoice files): fetched through the signed pipeline, checked
//! against the `hash_type`/`hash_value` the preceding call returned, then written
//! to a [`std::io::Write`] or a [`tokio::io::AsyncWrite`].
//!
//! The exemption list is [`crate::verifier::is_unsigned_download`]; an exempt file
//! streams to the writer as it arrives (no size limit, nothing held whole) and its
//! hash is checked at the end, so a mismatch arrives after the bytes: write to a
//! temporary file and keep it only on success. Overseas statements stream the same
//! way: their signature covers the `Wechatpay-Statement-Sha1` header, and the
//! body's SHA-1 is compared with it at the end. Any other endpoint's answer is
//! signature-checked whole, as usual, before it is written.

use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use futures::TryStreamExt;

use crate::client::Client;
use crate::encoding::{hex, percent_decode};
use crate::error::Error;
use crate::failover::{self, Call, Host};
use crate::pipeline;
use crate::request::Endpoint;
use crate::response::Response;
use crate::verifier::{is_statement, is_unsigned_download, BodySha1, Rejection};

/// What `v3/bill/tradebill`, `v3/bill/fundflowbill` and similar calls return:
/// where to download, and the hash to check the file against.
///
/// ```
/// use wechatpay_chain::download::DownloadInfo;
/// let info: DownloadInfo = serde_json::from_str(r#"{
///     "download_url": "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO",
///     "hash_type": "SHA1",
///     "hash_value": "8ae8a8ee3a7bd1bf4e0a5ff3a2cd0f0a6b6ffb1e"
/// }"#)?;
/// assert_eq!(info.hash_type.as_deref(), Some("SHA1"));
/// # Ok::<_, serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DownloadInfo {
    /// The absolute URL to download (on the client's base URI).
    pub download_url: String,
    /// `SHA1` or `SHA256`.
    #[serde(default)]
    pub hash_type: Option<String>,
    /// The hex digest of the file.
    #[serde(default)]
    pub hash_value: Option<String>,
}

impl DownloadInfo {
    /// A download checked against `hash_type` (`SHA1`/`SHA256`) and `hash_value`.
    pub fn new(
        download_url: impl Into<String>,
        hash_type: impl Into<String>,
        hash_value: impl Into<String>,
    ) -> Self {
        DownloadInfo {
            download_url: download_url.into(),
            hash_type: Some(hash_type.into()),
            hash_value: Some(hash_value.into()),
        }
    }

    /// A download without a hash (e.g. a complaint image). Accepted only when the
    /// answer is signed; an unsigned answer without a hash to check is refused.
    pub fn unhashed(download_url: impl Into<String>) -> Self {
        DownloadInfo {
            download_url: download_url.into(),
            hash_type: None,
            hash_value: None,
        }
    }
}

/// Checks `bytes` against a `hash_type` (`SHA1` or `SHA256`, any case) and a hex
/// `hash_value` (any case). A mismatch or an unknown type is [`Error::Integrity`].
///
/// ```
/// use wechatpay_chain::download::check_hash;
/// check_hash("SHA256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", b"hello")?;
/// check_hash("sha1", "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D", b"hello")?;
/// assert!(check_hash("SHA1", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", b"hellO").is_err());
/// assert!(check_hash("MD5", "5d41402abc4b2a76b9719d911017c592", b"hello").is_err());
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
pub fn check_hash(hash_type: &str, hash_value: &str, bytes: &[u8]) -> Result<(), Error> {
    let mut hasher = FileHasher::new(hash_type, hash_value)?;
    hasher.update(bytes);
    hasher.check(false).map(|_| ())
}

impl Client {
    /// Downloads `info.download_url` (signed, through the client's pipeline) into
    /// `writer` as it arrives, checks the file against `info.hash_type` /
    /// `hash_value`, and returns its length. A mismatch is [`Error::Integrity`]
    /// after the bytes were written: write to a temporary file and keep it only on
    /// success. The URL must be on the client's base URI: the client sends its
    /// credentials nowhere else. The body limit of
    /// [`max_body_size`](crate::ClientBuilder::max_body_size) does not apply to the
    /// file (it does to an error answer). Blocking, like
    /// [`Chain::get`](crate::Chain::get): in async code use
    /// [`download_to_async`](Self::download_to_async).
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay_chain::download::DownloadInfo;
    /// use wechatpay_chain_sandbox::Sandbox;
    ///
    /// let sandbox = Sandbox::start()?;
    /// let client = sandbox.client();
    /// let info: DownloadInfo = client
    ///     .chain("v3/bill/tradebill")
    ///     .get(json!({ "query": { "bill_date": "2019-06-11" } }))?
    ///     .json()?;
    /// let mut file = Vec::new();
    /// let n = client.download_to(&info, &mut file)?;
    /// assert_eq!(n as usize, file.len());
    /// assert!(String::from_utf8_lossy(&file).starts_with("交易时间"));
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn download_to(&self, info: &DownloadInfo, mut writer: impl Write) -> Result<u64, Error> {
        let (template, options) = self.download_call(&info.download_url)?;
        let mut stream = None;
        // A file streams to the writer as it arrives: once a byte is written, the
        // download cannot move to the other host.
        let written = std::cell::Cell::new(false);
        let fetched = failover::send_blocking_unless(
            self,
            download(),
            |host| {
                let (request, endpoint) = self.download_request(host, &template, &options)?;
                let statement = is_statement(endpoint.full_path.trim_start_matches('/'));
                if !is_unsigned_download(&endpoint.path) && !statement {
                    // A signed answer is verified whole before anything is written.
                    let raw = self
                        .sync_transport()
                        .call(request)
                        .map_err(|e| pipeline::transport_failed(self, &endpoint, e))?;
                    return Ok(Fetched::Whole(checked(
                        info,
                        pipeline::finish(self, &endpoint, raw)?,
                    )?));
                }
                let check = match &mut stream {
                    Some(check) => check,
                    None => stream.insert(StreamCheck::new(info, statement)?),
                };
                let head = self
                    .sync_transport()
                    .call_into(request, &mut |chunk: &[u8]| {
                        written.set(true);
                        check.update(chunk);
                        writer.write_all(chunk).map_err(|e| write_error(&e))
                    })
                    .map_err(|e| pipeline::transport_failed(self, &endpoint, e))?;
                if !head.status().is_success() {
                    return pipeline::finish(self, &endpoint, head)
                        .and_then(|_| Err(unexpected_success()));
                }
                Ok(Fetched::Streamed(head, endpoint))
            },
            &|| written.get(),
        )?;
        match (fetched, stream) {
            (Fetched::Whole(body), _) => {
                writer.write_all(&body).map_err(|e| write_error(&e))?;
                writer.flush().map_err(|e| write_error(&e))?;
                Ok(body.len() as u64)
            }
            (Fetched::Streamed(head, endpoint), Some(check)) => {
                writer.flush().map_err(|e| write_error(&e))?;
                check.check(self, &endpoint, head)
            }
            (Fetched::Streamed(..), None) => Err(unchecked_unsigned()),
        }
    }

    /// The async twin of [`download_to`](Self::download_to), writing to a
    /// [`tokio::io::AsyncWrite`] (e.g. a `tokio::fs::File`) as the file arrives.
    pub async fn download_to_async<W>(
        &self,
        info: &DownloadInfo,
        mut writer: W,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin,
    {
        let (template, options) = self.download_call(&info.download_url)?;
        // Up to the answer's head the download may move to the other host; its
        // body, streamed to the writer, cannot.
        let fetched = failover::send_async(self, download(), |host| {
            let prepared = self.download_request(host, &template, &options);
            async move {
                let (request, endpoint) = prepared?;
                let statement = is_statement(endpoint.full_path.trim_start_matches('/'));
                if !is_unsigned_download(&endpoint.path) && !statement {
                    let raw = self
                        .async_transport()
                        .call(request)
                        .await
                        .map_err(|e| pipeline::transport_failed(self, &endpoint, e))?;
                    return Ok(Fetched::Whole(checked(
                        info,
                        pipeline::finish(self, &endpoint, raw)?,
                    )?));
                }
                let check = StreamCheck::new(info, statement)?;
                let (parts, mut stream) = self
                    .async_transport()
                    .call_stream(request)
                    .await
                    .map_err(|e| pipeline::transport_failed(self, &endpoint, e))?
                    .into_parts();
                if !parts.status.is_success() {
                    let mut body = Vec::new();
                    while let Some(chunk) = stream.try_next().await? {
                        body.extend_from_slice(&chunk);
                    }
                    let raw = http::Response::from_parts(parts, bytes::Bytes::from(body));
                    return pipeline::finish(self, &endpoint, raw)
                        .and_then(|_| Err(unexpected_success()));
                }
                let head = http::Response::from_parts(parts, bytes::Bytes::new());
                Ok(Fetched::Streamed(head, (endpoint, check, stream)))
            }
        })
        .await?;
        let (head, (endpoint, mut check, mut stream)) = match fetched {
            Fetched::Whole(body) => {
                writer.write_all(&body).await.map_err(|e| write_error(&e))?;
                writer.flush().await.map_err(|e| write_error(&e))?;
                return Ok(body.len() as u64);
            }
            Fetched::Streamed(head, rest) => (head, rest),
        };
        while let Some(chunk) = stream.try_next().await? {
            check.update(&chunk);
            writer
                .write_all(&chunk)
                .await
                .map_err(|e| write_error(&e))?;
        }
        writer.flush().await.map_err(|e| write_error(&e))?;
        check.check(self, &endpoint, head)
    }

    /// The signed GET for a download on `host`, and where it goes.
    fn download_request(
        &self,
        host: Host,
        template: &str,
        options: &Value,
    ) -> Result<(http::Request<bytes::Bytes>, Endpoint), Error> {
        let (_, template) = self.chain(template).parts()?;
        // Labelled by its path: the template of placeholders says nothing.
        let relabel = |request: &mut http::Request<bytes::Bytes>| {
            if let Some(endpoint) = request.extensions_mut().get_mut::<Endpoint>() {
                endpoint.template = endpoint.path.clone();
            }
            Ok(())
        };
        let request =
            pipeline::prepare(self, host, http::Method::GET, &template, options, &relabel)?;
        let endpoint = request
            .extensions()
            .get::<Endpoint>()
            .cloned()
            .ok_or_else(|| Error::Config("the download request lost its endpoint".into()))?;
        Ok((request, endpoint))
    }

    /// Splits a download URL into a template of placeholders (one a segment, so
    /// each is encoded exactly as expansion encodes it) and the options.
    fn download_call(&self, url: &str) -> Result<(String, Value), Error> {
        let base = self.base_uri();
        // WeChat names the host that served the listing, the backup after a failover.
        let backup = self.backup_base_uri();
        let rest = url
            .strip_prefix(base.as_str())
            .or_else(|| backup.as_deref().and_then(|b| url.strip_prefix(b)))
            .ok_or_else(|| {
                Error::option(
                    "download_url",
                    format!(
                        "`{}` is not on the client's base URI {base} (or its backup); the client sends its credentials nowhere else",
                        clip(&crate::uri::without_userinfo(url))
                    ),
                )
            })?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        if path.is_empty() || path.contains('#') {
            return Err(Error::option(
                "download_url",
                format!("`{}` has no usable path", clip(url)),
            ));
        }
        let mut options = Map::new();
        let mut template = Vec::new();
        for (i, segment) in path.split('/').enumerate() {
            let value = percent_decode(segment)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    Error::option(
                        "download_url",
                        format!("`{}` has a malformed or non-UTF-8 escape", clip(url)),
                    )
                })?;
            let name = format!("seg{i}");
            template.push(format!("{{{name}}}"));
            options.insert(name, Value::String(value));
        }
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            options.insert("query".into(), json!(q));
        }
        Ok((template.join("/"), Value::Object(options)))
    }
}

/// A download as failover sees it: a `GET`, idempotent, on the client's hosts.
fn download() -> Call {
    Call::new(&http::Method::GET, true, &Value::Null)
}

/// A download's answer: verified whole, or a file streamed to the writer (`S`: its
/// endpoint when blocking; its endpoint, check and body stream when async).
enum Fetched<S> {
    Whole(bytes::Bytes),
    Streamed(http::Response<bytes::Bytes>, S),
}

/// A non-2xx answer always becomes an error in `finish`; this only keeps the
/// types honest should that ever change.
fn unexpected_success() -> Error {
    Error::Integrity {
        reason: "the download answered with an error status".into(),
    }
}

/// What a streamed download is checked by once its last byte arrived: the hash
/// its [`DownloadInfo`] names, and for an overseas statement the signed
/// `Wechatpay-Statement-Sha1` (the signature covers that header, not the body).
struct StreamCheck {
    file: Option<FileHasher>,
    statement: Option<Sha1>,
    length: u64,
}

impl StreamCheck {
    /// Refuses a download nothing would check: unsigned, and no hash given.
    fn new(info: &DownloadInfo, statement: bool) -> Result<StreamCheck, Error> {
        let file = FileHasher::for_info(info)?;
        if file.is_none() && !statement {
            return Err(unchecked_unsigned());
        }
        Ok(StreamCheck {
            file,
            statement: statement.then(Sha1::new),
            length: 0,
        })
    }

    fn update(&mut self, chunk: &[u8]) {
        self.length += chunk.len() as u64;
        if let Some(h) = &mut self.file {
            h.update(chunk);
        }
        if let Some(h) = &mut self.statement {
            h.update(chunk);
        }
    }

    /// The file's length when every check passes; `head` is the answer without
    /// its body (already written).
    fn check(
        self,
        client: &Client,
        endpoint: &Endpoint,
        mut head: http::Response<bytes::Bytes>,
    ) -> Result<u64, Error> {
        if let Some(sha1) = self.statement {
            head.extensions_mut()
                .insert(BodySha1(hex(&sha1.finalize())));
            pipeline::finish(client, endpoint, head).map_err(|e| match e {
                Error::Verification {
                    rejection,
                    response,
                } => Error::Verification {
                    rejection: Rejection::AlreadyWritten(Box::new(rejection)),
                    response,
                },
                other => other,
            })?;
        }
        match self.file {
            Some(file) => file.check(true),
            None => Ok(self.length),
        }
    }
}

/// The hash of a file computed as it streams, against the expected one.
struct FileHasher {
    digest: FileDigest,
    hash_type: String,
    expected: String,
    length: u64,
}

enum FileDigest {
    Sha1(Sha1),
    Sha256(Sha256),
}

impl FileHasher {
    /// A hasher for `hash_type` (`SHA1`/`SHA256`, any case) against `expected`.
    fn new(hash_type: &str, expected: &str) -> Result<FileHasher, Error> {
        let digest = match hash_type.to_ascii_uppercase().as_str() {
            "SHA1" | "SHA-1" => FileDigest::Sha1(Sha1::new()),
            "SHA256" | "SHA-256" => FileDigest::Sha256(Sha256::new()),
            other => {
                return Err(Error::Integrity {
                    reason: format!(
                        "unknown hash_type `{}`; expected SHA1 or SHA256",
                        clip(other)
                    ),
                })
            }
        };
        Ok(FileHasher {
            digest,
            hash_type: hash_type.to_owned(),
            expected: expected.trim().to_owned(),
            length: 0,
        })
    }

    /// The hasher `info` asks for; `None` when it gives no hash (then only a
    /// signed answer can be trusted).
    fn for_info(info: &DownloadInfo) -> Result<Option<FileHasher>, Error> {
        match (&info.hash_type, &info.hash_value) {
            (Some(t), Some(v)) => FileHasher::new(t, v).map(Some),
            (None, None) => Ok(None),
            _ => Err(Error::Integrity {
                reason: "hash_type and hash_value go together; one is missing".into(),
            }),
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        self.length += chunk.len() as u64;
        match &mut self.digest {
            FileDigest::Sha1(h) => h.update(chunk),
            FileDigest::Sha256(h) => h.update(chunk),
        }
    }

    /// The file's length when its hash matches; `streamed` says the bytes already
    /// reached the writer.
    fn check(self, streamed: bool) -> Result<u64, Error> {
        let actual = match self.digest {
            FileDigest::Sha1(h) => hex(&h.finalize()),
            FileDigest::Sha256(h) => hex(&h.finalize()),
        };
        if actual.eq_ignore_ascii_case(&self.expected) {
            Ok(self.length)
        } else {
            Err(Error::Integrity {
                reason: format!(
                    "the {}-byte file hashes ({}) to {actual}, not the expected {}{}",
                    self.length,
                    self.hash_type,
                    clip(&self.expected),
                    if streamed {
                        "; discard what was written"
                    } else {
                        ""
                    }
                ),
            })
        }
    }
}

/// The body of a download once its hash (or its signature) checks out.
fn checked(info: &DownloadInfo, response: Response) -> Result<bytes::Bytes, Error> {
    let verified = response.is_verified();
    let body = response.into_raw().body;
    match FileHasher::for_info(info)? {
        Some(mut hasher) => {
            hasher.update(&body);
            hasher.check(false)?;
        }
        None if verified => {}
        None => return Err(unchecked_unsigned()),
    }
    Ok(body)
}

fn unchecked_unsigned() -> Error {
    Error::Integrity {
        reason: "the file is served unsigned and no hash_type/hash_value was given to check it"
            .into(),
    }
}

/// A failing writer is an I/O failure of the transfer ([`Error::Transport`],
/// kind `Other`); the file itself had checked out.
fn write_error(e: &std::io::Error) -> Error {
    Error::Transport {
        kind: crate::error::TransportKind::Other,
        source: format!("the downloaded file checked out but could not be written ({e})").into(),
    }
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(96) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(verified: bool) -> Response {
        Response::new(
            http::Response::new(bytes::Bytes::from_static(b"file")),
            verified,
        )
    }

    /// `checked` gets verified answers only (unsigned downloads and statements
    /// stream); should an unverified one reach it, it needs a hash like any other.
    #[test]
    fn an_unverified_answer_needs_a_hash() {
        let unhashed = DownloadInfo::unhashed("https://api.mch.weixin.qq.com/v3/x");
        assert_eq!(checked(&unhashed, answer(true)).unwrap(), "file");
        let err = checked(&unhashed, answer(false)).unwrap_err();
        assert!(
            err.to_string().contains("served unsigned and no hash_type"),
            "{err}"
        );
        // SHA-1 of `file` (printf file | sha1sum).
        let hashed = DownloadInfo::new(
            "https://api.mch.weixin.qq.com/v3/x",
            "SHA1",
            "971c419dd609331343dee105fffd0f4608dc0bf2",
        );
        assert_eq!(checked(&hashed, answer(false)).unwrap(), "file");
    }
}
