//! BGP community values as Calico writes them.

use serde::Serialize;

/// A BGP community value as Calico writes it (`aa:nn` or `aa:nn:mm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Community {
    /// A standard community (RFC 1997).
    Standard(u32),
    /// A large community (RFC 8092).
    Large([u32; 3]),
}

impl Community {
    /// Parses `aa:nn` (16-bit parts) or `aa:nn:mm` (32-bit parts).
    pub fn parse(s: &str) -> Option<Community> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        match parts.as_slice() {
            [a, n] => {
                let a: u16 = a.parse().ok()?;
                let n: u16 = n.parse().ok()?;
                Some(Community::Standard((u32::from(a) << 16) | u32::from(n)))
            }
            [a, n, m] => Some(Community::Large([
                a.parse().ok()?,
                n.parse().ok()?,
                m.parse().ok()?,
            ])),
            _ => None,
        }
    }
}

impl std::fmt::Display for Community {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Community::Standard(c) => write!(f, "{}:{}", c >> 16, c & 0xffff),
            Community::Large([a, b, c]) => write!(f, "{a}:{b}:{c}"),
        }
    }
}

impl Serialize for Community {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
