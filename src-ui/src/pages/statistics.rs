//! 检测统计 on screen: the totals as big figures, bars for the hours of the day, a line for the
//! days, and tables for doors and inspectors — every chart with its numbers beside it in a table
//! and on hover (SVG `<title>`). Used by the venue page (from the server) and the station (its
//! own store, offline).
//!
//! Invariant: the charts draw only what the view holds (core computed it); scales start at zero.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{
    IpcError, Loaded, StatCounts, StatRow, StationStatistics, StatisticsView, VenueStatistics,
};

use crate::api::invoke;
use crate::i18n::{use_i18n, Key};
use crate::shared::{ErrorBanner, OfflineAge};

/// Where the statistics come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A venue, from the server.
    Venue(String),
    /// This station's own store.
    Station,
}

/// The statistics screen: range buttons, then the panel.
#[component]
pub fn StatisticsScreen(source: Source) -> impl IntoView {
    let i18n = use_i18n();
    let days = RwSignal::new(7u32);
    let error = RwSignal::new(None::<IpcError>);
    let loaded = RwSignal::new(None::<Loaded<StatisticsView>>);
    let source = StoredValue::new(source);
    let load = move || {
        let d = days.get_untracked();
        spawn_local(async move {
            let answer = match source.get_value() {
                Source::Venue(venue_id) => invoke(&VenueStatistics { venue_id, days: d }).await,
                Source::Station => {
                    invoke(&StationStatistics { days: d })
                        .await
                        .map(|data| Loaded {
                            data,
                            age_secs: 0,
                            offline: false,
                        })
                }
            };
            // A late answer for another range is dropped.
            if days.get_untracked() != d {
                return;
            }
            match answer {
                Ok(v) => {
                    loaded.set(Some(v));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    load();
    let range_button = move |n: u32, key: Key, id: &'static str| {
        view! {
            <button id=id class:active=move || days.get() == n
                on:click=move |_| { days.set(n); load(); }>
                {move || i18n.t(key)}
            </button>
        }
    };
    view! {
        <div class="row stats-ranges" id="stats-ranges">
            {range_button(1, Key::StatsToday, "stats-range-1")}
            {range_button(7, Key::Stats7, "stats-range-7")}
            {range_button(30, Key::Stats30, "stats-range-30")}
        </div>
        {move || error.get().map(|e| view! { <ErrorBanner err=e /> })}
        {move || loaded.get().map(|l| {
            let venue_id = match source.get_value() {
                Source::Venue(id) => Some(id),
                Source::Station => None,
            };
            view! {
                <OfflineAge offline=l.offline age_secs=l.age_secs />
                <crate::pages::occupancy::OccupancyCard inside=l.data.present_now
                    by_gate=l.data.inside_by_gate.clone() capacity=l.data.capacity
                    venue_id=venue_id reload=Callback::new(move |_| load()) />
                <StatisticsPanel v=l.data />
            }
        })}
    }
}

/// Everything one view holds.
#[component]
pub fn StatisticsPanel(v: StatisticsView) -> impl IntoView {
    let i18n = use_i18n();
    let t = v.totals;
    let figure = move |key: Key, id: &'static str, n: i64, class: &'static str| {
        view! {
            <div class=format!("figure {class}")>
                <span class="figure-n" id=id>{n}</span>
                <span class="figure-label">{move || i18n.t(key)}</span>
            </div>
        }
    };
    view! {
        <section class="card" id="stats">
            <h2 id="stats-venue">{v.venue_name.clone()} " · " <span id="stats-range">{v.range.clone()}</span></h2>
            <div class="figures">
                {figure(Key::StatsEntries, "stats-entries", t.entries as i64, "pass")}
                {figure(Key::StatsExits, "stats-exits", t.exits as i64, "")}
                {figure(Key::StatsRefused, "stats-refused", t.refused as i64, "refuse")}
                {figure(Key::StatsFevers, "stats-fevers", t.fevers as i64, "refuse")}
                {figure(Key::StatsPeople, "stats-people", v.people, "")}
                {figure(Key::StatsInside, "stats-inside", v.present_now, "")}
            </div>
        </section>
        <section class="card">
            <h2>{move || i18n.t(Key::StatsByHour)}</h2>
            <Legend />
            <div class="chart-row">
                <HourBars hours=v.by_hour.clone() />
                <CountTable id="stats-hour-table" label=Key::StatsHour rows=v.by_hour.iter().enumerate()
                    .filter(|(_, c)| c.entries + c.exits + c.refused > 0)
                    .map(|(h, c)| StatRow { label: format!("{h:02}:00"), counts: *c }).collect() />
            </div>
        </section>
        <section class="card">
            <h2>{move || i18n.t(Key::StatsByDay)}</h2>
            <Legend />
            <div class="chart-row">
                <DayLine days=v.by_day.clone() />
                <CountTable id="stats-day-table" label=Key::StatsDay rows=v.by_day.clone() />
            </div>
        </section>
        <section class="card">
            <h2>{move || i18n.t(Key::StatsByCheckpoint)}</h2>
            <CountTable id="stats-door-table" label=Key::StatsName rows=v.by_checkpoint.clone() />
            <h2>{move || i18n.t(Key::StatsByInspector)}</h2>
            <CountTable id="stats-inspector-table" label=Key::StatsName rows=v.by_inspector.clone() />
        </section>
    }
}

/// Which colour is which.
#[component]
fn Legend() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="legend">
            <span><span class="sw s-entries"></span>{move || i18n.t(Key::StatsEntries)}</span>
            <span><span class="sw s-exits"></span>{move || i18n.t(Key::StatsExits)}</span>
            <span><span class="sw s-refused"></span>{move || i18n.t(Key::StatsRefused)}</span>
        </p>
    }
}

const W: f64 = 640.0;
const H: f64 = 220.0;
const PAD: f64 = 28.0;

fn nice_max(n: u64) -> u64 {
    let n = n.max(1);
    let step = 10u64.pow((n as f64).log10().floor() as u32).max(1);
    n.div_ceil(step) * step
}

/// Entries (green), exits (blue) and refusals (red) stacked per hour of the day.
#[component]
fn HourBars(hours: Vec<StatCounts>) -> impl IntoView {
    let i18n = use_i18n();
    let max = nice_max(
        hours
            .iter()
            .map(|c| c.entries + c.exits + c.refused)
            .max()
            .unwrap_or(0),
    );
    let slot = (W - 2.0 * PAD) / 24.0;
    let y = move |n: u64| (H - PAD) - (n as f64 / max as f64) * (H - 2.0 * PAD);
    view! {
        <svg class="chart" id="stats-hour-chart" viewBox=format!("0 0 {W} {H}") role="img">
            <line x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD class="axis" />
            <text x=2 y=PAD class="tick">{max}</text>
            <text x=2 y=H - PAD class="tick">"0"</text>
            {hours.iter().enumerate().map(|(h, c)| {
                let x = PAD + h as f64 * slot + 2.0;
                let w = slot - 4.0;
                let (e, o, r) = (c.entries, c.exits, c.refused);
                let top_e = y(e);
                let top_o = y(e + o);
                let top_r = y(e + o + r);
                let c = *c;
                view! {
                    <g class="bar" data-hour=h>
                        <title>{move || format!("{h:02}:00  {} {}  {} {}  {} {}  {} {}",
                            i18n.t(Key::StatsEntries), c.entries, i18n.t(Key::StatsExits), c.exits,
                            i18n.t(Key::StatsRefused), c.refused, i18n.t(Key::StatsFevers), c.fevers)}</title>
                        <rect x=x y=top_e width=w height=(H - PAD) - top_e class="s-entries" />
                        <rect x=x y=top_o width=w height=top_e - top_o class="s-exits" />
                        <rect x=x y=top_r width=w height=top_o - top_r class="s-refused" />
                    </g>
                    {(h % 3 == 0).then(|| view! {
                        <text x=x y=H - 6.0 class="tick">{format!("{h:02}")}</text>
                    })}
                }
            }).collect_view()}
        </svg>
    }
}

/// Entries per day as a line, refusals as a second line.
#[component]
fn DayLine(days: Vec<StatRow>) -> impl IntoView {
    let i18n = use_i18n();
    let max = nice_max(
        days.iter()
            .map(|d| d.counts.entries.max(d.counts.refused))
            .max()
            .unwrap_or(0),
    );
    let n = days.len().max(2) - 1;
    let x = move |i: usize| PAD + i as f64 * (W - 2.0 * PAD) / n as f64;
    let y = move |v: u64| (H - PAD) - (v as f64 / max as f64) * (H - 2.0 * PAD);
    let line = |f: fn(&StatCounts) -> u64| {
        days.iter()
            .enumerate()
            .map(|(i, d)| format!("{:.1},{:.1}", x(i), y(f(&d.counts))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let entries = line(|c| c.entries);
    let exits = line(|c| c.exits);
    let refused = line(|c| c.refused);
    let every = days.len().div_ceil(8).max(1);
    view! {
        <svg class="chart" id="stats-day-chart" viewBox=format!("0 0 {W} {H}") role="img">
            <line x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD class="axis" />
            <text x=2 y=PAD class="tick">{max}</text>
            <text x=2 y=H - PAD class="tick">"0"</text>
            <polyline points=exits class="l-exits" />
            <polyline points=entries class="l-entries" />
            <polyline points=refused class="l-refused" />
            {days.iter().enumerate().map(|(i, d)| {
                let c = d.counts;
                let label = d.label.clone();
                let tip = label.clone();
                view! {
                    <circle cx=x(i) cy=y(c.entries) r=5 class="p-entries">
                        <title>{move || format!("{tip}  {} {}  {} {}  {} {}", i18n.t(Key::StatsEntries), c.entries,
                            i18n.t(Key::StatsExits), c.exits, i18n.t(Key::StatsRefused), c.refused)}</title>
                    </circle>
                    {(i % every == 0).then(|| view! { <text x=x(i) - 22.0 y=H - 6.0 class="tick">{label}</text> })}
                }
            }).collect_view()}
        </svg>
    }
}

/// The numbers, as a table.
#[component]
fn CountTable(id: &'static str, label: Key, rows: Vec<StatRow>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <table class="counts" id=id>
            <thead><tr>
                <th>{move || i18n.t(label)}</th>
                <th>{move || i18n.t(Key::StatsEntries)}</th>
                <th>{move || i18n.t(Key::StatsExits)}</th>
                <th>{move || i18n.t(Key::StatsRefused)}</th>
                <th>{move || i18n.t(Key::StatsFevers)}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let by_phone = r.label == venuecode_ipc::SELF_INSPECTOR;
                    let name = r.label.clone();
                    view! {
                    <tr>
                        <td>{move || if by_phone { i18n.t(Key::PhoneBadge).to_string() } else { name.clone() }}</td>
                        <td class="n">{r.counts.entries}</td>
                        <td class="n">{r.counts.exits}</td>
                        <td class="n">{r.counts.refused}</td>
                        <td class="n">{r.counts.fevers}</td>
                    </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
