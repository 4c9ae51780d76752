//! Entry point of the VenueCode UI: mounts the Leptos app into the Tauri webview's body.

mod api;
mod app;
mod i18n;
mod pages;
mod shared;
mod sound;
mod wedge;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
