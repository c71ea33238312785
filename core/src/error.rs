//! Decode failures as values: RFC 4271 NOTIFICATION code/subcode/data, the
//! RFC 7606 action, and the byte offset where the problem was found.

use core::fmt;

/// What the receiver must do about a malformed message (RFC 7606 §2, §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Send the NOTIFICATION and close the session (RFC 4271 behaviour).
    SessionReset,
    /// Disable the AFI/SAFI the error concerns (RFC 7606 §2, "AFI/SAFI disable").
    AfiSafiDisable,
    /// Keep the session; withdraw every prefix the UPDATE carried (RFC 7606 §2).
    TreatAsWithdraw,
    /// Keep the session and the routes; drop the offending attribute (RFC 7606 §2).
    AttributeDiscard,
}

impl Action {
    /// The more severe of two actions (RFC 7606 §3 (h)).
    pub fn max(self, other: Action) -> Action {
        if self.severity() >= other.severity() {
            self
        } else {
            other
        }
    }

    fn severity(self) -> u8 {
        match self {
            Action::AttributeDiscard => 0,
            Action::TreatAsWithdraw => 1,
            Action::AfiSafiDisable => 2,
            Action::SessionReset => 3,
        }
    }

    /// A short lowercase name, for logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SessionReset => "session-reset",
            Action::AfiSafiDisable => "afi-safi-disable",
            Action::TreatAsWithdraw => "treat-as-withdraw",
            Action::AttributeDiscard => "attribute-discard",
        }
    }
}

/// RFC 4271 §4.5 NOTIFICATION error codes (plus RFC 7313 code 7).
pub mod code {
    /// Message Header Error.
    pub const MESSAGE_HEADER: u8 = 1;
    /// OPEN Message Error.
    pub const OPEN_MESSAGE: u8 = 2;
    /// UPDATE Message Error.
    pub const UPDATE_MESSAGE: u8 = 3;
    /// Hold Timer Expired.
    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    /// Finite State Machine Error.
    pub const FSM: u8 = 5;
    /// Cease.
    pub const CEASE: u8 = 6;
    /// ROUTE-REFRESH Message Error (RFC 7313).
    pub const ROUTE_REFRESH: u8 = 7;
}

/// NOTIFICATION error subcodes, per error code.
pub mod subcode {
    /// Message Header Error: Connection Not Synchronized.
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    /// Message Header Error: Bad Message Length.
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    /// Message Header Error: Bad Message Type.
    pub const BAD_MESSAGE_TYPE: u8 = 3;

    /// OPEN Message Error: Unsupported Version Number.
    pub const UNSUPPORTED_VERSION: u8 = 1;
    /// OPEN Message Error: Bad Peer AS.
    pub const BAD_PEER_AS: u8 = 2;
    /// OPEN Message Error: Bad BGP Identifier.
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    /// OPEN Message Error: Unsupported Optional Parameter.
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    /// OPEN Message Error: Unacceptable Hold Time.
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    /// OPEN Message Error: Unsupported Capability (RFC 5492).
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    /// OPEN Message Error: Role Mismatch (RFC 9234).
    pub const ROLE_MISMATCH: u8 = 11;

    /// UPDATE Message Error: Malformed Attribute List.
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    /// UPDATE Message Error: Unrecognized Well-known Attribute.
    pub const UNRECOGNIZED_WELL_KNOWN: u8 = 2;
    /// UPDATE Message Error: Missing Well-known Attribute.
    pub const MISSING_WELL_KNOWN: u8 = 3;
    /// UPDATE Message Error: Attribute Flags Error.
    pub const ATTRIBUTE_FLAGS: u8 = 4;
    /// UPDATE Message Error: Attribute Length Error.
    pub const ATTRIBUTE_LENGTH: u8 = 5;
    /// UPDATE Message Error: Invalid ORIGIN Attribute.
    pub const INVALID_ORIGIN: u8 = 6;
    /// UPDATE Message Error: Invalid NEXT_HOP Attribute.
    pub const INVALID_NEXT_HOP: u8 = 8;
    /// UPDATE Message Error: Optional Attribute Error.
    pub const OPTIONAL_ATTRIBUTE: u8 = 9;
    /// UPDATE Message Error: Invalid Network Field.
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    /// UPDATE Message Error: Malformed AS_PATH.
    pub const MALFORMED_AS_PATH: u8 = 11;

    /// Cease: Maximum Number of Prefixes Reached (RFC 4486).
    pub const CEASE_MAX_PREFIXES: u8 = 1;
    /// Cease: Administrative Shutdown.
    pub const CEASE_ADMIN_SHUTDOWN: u8 = 2;
    /// Cease: Peer De-configured.
    pub const CEASE_PEER_DECONFIGURED: u8 = 3;
    /// Cease: Administrative Reset.
    pub const CEASE_ADMIN_RESET: u8 = 4;
    /// Cease: Connection Rejected.
    pub const CEASE_CONNECTION_REJECTED: u8 = 5;
    /// Cease: Other Configuration Change.
    pub const CEASE_OTHER_CONFIG_CHANGE: u8 = 6;
    /// Cease: Connection Collision Resolution.
    pub const CEASE_COLLISION: u8 = 7;
    /// Cease: Out of Resources.
    pub const CEASE_OUT_OF_RESOURCES: u8 = 8;
    /// Cease: Hard Reset (RFC 8538).
    pub const CEASE_HARD_RESET: u8 = 9;
    /// Cease: BFD Down (RFC 9384).
    pub const CEASE_BFD_DOWN: u8 = 10;

