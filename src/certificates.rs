//! Platform certificates: downloading `v3/certificates`, decrypting each with the
//! APIv3 key, verifying the download with a platform key already trusted (with the
//! certificate it brings only to bootstrap a client that trusts no key yet), and
//! refreshing the keys of a running client. Installing certificates never changes
//! the key [`Client::encrypt`] encrypts to.
//!
//! This is PHP's `bin/CertificateDownloader.php`, as a library call and as
//! `wxpay certificates`. Merchants on platform public keys (`PUB_KEY_ID_…`) need no
//! download; both kinds of key work side by side.

use std::fmt;
use std::sync::Weak;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::client::{Client, Inner};
use crate::crypto::PublicKey;
use crate::error::Error;
use crate::notification::EncryptedResource;
use crate::verifier::{Rejection, Verifier};

/// The endpoint the certificates are downloaded from.
pub const ENDPOINT: &str = "v3/certificates";

/// A platform certificate, decrypted and parsed.
#[derive(Clone)]
pub struct PlatformCertificate {
    serial_no: String,
    effective_time: String,
    expire_time: String,
    pem: String,
    key: PublicKey,
}

impl PlatformCertificate {
    /// The certificate serial (upper-case hex), as WeChat names it in
    /// `Wechatpay-Serial`.
    pub fn serial(&self) -> &str {
        &self.serial_no
    }

    /// `effective_time` as WeChat sent it (RFC 3339).
    pub fn effective_time(&self) -> &str {
        &self.effective_time
    }

    /// `expire_time` as WeChat sent it (RFC 3339).
    pub fn expire_time(&self) -> &str {
        &self.expire_time
    }

    /// When the certificate stops being valid (from the certificate itself).
    pub fn not_after(&self) -> Option<SystemTime> {
        self.key.not_after()
    }

    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The public key, ready for [`ClientBuilder::platform_certificate`](crate::ClientBuilder::platform_certificate).
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl fmt::Debug for PlatformCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformCertificate")
            .field("serial_no", &self.serial_no)
            .field("effective_time", &self.effective_time)
            .field("expire_time", &self.expire_time)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Listing {
    data: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    serial_no: String,
    #[serde(default)]
    effective_time: String,
    #[serde(default)]
    expire_time: String,
    encrypt_certificate: EncryptedResource,
}

impl Client {
    /// Downloads the platform certificates (`GET v3/certificates`), decrypts each
    /// with the APIv3 key and returns them. The keys of the client are not changed:
    /// see [`install_certificates`](Self::install_certificates).
    ///
    /// The download is verified like every answer: certificates are trusted by a
    /// chain, so a listing must be signed by a platform key the client already
    /// trusts, and a listing signed by any other key is [`Error::Verification`],
    /// even when it brings that key's certificate (a listing cannot vouch for
    /// itself). The one exception is bootstrap: a client with no platform key at
    /// all ([`without_platform_keys`](crate::ClientBuilder::without_platform_keys))
    /// verifies its first download with the certificate of the signing serial the
    /// download brings, as wechatpay-php's CertificateDownloader does; trust then
    /// rests on TLS to WeChat's host, so compare the serial with the one shown in
    /// the merchant platform once.
    ///
    /// ```
    /// use wechatpay_chain_sandbox::Sandbox;
    /// let sandbox = Sandbox::start()?;
    /// let certificates = sandbox.client().download_certificates()?;
    /// assert_eq!(certificates[0].serial(), "7132D72A03E93CDDF8C03BBD1F37EEDF00000001");
    /// assert!(certificates[0].pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn download_certificates(&self) -> Result<Vec<PlatformCertificate>, Error> {
        let outcome = self.chain(ENDPOINT).get(Value::Null);
        self.open_certificates(outcome)
    }

    /// The async twin of [`download_certificates`](Self::download_certificates).
    pub async fn download_certificates_async(&self) -> Result<Vec<PlatformCertificate>, Error> {
        let outcome = self.chain(ENDPOINT).get_async(Value::Null).await;
        self.open_certificates(outcome)
    }

