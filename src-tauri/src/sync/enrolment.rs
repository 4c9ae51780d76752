//! Enrolment and device keys: a new key pair, binding it to a venue with a declaration code, the
//! root a station trusts, and replacing the key (rotation) with the old key's consent.
//!
//! Invariants: a key is kept only with the binding the server confirmed in a verified answer; a
//! rotation keeps the old key until the server has bound the new one, so a crash or a lost answer
//! never leaves the station without a working key.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use venuecode_core::gate::Direction;
use venuecode_core::keys::{hex, PublicKey, SecretKey};
use venuecode_core::sync::{self as wire, EnrolResponse};

use super::client::{random_bytes, Client, Transport};
use super::time::TimeKeeper;
use super::SyncError;
use crate::store::Store;

/// A new device key pair: `(secret hex, device id)`.
pub fn new_device_key() -> Result<(String, String), SyncError> {
    let key = SecretKey::from_seed(&random_bytes()?);
    let id = wire::device_id(&key.public());
    Ok((key.to_hex(), id))
}

/// What an enrolment asks for.
#[derive(Debug, Clone)]
pub struct Enrolment<'a> {
    pub server_url: &'a str,
    pub declaration_code: &'a str,
    pub inspector: &'a str,
    pub checkpoint_id: Option<&'a str>,
    pub direction: Direction,
    /// Plain HTTP allowed (development flag).
    pub allow_http: bool,
}

/// The root key the station trusts (built in or pinned), as a sync error when missing.
pub fn station_root(store: &mut Store, data_dir: &Path) -> Result<PublicKey, SyncError> {
    crate::checking::root_key(store, data_dir).map_err(|r| {
        SyncError::Trust(format!(
            "{r:?}: the station has no root key (provision trust/root.pub before enrolling)"
        ))
    })
}

/// Whether an enrolment refusal is about the key (bound to another venue, or revoked), so
/// another key may still enrol with the same declaration code.
fn refuses_key(e: &SyncError) -> bool {
    matches!(e, SyncError::Server { body, .. }
        if matches!(body.error.as_str(), "enrolled_elsewhere" | "device_revoked"))
}

