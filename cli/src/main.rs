//! `wxpay`: WeChat Pay APIv3 from the command line.
//!
//! ```text
//! wxpay sandbox [--port PORT] [--keys DIR [--tls]]
//! wxpay request METHOD TEMPLATE [--set name=value]… [--json JSON|@file]
//!               [--query k=v]… [--header 'Name: value']… [--sandbox]
//! wxpay certificates --output DIR [--apiv3-key KEY] [merchant flags]
//!                   [--platform-key PEM [--platform-serial ID]] [--sandbox]
//! wxpay endpoints [QUERY]…
//! ```

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};
use wechatpay_chain::catalogue::{self, Method};
use wechatpay_chain::{Client, Error, PrivateKey, PublicKey};
use wechatpay_chain_sandbox::Sandbox;

#[derive(Parser)]
#[command(
    name = "wxpay",
    version,
    about = "Sign and send any WeChat Pay APIv3 call, or run a local WeChat Pay sandbox"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a local WeChat Pay on loopback; prints its base URI on the first line and
    /// serves until stopped (Ctrl-C).
    Sandbox {
        /// The port to listen on (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Loads the keys from DIR (merchant_private.pem, merchant_public.pem,
        /// platform_private.pem, platform_public.pem, sandbox.json), or generates and
        /// writes them there. Without it: the crate's test keys.
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
        /// Serves HTTPS with its own CA and writes ca.pem (the CA to trust),
        /// apiclient_cert.pem, apiclient_key.pem and apiclient_cert.p12 (password:
        /// the mchid) into the keys directory; APIv2 calls that need the merchant
        /// certificate require it.
        #[arg(long, requires = "keys")]
        tls: bool,
        /// Does not log requests on stderr.
        #[arg(long)]
        quiet: bool,
    },
    /// Signs and sends one call; prints the verified JSON answer.
    Request(Box<Request>),
    /// Downloads the platform certificates (v3/certificates), decrypts them with the
    /// APIv3 key, verifies the download, writes `wechatpay_<serial>.pem` files into
    /// DIR and prints each serial, its validity and its file (PHP's
    /// CertificateDownloader).
    Certificates(Box<Certificates>),
    /// Lists the WeChat Pay operations whose path or official name contains every
    /// word of QUERY (all of them without one): method, path, name and documentation
    /// link, tab-separated, one a line; deprecated ones are marked.
    Endpoints {
        /// Words to look for: path fragments (`discount-card`, `transactions`) or
        /// parts of the official name (`先享卡`).
        query: Vec<String>,
    },
}

#[derive(Args)]
struct Certificates {
    /// The directory to write the PEM files into (created when missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    output: PathBuf,
    /// The APIv3 key (32 bytes).
    #[arg(long, env = "WECHATPAY_APIV3_KEY", hide_env_values = true)]
    apiv3_key: Option<String>,
    /// Downloads from an embedded sandbox (ignores the merchant configuration).
    #[arg(long)]
    sandbox: bool,
    /// The merchant id.
    #[arg(long, env = "WECHATPAY_MCHID")]
    mchid: Option<String>,
    /// The merchant API certificate serial.
    #[arg(long, env = "WECHATPAY_SERIAL")]
    serial: Option<String>,
    /// The merchant private key (PEM file).
    #[arg(long, env = "WECHATPAY_PRIVATE_KEY", value_name = "PATH")]
    private_key: Option<PathBuf>,
    /// A platform key already trusted (PEM: a certificate, or a public key with
    /// --platform-serial): the download must be signed by it. Without it (first
    /// download only) the download is verified with the certificate it brings.
    #[arg(long, env = "WECHATPAY_PLATFORM_KEY", value_name = "PATH")]
    platform_key: Option<PathBuf>,
    /// The serial or public key id (PUB_KEY_ID_…) of --platform-key (read from the
    /// certificate when not given).
    #[arg(long, env = "WECHATPAY_PLATFORM_SERIAL")]
    platform_serial: Option<String>,
    /// The base URI (default: the production host, api.mch.weixin.qq.com).
    #[arg(long, env = "WECHATPAY_BASE_URI")]
    base_uri: Option<String>,
}