    /// Adds `certificates` to the platform keys of this client (and of every clone),
    /// replacing keys of the same serial and dropping certificates expired by the
    /// client's clock ([`ClientBuilder::clock`](crate::ClientBuilder::clock), the one
    /// the 300 s window uses). Keys without an expiry (`PUB_KEY_ID_…` public keys)
    /// are kept. Calls in flight
    /// finish with the keys they started with. The key
    /// [`encrypt`](Client::encrypt) uses does not change (name a new one with
    /// [`encrypt_with`](Client::encrypt_with)).
    ///
    /// ```
    /// use wechatpay_chain_sandbox::Sandbox;
    /// let sandbox = Sandbox::start()?;
    /// let client = sandbox.client();
    /// let certificates = client.download_certificates()?;
    /// client.install_certificates(&certificates);
    /// assert_eq!(client.platform_serials().len(), 2); // the PUB_KEY_ID_ and the certificate
    /// # Ok::<_, wechatpay_chain::Error>(())
    /// ```
    pub fn install_certificates(&self, certificates: &[PlatformCertificate]) {
        // A clock before 1970 counts as 1970: nothing is expired then.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(self.now().max(0).unsigned_abs());
        self.update_verifier(|current| {
            let mut next = current.clone();
            for cert in certificates {
                next.add(cert.serial_no.clone(), cert.key.clone());
            }
            let expired: Vec<String> = next
                .entries()
                .into_iter()
                .filter(|(_, key)| key.not_after().is_some_and(|t| t < now))
                .map(|(serial, _)| serial.to_owned())
                .collect();
            for serial in expired {
                next.remove(&serial);
            }
            next
        });
    }

    /// Downloads and installs the platform certificates now and then every
    /// `every`, on a task of the current tokio runtime, until the returned handle
    /// is stopped or dropped, or the client is dropped. A failed download is logged
    /// (`tracing` warn) and retried at the next tick; the keys in use stay.
    ///
    /// An error outside a tokio runtime.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wechatpay_chain_sandbox::Sandbox;
    /// # #[tokio::main] async fn main() -> Result<(), wechatpay_chain::Error> {
    /// let sandbox = Sandbox::start_async().await?;
    /// let client = sandbox.client();
    /// let refresh = client.refresh_certificates(Duration::from_secs(12 * 3600))?;
    /// refresh.wait_first().await?;
    /// assert!(client.platform_serials().contains(&"7132D72A03E93CDDF8C03BBD1F37EEDF00000001".to_owned()));
    /// refresh.stop();
    /// # Ok(()) }
    /// ```
    pub fn refresh_certificates(&self, every: Duration) -> Result<CertificateRefresh, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Config(
                "refresh_certificates runs on a tokio runtime; call it from async code".into(),
            )
        })?;
        if every.is_zero() {
            return Err(Error::Config(
                "refresh_certificates needs a non-zero interval".into(),
            ));
        }
        let weak = self.downgrade();
        let (first_tx, first_rx) = tokio::sync::watch::channel(None);
        let task = runtime.spawn(refresh_loop(weak, every, first_tx));
        Ok(CertificateRefresh {
            task,
            first: first_rx,
        })
    }

    /// Decrypts and checks the certificates of a download; bootstraps the
    /// verification when the answer names a serial not yet configured.
    fn open_certificates(
        &self,
        outcome: Result<crate::Response, Error>,
    ) -> Result<Vec<PlatformCertificate>, Error> {
        let key = self.apiv3_key().ok_or_else(|| {
            Error::Config(
                "platform certificates are decrypted with the APIv3 key; set it with .apiv3_key(…)"
                    .into(),
            )
        })?;
        let (headers, body, verified) = match outcome {
            Ok(response) => {
                let raw = response.into_raw();
                (raw.headers, raw.body, true)
            }
            Err(Error::Verification {
                rejection,
                response,
            }) => {
                // Only a client that trusts no key yet may bootstrap, and only from an
                // answer signed by a key it does not know.
                let keys = self.verifier();
                match keys.verify(&response.headers, &response.body, self.now()) {
                    Err(Rejection::UnknownSerial { .. }) if keys.serials().is_empty() => {
                        (response.headers, response.body, false)
                    }
                    Err(Rejection::UnknownSerial { .. }) => {
                        return Err(Error::Verification {
                            rejection: Rejection::UntrustedListing(Box::new(rejection)),
                            response,
                        })
                    }
                    _ => {
                        return Err(Error::Verification {
                            rejection,
                            response,
                        })
                    }
                }
            }
            Err(e) => return Err(e),
        };
        let certificates = decrypt_listing(key, &body)?;
        if !verified {
            bootstrap_verify(&certificates, &headers, &body, self.now()).map_err(|rejection| {
                Error::Verification {
                    rejection: Rejection::BootstrapListing(Box::new(rejection)),
                    response: Box::new(crate::RawResponse {
                        status: http::StatusCode::OK,
                        headers: headers.clone(),
                        body: body.clone(),
                    }),
                }
            })?;
        }
        Ok(certificates)
    }
}

