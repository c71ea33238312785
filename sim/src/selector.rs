//! Calico selector expressions: parse, print and evaluate against labels.
//!
//! The grammar is the one calico/node and calicoctl accept:
//!
//! ```text
//! or    := and ( "||" and )*
//! and   := unary ( "&&" unary )*
//! unary := "!" unary | "(" or ")" | term
//! term  := "all()" | "global()" | "has(" key ")"
//!        | key "==" str | key "!=" str
//!        | key "in" set | key "not" "in" set
//!        | key "contains" str | key "starts" "with" str | key "ends" "with" str
//! set   := "{" [ str ( "," str )* ] "}"
//! str   := '…' | "…"
//! ```
//!
//! `!=` and `not in` also match when the label is absent, as in Calico; the
//! other comparisons need the label present. An empty expression matches
//! everything, as Calico's parser treats it as `all()`.

use std::collections::BTreeMap;
use std::fmt;

/// A parsed Calico selector expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// `all()`: matches every label set.
    All,
    /// `global()`: matches every non-namespaced resource (nodes always are).
    Global,
    /// `has(key)`: the label is present.
    Has(String),
    /// `key == 'value'`: present and equal.
    Eq(String, String),
    /// `key != 'value'`: absent or different.
    Ne(String, String),
    /// `key in {…}`: present and one of the values.
    In(String, Vec<String>),
    /// `key not in {…}`: absent or none of the values.
    NotIn(String, Vec<String>),
    /// `key contains 's'`: present and contains the substring.
    Contains(String, String),
    /// `key starts with 's'`: present and starts with the string.
    StartsWith(String, String),
    /// `key ends with 's'`: present and ends with the string.
    EndsWith(String, String),
    /// `!e`: negation.
    Not(Box<Selector>),
    /// `a && b && …`: conjunction.
    And(Vec<Selector>),
    /// `a || b || …`: disjunction.
    Or(Vec<Selector>),
}

/// A selector parse error, with the 1-based column (in characters) where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based column of the offending character (one past the end for a premature end).
    pub column: usize,
    /// What was expected or found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Labels of a resource, as Calico sees them (string keys and values).
pub type Labels = BTreeMap<String, String>;

impl Selector {
    /// Parses a selector expression; an empty or blank string is `all()`.
    pub fn parse(text: &str) -> Result<Selector, ParseError> {
        let mut p = Parser {
            chars: text.chars().collect(),
            pos: 0,
        };
        p.skip_ws();
        if p.at_end() {
            return Ok(Selector::All);
        }
        let e = p.or()?;
        p.skip_ws();
        if !p.at_end() {
            return Err(p.error("unexpected text after the end of the expression"));
        }
        Ok(e)
    }

    /// Evaluates the selector against a label map.
    pub fn matches(&self, labels: &Labels) -> bool {
        match self {
            Selector::All | Selector::Global => true,
            Selector::Has(k) => labels.contains_key(k),
            Selector::Eq(k, v) => labels.get(k) == Some(v),
            Selector::Ne(k, v) => labels.get(k) != Some(v),
            Selector::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Selector::NotIn(k, vs) => !labels.get(k).is_some_and(|l| vs.contains(l)),
            Selector::Contains(k, s) => labels.get(k).is_some_and(|l| l.contains(s.as_str())),
            Selector::StartsWith(k, s) => labels.get(k).is_some_and(|l| l.starts_with(s.as_str())),
            Selector::EndsWith(k, s) => labels.get(k).is_some_and(|l| l.ends_with(s.as_str())),
            Selector::Not(e) => !e.matches(labels),
            Selector::And(es) => es.iter().all(|e| e.matches(labels)),
            Selector::Or(es) => es.iter().any(|e| e.matches(labels)),
        }
    }
}

impl std::str::FromStr for Selector {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if s.contains('\'') {
        write!(f, "\"{s}\"")
    } else {
        write!(f, "'{s}'")
    }
}

fn write_set(f: &mut fmt::Formatter<'_>, vs: &[String]) -> fmt::Result {
    f.write_str("{")?;
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_str(f, v)?;
    }
    f.write_str("}")
}

