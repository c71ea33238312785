//! Errors of the simulator: YAML syntax, invalid resource fields, I/O.

use std::fmt;

/// Why a set of Calico resources could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The text is not valid YAML.
    Yaml {
        /// Where the text came from (a file name or `<string>`).
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A resource has an invalid or missing value.
    Resource {
        /// Where the text came from (a file name or `<string>`).
        origin: String,
        /// Resource kind (`Node`, `BGPPeer`, …).
        kind: String,
        /// Resource name (`metadata.name`), or `?` when absent.
        name: String,
        /// Dotted path of the offending field, e.g. `spec.bgp.asNumber`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file or folder could not be read.
    Io {
        /// The path.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// IPAM could not give every node its blocks.
    Ipam {
        /// What ran out.
        message: String,
    },
    /// A what-if scenario (failures, migration steps) does not fit the cluster.
    Scenario {
        /// What does not fit.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Yaml { origin, message } => write!(f, "{origin}: invalid YAML: {message}"),
            Error::Resource {
                origin,
                kind,
                name,
                field,
                message,
            } => write!(f, "{origin}: {kind} '{name}': {field}: {message}"),
            Error::Io { path, message } => write!(f, "{path}: {message}"),
            Error::Ipam { message } => write!(f, "IPAM: {message}"),
            Error::Scenario { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}