    /// ROUTE-REFRESH Message Error: Invalid Message Length (RFC 7313).
    pub const INVALID_ROUTE_REFRESH_LENGTH: u8 = 1;
}

/// What went wrong, in words a log reader understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Input ended before a field that its length promised.
    Truncated,
    /// The 16-byte marker is not all ones.
    BadMarker,
    /// The header length is outside 19..=4096 (or 65535 with RFC 8654), or wrong for the type.
    BadMessageLength,
    /// The message type is not one Reflector knows.
    BadMessageType,
    /// OPEN: version other than 4.
    UnsupportedVersion,
    /// OPEN: hold time of 1 or 2 seconds.
    UnacceptableHoldTime,
    /// OPEN: BGP identifier 0 (or otherwise unacceptable).
    BadBgpIdentifier,
    /// OPEN: the peer's AS is not the configured one.
    BadPeerAs,
    /// OPEN: an optional parameter type other than Capabilities.
    UnsupportedOptionalParameter,
    /// OPEN: optional parameters or capabilities overrun their lengths.
    MalformedOptionalParameters,
    /// OPEN: BGP Roles that do not pair, or a missing one where required (RFC 9234 §4.2).
    RoleMismatch,
    /// UPDATE: withdrawn/attribute lengths overrun the message.
    MalformedAttributeList,
    /// UPDATE: the same attribute type appears twice (RFC 7606 §3 (g)).
    DuplicateAttribute,
    /// UPDATE: an MP_REACH_NLRI or MP_UNREACH_NLRI appears twice (RFC 7606 §3 (g)).
    DuplicateMpAttribute,
    /// UPDATE: a well-known mandatory attribute is missing.
    MissingWellKnown,
    /// UPDATE: the flags of a known attribute contradict its definition.
    AttributeFlags,
    /// UPDATE: the length of a known attribute is wrong for its type.
    AttributeLength,
    /// UPDATE: ORIGIN value other than 0, 1, 2.
    InvalidOrigin,
    /// UPDATE: NEXT_HOP is not a usable unicast address.
    InvalidNextHop,
    /// UPDATE: AS_PATH segment type or length is invalid.
    MalformedAsPath,
    /// UPDATE: an optional attribute's content is invalid.
    OptionalAttribute,
    /// UPDATE: a prefix length is out of range or overruns its field.
    InvalidNetworkField,
    /// UPDATE: MP_REACH_NLRI / MP_UNREACH_NLRI content is malformed.
    MalformedMpNlri,
    /// ROUTE-REFRESH: length is not 23 bytes.
    InvalidRouteRefreshLength,
    /// NOTIFICATION: the RFC 9003 shutdown text overruns or is not UTF-8.
    MalformedShutdownCommunication,
    /// MRT: a record header or body is malformed.
    MalformedMrt,
    /// MRT: a record type or subtype Reflector does not read.
    UnsupportedMrt,
    /// Encoding: the output does not fit the buffer or the peer's maximum message size.
    Overflow,
    /// A peer sent more prefixes than its limit allows (Cease, RFC 4486).
    MaxPrefixes,
}

impl ErrorKind {
    /// A short description.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Truncated => "truncated input",
            ErrorKind::BadMarker => "connection not synchronized (bad marker)",
            ErrorKind::BadMessageLength => "bad message length",
            ErrorKind::BadMessageType => "bad message type",
            ErrorKind::UnsupportedVersion => "unsupported BGP version",
            ErrorKind::UnacceptableHoldTime => "unacceptable hold time",
            ErrorKind::BadBgpIdentifier => "bad BGP identifier",
            ErrorKind::BadPeerAs => "bad peer AS",
            ErrorKind::UnsupportedOptionalParameter => "unsupported optional parameter",
            ErrorKind::MalformedOptionalParameters => "malformed optional parameters",
            ErrorKind::RoleMismatch => "role mismatch",
            ErrorKind::MalformedAttributeList => "malformed attribute list",
            ErrorKind::DuplicateAttribute => "duplicate attribute",
            ErrorKind::DuplicateMpAttribute => "duplicate MP_REACH/MP_UNREACH attribute",
            ErrorKind::MissingWellKnown => "missing well-known attribute",
            ErrorKind::AttributeFlags => "attribute flags error",
            ErrorKind::AttributeLength => "attribute length error",
            ErrorKind::InvalidOrigin => "invalid ORIGIN",
            ErrorKind::InvalidNextHop => "invalid NEXT_HOP",
            ErrorKind::MalformedAsPath => "malformed AS_PATH",
            ErrorKind::OptionalAttribute => "optional attribute error",
            ErrorKind::InvalidNetworkField => "invalid network field",
            ErrorKind::MalformedMpNlri => "malformed MP_REACH/MP_UNREACH",
            ErrorKind::InvalidRouteRefreshLength => "invalid ROUTE-REFRESH length",
            ErrorKind::MalformedShutdownCommunication => "malformed shutdown communication",
            ErrorKind::MalformedMrt => "malformed MRT record",
            ErrorKind::UnsupportedMrt => "unsupported MRT type",
            ErrorKind::Overflow => "output does not fit",
            ErrorKind::MaxPrefixes => "maximum number of prefixes reached",
        }
    }
}

