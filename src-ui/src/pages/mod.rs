//! One module per page of the shell.

pub mod placeholder;
pub mod settings;
pub mod station;