#[derive(Args)]
struct Request {
    /// The HTTP method (GET, POST, PUT, PATCH, DELETE).
    method: String,
    /// The path template, e.g. 'v3/discount-card/orders/{out_order_no}'.
    template: String,
    /// A placeholder value (kept as a string).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// The JSON body, inline or from a file with @path.
    #[arg(long, value_name = "JSON|@FILE")]
    json: Option<String>,
    /// A query parameter.
    #[arg(long = "query", value_name = "K=V")]
    query: Vec<String>,
    /// An extra header.
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    header: Vec<String>,
    /// Starts an embedded sandbox for this call (ignores the merchant configuration).
    #[arg(long)]
    sandbox: bool,
    /// The merchant id.
    #[arg(long, env = "WECHATPAY_MCHID")]
    mchid: Option<String>,
    /// The merchant API certificate serial.
    #[arg(long, env = "WECHATPAY_SERIAL")]
    serial: Option<String>,
    /// The merchant private key (PEM file).
    #[arg(long, env = "WECHATPAY_PRIVATE_KEY", value_name = "PATH")]
    private_key: Option<PathBuf>,
    /// The platform public key or certificate (PEM file).
    #[arg(long, env = "WECHATPAY_PLATFORM_KEY", value_name = "PATH")]
    platform_key: Option<PathBuf>,
    /// The platform certificate serial or public key id (PUB_KEY_ID_…).
    #[arg(long, env = "WECHATPAY_PLATFORM_SERIAL")]
    platform_serial: Option<String>,
    /// The base URI (default: the production host, api.mch.weixin.qq.com).
    #[arg(long, env = "WECHATPAY_BASE_URI")]
    base_uri: Option<String>,
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Sandbox {
            port,
            keys,
            tls,
            quiet,
        } => sandbox(port, keys, tls, quiet),
        Command::Request(request) => {
            let (method, template) = (request.method.clone(), request.template.clone());
            let outcome = send(*request);
            if let Err(error) = &outcome {
                report(error);
                suggest_on_404(error, &method, &template);
                return ExitCode::FAILURE;
            }
            outcome
        }
        Command::Certificates(args) => certificates(*args),
        Command::Endpoints { query } => return endpoints(&query.join(" ")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

fn sandbox(port: u16, keys: Option<PathBuf>, tls: bool, quiet: bool) -> Result<(), Error> {
    let mut builder = Sandbox::builder().port(port).tls(tls).log_requests(!quiet);
    if let Some(dir) = &keys {
        builder = builder.keys_dir(dir);
    }
    let sandbox = builder.start()?;
    // The first line is the base URI alone, so scripts can read it.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", sandbox.url()).and_then(|()| out.flush());
    drop(out);
    eprintln!(
        "wxpay sandbox: mchid {}, merchant serial {}, platform key id {}, keys {}",
        sandbox.mchid(),
        sandbox.merchant_serial(),
        sandbox.platform_serial(),
        keys.map_or("built in (tests/fixtures/keys)".to_owned(), |d| d
            .display()
            .to_string()),
    );
    // Serve until the process is stopped; the default signal action ends it.
    loop {
        std::thread::park();
    }
}

fn send(args: Request) -> Result<(), Error> {
    let options = options(&args)?;
    let embedded = if args.sandbox {
        Some(Sandbox::start()?)
    } else {
        None
    };
    let client = match &embedded {
        Some(sandbox) => sandbox.client(),
        None => client(&args)?,
    };
    let response = client
        .chain(&args.template)
        .request(&args.method, options)?;
    if response.body().is_empty() {
        return Ok(());
    }
    let text = match response.json::<Value>() {
        Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string()),
        Err(_) => response.text().into_owned(),
    };
    // A closed stdout (`wxpay request … | head -1`) is not worth a panic.
    let _ = writeln!(std::io::stdout(), "{text}");
    Ok(())
}

fn certificates(args: Certificates) -> Result<(), Error> {
    let embedded = if args.sandbox {
        Some(Sandbox::start()?)
    } else {
        None
    };
    let client = match &embedded {
        Some(sandbox) => sandbox.client(),
        None => certificates_client(&args)?,
    };
    let downloaded = client.download_certificates()?;
    std::fs::create_dir_all(&args.output).map_err(|e| {
        Error::Config(format!(
            "--output: cannot create `{}` ({e})",
            args.output.display()
        ))
    })?;
    let mut out = std::io::stdout().lock();
    for cert in &downloaded {
        let path = args.output.join(format!("wechatpay_{}.pem", cert.serial()));
        std::fs::write(&path, cert.pem())
            .map_err(|e| Error::Config(format!("cannot write `{}` ({e})", path.display())))?;
        let _ = writeln!(
            out,
            "serial={} effective={} expire={} file={}",
            cert.serial(),
            cert.effective_time(),
            cert.expire_time(),
            path.display()
        );
    }
    Ok(())
}

/// The merchant client of `wxpay certificates`: no platform key is needed.
fn certificates_client(args: &Certificates) -> Result<Client, Error> {
    let mchid = required(&args.mchid, "--mchid", "WECHATPAY_MCHID")?;
    let serial = required(&args.serial, "--serial", "WECHATPAY_SERIAL")?;
    let apiv3_key = required(&args.apiv3_key, "--apiv3-key", "WECHATPAY_APIV3_KEY")?;
    let private_key = required(&args.private_key, "--private-key", "WECHATPAY_PRIVATE_KEY")?;
    let mut builder = Client::builder()
        .mchid(mchid)
        .serial(serial)
        .private_key(PrivateKey::from_file(private_key)?)
        .apiv3_key(apiv3_key);
    builder = match (&args.platform_key, &args.platform_serial) {
        (Some(path), Some(id)) => builder.platform_key(id, PublicKey::from_file(path)?),
        (Some(path), None) => builder.platform_certificate(PublicKey::from_file(path)?),
        (None, Some(_)) => {
            return Err(usage(
                "--platform-serial",
                "names the key given with --platform-key; give that file too".into(),
            ))
        }
        (None, None) => builder.without_platform_keys(),
    };
    if let Some(base) = &args.base_uri {
        builder = builder.base_uri(base);
    }
    builder.build()
}

/// The option map from `--set`, `--json`, `--query` and `--header`.
fn options(args: &Request) -> Result<Value, Error> {
    let mut options = Map::new();
    for set in &args.set {
        let (name, value) = split(set, '=', "--set", "name=value")?;
        // Placeholders accept strings; `--set out_order_no=123` must stay "123".
        options.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    if let Some(json) = &args.json {
        let text = match json.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| usage("--json", format!("cannot read `{path}` ({e})")))?,
            None => json.clone(),
        };
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| usage("--json", format!("not valid JSON ({e})")))?;
        options.insert("json".into(), value);
    }
    if !args.query.is_empty() {
        let mut query = Map::new();
        for pair in &args.query {
            let (k, v) = split(pair, '=', "--query", "k=v")?;
            query.insert(k.to_owned(), Value::String(v.to_owned()));
        }
        options.insert("query".into(), Value::Object(query));
    }
    if !args.header.is_empty() {
        let mut headers = Map::new();
        for header in &args.header {
            let (name, value) = split(header, ':', "--header", "'Name: value'")?;
            headers.insert(
                name.trim().to_owned(),
                Value::String(value.trim().to_owned()),
            );
        }
        options.insert("headers".into(), Value::Object(headers));
    }
    Ok(Value::Object(options))
}

