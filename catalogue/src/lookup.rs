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

/// The segments of a template or path, without the slashes at its ends (a trailing
/// slash is compared on its own, by [`fit`]).
fn segments(path: &str) -> impl Iterator<Item = &str> + Clone {
    path.trim_matches('/').split('/')
}

/// Whether a template or path ends with `/`: two catalogue paths do
/// (`v3/applyment4sub/applyment/`, `v3/ecommerce/applyments/`), and WeChat answers
/// them only so.
fn has_trailing_slash(path: &str) -> bool {
    path.len() > 1 && path.ends_with('/')
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
    if has_trailing_slash(path) != has_trailing_slash(catalogue) {
        return None;
    }
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
/// `v3/discount-card/orders/{out_order_no}`. A leading slash is ignored; a trailing
/// one is significant (`v3/applyment4sub/applyment/` is a path, `…/applyment` is not).
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
/// Distance is an edit distance over segments: inserting or deleting a segment costs
/// one half (so a path cut short finds the paths that extend it), substituting one
/// costs the character edit distance of the two segments over the longer one's length,
/// at most one (`discount-cards` is close to `discount-card`); two placeholders are
/// equal. Ties go to byte order of the paths, so the answer is stable.
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

/// Fixed-point unit of [`segment_distance`]: replacing a whole segment.
const UNIT: u32 = 1000;

/// The cost of inserting or deleting a segment.
const INDEL: u32 = UNIT / 2;

/// Levenshtein distance over segments, with fractional substitution costs.
fn segment_distance(a: &[&str], b: &[&str]) -> u32 {
    let mut previous: Vec<u32> = (0..=b.len() as u32).map(|i| i * INDEL).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = (i as u32 + 1) * INDEL;
        for (j, y) in b.iter().enumerate() {
            let substitute = previous[j] + segment_cost(x, y);
            let delete = previous[j + 1] + INDEL;
            let insert = current[j] + INDEL;
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

/// Whether `segment` begins some catalogue path (`v2`, `v3`, `hk`, `global`).
fn is_root(segment: &str) -> bool {
    entries().any(|entry| segments(entry.path()).next() == Some(segment))
}

/// The entries whose last segments `tail` fits, for a relative template.
fn ending_with(tail: &str) -> Vec<Entry> {
    let wanted = segments(tail).count();
    entries()
        .filter(|entry| {
            let all: Vec<&str> = segments(entry.path()).collect();
            all.len() > wanted && fit(tail, &all[all.len() - wanted..].join("/")).is_some()
        })
        .collect()
}

/// Checks a template (and a method, when one is known) against the catalogue: the check
/// `chain!` runs at compile time. Returns the entry, or why not.
///
/// A template that does not start at a catalogue root (`v2`, `v3`, `hk`, `global`) is
/// relative: its receiver is a chain already holding a prefix (`chain!(pay->transactions
/// ->native)` after `let pay = chain!(unchecked client->v3->pay)`), so it must fit the
/// end of some catalogue path, and the method must be one of those paths' methods.
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
    if !segments(template).next().is_some_and(is_root) {
        return check_relative(template, method);
    }
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

/// [`check`] for a relative template.
fn check_relative(tail: &str, method: Option<Method>) -> Result<Entry, CheckError> {
    let candidates = ending_with(tail);
    let Some(&first) = candidates.first() else {
        return Err(CheckError::UnknownPath {
            template: tail.to_owned(),
            nearest: nearest(tail, 3),
        });
    };
    let Some(method) = method else {
        return Ok(first);
    };
    if let Some(entry) = candidates.iter().find(|e| e.operation(method).is_some()) {
        return Ok(*entry);
    }
    let mut available: Vec<Method> = candidates.iter().flat_map(|e| e.methods()).collect();
    available.sort_unstable();
    available.dedup();
    Err(CheckError::MissingMethod {
        path: first.path(),
        method,
        available,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_prefers_literal_segments() {
        assert_eq!(fit("a/b/{x}", "a/b/{y}"), Some(vec![true, true, false]));
        assert_eq!(fit("a/b/1", "a/b/{y}"), Some(vec![true, true, false]));
        assert_eq!(fit("a/{x}/c", "a/b/c"), None);
        assert_eq!(fit("a/b/", "a/b/"), Some(vec![true, true]));
        assert_eq!(fit("a/b", "a/b/"), None);
        assert_eq!(fit("a/b/c", "a/b"), None);
        assert!(fit("a/id/1", "a/id/{x}") > fit("a/id/1", "a/{k}/{x}"));
    }

    #[test]
    fn relative_templates_fit_path_ends() {
        let entry = check("transactions/native", Some(Method::Post)).unwrap();
        assert!(entry.path().ends_with("/transactions/native"));
        assert!(check("transactions/{id}/close", None).is_err());
        assert!(matches!(
            check("transactions/native", Some(Method::Delete)),
            Err(CheckError::MissingMethod { .. })
        ));
        assert!(matches!(
            check("transaction/native", None),
            Err(CheckError::UnknownPath { .. })
        ));
    }

    #[test]
    fn segment_distance_counts_whole_and_partial_segments() {
        assert_eq!(segment_distance(&["a", "b"], &["a", "b"]), 0);
        assert_eq!(segment_distance(&["a"], &["a", "b"]), INDEL);
        assert_eq!(segment_distance(&["{x}"], &["{y}"]), 0);
        assert_eq!(segment_distance(&["abcd"], &["abce"]), UNIT / 4);
    }
}
