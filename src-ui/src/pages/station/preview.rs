//! The live preview: the newest frame with the codes found outlined, or why there is none.

use leptos::prelude::*;
use venuecode_ipc::{Outline, ScanPreview};

use crate::i18n::{use_i18n, Key};

#[component]
pub(super) fn Preview(
    preview: RwSignal<Option<ScanPreview>>,
    outlines: RwSignal<Vec<Outline>>,
    running: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="preview" id="preview">
            {move || match preview.get() {
                None => view! {
                    <p class="idle">{move || if running.get() { i18n.t(Key::Loading) } else { i18n.t(Key::ScanIdle) }}</p>
                }.into_any(),
                Some(p) => {
                    let (w, h) = (p.width, p.height);
                    view! {
                        <div class="frame">
                            <img id="scan-preview" src=p.data_url data-fps=format!("{:.0}", p.fps) data-seq=p.seq.to_string() />
                            <svg class="overlay" viewBox=format!("0 0 {w} {h}") preserveAspectRatio="none">
                                {move || outlines.get().into_iter().map(|o| {
                                    let pts = o.iter().map(|[x, y]| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
                                    view! { <polygon class="outline" points=pts /> }
                                }).collect_view()}
                            </svg>
                        </div>
                    }.into_any()
                }
            }}
        </section>
    }
}
