//! End-to-end tests: the real app window, driven through WebDriver under Xvfb, against a real
//! server on loopback. Screenshots of every screen land in `test-output/screenshots/`.

mod at_rest;
mod gates;
mod people;
mod posters;
mod shell;
mod station;
mod sync;
mod tracing;
mod venues_station;
