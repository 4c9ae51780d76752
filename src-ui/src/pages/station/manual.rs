//! 手工登记: a person without a phone, by ID number, optionally vouched for by a relative present.

use leptos::prelude::*;
use leptos::task::spawn_local;
use venuecode_ipc::{ManualField, ManualOutcome, ProxyInput, RegisterManual, Relation};

use super::{show_verdict, ScanState, Via};
use crate::api::invoke;
use crate::i18n::{id_error_key, relation_key, use_i18n, Key};

/// The element id of a relation's button (`rel-child`, …).
fn relation_id(r: Relation) -> &'static str {
    match r {
        Relation::Parent => "rel-parent",
        Relation::Child => "rel-child",
        Relation::Spouse => "rel-spouse",
        Relation::Grandparent => "rel-grandparent",
        Relation::Grandchild => "rel-grandchild",
        Relation::Sibling => "rel-sibling",
        Relation::Other => "rel-other",
    }
}

/// 手工登记: a person without a phone, by ID number, optionally vouched for by a relative present.
#[component]
pub(super) fn ManualPanel(st: ScanState) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let (id, name, phone) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let proxy_on = RwSignal::new(false);
    let (proxy_name, proxy_phone, relation) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(None::<Relation>),
    );
    let id_error = RwSignal::new(None::<Key>);
    let field_error = RwSignal::new(None::<Key>);
    let submit = move |_| {
        let req = RegisterManual {
            id_number: id.get_untracked(),
            name: name.get_untracked(),
            phone: Some(phone.get_untracked()),
            temperature: st.temp.get_untracked(),
            proxy: proxy_on.get_untracked().then(|| ProxyInput {
                name: proxy_name.get_untracked(),
                phone: proxy_phone.get_untracked(),
                relation: relation.get_untracked(),
                code: st.proxy_code.get_untracked().map(|(text, _)| text),
            }),
        };
        spawn_local(async move {
            match invoke(&req).await {
                Ok(ManualOutcome::Registered { verdict }) => {
                    id_error.set(None);
                    field_error.set(None);
                    for s in [id, name, phone, proxy_name, proxy_phone] {
                        s.set(String::new());
                    }
                    relation.set(None);
                    proxy_on.set(false);
                    st.proxy_code.set(None);
                    open.set(false);
                    show_verdict(st, String::new(), verdict, Via::Manual);
                }
                Ok(ManualOutcome::IdInvalid { reason }) => {
                    field_error.set(None);
                    id_error.set(Some(id_error_key(reason)));
                }
                Ok(ManualOutcome::FieldInvalid { field }) => {
                    id_error.set(None);
                    field_error.set(Some(match field {
                        ManualField::Name => Key::FieldName,
                        ManualField::ProxyName => Key::FieldProxyName,
                        ManualField::ProxyCode => Key::FieldProxyCode,
                        ManualField::Relation => Key::FieldRelation,
                    }));
                }
                Err(e) => st.error.set(Some(e)),
            }
        });
    };
    let input = move |id_attr: &'static str, key: Key, sig: RwSignal<String>| {
        view! {
            <label>
                <span>{move || i18n.t(key)}</span>
                <input id=id_attr type="text" prop:value=move || sig.get() on:input=move |e| sig.set(event_target_value(&e)) />
            </label>
        }
    };
    view! {
        <section class="card manual" id="manual">
            <Show when=move || open.get() fallback=move || view! {
                <button id="manual-open" on:click=move |_| open.set(true)>{move || i18n.t(Key::ManualOpen)}</button>
            }>
                <h2>{move || i18n.t(Key::ManualTitle)}</h2>
                <div class="manual-form">
                    <label class:invalid=move || id_error.get().is_some()>
                        <span>{move || i18n.t(Key::IdNumber)}</span>
                        <input id="manual-id" type="text" inputmode="numeric" prop:value=move || id.get()
                            on:input=move |e| { id.set(event_target_value(&e)); id_error.set(None); } />
                        {move || id_error.get().map(|k| view! { <span class="field-error" id="manual-id-error">{move || i18n.t(k)}</span> })}
                    </label>
                    {input("manual-name", Key::PersonName, name)}
                    {input("manual-phone", Key::PhoneOptional, phone)}
                </div>
                <button id="proxy-toggle" class:selected=move || proxy_on.get() on:click=move |_| proxy_on.update(|v| *v = !*v)>
                    {move || i18n.t(Key::ProxyToggle)}
                </button>
                <Show when=move || proxy_on.get()>
                    <div class="proxy-scan">
                        <button id="proxy-scan" class:selected=move || st.proxy_scan.get()
                            on:click=move |_| { st.proxy_code.set(None); st.proxy_scan.update(|v| *v = !*v); }>
                            {move || i18n.t(Key::ProxyScan)}
                        </button>
                        {move || st.proxy_scan.get().then(|| view! { <span id="proxy-scan-waiting">{move || i18n.t(Key::ProxyScanWaiting)}</span> })}
                        {move || st.proxy_code.get().map(|(_, who)| view! {
                            <span id="proxy-scanned">{move || i18n.t(Key::ProxyScanned)}{who.clone()}</span>
                        })}
                    </div>
                    <Show when=move || st.proxy_code.get().is_none()>
                        <div class="manual-form">
                            {input("proxy-name", Key::ProxyName, proxy_name)}
                            {input("proxy-phone", Key::ProxyPhone, proxy_phone)}
                        </div>
                    </Show>
                    <p>{move || i18n.t(Key::ProxyIs)}</p>
                    <div class="relations">
                        {Relation::ALL.into_iter().map(|r| view! {
                            <button id=relation_id(r) class:selected=move || relation.get() == Some(r) on:click=move |_| relation.set(Some(r))>
                                {move || i18n.t(relation_key(r))}
                            </button>
                        }).collect_view()}
                    </div>
                </Show>
                {move || field_error.get().map(|k| view! { <p class="field-error" id="manual-field-error">{move || i18n.t(k)}</p> })}
                <div class="run-buttons">
                    <button id="manual-submit" class="primary" on:click=submit>{move || i18n.t(Key::Register)}</button>
                    <button id="manual-close" on:click=move |_| open.set(false)>{move || i18n.t(Key::Close)}</button>
                </div>
            </Show>
        </section>
    }
}
