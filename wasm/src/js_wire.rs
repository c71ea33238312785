//! The JavaScript API over reflector-core's parsers: `decodeUpdate`,
//! `decodeMessage`, `hexToBytes` and the streaming `MrtParser`.
//!
//! Decoding never throws for malformed BGP: errors come back as typed
//! objects (`DecodeError`) with the RFC 7606 action and the NOTIFICATION
//! code and subcode. Only arguments of the wrong type throw.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::decode::{self, DecodeOptions, MrtStream};

#[wasm_bindgen(typescript_custom_section)]
const TS_WIRE_TYPES: &'static str = r#"
/** How to read UPDATEs: what the session negotiated (defaults: 4-octet AS, no ADD-PATH, extended messages). */
export interface DecodeOptions {
  fourOctetAs?: boolean;
  addPath?: boolean;
  extendedMessage?: boolean;
}
/**
 * An attribute's value, by name: ORIGIN "IGP" | "EGP" | "INCOMPLETE"; AS_PATH, AS4_PATH AsPathSegment[];
 * NEXT_HOP, ORIGINATOR_ID address; MULTI_EXIT_DISC, LOCAL_PREF, OTC number; ATOMIC_AGGREGATE null;
 * AGGREGATOR, AS4_AGGREGATOR AggregatorValue; COMMUNITIES "asn:value" or the well-known name;
 * CLUSTER_LIST addresses; EXTENDED_COMMUNITIES 8-byte hex each; LARGE_COMMUNITY "global:local1:local2";
 * MP_REACH_NLRI MpReachValue; MP_UNREACH_NLRI MpUnreachValue; anything else (or a malformed value,
 * `decoded: false`) the value bytes as hex.
 */
export type AttributeValue = string | number | null | string[] | AsPathSegment[] | AggregatorValue | MpReachValue | MpUnreachValue;
/** An OPEN. */
export interface DecodedOpen {
  type: "OPEN"; length: number; version: number; myAs: number; asn: number; holdTime: number; bgpId: string;
  capabilities: { code: number; name: string; detail: string | null }[];
  errors: DecodeError[];
}
/** A NOTIFICATION. */
export interface DecodedNotification {
  type: "NOTIFICATION"; length: number; code: number; subcode: number; codeName: string; subcodeName: string;
  data: string; shutdownCommunication: string | null; errors: DecodeError[];
}
/** A ROUTE-REFRESH. */
export interface DecodedRouteRefresh { type: "ROUTE-REFRESH"; length: number; family: Family; subtype: string; errors: DecodeError[]; }
/** A KEEPALIVE. */
export interface DecodedKeepalive { type: "KEEPALIVE"; length: number; errors: DecodeError[]; }
/** A message that failed before its type could be decoded (or an OPEN/NOTIFICATION/ROUTE-REFRESH that failed). */
export interface DecodedInvalid { type: "OPEN" | "NOTIFICATION" | "KEEPALIVE" | "ROUTE-REFRESH" | null; length: number | null; errors: DecodeError[]; }
/** Any BGP message. */
export type DecodedBgpMessage = DecodedUpdate | DecodedOpen | DecodedNotification | DecodedRouteRefresh | DecodedKeepalive | DecodedInvalid;
/** Fields every MRT record has. */
export interface MrtRecordBase {
  /** Offset of the record in the stream. */
  offset: number;
  length: number;
  timestamp: number;
  microseconds: number | null;
  type: number;
  subtype: number;
  /** "TYPE/SUBTYPE", e.g. "BGP4MP/MESSAGE_AS4"; null when unknown. */
  typeName: string | null;
}
/** An MRT record (RFC 6396, RFC 8050), by kind. */
export type MrtRecord = MrtRecordBase & (
  | { kind: "peerIndexTable"; body: MrtPeerIndexTable }
  | { kind: "rib"; body: MrtRib }
  | { kind: "tableDump"; body: MrtTableDump }
  | { kind: "bgp4mpMessage"; body: MrtBgp4mpMessage }
  | { kind: "bgp4mpStateChange"; body: MrtBgp4mpStateChange }
  | { kind: "unknown"; body: { length: number } }
);
"#;

#[wasm_bindgen]
extern "C" {
    /// The options object of the decoders (TypeScript `DecodeOptions`).
    #[wasm_bindgen(typescript_type = "DecodeOptions")]
    pub type DecodeOptionsArg;
}

