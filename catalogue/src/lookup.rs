//! Finding operations: by method and template, by a concrete path, by fragment, and
//! the nearest paths to one that is not in the catalogue.

use std::cmp::Ordering;
use std::fmt;

use crate::method::Method;
use crate::operation::{Entry, Operation};
use crate::table;

/// Every operation, ordered by path (byte order) then method.
pub fn operations() -> &'static [Operation] {
    &table::OPERATIONS
}

/// Every path with its operations, ordered by path (byte order).
pub fn entries() -> impl ExactSizeIterator<Item = Entry> + Clone {
    table::RANGES.iter().map(|&(start, end)| {
        // The generator writes in-bounds, non-empty ranges; `get` keeps this total.
        let ops = table::OPERATIONS
            .get(usize::from(start)..usize::from(end))
            .unwrap_or_default();
        Entry::new(ops)
    })
}

/// A segment that stands for a value: `{name}`, `{+name}` or `<name>`.
fn is_placeholder(segment: &str) -> bool {
    (segment.starts_with('{') && segment.ends_with('}'))
        || (segment.starts_with('<') && segment.ends_with('>'))
}

/// The segments of a template or path, without the slashes at its ends. A catalogue
/// path's trailing slash (`v3/applyment4sub/applyment/`) is a fact about how WeChat
/// wants it sent, not a segment, so `v3/applyment4sub/applyment` finds it.
fn segments(path: &str) -> impl Iterator<Item = &str> + Clone {
    path.trim_matches('/').split('/')
}

