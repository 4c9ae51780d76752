//! The one door to the Tauri side: a generic, typed `invoke` over `venuecode_ipc::Command`.
//!
//! Invariant: no other module calls into Tauri; request and response types come from
//! `venuecode-ipc`, never hand-built JSON.

use venuecode_ipc::{Command, ErrorCode, IpcError, ARG};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
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