fn to_js(v: &Value) -> Result<JsValue, JsError> {
    let s = serde_json::to_string(v).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&s).map_err(|_| JsError::new("internal error: JSON.parse failed"))
}

fn options(v: Option<DecodeOptionsArg>) -> Result<DecodeOptions, JsError> {
    let mut o = DecodeOptions::default();
    let Some(v) = v else { return Ok(o) };
    let v: &JsValue = v.as_ref();
    if !v.is_object() {
        return Err(JsError::new("options must be an object"));
    }
    let flag = |key: &str, default: bool| -> Result<bool, JsError> {
        let x = js_sys::Reflect::get(v, &JsValue::from_str(key))
            .map_err(|_| JsError::new(&format!("cannot read option {key}")))?;
        if x.is_undefined() || x.is_null() {
            return Ok(default);
        }
        x.as_bool()
            .ok_or_else(|| JsError::new(&format!("option {key} must be a boolean")))
    };
    o.four_octet_as = flag("fourOctetAs", o.four_octet_as)?;
    o.add_path = flag("addPath", o.add_path)?;
    o.extended_message = flag("extendedMessage", o.extended_message)?;
    Ok(o)
}

/// Decodes one UPDATE message (19-byte header included) with reflector-core's parser.
///
/// Never throws for malformed input: errors are in `errors`, with the RFC 7606 action.
#[wasm_bindgen(js_name = decodeUpdate, unchecked_return_type = "DecodedUpdate")]
pub fn decode_update(bytes: &[u8], options: Option<DecodeOptionsArg>) -> Result<JsValue, JsError> {
    to_js(&decode::decode_update(bytes, &self::options(options)?))
}

/// Decodes any BGP message (OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH).
#[wasm_bindgen(js_name = decodeMessage, unchecked_return_type = "DecodedBgpMessage")]
pub fn decode_message(bytes: &[u8], options: Option<DecodeOptionsArg>) -> Result<JsValue, JsError> {
    to_js(&decode::decode_message(bytes, &self::options(options)?))
}

/// Bytes from hex text (whitespace, `:`/`-` separators and a `0x` prefix allowed); throws on other characters.
#[wasm_bindgen(js_name = hexToBytes)]
pub fn hex_to_bytes(text: &str) -> Result<Vec<u8>, JsError> {
    decode::parse_hex(text).map_err(|e| JsError::new(&e))
}

/// A streaming MRT (RFC 6396) reader: push bytes in chunks of any size, get records as they complete.
#[wasm_bindgen]
pub struct MrtParser {
    stream: MrtStream,
}

impl Default for MrtParser {
    fn default() -> Self {
        MrtParser::new()
    }
}

#[wasm_bindgen]
impl MrtParser {
    /// An empty parser.
    #[wasm_bindgen(constructor)]
    pub fn new() -> MrtParser {
        MrtParser {
            stream: MrtStream::new(),
        }
    }

    /// Appends bytes; returns the records they complete (possibly none).
    #[wasm_bindgen(unchecked_return_type = "MrtRecord[]")]
    pub fn push(&mut self, bytes: &[u8]) -> Result<JsValue, JsError> {
        to_js(&Value::Array(self.stream.push(bytes)))
    }

    /// Ends the stream: a summary, with a truncation error when a record was left unfinished.
    #[wasm_bindgen(unchecked_return_type = "MrtSummary")]
    pub fn finish(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.stream.finish())
    }

    /// Records decoded so far.
    #[wasm_bindgen(getter, js_name = recordCount)]
    pub fn record_count(&self) -> f64 {
        self.stream.records() as f64
    }

    /// Bytes consumed so far (whole records).
    #[wasm_bindgen(getter)]
    pub fn offset(&self) -> f64 {
        self.stream.offset() as f64
    }

    /// Bytes held waiting for the rest of their record.
    #[wasm_bindgen(getter)]
    pub fn buffered(&self) -> f64 {
        self.stream.buffered() as f64
    }

    /// Errors so far.
    #[wasm_bindgen(unchecked_return_type = "DecodeError[]")]
    pub fn errors(&self) -> Result<JsValue, JsError> {
        let errors =
            serde_json::to_value(self.stream.errors()).map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&errors)
    }
}