impl fmt::Display for Selector {
    /// Prints the canonical form; it parses back to an equal selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::All => f.write_str("all()"),
            Selector::Global => f.write_str("global()"),
            Selector::Has(k) => write!(f, "has({k})"),
            Selector::Eq(k, v) => {
                write!(f, "{k} == ")?;
                write_str(f, v)
            }
            Selector::Ne(k, v) => {
                write!(f, "{k} != ")?;
                write_str(f, v)
            }
            Selector::In(k, vs) => {
                write!(f, "{k} in ")?;
                write_set(f, vs)
            }
            Selector::NotIn(k, vs) => {
                write!(f, "{k} not in ")?;
                write_set(f, vs)
            }
            Selector::Contains(k, v) => {
                write!(f, "{k} contains ")?;
                write_str(f, v)
            }
            Selector::StartsWith(k, v) => {
                write!(f, "{k} starts with ")?;
                write_str(f, v)
            }
            Selector::EndsWith(k, v) => {
                write!(f, "{k} ends with ")?;
                write_str(f, v)
            }
            Selector::Not(e) => match e.as_ref() {
                Selector::And(_) | Selector::Or(_) => write!(f, "!({e})"),
                _ => write!(f, "!{e}"),
            },
            Selector::And(es) => {
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" && ")?;
                    }
                    if matches!(e, Selector::Or(_) | Selector::And(_)) {
                        write!(f, "({e})")?;
                    } else {
                        write!(f, "{e}")?;
                    }
                }
                Ok(())
            }
            Selector::Or(es) => {
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" || ")?;
                    }
                    if matches!(e, Selector::Or(_)) {
                        write!(f, "({e})")?;
                    } else {
                        write!(f, "{e}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Characters allowed in a label key (Kubernetes keys, including a `prefix/`).
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn error(&self, message: &str) -> ParseError {
        let found = match self.peek() {
            Some(c) => format!(" (found '{c}')"),
            None => " (found end of input)".to_string(),
        };
        ParseError {
            column: self.pos + 1,
            message: format!("{message}{found}"),
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes `lit` if the input continues with it (after whitespace).
    fn eat(&mut self, lit: &str) -> bool {
        self.skip_ws();
        let n = lit.chars().count();
        let matches = self
            .chars
            .get(self.pos..self.pos + n)
            .is_some_and(|s| s.iter().copied().eq(lit.chars()));
        if matches {
            self.pos += n;
        }
        matches
    }

    /// Consumes the keyword `kw` only if it is not followed by a key character.
    fn eat_word(&mut self, kw: &str) -> bool {
        let save = self.pos;
        if self.eat(kw) && !self.peek().is_some_and(is_key_char) {
            return true;
        }
        self.pos = save;
        false
    }

    fn or(&mut self) -> Result<Selector, ParseError> {
        let mut es = vec![self.and()?];
        while self.eat("||") {
            es.push(self.and()?);
        }
        Ok(if es.len() == 1 {
            es.pop().unwrap_or(Selector::All)
        } else {
            Selector::Or(es)
        })
    }

    fn and(&mut self) -> Result<Selector, ParseError> {
        let mut es = vec![self.unary()?];
        while self.eat("&&") {
            es.push(self.unary()?);
        }
        Ok(if es.len() == 1 {
            es.pop().unwrap_or(Selector::All)
        } else {
            Selector::And(es)
        })
    }

    fn unary(&mut self) -> Result<Selector, ParseError> {
        self.skip_ws();
        // `!` but not the start of `!=` (which would need a key before it anyway).
        if self.peek() == Some('!') {
            self.pos += 1;
            let inner = self.unary()?;
            return Ok(Selector::Not(Box::new(inner)));
        }
        if self.eat("(") {
            let e = self.or()?;
            if !self.eat(")") {
                self.skip_ws();
                return Err(self.error("expected ')'"));
            }
            return Ok(e);
        }
        self.term()
    }

    fn key(&mut self) -> Result<String, ParseError> {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(is_key_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("expected a label key"));
        }
        Ok(self
            .chars
            .get(start..self.pos)
            .unwrap_or(&[])
            .iter()
            .collect())
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.skip_ws();
        let quote = match self.peek() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(self.error("expected a quoted string")),
        };
        let start = self.pos;
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(ParseError {
                        column: start + 1,
                        message: "unterminated string".to_string(),
                    })
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn set(&mut self) -> Result<Vec<String>, ParseError> {
        if !self.eat("{") {
            self.skip_ws();
            return Err(self.error("expected '{'"));
        }
        let mut vs = Vec::new();
        if self.eat("}") {
            return Ok(vs);
        }
        loop {
            vs.push(self.string()?);
            if self.eat("}") {
                return Ok(vs);
            }
            if !self.eat(",") {
                self.skip_ws();
                return Err(self.error("expected ',' or '}'"));
            }
        }
    }

    fn term(&mut self) -> Result<Selector, ParseError> {
        self.skip_ws();
        if self.at_end() {
            return Err(self.error("expected an expression"));
        }
        if self.eat("all()") {
            return Ok(Selector::All);
        }
        if self.eat("global()") {
            return Ok(Selector::Global);
        }
        let save = self.pos;
        if self.eat("has(") {
            let k = self.key()?;
            if !self.eat(")") {
                self.skip_ws();
                return Err(self.error("expected ')' after the label key"));
            }
            return Ok(Selector::Has(k));
        }
        self.pos = save;
        if !self.peek().is_some_and(is_key_char) {
            return Err(self.error("expected an expression"));
        }
        let k = self.key()?;
        if self.eat("==") {
            return Ok(Selector::Eq(k, self.string()?));
        }
        if self.eat("!=") {
            return Ok(Selector::Ne(k, self.string()?));
        }
        if self.eat_word("in") {
            return Ok(Selector::In(k, self.set()?));
        }
        if self.eat_word("not") {
            if !self.eat_word("in") {
                self.skip_ws();
                return Err(self.error("expected 'in' after 'not'"));
            }
            return Ok(Selector::NotIn(k, self.set()?));
        }
        if self.eat_word("contains") {
            return Ok(Selector::Contains(k, self.string()?));
        }
        if self.eat_word("starts") {
            if !self.eat_word("with") {
                self.skip_ws();
                return Err(self.error("expected 'with' after 'starts'"));
            }
            return Ok(Selector::StartsWith(k, self.string()?));
        }
        if self.eat_word("ends") {
            if !self.eat_word("with") {
                self.skip_ws();
                return Err(self.error("expected 'with' after 'ends'"));
            }
            return Ok(Selector::EndsWith(k, self.string()?));
        }
        self.skip_ws();
        Err(self
            .error("expected an operator (==, !=, in, not in, contains, starts with, ends with)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_points_at_column() {
        let e = Selector::parse("has(a) && b = 'x'").unwrap_err();
        assert_eq!(e.column, 13);
        let e = Selector::parse("has(a").unwrap_err();
        assert_eq!(e.column, 6);
    }

    #[test]
    fn canonical_form_round_trips() {
        let s = Selector::parse("!(a == 'x' || b in {'1', \"2\"}) && has(c)").unwrap();
        assert_eq!(Selector::parse(&s.to_string()).unwrap(), s);
    }
}