/// The Data field of the NOTIFICATION that reports an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyData {
    /// No data.
    None,
    /// Bytes `start..end` of the message that was being decoded (offsets from its first byte).
    Range {
        /// First byte, inclusive.
        start: usize,
        /// Last byte, exclusive.
        end: usize,
    },
    /// A few bytes built by the decoder (an expected version, a length field).
    Inline {
        /// Storage.
        bytes: [u8; 8],
        /// How many of `bytes` are used.
        len: u8,
    },
}

impl NotifyData {
    /// Two bytes of inline data (a length or a version number).
    pub const fn u16(v: u16) -> Self {
        let b = v.to_be_bytes();
        NotifyData::Inline {
            bytes: [b[0], b[1], 0, 0, 0, 0, 0, 0],
            len: 2,
        }
    }

    /// The data of Cease / Maximum Number of Prefixes Reached (RFC 4486 §4):
    /// AFI, SAFI and the prefix upper bound.
    pub const fn max_prefixes(afi: u16, safi: u8, max: u32) -> Self {
        let a = afi.to_be_bytes();
        let m = max.to_be_bytes();
        NotifyData::Inline {
            bytes: [a[0], a[1], safi, m[0], m[1], m[2], m[3], 0],
            len: 7,
        }
    }

    /// The data bytes, resolving ranges against the message they came from.
    pub fn resolve<'a>(&'a self, message: &'a [u8]) -> &'a [u8] {
        match self {
            NotifyData::None => &[],
            NotifyData::Range { start, end } => message.get(*start..*end).unwrap_or(&[]),
            NotifyData::Inline { bytes, len } => bytes.get(..usize::from(*len)).unwrap_or(&[]),
        }
    }
}

/// A decode (or encode) failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// NOTIFICATION error code (RFC 4271 §4.5); 0 where none applies (MRT, encoding).
    pub code: u8,
    /// NOTIFICATION error subcode; 0 = unspecific.
    pub subcode: u8,
    /// What the receiver must do (RFC 7606).
    pub action: Action,
    /// Byte offset from the start of the decoded unit (message or MRT record).
    pub offset: usize,
    /// The NOTIFICATION data.
    pub data: NotifyData,
    /// The attribute type code the error concerns, if any.
    pub attr_type: Option<u8>,
}

impl Error {
    /// A new error with no data and no attribute.
    pub const fn new(
        kind: ErrorKind,
        code: u8,
        subcode: u8,
        action: Action,
        offset: usize,
    ) -> Self {
        Error {
            kind,
            code,
            subcode,
            action,
            offset,
            data: NotifyData::None,
            attr_type: None,
        }
    }

    /// The same error with NOTIFICATION data attached.
    pub const fn with_data(mut self, data: NotifyData) -> Self {
        self.data = data;
        self
    }

    /// The same error with the data set to bytes `start..end` of the message.
    pub const fn with_range(mut self, start: usize, end: usize) -> Self {
        self.data = NotifyData::Range { start, end };
        self
    }

    /// The same error tagged with the attribute type it concerns.
    pub const fn with_attr(mut self, attr_type: u8) -> Self {
        self.attr_type = Some(attr_type);
        self
    }

    /// The same error with another RFC 7606 action.
    pub const fn with_action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Input ended early: a Message Header / Bad Message Length style session reset.
    pub const fn truncated(offset: usize) -> Self {
        Error::new(
            ErrorKind::Truncated,
            code::MESSAGE_HEADER,
            subcode::BAD_MESSAGE_LENGTH,
            Action::SessionReset,
            offset,
        )
    }

    /// An encoder ran out of room.
    pub const fn overflow(offset: usize) -> Self {
        Error::new(ErrorKind::Overflow, 0, 0, Action::SessionReset, offset)
    }

    /// An MRT framing error.
    pub const fn mrt(offset: usize) -> Self {
        Error::new(ErrorKind::MalformedMrt, 0, 0, Action::SessionReset, offset)
    }

    /// Whether the session must be torn down.
    pub fn is_fatal(&self) -> bool {
        matches!(self.action, Action::SessionReset)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset {} (NOTIFICATION {}/{}, {})",
            self.kind.as_str(),
            self.offset,
            self.code,
            self.subcode,
            self.action.as_str()
        )?;
        if let Some(t) = self.attr_type {
            write!(f, ", attribute type {t}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// Shorthand for results of decoding and encoding.
pub type Result<T> = core::result::Result<T, Error>;
