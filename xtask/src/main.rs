//! Maintenance tasks of the wechatpay-chain workspace (not published).
//!
//! ```text
//! cargo run -p xtask -- catalogue CHECKOUT [--out DIR] [--commit SHA]
//! ```
//!
//! `catalogue` reads a checkout of TheNorthMemory/wechatpay-openapi (its `docs/` tree) and
//! writes the endpoint catalogue into the `wechatpay-chain-catalogue` crate: `data/index.rs`
//! (every operation's facts, compiled into the library), `data/schemas.json` (parameters and
//! resolved schemas, behind the crate's `schemas` feature) and `NOTICE`. The output is a
//! pure function of the checkout and the commit, so running it twice gives the same bytes.

mod catalogue;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo run -p xtask -- catalogue CHECKOUT [--out DIR] [--commit SHA]

  CHECKOUT  a checkout of https://github.com/TheNorthMemory/wechatpay-openapi
            (a `git clone`; `git archive` leaves out docs/, which is export-ignored)
  --out     the catalogue crate to write into (default: this workspace's catalogue/)
  --commit  the upstream commit recorded in NOTICE and the index
            (default: `git -C CHECKOUT rev-parse HEAD`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("catalogue") => parse_catalogue_args(&args[1..]).and_then(|o| catalogue::run(&o)),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_catalogue_args(args: &[String]) -> Result<catalogue::Options, String> {
    let mut checkout = None;
    let mut out = None;
    let mut commit = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(value_of(&mut rest, "--out")?)),
            "--commit" => commit = Some(value_of(&mut rest, "--commit")?.to_owned()),
            flag if flag.starts_with('-') => return Err(format!("unknown flag {flag}\n{USAGE}")),
            path if checkout.is_none() => checkout = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra}\n{USAGE}")),
        }
    }
    let checkout = checkout.ok_or_else(|| format!("missing CHECKOUT\n{USAGE}"))?;
    let out = out.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../catalogue"));
    Ok(catalogue::Options {
        checkout,
        out,
        commit,
    })
}

fn value_of<'a>(
    rest: &mut impl Iterator<Item = &'a String>,
    flag: &str,
) -> Result<&'a str, String> {
    rest.next()
        .map(String::as_str)
        .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
}
