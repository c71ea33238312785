//! Selector fields (`nodeSelector`, `peerSelector` …) as written, YAML tags included.

use serde::Serialize;
use serde_yaml::Value;

use super::note::{Note, Severity};
use super::yaml::{describe, Ctx};
use crate::error::Error;
use crate::selector::Selector;

/// A selector field as written: absent, a parsed expression, or a YAML tag Calico ignores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorField {
    /// The field is absent or empty.
    Absent,
    /// A selector expression (and its source text).
    Expr(Selector, String),
    /// An unquoted `!…` read by YAML as a tag: Calico sees an empty value.
    YamlTag(String),
}

impl SelectorField {
    /// The selector Calico applies, if any (a YAML tag counts as absent).
    pub fn selector(&self) -> Option<&Selector> {
        match self {
            SelectorField::Expr(s, _) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for SelectorField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SelectorField::Absent => s.serialize_none(),
            SelectorField::Expr(_, text) => s.serialize_some(text),
            SelectorField::YamlTag(_) => s.serialize_none(),
        }
    }
}

pub(super) fn get_selector(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
    notes: &mut Vec<Note>,
) -> Result<SelectorField, Error> {
    let Value::Mapping(m) = v else {
        return Ok(SelectorField::Absent);
    };
    match m.get(key) {
        None | Some(Value::Null) => Ok(SelectorField::Absent),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(SelectorField::Absent),
        Some(Value::String(s)) => match Selector::parse(s) {
            Ok(sel) => Ok(SelectorField::Expr(sel, s.clone())),
            Err(e) => Err(ctx.err(path, format!("invalid selector {s:?}: {e}"))),
        },
        Some(Value::Tagged(t)) => {
            let tag = t.tag.to_string();
            let rest = match &t.value {
                Value::String(s) => format!(" {s}"),
                _ => String::new(),
            };
            let written = format!("{tag}{rest}");
            notes.push(Note {
                severity: Severity::Warning,
                resource: ctx.resource(),
                field: path.to_string(),
                message: format!(
                    "unquoted `{written}` is a YAML tag, not a string: Calico reads an empty {key} and ignores it{}; quote the selector: {key}: \"{written}\"",
                    if key == "nodeSelector" { ", so this BGPPeer applies to every node (a global peer)" } else { "" }
                ),
            });
            Ok(SelectorField::YamlTag(tag))
        }
        Some(other) => Err(ctx.err(
            path,
            format!("expected a selector string, found {}", describe(other)),
        )),
    }
}
