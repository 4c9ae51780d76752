//! VenueCode's domain: every rule the station and the server share.
//!
//! Invariants: this crate does no I/O, reads no clock and no environment; time, keys and lists
//! come in as arguments, so every rule is a pure function that unit tests can pin down. It builds
//! for native and wasm32.

pub mod accounts;
pub mod application;
pub mod base45;
pub mod cbor;
pub mod checkin;
pub mod checkpoint;
pub mod codes;
pub mod copresence;
pub mod cose;
pub mod credit_code;
pub mod deployment;
pub mod gate;
pub mod health_code;
pub mod idnumber;
pub mod keys;
pub mod lan;
pub mod mask;
pub mod pin;
pub mod place_type;
pub mod poster;
pub mod presence;
pub mod qr;
pub mod region;
pub mod seal;
pub mod self_check_in;
pub mod sightings;
pub mod statistics;
pub mod sync;
pub mod trust;
pub mod venue;
pub mod venue_code;
