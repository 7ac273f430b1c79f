//! `$ref` and `allOf` resolution: every schema comes out self-contained.
//!
//! The catalogue writes references as `path/to/File.yaml#/Name` and as
//! `File.yaml#Name` (no slash); both mean the top-level key `Name`, and a longer
//! fragment (`#/A/B`) walks down. Keys written beside a `$ref` are kept and win over
//! the referenced schema's (`example: INCREASE` beside a ref to an enum): the catalogue
//! relies on that, though Swagger 2.0 would ignore them. `allOf` parts are merged in
//! order: properties joined, `required` lists united, other keys last-wins.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::yaml;

/// Resolves references, caching each referenced file once.
#[derive(Default)]
pub struct Resolver {
    files: HashMap<PathBuf, Value>,
    /// References met again while being resolved (a cycle), cut to `{}`.
    pub cycles: Vec<String>,
}

impl Resolver {
    /// `value` with every `$ref` and `allOf` inside it resolved; `file` is the file it
    /// was read from (references are relative to it).
    pub fn resolve(&mut self, value: &Value, file: &Path) -> Result<Value, String> {
        self.walk(value, file, &mut Vec::new())
    }

    fn walk(
        &mut self,
        value: &Value,
        file: &Path,
        stack: &mut Vec<String>,
    ) -> Result<Value, String> {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|item| self.walk(item, file, stack))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut base = None;
                if let Some(reference) = map.get("$ref") {
                    let reference = reference.as_str().ok_or_else(|| {
                        format!("{}: a $ref that is not a string", file.display())
                    })?;
                    base = Some(self.follow(reference, file, stack)?);
                } else if let Some(parts) = map.get("allOf") {
                    let parts = parts
                        .as_array()
                        .ok_or_else(|| format!("{}: allOf is not a list", file.display()))?;
                    let mut merged = Value::Object(Map::new());
                    for part in parts {
                        let part = self.walk(part, file, stack)?;
                        merge(&mut merged, part);
                    }
                    base = Some(merged);
                }
                let mut own = Map::new();
                for (key, item) in map {
                    if key != "$ref" && key != "allOf" {
                        own.insert(key.clone(), self.walk(item, file, stack)?);
                    }
                }
                Ok(match base {
                    Some(mut base) => {
                        merge(&mut base, Value::Object(own));
                        base
                    }
                    None => Value::Object(own),
                })
            }
            scalar => Ok(scalar.clone()),
        }
    }

    /// The resolved target of one reference.
    fn follow(
        &mut self,
        reference: &str,
        file: &Path,
        stack: &mut Vec<String>,
    ) -> Result<Value, String> {
        let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target = if target.is_empty() {
            file.to_path_buf()
        } else {
            lexical_join(file.parent().unwrap_or(Path::new("")), target)
        };
        let key = format!("{}#{}", target.display(), fragment.trim_start_matches('/'));
        if stack.contains(&key) {
            self.cycles.push(key);
            return Ok(Value::Object(Map::new()));
        }
        if !self.files.contains_key(&target) {
            let loaded = yaml::load(&target)
                .map_err(|e| format!("{e} (referenced from {})", file.display()))?;
            self.files.insert(target.clone(), loaded);
        }
        let mut node = &self.files[&target];
        for step in fragment
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
        {
            node = node
                .get(step)
                .ok_or_else(|| format!("{}: $ref {reference} names nothing", file.display()))?;
        }
        let node = node.clone();
        stack.push(key);
        let resolved = self.walk(&node, &target, stack);
        stack.pop();
        resolved
    }
}

/// Joins a relative reference onto a directory, folding `..` without touching the disk.
fn lexical_join(dir: &Path, relative: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for component in dir.join(relative).components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Merges `overlay` into `base`: properties joined (recursively), `required` united,
/// anything else replaced.
fn merge(base: &mut Value, overlay: Value) {
    let (Value::Object(base), Value::Object(overlay)) = (&mut *base, &overlay) else {
        *base = overlay;
        return;
    };
    for (key, value) in overlay {
        match (key.as_str(), base.get_mut(key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (name, schema) in theirs {
                    match mine.get_mut(name) {
                        Some(existing) => merge(existing, schema.clone()),
                        None => {
                            mine.insert(name.clone(), schema.clone());
                        }
                    }
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for name in theirs {
                    if !mine.contains(name) {
                        mine.push(name.clone());
                    }
                }
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}
