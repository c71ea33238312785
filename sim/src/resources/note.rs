//! Remarks about resource fields: load notes and linter findings.

use serde::Serialize;

/// How serious a [`Note`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Information: something the simulator filled in.
    Info,
    /// Likely a mistake in the configuration.
    Warning,
}

/// A remark about a resource field: a load note or a linter finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    /// How serious it is.
    pub severity: Severity,
    /// The resource as `Kind/name`.
    pub resource: String,
    /// The dotted field path.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev}: {} {}: {}",
            self.resource, self.field, self.message
        )
    }
}
