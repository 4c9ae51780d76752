//! A work area that later issues fill: its title, what it is for, and what will come.

use leptos::prelude::*;

use crate::i18n::{use_i18n, Key};

/// The page of a work area not built yet.
#[component]
pub fn Placeholder(title: Key, intro: Key, next: Key) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h1 id="page-title">{move || i18n.t(title)}</h1>
        <section class="card">
            <p class="intro">{move || i18n.t(intro)}</p>
        </section>
        <section class="card">
            <h2>{move || i18n.t(Key::ComingSoon)}</h2>
            <p>{move || i18n.t(next)}</p>
        </section>
    }
}
