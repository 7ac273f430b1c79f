//! `wxpay`: WeChat Pay APIv3 from the command line.
//!
//! ```text
//! wxpay sandbox [--port PORT] [--keys DIR [--tls] [--print-env]] [--notify-compression FACTOR]
//! wxpay request METHOD TEMPLATE [--set name=value]… [--json JSON|@file]
//!               [--query k=v]… [--header 'Name: value']… [--sandbox | --sandbox-dir DIR]
//!               [merchant flags: --mchid --serial --private-key --platform-key
//!                --platform-serial --base-uri --ca]
//! wxpay certificates --output DIR [--apiv3-key KEY] [merchant flags]
//!                   [--platform-key PEM [--platform-serial ID]] [--sandbox | --sandbox-dir DIR]
//! wxpay endpoints [QUERY]…
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};
use wechatpay_chain::catalogue::{self, Method};
use wechatpay_chain::{Client, Error, PrivateKey, PublicKey};
use wechatpay_chain_sandbox::{
    compressed_schedule, Sandbox, CA_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE, INFO_FILE, KEY_FILES,
};

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
        /// Prints the `WECHATPAY_*` variables that point `wxpay request` (or any
        /// SDK) at this sandbox, one `NAME=value` line each, instead of the base URI
        /// alone (with --tls, `WECHATPAY_CA` too). Needs --keys (the variables name
        /// the key files).
        #[arg(long, requires = "keys")]
        print_env: bool,
        /// Divides WeChat's notification retry schedule (15s, 15s, 30s, 3m, …, 6h)
        /// by FACTOR: 1 is WeChat's own pace.
        #[arg(long, value_name = "FACTOR", default_value_t = 1000)]
        notify_compression: u32,
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

/// The merchant configuration of `request` and `certificates`, from flags or
/// `WECHATPAY_*` variables.
#[derive(Args)]
struct Merchant {
    /// The merchant id.
    #[arg(long, env = "WECHATPAY_MCHID")]
    mchid: Option<String>,
    /// The merchant API certificate serial.
    #[arg(long, env = "WECHATPAY_SERIAL")]
    serial: Option<String>,
    /// The merchant private key (PEM file).
    #[arg(long, env = "WECHATPAY_PRIVATE_KEY", value_name = "PATH")]
    private_key: Option<PathBuf>,
    /// The platform public key or certificate (PEM file), with --platform-serial
    /// for a bare public key. `certificates` requires the download to be signed by
    /// it; without it (a first download only) the download is verified with the
    /// certificate it brings.
    #[arg(long, env = "WECHATPAY_PLATFORM_KEY", value_name = "PATH")]
    platform_key: Option<PathBuf>,
    /// The serial or public key id (PUB_KEY_ID_…) of --platform-key (read from a
    /// certificate when not given).
    #[arg(long, env = "WECHATPAY_PLATFORM_SERIAL")]
    platform_serial: Option<String>,
    /// The base URI (default: the production host, api.mch.weixin.qq.com).
    #[arg(long, env = "WECHATPAY_BASE_URI")]
    base_uri: Option<String>,
    /// A CA certificate (PEM file) to trust for the server, on top of the system
    /// roots: the `ca.pem` of `wxpay sandbox --tls`, or a private gateway's.
    #[arg(long, env = "WECHATPAY_CA", value_name = "PATH")]
    ca: Option<PathBuf>,
}

impl Merchant {
    /// A builder with the merchant's id, serial, private key and base URI; the
    /// platform keys are the caller's.
    fn builder(&self) -> Result<wechatpay_chain::ClientBuilder, Error> {
        let mchid = required(&self.mchid, "--mchid", "WECHATPAY_MCHID")?;
        let serial = required(&self.serial, "--serial", "WECHATPAY_SERIAL")?;
        let private_key = required(&self.private_key, "--private-key", "WECHATPAY_PRIVATE_KEY")?;
        let builder = Client::builder()
            .mchid(mchid)
            .serial(serial)
            .private_key(PrivateKey::from_file(private_key)?);
        let builder = match &self.base_uri {
            Some(base) => builder.base_uri(base),
            None => builder,
        };
        Ok(match &self.ca {
            Some(path) => builder.root_certificate(read_pem("--ca", path)?),
            None => builder,
        })
    }
}