/// Decrypts and parses every certificate of a `v3/certificates` body.
pub(crate) fn decrypt_listing(
    key: &crate::crypto::ApiV3Key,
    body: &[u8],
) -> Result<Vec<PlatformCertificate>, Error> {
    let listing: Listing = serde_json::from_slice(body).map_err(|source| Error::Decode {
        source,
        body: Bytes::copy_from_slice(body),
    })?;
    let mut out = Vec::with_capacity(listing.data.len());
    for entry in listing.data {
        let what = format!("platform certificate {}", clip(&entry.serial_no));
        let plain = entry
            .encrypt_certificate
            .decrypt(key, &what)
            .map_err(|m| Error::key("APIv3 key", m))?;
        let pem = String::from_utf8(plain)
            .map_err(|_| Error::key(what.clone(), "decrypts to something that is not PEM text"))?;
        let parsed = PublicKey::from_pem(&pem).map_err(|e| match e {
            Error::Key { message, .. } => Error::key(what.clone(), message),
            other => other,
        })?;
        if parsed.serial() != Some(entry.serial_no.as_str()) {
            return Err(Error::key(
                what,
                format!(
                    "the certificate inside carries serial {}; the listing says otherwise",
                    parsed.serial().unwrap_or("(none)")
                ),
            ));
        }
        out.push(PlatformCertificate {
            serial_no: entry.serial_no,
            effective_time: entry.effective_time,
            expire_time: entry.expire_time,
            pem,
            key: parsed,
        });
    }
    Ok(out)
}

/// Verifies a download with the certificates it brings (bootstrap only: the
/// client trusts no platform key yet).
fn bootstrap_verify(
    certificates: &[PlatformCertificate],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), Rejection> {
    let mut brought = Verifier::new();
    for cert in certificates {
        brought.add(cert.serial_no.clone(), cert.key.clone());
    }
    brought.verify(headers, body, now)
}

async fn refresh_loop(
    client: Weak<Inner>,
    every: Duration,
    first: tokio::sync::watch::Sender<Option<Result<usize, String>>>,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = client.upgrade() else {
            return;
        };
        let client = Client { inner };
        let outcome = client.download_certificates_async().await;
        let report = match outcome {
            Ok(certificates) => {
                client.install_certificates(&certificates);
                tracing::debug!(
                    count = certificates.len(),
                    "platform certificates refreshed"
                );
                Ok(certificates.len())
            }
            Err(e) => {
                tracing::warn!(error = %e, "platform certificate refresh failed; keeping the keys in use");
                Err(e.to_string())
            }
        };
        first.send_if_modified(|slot| {
            if slot.is_none() {
                *slot = Some(report);
                true
            } else {
                false
            }
        });
        drop(client);
    }
}

/// The background refresh started by [`Client::refresh_certificates`]; stops when
/// stopped or dropped.
#[derive(Debug)]
pub struct CertificateRefresh {
    task: tokio::task::JoinHandle<()>,
    first: tokio::sync::watch::Receiver<Option<Result<usize, String>>>,
}

impl CertificateRefresh {
    /// Waits for the first download (it starts at once) and reports how many
    /// certificates it installed, or why it failed.
    pub async fn wait_first(&self) -> Result<usize, Error> {
        let mut rx = self.first.clone();
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Error::Config("the certificate refresh task ended".into()))?
            .clone();
        match outcome {
            Some(Ok(n)) => Ok(n),
            Some(Err(reason)) => Err(Error::Config(format!(
                "the first certificate download failed: {reason}"
            ))),
            None => Err(Error::Config("the certificate refresh task ended".into())),
        }
    }

    /// Whether the task has ended (stopped, or its client dropped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the refresh; keys already installed stay.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for CertificateRefresh {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
