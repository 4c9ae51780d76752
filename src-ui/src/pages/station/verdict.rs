//! The full-screen verdict (通行/禁止), readable from two metres; tap to dismiss.

use leptos::prelude::*;
use venuecode_ipc::{CodeColor, NatOutcome, Reason};

use super::{LastScan, Via};
use crate::i18n::{reason_key, use_i18n, Key};

/// The full-screen verdict, readable from two metres; tap to dismiss.
#[component]
pub(super) fn VerdictScreen(last: RwSignal<Option<LastScan>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        last.get().map(|l| {
            let v = l.verdict.clone();
            let inside = v.reasons.contains(&Reason::AlreadyInside);
            let full = v.reasons.contains(&Reason::CapacityFull);
            let word = if full {
                Key::CapacityHold
            } else if inside {
                Key::AlreadyInside
            } else if v.pass {
                Key::Pass
            } else {
                Key::Refuse
            };
            let color = v.color.map(|c| match c {
                CodeColor::Green => Key::ColorGreen,
                CodeColor::Yellow => Key::ColorYellow,
                CodeColor::Red => Key::ColorRed,
            });
            let since = v.color_since.as_deref().map(|s| s.chars().take(10).collect::<String>());
            let nat = v.nat_result.map(|r| match r {
                NatOutcome::Negative => Key::NatNegative,
                NatOutcome::Positive => Key::NatPositive,
                NatOutcome::Pending => Key::NatPending,
            });
            let nat_hours = v.nat_hours.map(|h| format!("{h:.0}"));
            // "2026-12-01T09:30:00+08:00" → "12-01 09:30".
            let printed = v
                .paper_printed_at
                .as_deref()
                .map(|s| s.chars().skip(5).take(11).collect::<String>().replace('T', " "));
            // The colour line already says red or yellow; the list gives every other reason.
            let reasons: Vec<Key> = v
                .reasons
                .iter()
                .filter(|r| {
                    !matches!(r, Reason::AlreadyInside | Reason::RedCode | Reason::YellowCode)
                        || color.is_none()
                })
                .map(|r| reason_key(*r))
                .collect();
            let via = match l.via {
                Via::Scanner => Key::ViaScanner,
                Via::Camera => Key::ViaCamera,
                Via::Manual => Key::ViaManual,
            };
            let alert = v.alert;
            // An alert on a pass is a re-entry minutes after entering (a shared code): check
            // the person, don't send them to isolation.
            let instructions = if v.pass {
                Key::ReentryInstructions
            } else {
                Key::AlertInstructions
            };
            let text: String = l.text.chars().take(48).collect();
            view! {
                <div id="verdict-screen" class="verdict-screen" class:pass=v.pass && !inside class:inside=inside class:held=full class:refuse=!v.pass && !full
                    on:click=move |_| last.set(None)>
                    <p class="word" id="verdict-word">{move || i18n.t(word)}</p>
                    {v.name.clone().map(|n| view! { <p class="who" id="verdict-name">{n}</p> })}
                    {v.phone.clone().map(|p| view! { <p class="phone" id="verdict-phone">{p}</p> })}
                    {color.map(|k| view! {
                        <p class="color" id="verdict-color">{move || i18n.t(k)}
                            {since.clone().map(|s| view! { <span class="since">{s}" "{move || i18n.t(Key::Since)}</span> })}
                        </p>
                    })}
                    {printed.map(|p| view! {
                        <p class="paper" id="verdict-paper">{move || i18n.t(Key::PaperPrinted)}" "{p}</p>
                    })}
                    {nat.map(|k| view! {
                        <p class="nat" id="verdict-nat">{move || i18n.t(k)}
                            {nat_hours.clone().map(|h| view! { <span>" · "{h}" "{move || i18n.t(Key::HoursAgo)}</span> })}
                        </p>
                    })}
                    {full.then(|| {
                        let c = v.counters.clone();
                        view! {
                            <p class="nat" id="verdict-capacity">{move || i18n.t(Key::CountInside)}" "{c.inside}" / "{move || i18n.t(Key::CountCapacity)}" "{c.capacity.unwrap_or_default()}</p>
                        }
                    })}
                    <ul class="reasons" id="verdict-reasons">
                        {reasons.into_iter().map(|k| view! { <li>{move || i18n.t(k)}</li> }).collect_view()}
                    </ul>
                    {alert.then(|| view! { <p class="instructions" id="verdict-alert">{move || i18n.t(instructions)}</p> })}
                    {(alert && !v.pass).then(|| v.venue_phone.clone()).flatten().map(|p| view! {
                        <p class="instructions call" id="verdict-call">{move || i18n.t(Key::CallNumber)}{p}</p>
                    })}
                    <p class="via" id="verdict-via">{move || i18n.t(via)}</p>
                    <p class="text" id="verdict-text">{text}</p>
                </div>
            }
        })
    }
}
