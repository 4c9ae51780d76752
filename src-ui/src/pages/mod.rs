//! One module per page of the shell.

pub mod camera_settings;
pub mod occupancy;
pub mod review;
pub mod settings;
pub mod start;
pub mod station;
pub mod station_venues;
pub mod statistics;
pub mod tracing;
pub mod venues;
