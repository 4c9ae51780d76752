//! Desktop entry point of the station app; everything lives in the library so mobile shares it.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    venuecode_app::run();
}
