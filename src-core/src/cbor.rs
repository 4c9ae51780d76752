//! Small helpers to build and read the integer-keyed CBOR maps our formats use.
//!
//! Invariant: readers return `None` for a missing key or a value of the wrong type or range; they
//! never panic.

use chrono::{DateTime, Utc};
use ciborium::value::{Integer, Value};

/// A map entry with an integer key.
pub fn entry(key: i64, value: Value) -> (Value, Value) {
    (Value::Integer(key.into()), value)
}

/// A timestamp as Unix seconds.
pub fn time(t: DateTime<Utc>) -> Value {
    Value::Integer(t.timestamp().into())
}

/// The value as an unsigned integer.
pub fn as_u64(v: Value) -> Option<u64> {
    match v {
        Value::Integer(n) => u64::try_from(n).ok(),
        _ => None,
    }
}

/// The value as Unix seconds.
pub fn as_time(v: Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Integer(n) => DateTime::from_timestamp(i64::try_from(n).ok()?, 0),
        _ => None,
    }
}

/// The value as text.
pub fn as_text(v: Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

/// The value as a byte string.
pub fn as_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::Bytes(b) => Some(b),
        _ => None,
    }
}

/// Reads entries of an integer-keyed map by key, each at most once.
pub struct MapReader {
    entries: Vec<(Value, Value)>,
}

impl MapReader {
    /// `None` if `value` is not a map.
    pub fn new(value: Value) -> Option<MapReader> {
        match value {
            Value::Map(entries) => Some(MapReader { entries }),
            _ => None,
        }
    }

    /// Takes the value under `key`.
    pub fn take(&mut self, key: i64) -> Option<Value> {
        let want = Integer::from(key);
        let i = self
            .entries
            .iter()
            .position(|(k, _)| matches!(k, Value::Integer(n) if *n == want))?;
        Some(self.entries.swap_remove(i).1)
    }

    pub fn u64(&mut self, key: i64) -> Option<u64> {
        match self.take(key)? {
            Value::Integer(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }

    pub fn i64(&mut self, key: i64) -> Option<i64> {
        match self.take(key)? {
            Value::Integer(n) => i64::try_from(n).ok(),
            _ => None,
        }
    }

    pub fn time(&mut self, key: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.i64(key)?, 0)
    }

    pub fn text(&mut self, key: i64) -> Option<String> {
        match self.take(key)? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn bytes(&mut self, key: i64) -> Option<Vec<u8>> {
        match self.take(key)? {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn array(&mut self, key: i64) -> Option<Vec<Value>> {
        match self.take(key)? {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}
