//! The one door to the Tauri side: a generic, typed `invoke` over `venuecode_ipc::Command`.
//!
//! Invariant: no other module calls into Tauri; request, response and event types come from
//! `venuecode-ipc`, never hand-built JSON.

use venuecode_ipc::{Command, ErrorCode, IpcError, ARG};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(event: &str, handler: &js_sys::Function) -> Result<JsValue, JsValue>;
}

/// A subscription to an app event; dropping it unsubscribes.
pub struct Subscription {
    unlisten: Option<js_sys::Function>,
    _handler: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(f) = self.unlisten.take() {
            let _ = f.call0(&JsValue::NULL);
        }
    }
}

/// Subscribes to the app event `name`, decoding each payload as `T` (undecodable ones are
/// skipped: a version mismatch must not take the screen down).
pub async fn listen<T, F>(name: &str, mut on_event: F) -> Result<Subscription, IpcError>
where
    T: serde::de::DeserializeOwned + 'static,
    F: FnMut(T) + 'static,
{
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload =
            js_sys::Reflect::get(&event, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        if let Ok(value) = serde_wasm_bindgen::from_value::<T>(payload) {
            on_event(value);
        }
    });
    let unlisten = tauri_listen(name, handler.as_ref().unchecked_ref())
        .await
        .map_err(|e| bridge_error(format!("cannot listen to {name}: {e:?}")))?;
    Ok(Subscription {
        unlisten: unlisten.dyn_into::<js_sys::Function>().ok(),
        _handler: handler,
    })
}

fn bridge_error(detail: impl Into<String>) -> IpcError {
    IpcError {
        code: ErrorCode::Bridge,
        detail: detail.into(),
    }
}

/// Calls the command `C` with `req` and decodes its typed response or error.
pub async fn invoke<C: Command>(req: &C) -> Result<C::Response, IpcError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let req = req
        .serialize(&serializer)
        .map_err(|e| bridge_error(format!("cannot encode request: {e}")))?;
    let args = js_sys::Object::new();
    js_sys::Reflect::set(&args, &JsValue::from_str(ARG), &req)
        .map_err(|_| bridge_error("cannot build arguments"))?;
    match tauri_invoke(C::NAME, args.into()).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|e| bridge_error(format!("cannot decode response of {}: {e}", C::NAME))),
        Err(err) => Err(serde_wasm_bindgen::from_value::<IpcError>(err.clone())
            .unwrap_or_else(|_| bridge_error(format!("{} failed: {err:?}", C::NAME)))),
    }
}