fn split<'a>(text: &'a str, at: char, flag: &str, form: &str) -> Result<(&'a str, &'a str), Error> {
    match text.split_once(at) {
        Some((k, v)) if !k.trim().is_empty() => Ok((k, v)),
        _ => Err(usage(flag, format!("`{text}` is not of the form {form}"))),
    }
}

/// A configuration value given by flag or environment variable.
fn required<T: Clone>(value: &Option<T>, flag: &str, env: &str) -> Result<T, Error> {
    value.clone().ok_or_else(|| {
        Error::Config(format!(
            "missing {flag}: pass it or set {env} (or use --sandbox)"
        ))
    })
}

fn usage(flag: &str, message: String) -> Error {
    Error::Config(format!("{flag}: {message}"))
}

/// The merchant client from flags or `WECHATPAY_*` variables.
fn client(args: &Request) -> Result<Client, Error> {
    let mchid = required(&args.mchid, "--mchid", "WECHATPAY_MCHID")?;
    let serial = required(&args.serial, "--serial", "WECHATPAY_SERIAL")?;
    let private_key = required(&args.private_key, "--private-key", "WECHATPAY_PRIVATE_KEY")?;
    let platform_key = required(
        &args.platform_key,
        "--platform-key",
        "WECHATPAY_PLATFORM_KEY",
    )?;
    let platform = PublicKey::from_file(platform_key)?;
    let mut builder = Client::builder()
        .mchid(mchid)
        .serial(serial)
        .private_key(PrivateKey::from_file(private_key)?);
    builder = match &args.platform_serial {
        Some(id) => builder.platform_key(id, platform),
        None if platform.serial().is_some() => builder.platform_certificate(platform),
        None => {
            return Err(Error::Config(
                "missing --platform-serial: a bare public key needs its id (PUB_KEY_ID_…); pass it or set WECHATPAY_PLATFORM_SERIAL".into(),
            ))
        }
    };
    if let Some(base) = &args.base_uri {
        builder = builder.base_uri(base);
    }
    builder.build()
}

