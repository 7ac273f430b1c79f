//! Media uploads: `multipart/form-data` with a `meta` part (`{"filename", "sha256"}`
//! JSON) and a `file` part, signed over the meta JSON as WeChat Pay specifies (PHP's
//! `MediaUtil`, part for part and header for header).
//!
//! Endpoints: `v3/merchant/media/upload`, `v3/merchant/media/video_upload`,
//! `v3/marketing/favor/media/image-upload`, `v3/merchant-service/images/upload`,
//! and any other that takes the same form. Uploads with another file part name or
//! extra form fields set them with [`Media::with_part_name`] and
//! [`Media::with_field`]; the APIv2 `v2/secapi/mch/uploadmedia` form (fields signed
//! with the APIv2 secret, no `meta`) is made when the path starts with `v2/`.

use std::fmt;
use std::future::Future;
use std::path::Path;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::chain::Chain;
use crate::client::Client;
use crate::crypto::nonce;
use crate::encoding::hex;
use crate::error::Error;
use crate::request::Endpoint;
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
    /// The file part's name; `None`: `file` on APIv3, `media` on APIv2.
    part_name: Option<String>,
    /// Text parts sent after the file part, in order.
    fields: Vec<(String, String)>,
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
            part_name: None,
            fields: Vec::new(),
        })
    }

    /// Names the file part (default `file`; `media` for the APIv2 upload), for
    /// endpoints that want another, e.g. `submission_file` for
    /// `v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload` or
    /// `due_diligence_file` for
    /// `v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload`.
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay_chain::media::Media;
    /// let media = Media::from_bytes("filea.jpg", b"\xFF\xD8".to_vec())?;
    /// let digest = media.sha256().to_ascii_uppercase();
    /// let media = media
    ///     .with_meta(&json!({"file_name": "filea.jpg", "file_digest": digest, "item_id": 56}))
    ///     .with_part_name("submission_file")?
    ///     .with_field("item_id", "56")?
    ///     .with_field("manage_record_id", "560001")?;
    /// let body = media.multipart("B");
    /// let text = String::from_utf8_lossy(&body);
    /// assert!(text.contains(r#"name="submission_file"; filename="filea.jpg""#));
    /// assert!(text.ends_with("name=\"manage_record_id\"\r\nContent-Length: 6\r\n\r\n560001\r\n--B--\r\n"));
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn with_part_name(mut self, name: impl Into<String>) -> Result<Media, Error> {
        let name = name.into();
        check_part_name(&name)?;
        self.part_name = Some(name);
        Ok(self)
    }

    /// Adds a text part after the file part (`item_id`, `manage_record_id`, …). Not
    /// signed on APIv3 (WeChat signs the meta only), so the same facts usually go
    /// into the meta too.
    pub fn with_field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Media, Error> {
        let name = name.into();
        check_part_name(&name)?;
        self.fields.push((name, value.into()));
        Ok(self)
    }

    /// The lower-case hex MD5 of the file: the APIv2 upload's `media_hash`.
    pub fn md5(&self) -> String {
        use md5::{Digest as _, Md5};
        hex(&Md5::digest(&self.bytes))
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

    /// The APIv3 `multipart/form-data` body with the given boundary: the `meta`
    /// part, the file part, then the extra fields, each with the headers Guzzle's
    /// `MultipartStream` writes for PHP's `MediaUtil`.
    pub fn multipart(&self, boundary: &str) -> Bytes {
        let mut form = Form::new(boundary, self.bytes.len() + self.meta.len() + 400);
        // MediaUtil's meta stream has no size, so its part has no Content-Length.
        form.part(
            &[
                ("Content-Type", "application/json"),
                ("Content-Disposition", "form-data; name=\"meta\""),
            ],
            &self.meta,
        );
        self.file_and_fields(&mut form, "file", &[]);
        form.finish()
    }

    /// The file part (named `default_name` unless renamed), then `after` and the
    /// extra fields as text parts.
    fn file_and_fields(&self, form: &mut Form, default_name: &str, after: &[(String, String)]) {
        let name = self.part_name.as_deref().unwrap_or(default_name);
        let disposition = format!("form-data; name=\"{name}\"; filename=\"{}\"", self.filename);
        let length = self.bytes.len().to_string();
        let mut headers = vec![("Content-Disposition", disposition.as_str())];
        if !self.bytes.is_empty() {
            headers.push(("Content-Length", length.as_str()));
        }
        headers.push(("Content-Type", self.content_type.as_str()));
        form.part(&headers, &self.bytes);
        for (key, value) in after.iter().chain(&self.fields) {
            form.field(key, value);
        }
    }

    /// Puts the multipart body on a built request: APIv3 signed over the meta,
    /// APIv2 with the payload's signed fields as the form.
    fn shape(&self, request: &mut Request<Bytes>) -> Result<(), Error> {
        let apiv2 = request
            .extensions()
            .get::<Endpoint>()
            .is_some_and(|e| e.apiv2);
        let boundary = nonce::generate();
        let body = if apiv2 {
            if !self.fields.is_empty() {
                return Err(Error::option(
                    "(media)",
                    "an APIv2 upload signs every form field: give extra fields in `xml`, not with_field",
                ));
            }
            // The payload was built, defaulted and signed as any APIv2 call's; its
            // fields (as sent and signed) become the form instead of the XML.
            let text = std::str::from_utf8(request.body()).unwrap_or_default();
            let fields = crate::v2::from_xml(text)
                .map_err(|m| Error::option("xml", format!("cannot become form fields ({m})")))?;
            let fields: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            let mut form = Form::new(&boundary, self.bytes.len() + 600);
            self.file_and_fields(&mut form, "media", &fields);
            form.finish()
        } else {
            if !request.body().is_empty() {
                return Err(Error::option(
                    "json",
                    "an upload sends its own multipart body; drop `json`/`body` from the options",
                ));
            }
            request.extensions_mut().insert(SignOver(self.meta.clone()));
            self.multipart(&boundary)
        };
        let content_type =
            HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
                .map_err(|_| Error::option("(media)", "invalid boundary"))?;
        *request.body_mut() = body;
        request.headers_mut().insert(CONTENT_TYPE, content_type);
        Ok(())
    }

    /// The options of an APIv2 upload: the `xml` payload gets `media_hash` (the
    /// file's MD5) and `sign_type` (`MD5`) unless given; `nonceless` and `security`
    /// default to true (the form has no `nonce_str`; WeChat wants the client
    /// certificate).
    fn v2_options(&self, options: Value) -> Result<Value, Error> {
        let mut options = match options {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            other => {
                return Err(Error::option(
                    "(options)",
                    format!("must be a JSON object, not {other}"),
                ))
            }
        };
        let xml = options
            .entry("xml")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(given) = xml else {
            return Err(Error::option("xml", "must be an object of form fields"));
        };
        // The catalogue's field order (PHP's form): mch_id, media_hash, sign_type.
        let mut fields = Map::new();
        if let Some(mchid) = given.remove("mch_id") {
            fields.insert("mch_id".into(), mchid);
        }
        let media_hash = given
            .remove("media_hash")
            .unwrap_or_else(|| Value::String(self.md5()));
        fields.insert("media_hash".into(), media_hash);
        let sign_type = given
            .remove("sign_type")
            .unwrap_or_else(|| Value::String("MD5".into()));
        fields.insert("sign_type".into(), sign_type);
        fields.append(given);
        *given = fields;
        for flag in ["nonceless", "security"] {
            options.entry(flag).or_insert(Value::Bool(true));
        }
        Ok(Value::Object(options))
    }
}