/// A PEM file named by `flag`; an error names the flag and the file.
fn read_pem(flag: &str, path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|e| usage(flag, format!("cannot read `{}` ({e})", path.display())))
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
    #[arg(long, conflicts_with = "sandbox_dir")]
    sandbox: bool,
    /// Downloads from the running sandbox whose keys directory is DIR.
    #[arg(long, value_name = "DIR")]
    sandbox_dir: Option<PathBuf>,
    #[command(flatten)]
    merchant: Merchant,
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
    #[arg(long, conflicts_with = "sandbox_dir")]
    sandbox: bool,
    /// Calls the running sandbox whose keys directory is DIR (`wxpay sandbox --keys
    /// DIR`): its `sandbox.json` and key files replace the merchant configuration.
    #[arg(long, value_name = "DIR")]
    sandbox_dir: Option<PathBuf>,
    #[command(flatten)]
    merchant: Merchant,
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Sandbox {
            port,
            keys,
            tls,
            quiet,
            print_env,
            notify_compression,
        } => sandbox(port, keys, tls, quiet, print_env, notify_compression),
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

fn sandbox(
    port: u16,
    keys: Option<PathBuf>,
    tls: bool,
    quiet: bool,
    print_env: bool,
    notify_compression: u32,
) -> Result<(), Error> {
    if notify_compression == 0 {
        return Err(usage("--notify-compression", "must be at least 1".into()));
    }
    let mut builder = Sandbox::builder()
        .port(port)
        .tls(tls)
        .log_requests(!quiet)
        .notify_schedule(compressed_schedule(notify_compression));
    if let Some(dir) = &keys {
        builder = builder.keys_dir(dir);
    }
    let sandbox = builder.start()?;
    // The first line is the base URI alone, so scripts can read it (with
    // --print-env: WECHATPAY_BASE_URI=…, then the other variables).
    let text = match (&keys, print_env) {
        (Some(dir), true) => env_lines(&sandbox, dir)?,
        _ => format!("{}\n", sandbox.url()),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    drop(out);
    eprintln!(
        "wxpay sandbox: mchid {}, merchant serial {}, platform key id {}, keys {}",
        sandbox.mchid(),
        sandbox.merchant_serial(),
        sandbox.platform_serial(),
        keys.map_or("built in (the sandbox crate's test keys)".to_owned(), |d| d
            .display()
            .to_string()),
    );
    eprintln!(
        "wxpay sandbox: control plane (signed like any call): POST sandbox/routes, sandbox/faults, sandbox/pay, sandbox/reset; GET sandbox/deliveries, sandbox/stats"
    );
    // Serve until the process is stopped; the default signal action ends it.
    loop {
        std::thread::park();
    }
}

/// The `WECHATPAY_*` lines of a sandbox whose keys are in `dir`.
fn env_lines(sandbox: &Sandbox, dir: &Path) -> Result<String, Error> {
    // Absolute paths: the lines are meant for other processes, started elsewhere.
    let dir = dir
        .canonicalize()
        .map_err(|e| Error::Config(format!("--keys: cannot resolve `{}` ({e})", dir.display())))?;
    let file = |name: &str| dir.join(name).display().to_string();
    let lines = [
        ("WECHATPAY_BASE_URI", sandbox.url().to_owned()),
        ("WECHATPAY_MCHID", sandbox.mchid().to_owned()),
        ("WECHATPAY_SERIAL", sandbox.merchant_serial().to_owned()),
        ("WECHATPAY_PRIVATE_KEY", file(KEY_FILES[0])),
        ("WECHATPAY_PLATFORM_KEY", file(KEY_FILES[3])),
        (
            "WECHATPAY_PLATFORM_SERIAL",
            sandbox.platform_serial().to_owned(),
        ),
        ("WECHATPAY_APIV3_KEY", sandbox.apiv3_key().to_owned()),
    ];
    let tls = sandbox.url().starts_with("https://");
    let ca = [("WECHATPAY_CA", file(CA_FILE))];
    Ok(lines
        .iter()
        .chain(ca.iter().filter(|_| tls))
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect())
}

/// The merchant client of a running sandbox, from its keys directory.
fn sandbox_dir_client(dir: &Path) -> Result<Client, Error> {
    let info_path = dir.join(INFO_FILE);
    let text = std::fs::read_to_string(&info_path).map_err(|e| {
        usage(
            "--sandbox-dir",
            format!(
                "cannot read `{}` ({e}); is `wxpay sandbox --keys {}` running?",
                info_path.display(),
                dir.display()
            ),
        )
    })?;
    let info: Value = serde_json::from_str(&text).map_err(|e| {
        usage(
            "--sandbox-dir",
            format!("`{}` is not JSON ({e})", info_path.display()),
        )
    })?;
    let field = |name: &str| {
        info.get(name).and_then(Value::as_str).ok_or_else(|| {
            usage(
                "--sandbox-dir",
                format!("`{}` has no `{name}`", info_path.display()),
            )
        })
    };
    let base_uri = field("base_uri")?;
    let mut builder = Client::builder()
        .mchid(field("mchid")?)
        .serial(field("merchant_serial")?)
        .private_key(PrivateKey::from_file(dir.join(KEY_FILES[0]))?)
        .platform_key(
            field("platform_serial")?,
            PublicKey::from_file(dir.join(KEY_FILES[3]))?,
        )
        .apiv3_key(wechatpay_chain_sandbox::APIV3_KEY)
        .apiv2_secret(wechatpay_chain_sandbox::APIV2_SECRET)
        .base_uri(base_uri);
    // A sandbox started with --tls: trust its CA, present the merchant certificate.
    if base_uri.starts_with("https://") {
        builder = builder
            .root_certificate(read_pem("--sandbox-dir", &dir.join(CA_FILE))?)
            .merchant_certificate(
                read_pem("--sandbox-dir", &dir.join(CLIENT_CERT_FILE))?,
                read_pem("--sandbox-dir", &dir.join(CLIENT_KEY_FILE))?,
            );
    }
    builder.build()
}

fn send(args: Request) -> Result<(), Error> {
    let options = options(&args)?;
    let embedded = if args.sandbox {
        Some(Sandbox::start()?)
    } else {
        None
    };
    let client = match (&embedded, &args.sandbox_dir) {
        (Some(sandbox), _) => sandbox.client(),
        (None, Some(dir)) => sandbox_dir_client(dir)?,
        (None, None) => client(&args)?,
    };
    let response = client
        .chain(&args.template)
        .request(&args.method, options)
        .map_err(|e| in_flags(e, &args))?;
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
    let client = match (&embedded, &args.sandbox_dir) {
        (Some(sandbox), _) => sandbox.client(),
        (None, Some(dir)) => sandbox_dir_client(dir)?,
        (None, None) => certificates_client(&args)?,
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
    let merchant = &args.merchant;
    let builder = merchant.builder()?;
    let apiv3_key = required(&args.apiv3_key, "--apiv3-key", "WECHATPAY_APIV3_KEY")?;
    let builder = builder.apiv3_key(apiv3_key);
    let builder = match (&merchant.platform_key, &merchant.platform_serial) {
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
    let merchant = &args.merchant;
    let builder = merchant.builder()?;
    let platform_key = required(
        &merchant.platform_key,
        "--platform-key",
        "WECHATPAY_PLATFORM_KEY",
    )?;
    let platform = PublicKey::from_file(platform_key)?;
    let builder = match &merchant.platform_serial {
        Some(id) => builder.platform_key(id, platform),
        None if platform.serial().is_some() => builder.platform_certificate(platform),
        None => {
            return Err(Error::Config(
                "missing --platform-serial: a bare public key needs its id (PUB_KEY_ID_…); pass it or set WECHATPAY_PLATFORM_SERIAL".into(),
            ))
        }
    };
    builder.build()
}

/// Rewrites the library's errors about the option map in the flags that built it:
/// `--set name=…`, `--json`, `--query`, `--header`.
fn in_flags(error: Error, args: &Request) -> Error {
    let set_names = || {
        args.set
            .iter()
            .filter_map(|s| s.split_once('='))
            .map(|(n, _)| n)
    };
    match error {
        Error::Placeholder {
            template,
            placeholder,
            message,
        } => {
            let message = if message.starts_with("has no value") {
                format!("`{template}` needs it; pass --set {placeholder}=…")
            } else {
                format!("placeholder `{{{placeholder}}}` of `{template}` {message}")
            };
            usage(&format!("--set {placeholder}"), message)
        }
        Error::Option { key, .. } if set_names().any(|n| n == key) => {
            let known = placeholders(&args.template);
            let listed = if known.is_empty() {
                "it has none".to_owned()
            } else {
                format!("its placeholders: {}", known.join(", "))
            };
            usage(
                &format!("--set {key}"),
                format!(
                    "`{}` has no placeholder `{{{key}}}` ({listed})",
                    args.template
                ),
            )
        }
        Error::Option { key, message } => {
            let flag = match key.as_str() {
                "json" => "--json",
                "query" => "--query",
                "headers" => "--header",
                _ => return Error::Option { key, message },
            };
            usage(flag, message)
        }
        other => other,
    }
}

/// The placeholder names of a template (`{name}` and `<name>`), for messages.
fn placeholders(template: &str) -> Vec<String> {
    template
        .split('/')
        .flat_map(|segment| {
            let mut names = Vec::new();
            let mut rest = segment;
            while let Some(start) = rest.find(['{', '<']) {
                let close = if rest[start..].starts_with('{') {
                    '}'
                } else {
                    '>'
                };
                let Some(len) = rest[start..].find(close) else {
                    break;
                };
                let name = rest[start + 1..start + len].trim_start_matches('+');
                names.push(name.to_owned());
                rest = &rest[start + len + 1..];
            }
            names
        })
        .collect()
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
