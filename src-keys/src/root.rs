//! Root rotation (`venuecode rotate root`): a new offline root takes over from the old one, which
//! signs the hand-over ([`Succession`]); the chain of hand-overs goes to the server
//! (`server/root-chain`, one base64 link per line, oldest first), which sends it with every
//! answer so stations holding an older root follow it before checking the new root's delegation.
//!
//! Invariants: the hand-over is written before anything the new root signs, so a crash leaves
//! either the old deployment or a chain that already names the new root; the old root key is
//! moved to `OUT/retired/` (0600) for the operator to destroy once no station needs it — it is
//! never read again; the trust list moves to the new root with its version raised, and the
//! server key gets a fresh delegation from the new root.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use venuecode_core::keys::SecretKey;
use venuecode_core::sync::Succession;
use venuecode_core::trust::TrustList;

use crate::{
    delegate, held_trust, mkdir, publish_trust, random_bytes, read_text, write, DeploymentError,
    DELEGATION_DAYS,
};

/// The chain file, in `OUT/` and in `OUT/server/`.
pub const CHAIN_FILE: &str = "root-chain";

/// Reads a chain file (absent: no rotation yet).
pub fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, DeploymentError> {
    use base64::Engine;
    if !path.exists() {
        return Ok(Vec::new());
    }
    read_text(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            base64::engine::general_purpose::STANDARD
                .decode(l.trim())
                .map_err(|_| DeploymentError::Bad {
                    path: path.to_path_buf(),
                    what: "a line is not base64",
                })
        })
        .collect()
}

/// Replaces the root key of the deployment in `out`; returns the new trust list version. The
/// trust list keeps its keys and lasts `trust_days` from `now`.
pub fn rotate_root(
    out: &Path,
    now: DateTime<Utc>,
    trust_days: i64,
) -> Result<u64, DeploymentError> {
    use base64::Engine;
    let (old, held) = held_trust(out)?;
    let new = SecretKey::from_seed(&random_bytes()?);
    let link = Succession {
        new_root: new.public(),
        issued_at: now,
    }
    .sign(&old);
    let mut chain = read_chain(&out.join(CHAIN_FILE))?;
    chain.push(link);
    let text = chain
        .iter()
        .map(|l| base64::engine::general_purpose::STANDARD.encode(l))
        .collect::<Vec<_>>()
        .join("\n");
    mkdir(&out.join("server"))?;
    write(&out.join(CHAIN_FILE), &text, false)?;
    write(&out.join("server").join(CHAIN_FILE), &text, false)?;
    // The old root leaves the working directory: kept only for the operator to destroy.
    let retired = out.join("retired");
    mkdir(&retired)?;
    write(
        &retired.join(format!("root-{}.key", old.public().key_id())),
        &old.to_hex(),
        true,
    )?;
    write(&out.join("root.key"), &new.to_hex(), true)?;
    write(&out.join("root.pub"), &new.public().to_hex(), false)?;
    write(&out.join("server/root.pub"), &new.public().to_hex(), false)?;
    let list = TrustList {
        version: held.version + 1,
        issued_at: now,
        expires_at: now + Duration::days(trust_days),
        ..held
    };
    publish_trust(out, &new, &list)?;
    delegate(out, now, DELEGATION_DAYS)?;
    Ok(list.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{keygen, public_key, KeygenOptions, ServerKeys};
    use venuecode_core::sync::follow;

    #[test]
    fn the_root_rotates_twice_and_a_station_holding_the_first_follows_to_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let now = Utc::now();
        keygen(
            out,
            &KeygenOptions {
                issuer: "示例卫健委",
                venue_authority: "示例场所码平台",
                now,
                valid_days: 30,
                demo: false,
                server_names: &["127.0.0.1"],
            },
        )
        .unwrap();
        let first = public_key(&out.join("root.pub")).unwrap();
        let before = ServerKeys::load(&out.join("server")).unwrap();
        assert!(before.root_chain.is_empty());
        assert_eq!(rotate_root(out, now, 30).unwrap(), 2);
        assert_eq!(rotate_root(out, now, 30).unwrap(), 3);
        let last = public_key(&out.join("root.pub")).unwrap();
        assert!(last != first);
        let server = ServerKeys::load(&out.join("server")).unwrap();
        assert_eq!(server.root_chain.len(), 2);
        // A station holding the first root reaches the last; the trust list, delegation and
        // issuing keys carry over, all under the new root.
        assert_eq!(follow(&first, &server.root_chain).unwrap(), last);
        assert_eq!(server.trust.version, 3);
        assert_eq!(server.trust.keys, before.trust.keys);
        assert!(
            server.key.public() != before.key.public(),
            "a fresh server key"
        );
        // The retired roots are kept apart (0600) and never read; the working root is the new.
        let retired: Vec<_> = std::fs::read_dir(out.join("retired")).unwrap().collect();
        assert_eq!(retired.len(), 2);
        assert!(!out.join("server/root.key").exists());
        // A chain that does not lead to root.pub is refused at the server's start.
        let chain = out.join("server").join(CHAIN_FILE);
        let text = std::fs::read_to_string(&chain).unwrap();
        let first_link = text.lines().next().unwrap().to_string();
        std::fs::write(&chain, format!("{first_link}\n")).unwrap();
        let e = ServerKeys::load(&out.join("server")).err().unwrap();
        assert!(e.to_string().contains("root-chain"), "{e}");
    }
}