impl Media {
    /// The options as sent: unchanged on APIv3, defaulted for the APIv2 form.
    fn options_for(&self, template: &str, options: Value) -> Result<Value, Error> {
        let apiv2 = template
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("v2/"));
        if apiv2 {
            self.v2_options(options)
        } else {
            Ok(options)
        }
    }
}

/// Refuses a part name that would break its `Content-Disposition` header.
fn check_part_name(name: &str) -> Result<(), Error> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| matches!(c, '"' | '\\') || c.is_control())
    {
        return Err(Error::option(
            "(media)",
            format!("part name {name:?} is empty or holds a quote, backslash or control character"),
        ));
    }
    Ok(())
}

/// A `multipart/form-data` body being written (RFC 7578), part by part.
struct Form<'a> {
    boundary: &'a str,
    body: BytesMut,
}

impl<'a> Form<'a> {
    fn new(boundary: &'a str, capacity: usize) -> Form<'a> {
        Form {
            boundary,
            body: BytesMut::with_capacity(capacity),
        }
    }

    fn part(&mut self, headers: &[(&str, &str)], data: &[u8]) {
        self.body
            .put_slice(format!("--{}\r\n", self.boundary).as_bytes());
        for (name, value) in headers {
            self.body
                .put_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        self.body.put_slice(b"\r\n");
        self.body.put_slice(data);
        self.body.put_slice(b"\r\n");
    }

    /// A text part, with the headers Guzzle gives a string (`Content-Length` when
    /// not empty).
    fn field(&mut self, name: &str, value: &str) {
        let disposition = format!("form-data; name=\"{name}\"");
        let length = value.len().to_string();
        let mut headers = vec![("Content-Disposition", disposition.as_str())];
        if !value.is_empty() {
            headers.push(("Content-Length", length.as_str()));
        }
        self.part(&headers, value.as_bytes());
    }

    fn finish(mut self) -> Bytes {
        self.body
            .put_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        self.body.freeze()
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
        let options = media.options_for(self.template(), options)?;
        self.send_shaped(Method::POST, options, &|r| media.shape(r))
    }

    /// The async twin of [`upload`](Self::upload).
    pub fn upload_async(
        &self,
        media: Media,
        options: Value,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
        let prepared = media.options_for(self.template(), options);
        let chain = self.clone();
        async move {
            chain
                .send_shaped_async(Method::POST, prepared?, move |r| media.shape(r))
                .await
        }
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
        assert!(text.starts_with(
            "--B\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{"
        ));
        assert!(text.contains(
            "filename=\"a.JPG\"\r\nContent-Length: 3\r\nContent-Type: image/jpeg\r\n\r\nxyz\r\n--B--\r\n"
        ));
        assert_eq!(
            media.sha256(),
            "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282"
        );
        assert!(Media::from_bytes("a\"b.jpg", Vec::new()).is_err());
        assert!(Media::from_bytes("", Vec::new()).is_err());
        assert!(media.clone().with_part_name("a\"b").is_err());
        assert!(media.with_field("x\r\n", "1").is_err());
    }
}
