//! Typed reads of YAML fields: each error names the resource and the field path.

use serde_yaml::Value;

use super::note::{Note, Severity};
use crate::error::Error;
use crate::selector::Labels;

/// Context of the resource being decoded, for error messages.
pub(super) struct Ctx<'a> {
    pub(super) origin: &'a str,
    pub(super) kind: String,
    pub(super) name: String,
}

impl Ctx<'_> {
    pub(super) fn err(&self, field: &str, message: impl Into<String>) -> Error {
        Error::Resource {
            origin: self.origin.to_string(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub(super) fn resource(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

pub(super) fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Mapping(m) => m.get(key).filter(|v| !v.is_null()),
        _ => None,
    }
}

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("YAML tag {}", t.tag),
    }
}

pub(super) fn get_str<'v>(
    ctx: &Ctx<'_>,
    v: &'v Value,
    key: &str,
    path: &str,
) -> Result<Option<&'v str>, Error> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(ctx.err(
            path,
            format!("expected a string, found {}", describe(other)),
        )),
    }
}

pub(super) fn get_bool(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
) -> Result<Option<bool>, Error> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(other) => Err(ctx.err(
            path,
            format!("expected true or false, found {}", describe(other)),
        )),
    }
}

/// Parses an AS number: an integer, a decimal string, or `asdot` (`1.10`).
pub fn parse_as_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some((hi, lo)) = s.split_once('.') {
        let hi: u16 = hi.parse().ok()?;
        let lo: u16 = lo.parse().ok()?;
        return Some((u32::from(hi) << 16) | u32::from(lo));
    }
    s.parse().ok()
}

pub(super) fn get_as(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
) -> Result<Option<u32>, Error> {
    let bad = |found: String| {
        ctx.err(
            path,
            format!("expected an AS number (1 to 4294967295 or asdot), found {found}"),
        )
    };
    match get(v, key) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(asn) if asn != 0 => Ok(Some(asn)),
            _ => Err(bad(format!("number {n}"))),
        },
        Some(Value::String(s)) => match parse_as_number(s) {
            Some(asn) if asn != 0 => Ok(Some(asn)),
            _ => Err(bad(format!("string {s:?}"))),
        },
        Some(other) => Err(bad(describe(other))),
    }
}

/// An address field of one family, `what` naming it in errors (absent or empty: `None`).
pub(super) fn get_address<A: std::str::FromStr>(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
    what: &str,
) -> Result<Option<A>, Error> {
    match get_str(ctx, v, key, path)? {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ctx.err(path, format!("expected an {what}, found {s:?}"))),
    }
}

pub(super) fn get_labels(
    ctx: &Ctx<'_>,
    meta: &Value,
    notes: &mut Vec<Note>,
) -> Result<Labels, Error> {
    let mut labels = Labels::new();
    let Some(l) = get(meta, "labels") else {
        return Ok(labels);
    };
    let Value::Mapping(m) = l else {
        return Err(ctx.err(
            "metadata.labels",
            format!("expected a mapping, found {}", describe(l)),
        ));
    };
    for (k, v) in m {
        let Value::String(k) = k else {
            return Err(ctx.err(
                "metadata.labels",
                format!("label keys must be strings, found {}", describe(k)),
            ));
        };
        let path = format!("metadata.labels.{k}");
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Bool(_) | Value::Number(_) => {
                let s = match v {
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                notes.push(Note {
                    severity: Severity::Warning,
                    resource: ctx.resource(),
                    field: path.clone(),
                    message: format!(
                        "label values are strings: unquoted {s} is a YAML {}; write {k}: \"{s}\"",
                        if matches!(v, Value::Bool(_)) {
                            "boolean"
                        } else {
                            "number"
                        }
                    ),
                });
                s
            }
            other => {
                return Err(ctx.err(
                    &path,
                    format!("expected a string, found {}", describe(other)),
                ))
            }
        };
        labels.insert(k.clone(), value);
    }
    Ok(labels)
}

/// A list of strings (absent: empty).
pub(super) fn get_str_list(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
) -> Result<Vec<String>, Error> {
    match get(v, key) {
        None => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .map(|(i, it)| match it {
                Value::String(s) => Ok(s.clone()),
                other => Err(ctx.err(
                    &format!("{path}[{i}]"),
                    format!("expected a string, found {}", describe(other)),
                )),
            })
            .collect(),
        Some(other) => Err(ctx.err(path, format!("expected a list, found {}", describe(other)))),
    }
}

/// A Go duration (`120s`, `2m`, `1h30m`, `1m30.5s`) in whole seconds.
pub fn parse_duration(s: &str) -> Option<u32> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            unit = "ms".into();
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        any = true;
    }
    if !num.is_empty() || !any || total > f64::from(u32::MAX) {
        return None;
    }
    Some(total as u32)
}

pub(super) fn get_duration(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
) -> Result<Option<u32>, Error> {
    match get_str(ctx, v, key, path)? {
        None => Ok(None),
        Some(s) => parse_duration(s).map(Some).ok_or_else(|| {
            ctx.err(
                path,
                format!("expected a duration such as 120s or 2m, found {s:?}"),
            )
        }),
    }
}
