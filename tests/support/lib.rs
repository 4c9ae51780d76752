//! Support for VenueCode's cross-crate and end-to-end tests: child processes that are always
//! cleaned up, a minimal W3C WebDriver client, and a harness that runs the real app window under
//! Xvfb through tauri-driver against a real server on loopback.
//!
//! Invariant: every process a test starts is owned by a guard that kills its whole process group
//! on drop, so nothing is left running when a test passes, fails or panics.

pub mod display;
pub mod faultproxy;
pub mod fit;
pub mod gate;
pub mod harness;
pub mod keyring;
pub mod procs;
pub mod proxytls;
pub mod station;
pub mod tamperproxy;
pub mod tools;
pub mod webdriver;
