//! The catalogue generator: YAML files in, the catalogue crate's data files out.

mod emit;
mod model;
mod resolve;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `xtask catalogue` was asked to do.
pub struct Options {
    /// The wechatpay-openapi checkout (holding `docs/`).
    pub checkout: PathBuf,
    /// The catalogue crate directory to write `data/` and `NOTICE` into.
    pub out: PathBuf,
    /// The upstream commit; read from the checkout's git when absent.
    pub commit: Option<String>,
}

/// The path prefixes the catalogue covers, each a directory under `docs/`.
const ROOTS: [&str; 4] = ["v2", "v3", "hk", "global"];

pub fn run(options: &Options) -> Result<(), String> {
    let docs = options.checkout.join("docs");
    if !docs.join("definitions").is_dir() {
        return Err(format!(
            "{} has no docs/definitions: not a wechatpay-openapi checkout",
            options.checkout.display()
        ));
    }
    let commit = match &options.commit {
        Some(commit) => commit.clone(),
        None => git_head(&options.checkout)?,
    };
    let license = std::fs::read_to_string(options.checkout.join("LICENSE"))
        .map_err(|e| format!("reading {}/LICENSE: {e}", options.checkout.display()))?;

    let mut files = Vec::new();
    for root in ROOTS {
        collect_yaml(&docs.join(root), &mut files)?;
    }
    files.sort();

    let defaults = model::Defaults::read(&docs.join("swagger.yaml"))?;
    let mut resolver = resolve::Resolver::default();
    let mut report = model::Report::default();
    let mut operations = Vec::new();
    for file in &files {
        let path = api_path(&docs, file)?;
        operations.extend(model::operations(
            &path,
            file,
            &defaults,
            &mut resolver,
            &mut report,
        )?);
    }
    operations.sort_by(|a, b| (a.path.as_str(), a.method).cmp(&(b.path.as_str(), b.method)));

    let data = options.out.join("data");
    std::fs::create_dir_all(&data).map_err(|e| format!("creating {}: {e}", data.display()))?;
    let index = emit::index(&operations, &commit);
    let schemas = emit::schemas(&operations)?;
    let notice = emit::notice(&commit, &license);
    write(&data.join("index.rs"), &index)?;
    write(&data.join("schemas.json"), &schemas)?;
    write(&options.out.join("NOTICE"), &notice)?;

    let mut by_root: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &operations {
        let root = op.path.split('/').next().unwrap_or_default();
        *by_root.entry(root).or_default() += 1;
    }
    let paths = operations
        .windows(2)
        .filter(|w| w[0].path != w[1].path)
        .count()
        + usize::from(!operations.is_empty());
    println!(
        "{} operations on {paths} paths ({by_root:?}) from {} files at {commit}",
        operations.len(),
        files.len()
    );
    println!(
        "data/index.rs {} bytes, data/schemas.json {} bytes",
        index.len(),
        schemas.len()
    );
    report.print();
    Ok(())
}

/// Every `*.yaml` file under `dir`, recursively.
fn collect_yaml(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    if !dir.is_dir() {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_yaml(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "yaml") {
            files.push(path);
        }
    }
    Ok(())
}

/// The API path a file describes: its path under `docs/` without `.yaml`, where the
/// segment `{empty}` stands for the empty last segment of the two paths WeChat wants
/// with a trailing slash (`v3/applyment4sub/applyment/`).
fn api_path(docs: &Path, file: &Path) -> Result<String, String> {
    let relative = file
        .strip_prefix(docs)
        .map_err(|_| format!("{} is outside docs/", file.display()))?
        .with_extension("");
    let mut segments = Vec::new();
    for component in relative.components() {
        let segment = component
            .as_os_str()
            .to_str()
            .ok_or_else(|| format!("{} is not UTF-8", file.display()))?;
        segments.push(if segment == "{empty}" { "" } else { segment });
    }
    Ok(segments.join("/"))
}

fn git_head(checkout: &Path) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(checkout)
        .args(["rev-parse", "HEAD"])
        .output()
        .map_err(|e| format!("running git: {e}; pass --commit SHA"))?;
    if !output.status.success() {
        return Err(format!(
            "{} is not a git checkout; pass --commit SHA",
            checkout.display()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
