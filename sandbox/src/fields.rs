//! Reading the fields of a request as WeChat Pay names them when they are wrong: a
//! JSON pointer (`/amount/total`) and a `detail` with `field`, `value`, `issue` and
//! `location`, the shape the catalogue-driven validator answers too.

use http::StatusCode;
use serde_json::{json, Value};

use super::routes::{error, Reply, SandboxRequest};

/// 400 `PARAM_ERROR` naming `field` (a JSON pointer for the body, the name for a
/// query parameter) and what is wrong with it.
pub(crate) fn param_error(field: &str, value: &Value, issue: &str, location: &str) -> Reply {
    let (status, mut body) = error(
        StatusCode::BAD_REQUEST,
        "PARAM_ERROR",
        format!("{field}: {issue}"),
    );
    body["detail"] = json!({
        "field": field,
        "value": value,
        "issue": issue,
        "location": location,
    });
    (status, body)
}

/// The body as a JSON object, or the answer that says why it is not one.
pub(crate) fn body(req: &SandboxRequest) -> Result<&Value, Reply> {
    if req.json.is_object() {
        return Ok(&req.json);
    }
    let issue = if req.body.is_empty() {
        "the body is empty; expected a JSON object"
    } else {
        "the body must be a JSON object"
    };
    Err(param_error("/", &Value::Null, issue, "body"))
}

/// A required string at `pointer` in the body, not empty and at most `max` chars.
pub(crate) fn text<'a>(body: &'a Value, pointer: &str, max: usize) -> Result<&'a str, Reply> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Err(param_error(pointer, &Value::Null, "is required", "body")),
        Some(Value::String(s)) if s.is_empty() => {
            Err(param_error(pointer, &json!(s), "must not be empty", "body"))
        }
        Some(Value::String(s)) if s.chars().count() > max => Err(param_error(
            pointer,
            &json!(s),
            &format!("is longer than {max} characters"),
            "body",
        )),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(param_error(pointer, other, "must be a string", "body")),
    }
}

/// An optional string at `pointer` in the body (a wrong type is still refused).
pub(crate) fn optional_text<'a>(
    body: &'a Value,
    pointer: &str,
    max: usize,
) -> Result<Option<&'a str>, Reply> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => text(body, pointer, max).map(Some),
    }
}

/// One of two text members WeChat wants at least one of ("二选一"): both as given,
/// or `PARAM_ERROR` naming the first when neither is there.
pub(crate) fn either<'a>(
    body: &'a Value,
    first: &str,
    second: &str,
    max: usize,
) -> Result<(Option<&'a str>, Option<&'a str>), Reply> {
    let pair = (
        optional_text(body, first, max)?,
        optional_text(body, second, max)?,
    );
    if pair == (None, None) {
        return Err(param_error(
            first,
            &Value::Null,
            &format!("is required (or {second})"),
            "body",
        ));
    }
    Ok(pair)
}

/// A required positive integer at `pointer` in the body.
pub(crate) fn amount(body: &Value, pointer: &str) -> Result<i64, Reply> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Err(param_error(pointer, &Value::Null, "is required", "body")),
        Some(v) => match v.as_i64() {
            Some(n) if n > 0 => Ok(n),
            Some(_) => Err(param_error(pointer, v, "must be at least 1", "body")),
            None => Err(param_error(
                pointer,
                v,
                "must be an integer (an amount in fen)",
                "body",
            )),
        },
    }
}

/// A required query parameter.
pub(crate) fn query<'a>(req: &'a SandboxRequest, name: &str) -> Result<&'a str, Reply> {
    match req.query.get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(param_error(name, &Value::Null, "is required", "query")),
    }
}

/// Refuses an `out_trade_no`/`out_refund_no` WeChat would: 6 to 32 characters of
/// letters, digits and `_-|*`.
pub(crate) fn merchant_no<'a>(body: &'a Value, pointer: &str) -> Result<&'a str, Reply> {
    let no = text(body, pointer, 32)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-|*".contains(c);
    if no.len() < 6 || !no.chars().all(allowed) {
        return Err(param_error(
            pointer,
            &json!(no),
            "must be 6 to 32 letters, digits or _-|*",
            "body",
        ));
    }
    Ok(no)
}

/// A required `notify_url`: an absolute http(s) URL, as WeChat demands.
pub(crate) fn url<'a>(body: &'a Value, pointer: &str) -> Result<&'a str, Reply> {
    let url = text(body, pointer, 256)?;
    check_url(url, pointer)?;
    Ok(url)
}

pub(crate) fn check_url(url: &str, pointer: &str) -> Result<(), Reply> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(param_error(
            pointer,
            &json!(url),
            "must be an absolute http:// or https:// URL",
            "body",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_pointer_and_the_issue() {
        let body = json!({ "amount": { "total": "1" }, "out_trade_no": "a b", "d": "" });
        let (status, e) = amount(&body, "/amount/total").unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(e["code"], "PARAM_ERROR");
        assert_eq!(e["detail"]["field"], "/amount/total");
        assert_eq!(e["detail"]["value"], "1");
        assert!(e["message"].as_str().unwrap().starts_with("/amount/total"));
        let (_, e) = merchant_no(&body, "/out_trade_no").unwrap_err();
        assert!(e["detail"]["issue"].as_str().unwrap().contains("6 to 32"));
        let (_, e) = text(&body, "/missing", 8).unwrap_err();
        assert_eq!(e["detail"]["issue"], "is required");
        let (_, e) = text(&body, "/d", 8).unwrap_err();
        assert_eq!(e["detail"]["issue"], "must not be empty");
        assert!(check_url("ftp://x", "/notify_url").is_err());
        assert!(check_url("http://127.0.0.1:1/n", "/notify_url").is_ok());
    }
}