/// `wxpay endpoints`: the catalogue, filtered.
fn endpoints(query: &str) -> ExitCode {
    let hits = catalogue::search(query);
    if hits.is_empty() {
        eprintln!("wxpay: no WeChat Pay operation matches `{query}`");
        let nearest = catalogue::nearest(query, 3);
        if query.contains('/') && !nearest.is_empty() {
            eprintln!("nearest paths: {}", nearest.join(", "));
        }
        return ExitCode::FAILURE;
    }
    let mut out = std::io::stdout().lock();
    for op in hits {
        let deprecated = if op.deprecated() { " (deprecated)" } else { "" };
        let line = format!(
            "{}\t{}\t{}{deprecated}\t{}",
            op.method(),
            op.path(),
            op.name(),
            op.doc_url().unwrap_or("-")
        );
        // A closed stdout (`wxpay endpoints | head`) ends the listing quietly.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// After a 404, what the catalogue knows: the nearest real paths, or the methods of a
/// path that exists (a 404 there is a missing resource or a wrong method).
fn suggest_on_404(error: &Error, method: &str, template: &str) {
    let Error::Api(api) = error else { return };
    if api.status != 404 {
        return;
    }
    match catalogue::find(template) {
        Some(entry) => {
            let methods: Vec<&str> = entry.methods().map(Method::as_str).collect();
            let known = Method::parse(method).is_some_and(|m| entry.operation(m).is_some());
            if !known {
                eprintln!("hint: {} answers {}", entry.path(), methods.join(", "));
            }
        }
        None => {
            let nearest = catalogue::nearest(template, 3);
            if !nearest.is_empty() {
                eprintln!(
                    "hint: `{template}` is not in the WeChat Pay API catalogue; nearest: {}",
                    nearest.join(", ")
                );
            }
        }
    }
}

fn report(error: &Error) {
    eprintln!("wxpay: {error}");
    if let Error::Api(api) = error {
        if let Some(code) = &api.code {
            eprintln!("code: {code}");
        }
        if let Some(id) = &api.request_id {
            eprintln!("Request-ID: {id}");
        }
        if let Some(detail) = &api.detail {
            eprintln!("detail: {detail}");
        }
    }
}