/// How well `path` (a template as a chain holds it, or a concrete path) fits a catalogue
/// path: `None` when it does not; otherwise one flag per segment, `true` where the
/// catalogue has a literal segment. The more literal, the better the fit:
/// `v3/pay/transactions/id/4200` fits `…/id/{transaction_id}` better than a
/// hypothetical `…/{kind}/{value}`.
///
/// A placeholder fits a placeholder whatever the names (`{id}` fits
/// `{transaction_id}`); a literal fits a placeholder (a value written out); a
/// placeholder never fits a literal segment.
fn fit(path: &str, catalogue: &str) -> Option<Vec<bool>> {
    let mut mine = segments(path);
    let mut theirs = segments(catalogue);
    let mut flags = Vec::new();
    loop {
        match (mine.next(), theirs.next()) {
            (None, None) => return Some(flags),
            (Some(a), Some(b)) => {
                if is_placeholder(b) {
                    if a.is_empty() {
                        return None;
                    }
                    flags.push(false);
                } else if a == b {
                    flags.push(true);
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// The catalogue entry a template or concrete path calls, if any.
///
/// `v3/discount-card/orders/{out_order_no}`, `v3/discount-card/orders/<id>` and
/// `v3/discount-card/orders/233bcbf4…` all find the entry
/// `v3/discount-card/orders/{out_order_no}`. Leading and trailing slashes are ignored.
/// Where several entries fit, the one with literal segments earliest wins.
///
/// ```
/// let entry = wechatpay_chain_catalogue::find("v3/discount-card/orders/{out_order_no}").unwrap();
/// assert_eq!(entry.path(), "v3/discount-card/orders/{out_order_no}");
/// assert!(wechatpay_chain_catalogue::find("v3/discount-cards/orders/{x}").is_none());
/// ```
pub fn find(path: &str) -> Option<Entry> {
    // Most templates are written with the catalogue's own placeholder names.
    let exact = table::RANGES.binary_search_by(|&(start, _)| {
        table::OPERATIONS
            .get(usize::from(start))
            .map_or(Ordering::Less, |op| op.path().cmp(path))
    });
    if let Ok(index) = exact {
        return entries().nth(index);
    }
    let mut best: Option<(Vec<bool>, Entry)> = None;
    for entry in entries() {
        if let Some(flags) = fit(path, entry.path()) {
            if best.as_ref().is_none_or(|(top, _)| flags > *top) {
                best = Some((flags, entry));
            }
        }
    }
    best.map(|(_, entry)| entry)
}

/// The operation `method` on the entry [`find`] returns for `path`.
///
/// ```
/// use wechatpay_chain_catalogue::{lookup, Method};
/// let op = lookup(Method::Patch, "v3/discount-card/orders/{out_order_no}").unwrap();
/// assert_eq!(op.name(), "更新先享卡订单API");
/// assert!(lookup(Method::Delete, "v3/discount-card/orders/{out_order_no}").is_none());
/// ```
pub fn lookup(method: Method, path: &str) -> Option<&'static Operation> {
    find(path)?.operation(method)
}

/// Up to `limit` catalogue paths nearest to `path`, nearest first: for "did you mean"
/// messages.
///
/// Distance is an edit distance over segments (insert or delete a segment: 1;
/// substitute: the character edit distance of the two segments over the longer one's
/// length, so `discount-cards` is close to `discount-card`; two placeholders are
/// equal). Ties go to byte order of the paths, so the answer is stable.
///
/// ```
/// let near = wechatpay_chain_catalogue::nearest("v3/discount-cards/orders/{out_order_no}", 3);
/// assert_eq!(near[0], "v3/discount-card/orders/{out_order_no}");
/// ```
pub fn nearest(path: &str, limit: usize) -> Vec<&'static str> {
    let wanted: Vec<&str> = segments(path).collect();
    let mut scored: Vec<(u32, &'static str)> = entries()
        .map(|entry| {
            let theirs: Vec<&str> = segments(entry.path()).collect();
            (segment_distance(&wanted, &theirs), entry.path())
        })
        .collect();
    scored.sort_unstable();
    scored.into_iter().take(limit).map(|(_, p)| p).collect()
}

/// Fixed-point unit of [`segment_distance`]: one whole segment.
const UNIT: u32 = 1000;

/// Levenshtein distance over segments, with fractional substitution costs.
fn segment_distance(a: &[&str], b: &[&str]) -> u32 {
    let mut previous: Vec<u32> = (0..=b.len() as u32).map(|i| i * UNIT).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = (i as u32 + 1) * UNIT;
        for (j, y) in b.iter().enumerate() {
            let substitute = previous[j] + segment_cost(x, y);
            let delete = previous[j + 1] + UNIT;
            let insert = current[j] + UNIT;
            current[j + 1] = substitute.min(delete).min(insert);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The cost of replacing segment `a` by `b`, in `0..=UNIT`.
fn segment_cost(a: &str, b: &str) -> u32 {
    if a == b || (is_placeholder(a) && is_placeholder(b)) {
        return 0;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len()).max(1) as u32;
    char_distance(&a, &b) as u32 * UNIT / longest
}

/// Plain Levenshtein distance over characters.
fn char_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(x != y);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The operations whose path or name contains every word of `query`, ignoring ASCII
/// case, in catalogue order. An empty query lists every operation.
///
/// ```
/// let hits = wechatpay_chain_catalogue::search("discount-card orders");
/// assert!(hits.iter().any(|op| op.path() == "v3/discount-card/orders/{out_order_no}"));
/// ```
pub fn search(query: &str) -> Vec<&'static Operation> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    operations()
        .iter()
        .filter(|op| {
            let path = op.path().to_ascii_lowercase();
            let name = op.name().to_lowercase();
            words
                .iter()
                .all(|word| path.contains(word.as_str()) || name.contains(word.as_str()))
        })
        .collect()
}

/// Why [`check`] refused a template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckError {
    /// No catalogue path fits the template.
    UnknownPath {
        /// The template that was checked.
        template: String,
        /// Up to three nearest catalogue paths, nearest first.
        nearest: Vec<&'static str>,
    },
    /// The path exists but has no operation with this method.
    MissingMethod {
        /// The catalogue path the template found.
        path: &'static str,
        /// The method asked for.
        method: Method,
        /// The methods the path has.
        available: Vec<Method>,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::UnknownPath { template, nearest } => {
                write!(f, "`{template}` is not a WeChat Pay API path")?;
                if !nearest.is_empty() {
                    let list: Vec<String> = nearest.iter().map(|p| format!("`{p}`")).collect();
                    write!(f, "; nearest: {}", list.join(", "))?;
                }
                Ok(())
            }
            CheckError::MissingMethod {
                path,
                method,
                available,
            } => {
                let list: Vec<&str> = available.iter().map(|m| m.as_str()).collect();
                write!(
                    f,
                    "`{path}` has no {method} operation; it answers {}",
                    list.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for CheckError {}

/// Checks a template (and a method, when one is known) against the catalogue: the check
/// `chain!` runs at compile time. Returns the entry, or why not.
///
/// ```
/// use wechatpay_chain_catalogue::{check, Method};
/// let entry = check("v3/discount-card/orders/{out_order_no}", Some(Method::Patch)).unwrap();
/// assert_eq!(entry.path(), "v3/discount-card/orders/{out_order_no}");
/// let err = check("v3/discount-card/orders/{out_order_no}", Some(Method::Delete)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "`v3/discount-card/orders/{out_order_no}` has no DELETE operation; it answers GET, PATCH"
/// );
/// ```
pub fn check(template: &str, method: Option<Method>) -> Result<Entry, CheckError> {
    let Some(entry) = find(template) else {
        return Err(CheckError::UnknownPath {
            template: template.to_owned(),
            nearest: nearest(template, 3),
        });
    };
    match method {
        Some(method) if entry.operation(method).is_none() => Err(CheckError::MissingMethod {
            path: entry.path(),
            method,
            available: entry.methods().collect(),
        }),
        _ => Ok(entry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_prefers_literal_segments() {
        assert_eq!(fit("a/b/{x}", "a/b/{y}"), Some(vec![true, true, false]));
        assert_eq!(fit("a/b/1", "a/b/{y}"), Some(vec![true, true, false]));
        assert_eq!(fit("a/{x}/c", "a/b/c"), None);
        assert_eq!(fit("a/b", "a/b/"), Some(vec![true, true]));
        assert_eq!(fit("a/b/c", "a/b"), None);
        assert!(fit("a/id/1", "a/id/{x}") > fit("a/id/1", "a/{k}/{x}"));
    }

    #[test]
    fn segment_distance_counts_whole_and_partial_segments() {
        assert_eq!(segment_distance(&["a", "b"], &["a", "b"]), 0);
        assert_eq!(segment_distance(&["a"], &["a", "b"]), UNIT);
        assert_eq!(segment_distance(&["{x}"], &["{y}"]), 0);
        assert_eq!(segment_distance(&["abcd"], &["abce"]), UNIT / 4);
    }
}