/// Enrols the station with a declaration code. One inspector may serve several venues and the
/// server binds a key to one venue, so the keys are tried in turn: the active venue's key (or a
/// first key: a re-enrolment at the same venue moves the station to the chosen door), then each
/// parked venue's key (the station switches to that venue), then a new key for a venue the
/// station has not held, which becomes active while the venue that was active is parked (its
/// records still sync under its own key).
pub fn enrol(
    store: &mut Store,
    data_dir: &Path,
    time: &Arc<TimeKeeper>,
    e: &Enrolment<'_>,
) -> Result<EnrolResponse, SyncError> {
    let root = station_root(store, data_dir)?;
    let transport = Transport::for_station(store, data_dir, e.allow_http)?;
    let client_for = |key: SecretKey| {
        Client::new(
            e.server_url,
            key,
            root,
            time.clone(),
            StdDuration::from_secs(20),
            &transport,
        )
    };
    // A root the verified chain moved to while asking; kept in the store after each answer.
    let new_root: std::cell::Cell<Option<PublicKey>> = std::cell::Cell::new(None);
    let ask = |client: &Client| -> Result<EnrolResponse, SyncError> {
        let res = client.enrol(e.declaration_code, e.inspector, e.checkpoint_id);
        if let Some(root) = client.take_new_root() {
            new_root.set(Some(root));
        }
        res
    };
    let parse = |hex: &str| {
        SecretKey::from_hex(hex)
            .map_err(|_| SyncError::Decode("stored device key is damaged".into()))
    };
    let binding_of = |res: &EnrolResponse| venuecode_core::checkin::Binding {
        venue_id: res.venue.venue_id.clone(),
        venue_name: res.venue.name.clone(),
        checkpoint_id: res.checkpoint_id.clone(),
        inspector: res.inspector.clone(),
        direction: e.direction,
    };
    let venue_json = |res: &EnrolResponse| {
        serde_json::to_string(&res.venue).map_err(|e| SyncError::Decode(e.to_string()))
    };

    // 1. The active key (made now if the station has none yet).
    let active = store.device()?;
    let active_enrolled = active.as_ref().is_some_and(|d| d.venue_id.is_some());
    let device = match active {
        Some(d) => d,
        None => {
            let (secret, id) = new_device_key()?;
            store.create_device(&secret, &id, e.server_url)?
        }
    };
    let first = client_for(parse(&device.secret_key)?)?;
    first.measure_clock()?;
    let outcome = ask(&first);
    let keep_root = |store: &mut Store| -> Result<(), SyncError> {
        if let Some(root) = new_root.take() {
            store.move_root(&root.to_hex())?;
        }
        Ok(())
    };
    let active_refusal = match outcome {
        Ok(res) => {
            keep_root(store)?;
            let binding = binding_of(&res);
            store.set_enrolment(&binding, time.now())?;
            // What the station recorded while bound by hand for the demo never syncs.
            store.drop_unsent_of_other_venues(&binding.venue_id)?;
            store.put_sync_values(&[("venue", venue_json(&res)?)])?;
            return Ok(res);
        }
        Err(err) if active_enrolled && refuses_key(&err) => err.code(),
        Err(err) => {
            keep_root(store)?;
            return Err(err);
        }
    };
    keep_root(store)?;
    let revoked = (active_refusal == "device_revoked").then_some("device_revoked");

    // 2. A parked venue's key: the code is that venue's; switch to it.
    for p in store.parked_venues()? {
        match ask(&client_for(parse(&p.secret_key)?)?) {
            Ok(res) => {
                keep_root(store)?;
                store.switch_venue(&p.binding.venue_id)?;
                if let Some(problem) = revoked {
                    store.set_parked_problem(&device_venue(&device), Some(problem))?;
                }
                store.set_enrolment(&binding_of(&res), time.now())?;
                store.put_sync_values(&[("venue", venue_json(&res)?)])?;
                return Ok(res);
            }
            Err(err) if refuses_key(&err) => keep_root(store)?,
            Err(err) => {
                keep_root(store)?;
                return Err(err);
            }
        }
    }

    // 3. A venue this station has not held: a new key of its own.
    let (secret, id) = new_device_key()?;
    let res = ask(&client_for(parse(&secret)?)?);
    keep_root(store)?;
    let res = res?;
    let binding = binding_of(&res);
    store.adopt_enrolment(
        &crate::store::NewEnrolment {
            secret_key: &secret,
            device_id: &id,
            server_url: e.server_url,
            binding: &binding,
            venue_json: &venue_json(&res)?,
        },
        time.now(),
        revoked,
    )?;
    Ok(res)
}

/// The venue a device row is enrolled at (empty when none).
fn device_venue(d: &crate::store::DeviceRow) -> String {
    d.venue_id.clone().unwrap_or_default()
}

/// Replaces the station's device key: a new key is made and kept as pending first (a crash or a
/// lost answer is finished on the next try with the same key), the server is asked under the new
/// key with the old key's consent, then the new key replaces the old one in the store. Returns
/// the new device id.
pub fn rotate_device_key(
    store: &mut Store,
    base: &str,
    root: PublicKey,
    time: &Arc<TimeKeeper>,
    transport: &Transport,
) -> Result<String, SyncError> {
    let device = store.device()?.ok_or(SyncError::NotEnrolled)?;
    let old = SecretKey::from_hex(&device.secret_key)
        .map_err(|_| SyncError::Decode("stored device key is damaged".into()))?;
    let pending_hex = match store.pending_device_key()? {
        Some(hex) => hex,
        None => {
            let (secret, _) = new_device_key()?;
            store.set_pending_device_key(&secret)?;
            secret
        }
    };
    let pending = || {
        SecretKey::from_hex(&pending_hex)
            .map_err(|_| SyncError::Decode("pending device key is damaged".into()))
    };
    let new_public = pending()?.public();
    let consent = hex(&old.sign(&wire::key_rotation_bytes(&device.device_id, &new_public)));
    let client = Client::new(
        base,
        pending()?,
        root,
        time.clone(),
        StdDuration::from_secs(20),
        transport,
    )?;
    let res = client.rotate(&device.device_id, &consent)?;
    if res.device_id != wire::device_id(&new_public) {
        return Err(SyncError::Decode(format!(
            "the server named device {} for the new key",
            res.device_id
        )));
    }
    store.adopt_pending_device_key(&res.device_id)?;
    Ok(res.device_id)
}
