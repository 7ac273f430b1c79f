//! YAML files as `serde_json::Value`s: the rest of the generator works on JSON values.

use std::path::Path;

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Loads the first document of a YAML file.
pub fn load(path: &Path) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let docs =
        YamlLoader::load_from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?;
    match docs.into_iter().next() {
        Some(doc) => to_json(&doc).map_err(|e| format!("{}: {e}", path.display())),
        None => Ok(Value::Null),
    }
}

fn to_json(yaml: &Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(text) => real(text),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (key, value) in hash {
                map.insert(key_text(key)?, to_json(value)?);
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::BadValue => return Err("unsupported YAML node (alias)".into()),
    })
}

/// A YAML float: an integer too large for `i64` stays exact as `u64` when it fits;
/// anything JSON cannot hold (`.nan`, `.inf`) keeps its text.
fn real(text: &str) -> Value {
    if let Ok(n) = text.parse::<u64>() {
        return Value::from(n);
    }
    match text.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_owned()),
    }
}

/// Mapping keys as strings: response codes are written both `200:` and `'200':`.
fn key_text(key: &Yaml) -> Result<String, String> {
    match key {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        other => Err(format!("unsupported mapping key {other:?}")),
    }
}
