//! Media uploads: `multipart/form-data` with a `meta` part (`{"filename", "sha256"}`
//! JSON) and a `file` part, signed over the meta JSON as WeChat Pay specifies (PHP's
//! `MediaUtil`).
//!
//! Endpoints: `v3/merchant/media/upload`, `v3/merchant/media/video_upload`,
//! `v3/marketing/favor/media/image-upload`, `v3/merchant-service/images/upload`,
//! and any other that takes the same form.

use std::fmt;
use std::future::Future;
use std::path::Path;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::chain::Chain;
use crate::client::Client;
use crate::crypto::nonce;
use crate::encoding::hex;
use crate::error::Error;
use crate::response::Response;
use crate::signer::SignOver;

/// A file to upload: its name, its bytes and the `meta` JSON signed for it.
///
/// ```
/// use wechatpay_chain::media::Media;
/// let media = Media::from_bytes("logo.png", b"\x89PNG...".to_vec())?;
/// assert_eq!(media.content_type(), "image/png");
/// assert_eq!(
///     media.meta(),
///     format!(r#"{{"filename":"logo.png","sha256":"{}"}}"#, media.sha256())
/// );
/// # Ok::<_, wechatpay_chain::Error>(())
/// ```
#[derive(Clone)]
pub struct Media {
    filename: String,
    bytes: Bytes,
    sha256: String,
    meta: Bytes,
    content_type: String,
}

impl Media {
    /// Reads a file; its base name is the `filename`.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Media, Error> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                Error::option(
                    "(media)",
                    format!("`{}` has no UTF-8 file name", path.display()),
                )
            })?
            .to_owned();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::option("(media)", format!("cannot read `{}` ({e})", path.display()))
        })?;
        Self::from_bytes(name, bytes)
    }

    /// A file from memory. The name must be non-empty, without `"`, `\`, CR or
    /// LF (it goes into a multipart header), and its extension sets the part's
    /// content type.
    pub fn from_bytes(
        filename: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Result<Media, Error> {
        let filename = filename.into();
        if filename.is_empty()
            || filename
                .chars()
                .any(|c| matches!(c, '"' | '\\' | '\r' | '\n') || c.is_control())
        {
            return Err(Error::option(
                "(media)",
                format!(
                    "file name {filename:?} is empty or holds a quote, backslash or control character"
                ),
            ));
        }
        let bytes = bytes.into();
        let sha256 = hex(&Sha256::digest(&bytes));
        let meta = serde_json::json!({ "filename": filename, "sha256": sha256 }).to_string();
        Ok(Media {
            content_type: content_type_of(&filename).to_owned(),
            filename,
            sha256,
            meta: Bytes::from(meta),
            bytes,
        })
    }

    /// Replaces the `meta` JSON, for endpoints that want more fields (e.g.
    /// `{"bank_type", "filename", "sha256"}`); it is sent and signed as
    /// serialised here (compact, keys in the order given).
    pub fn with_meta(mut self, meta: &Value) -> Media {
        self.meta = Bytes::from(meta.to_string());
        self
    }

    /// The file name sent.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The lower-case hex SHA-256 of the file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The `meta` JSON, exactly as sent and signed.
    pub fn meta(&self) -> &str {
        std::str::from_utf8(&self.meta).unwrap_or_default()
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The `file` part's content type, from the extension (`image/jpeg`,
    /// `video/mp4`, …; `application/octet-stream` when unknown).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The `multipart/form-data` body with the given boundary.
    pub fn multipart(&self, boundary: &str) -> Bytes {
        let mut body = BytesMut::with_capacity(self.bytes.len() + self.meta.len() + 320);
        body.put_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n").as_bytes());
        body.put_slice(&self.meta);
        body.put_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                self.filename, self.content_type
            )
            .as_bytes(),
        );
        body.put_slice(&self.bytes);
        body.put_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        body.freeze()
    }

    /// Puts the multipart body on a built request and marks the meta as the bytes
    /// to sign.
    fn shape(&self, request: &mut Request<Bytes>) -> Result<(), Error> {
        if !request.body().is_empty() {
            return Err(Error::option(
                "json",
                "an upload sends its own multipart body; drop `json`/`body` from the options",
            ));
        }
        let boundary = nonce::generate();
        let content_type =
            HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
                .map_err(|_| Error::option("(media)", "invalid boundary"))?;
        *request.body_mut() = self.multipart(&boundary);
        request.headers_mut().insert(CONTENT_TYPE, content_type);
        request.extensions_mut().insert(SignOver(self.meta.clone()));
        Ok(())
    }
}

impl fmt::Debug for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Media")
            .field("filename", &self.filename)
            .field("len", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl Chain {
    /// `POST`s `media` to this endpoint as `multipart/form-data`, signed over its
    /// meta JSON. `options` may hold placeholders, `headers`, `query`, timeouts and
    /// `base_uri` (not `json` or `body`). Like any `POST`, it is retried under the
    /// client's [`RetryPolicy`](crate::RetryPolicy) only when the chain is marked
    /// [`idempotent`](Chain::idempotent); each attempt is signed afresh.
    ///
    /// Blocking, like [`get`](Self::get): in async code use
    /// [`upload_async`](Self::upload_async).
    ///
    /// ```
    /// use serde_json::Value;
    /// use wechatpay_chain::media::Media;
    /// use wechatpay_chain_sandbox::Sandbox;
    ///
    /// let sandbox = Sandbox::start()?; // checks the signature over the meta and the sha256
    /// let media = Media::from_bytes("receipt.jpg", vec![0xFF, 0xD8, 0xFF, 0xE0])?;
    /// let answer: serde_json::Value = sandbox
    ///     .client()
    ///     .chain("v3/merchant/media/upload")
    ///     .upload(&media, Value::Null)?
    ///     .json()?;
    /// assert!(answer["media_id"].as_str().is_some());
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn upload(&self, media: &Media, options: Value) -> Result<Response, Error> {
        self.send_shaped(Method::POST, options, &|r| media.shape(r))
    }

    /// The async twin of [`upload`](Self::upload).
    pub fn upload_async(
        &self,
        media: Media,
        options: Value,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
        self.send_shaped_async(Method::POST, options, move |r| media.shape(r))
    }
}

impl Client {
    /// [`Chain::upload`] on a template: `client.upload("v3/merchant/media/upload", &media)`.
    pub fn upload(&self, template: &str, media: &Media) -> Result<Response, Error> {
        self.chain(template).upload(media, Value::Null)
    }
}

/// The content types WeChat's media endpoints accept, by extension.
fn content_type_of(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "bmp" => "image/bmp",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avi" => "video/x-msvideo",
        "wmv" => "video/x-ms-wmv",
        "mpeg" | "mpg" => "video/mpeg",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        "flv" | "f4v" => "video/x-flv",
        "rmvb" => "application/vnd.rn-realmedia-vbr",
        "csv" => "text/csv",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_form_wechat_expects() {
        let media = Media::from_bytes("a.JPG", b"xyz".to_vec()).unwrap();
        let body = media.multipart("B");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with("--B\r\nContent-Disposition: form-data; name=\"meta\"\r\n"));
        assert!(
            text.contains("filename=\"a.JPG\"\r\nContent-Type: image/jpeg\r\n\r\nxyz\r\n--B--\r\n")
        );
        assert_eq!(
            media.sha256(),
            "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282"
        );
        assert!(Media::from_bytes("a\"b.jpg", Vec::new()).is_err());
        assert!(Media::from_bytes("", Vec::new()).is_err());
    }
}
