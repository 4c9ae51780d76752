//! The exchange between the stations of one venue on its local network (issue 18), so that
//! presence is shared between the gates while the internet is down.
//!
//! Discovery is DNS-SD over multicast DNS ([`SERVICE_TYPE`], the venue in a TXT record); what is
//! found is only a hint — trust comes from the messages. Each station proves membership with a
//! [`LanCredential`]: the root's delegation of the server key (the one stations already check
//! answers against) and a [`DeviceCert`] the server signed with that key, binding the device's
//! enrolled Ed25519 key to its venue and door. A station checks a peer's credential offline
//! against the root it holds, so a device of another venue, or one the server never enrolled, is
//! not heard, and a station enrolled later is heard without asking the server.
//!
//! The exchange is pull-based anti-entropy over each station's log of passages (own check-ins,
//! residents' phone check-ins, passages heard from others), numbered in the order the station
//! learned them: a station asks a peer for what it learned after the number last received
//! ([`LanAsk`], signed by the asker's device key), and the peer answers with the passages
//! ([`LanReply`], signed by its key) sealed to a one-time X25519 key the asker put in its ask
//! (pseudonyms and times stay off the air). Because everything a station knows is in its log,
//! what one gate heard from a second reaches a third, a station that was cut off catches up from
//! its mark, and a new one from zero. Passages merge by id (core `presence`, a grow-only set), so
//! a passage heard on the LAN and again through the server counts once.
//!
//! Invariants: pure (time, keys and randomness are arguments); a message is refused unless its
//! credential chains to the root, names the receiver's venue, is within its validity, and its
//! signature verifies under the certified key over the exact bytes sent; a reply must answer the
//! ask's nonce; a passage that is malformed or from too far in the future is dropped.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::keys::{hex, parse_hex, PublicKey, SecretKey};
use crate::presence::Passage;
use crate::seal;
use crate::sync::{device_id, Delegation};

/// The DNS-SD service type stations advertise and browse.
pub const SERVICE_TYPE: &str = "_venuecode._tcp.local.";
/// The TXT keys of an advertisement: the venue and the device.
pub const TXT_VENUE: &str = "venue";
pub const TXT_DEVICE: &str = "device";
/// The one HTTP path of the exchange (POST a signed ask, get a signed reply).
pub const EXCHANGE_PATH: &str = "/venuecode/lan/v1/passages";
/// How far a message's time may differ from the receiver's trusted time.
pub const LAN_SKEW: Duration = Duration::minutes(10);
/// How long a device certificate stays valid: a venue may be offline for weeks.
pub const CERT_LIFETIME: Duration = Duration::days(30);
/// Most passages one reply carries; the asker asks again from `upto` while `more` is set.
pub const REPLY_PAGE: usize = 2_000;
/// Largest message body either side reads.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

const CERT_TAG: &[u8] = b"venuecode/lan-cert/v1\0";
const ASK_TAG: &[u8] = b"venuecode/lan-ask/v1\0";
const REPLY_TAG: &[u8] = b"venuecode/lan-reply/v1\0";
const SEAL_LABEL: &[u8] = b"venuecode/lan-passages/v1\0";

/// Why a message from another station was not heard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanError {
    #[error("the message is not a signed exchange message: {0}")]
    Malformed(String),
    #[error("the peer's server key is not delegated by this deployment's root: {0}")]
    Delegation(String),
    #[error("the peer's device certificate is not signed by this deployment's server")]
    BadCertificate,
    #[error(
        "the peer's device certificate is valid from {not_before} to {not_after}, not at {at}"
    )]
    CertificateExpired {
        at: DateTime<Utc>,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    },
    #[error("the peer belongs to venue {theirs}, not to this station's venue {ours}: ignored")]
    OtherVenue { theirs: String, ours: String },
    #[error("the message's signature does not verify under the peer's certified key")]
    BadSignature,
    #[error("the message's time {at} is more than 10 minutes from this station's {now}")]
    Stale {
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("the reply does not answer this station's ask")]
    WrongNonce,
    #[error("the reply's passages do not open with this ask's key")]
    DoesNotOpen,
}

/// The server's statement that a device key is enrolled at a venue's door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCert {
    pub device_id: String,
    /// The device's Ed25519 public key (hex).
    pub public_key: String,
    pub venue_id: String,
    pub checkpoint_id: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// What a station presents to its peers: the root's delegation of the server key (base64 of the
/// COSE bytes, as in answers) and the certificate that key signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanCredential {
    pub delegation: String,
    /// Base64 of the certificate's JSON bytes, signed as they are.
    pub cert: String,
    /// Hex Ed25519 signature by the server key over the tag and those bytes.
    pub signature: String,
}

/// A signed message: base64 of the JSON bytes, and the sender's signature over tag and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    pub body: String,
    pub signature: String,
}

/// "What did you learn after `after`?" — from a station to a peer of its venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanAsk {
    pub from: LanCredential,
    pub venue_id: String,
    /// The peer's log identity the mark belongs to ("" at first): a peer whose log was made
    /// anew (reinstalled) answers from the start.
    pub epoch: String,
    pub after: u64,
    /// The one-time X25519 public key (hex) the reply's passages are sealed to.
    pub reply_key: String,
    pub nonce: String,
    pub at: DateTime<Utc>,
}

/// The answer: the passages the peer learned after the mark, sealed to the ask's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanReply {
    pub from: LanCredential,
    pub nonce: String,
    pub at: DateTime<Utc>,
    pub epoch: String,
    /// The log number reached: the next ask starts after it.
    pub upto: u64,
    pub more: bool,
    pub sealed: String,
}

/// A checked reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    pub peer: DeviceCert,
    pub epoch: String,
    pub upto: u64,
    pub more: bool,
    /// Well-formed passages of the venue (malformed ones dropped).
    pub passages: Vec<Passage>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn tagged(tag: &[u8], bytes: &[u8]) -> Vec<u8> {
    [tag, bytes].concat()
}

impl LanCredential {
    /// The server issues a device's credential (at every pull: a renewed certificate).
    pub fn issue(server: &SecretKey, delegation: &[u8], cert: &DeviceCert) -> LanCredential {
        let bytes = serde_json::to_vec(cert).unwrap_or_default();
        LanCredential {
            delegation: b64().encode(delegation),
            signature: hex(&server.sign(&tagged(CERT_TAG, &bytes))),
            cert: b64().encode(bytes),
        }
    }

    /// Checks the credential against the deployment's `root` at `now` and returns the
    /// certificate and the device key it vouches for.
    pub fn verify(
        &self,
        root: &PublicKey,
        now: DateTime<Utc>,
    ) -> Result<(DeviceCert, PublicKey), LanError> {
        let malformed = |what: &str| LanError::Malformed(what.to_string());
        let delegation = b64()
            .decode(&self.delegation)
            .map_err(|_| malformed("delegation is not base64"))?;
        let d = Delegation::verify(&delegation, root)
            .map_err(|e| LanError::Delegation(e.to_string()))?;
        if now < d.not_before || now > d.not_after {
            return Err(LanError::Delegation(format!(
                "delegated for {} to {}, not for {now}",
                d.not_before, d.not_after
            )));
        }
        let bytes = b64()
            .decode(&self.cert)
            .map_err(|_| malformed("certificate is not base64"))?;
        let signature = parse_hex(&self.signature).map_err(|_| LanError::BadCertificate)?;
        if !d.key.verify(&tagged(CERT_TAG, &bytes), &signature) {
            return Err(LanError::BadCertificate);
        }
        let cert: DeviceCert =
            serde_json::from_slice(&bytes).map_err(|_| malformed("certificate content"))?;
        let key = PublicKey::from_hex(&cert.public_key).map_err(|_| LanError::BadCertificate)?;
        if device_id(&key) != cert.device_id {
            return Err(LanError::BadCertificate);
        }
        if now < cert.not_before || now > cert.not_after {
            return Err(LanError::CertificateExpired {
                at: now,
                not_before: cert.not_before,
                not_after: cert.not_after,
            });
        }
        Ok((cert, key))
    }
}

fn sign(tag: &[u8], key: &SecretKey, value: &impl Serialize) -> Signed {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Signed {
        signature: hex(&key.sign(&tagged(tag, &bytes))),
        body: b64().encode(bytes),
    }
}

fn body(env: &Signed) -> Result<Vec<u8>, LanError> {
    if env.body.len() > MAX_MESSAGE_BYTES {
        return Err(LanError::Malformed("too large".into()));
    }
    b64()
        .decode(&env.body)
        .map_err(|_| LanError::Malformed("body is not base64".into()))
}

/// The credential checked, the venue the receiver's, the signature the certified key's.
fn check_sender(
    tag: &[u8],
    env: &Signed,
    bytes: &[u8],
    from: &LanCredential,
    root: &PublicKey,
    venue: &str,
    now: DateTime<Utc>,
) -> Result<DeviceCert, LanError> {
    let (cert, key) = from.verify(root, now)?;
    if cert.venue_id != venue {
        return Err(LanError::OtherVenue {
            theirs: cert.venue_id,
            ours: venue.to_string(),
        });
    }
    let signature = parse_hex(&env.signature).map_err(|_| LanError::BadSignature)?;
    if !key.verify(&tagged(tag, bytes), &signature) {
        return Err(LanError::BadSignature);
    }
    Ok(cert)
}

fn fresh(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), LanError> {
    if (at - now).abs() > LAN_SKEW {
        return Err(LanError::Stale { at, now });
    }
    Ok(())
}

impl LanAsk {
    /// Signs the ask with the asker's device key.
    pub fn sign(&self, key: &SecretKey) -> Signed {
        sign(ASK_TAG, key, self)
    }

    /// Checks an ask that reached this station (of `venue`, at trusted time `now`).
    pub fn check(
        env: &Signed,
        root: &PublicKey,
        venue: &str,
        now: DateTime<Utc>,
    ) -> Result<(LanAsk, DeviceCert), LanError> {
        let bytes = body(env)?;
        let ask: LanAsk =
            serde_json::from_slice(&bytes).map_err(|e| LanError::Malformed(format!("ask: {e}")))?;
        let cert = check_sender(ASK_TAG, env, &bytes, &ask.from, root, venue, now)?;
        if ask.venue_id != venue {
            return Err(LanError::OtherVenue {
                theirs: ask.venue_id,
                ours: venue.to_string(),
            });
        }
        fresh(ask.at, now)?;
        seal::public_key_from_hex(&ask.reply_key)
            .map_err(|_| LanError::Malformed("reply key".into()))?;
        Ok((ask, cert))
    }
}

/// The context the passages are sealed under: the venue and the ask's nonce.
fn seal_context(venue: &str, nonce: &str) -> String {
    format!("{venue}\0{nonce}")
}

/// What a station answers to a checked ask.
pub struct ReplyParts<'a> {
    pub from: &'a LanCredential,
    pub epoch: &'a str,
    pub upto: u64,
    pub more: bool,
    pub passages: &'a [Passage],
}

impl LanReply {
    /// Seals `parts.passages` to the ask's one-time key (with the caller's fresh random
    /// `ephemeral`) and signs the reply with the answering station's device key.
    pub fn make(
        ask: &LanAsk,
        parts: ReplyParts<'_>,
        key: &SecretKey,
        ephemeral: [u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Signed, LanError> {
        let to = seal::public_key_from_hex(&ask.reply_key)
            .map_err(|_| LanError::Malformed("reply key".into()))?;
        let plain = serde_json::to_vec(parts.passages).unwrap_or_default();
        let sealed = seal::seal_labeled(
            SEAL_LABEL,
            &to,
            ephemeral,
            &seal_context(&ask.venue_id, &ask.nonce),
            &plain,
        )
        .map_err(|_| LanError::Malformed("reply key is not usable".into()))?;
        Ok(sign(
            REPLY_TAG,
            key,
            &LanReply {
                from: parts.from.clone(),
                nonce: ask.nonce.clone(),
                at: now,
                epoch: parts.epoch.to_string(),
                upto: parts.upto,
                more: parts.more,
                sealed,
            },
        ))
    }

    /// Checks a reply to `ask` (whose one-time secret is `reply_secret`) and opens its passages.
    pub fn check(
        env: &Signed,
        ask: &LanAsk,
        reply_secret: &[u8; 32],
        root: &PublicKey,
        now: DateTime<Utc>,
    ) -> Result<Heard, LanError> {
        let bytes = body(env)?;
        let reply: LanReply = serde_json::from_slice(&bytes)
            .map_err(|e| LanError::Malformed(format!("reply: {e}")))?;
        let peer = check_sender(
            REPLY_TAG,
            env,
            &bytes,
            &reply.from,
            root,
            &ask.venue_id,
            now,
        )?;
        if reply.nonce != ask.nonce {
            return Err(LanError::WrongNonce);
        }
        fresh(reply.at, now)?;
        let plain = seal::open_labeled(
            SEAL_LABEL,
            MAX_MESSAGE_BYTES,
            reply_secret,
            &seal_context(&ask.venue_id, &ask.nonce),
            &reply.sealed,
        )
        .map_err(|_| LanError::DoesNotOpen)?;
        let passages: Vec<Passage> = serde_json::from_slice(&plain)
            .map_err(|e| LanError::Malformed(format!("passages: {e}")))?;
        Ok(Heard {
            peer,
            epoch: reply.epoch,
            upto: reply.upto,
            more: reply.more,
            passages: passages
                .into_iter()
                .filter(|p| p.is_well_formed(now))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Direction;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    struct World {
        root: SecretKey,
        server: SecretKey,
        delegation: Vec<u8>,
    }

    fn world(seed: u8) -> World {
        let root = SecretKey::from_seed(&[seed; 32]);
        let server = SecretKey::from_seed(&[seed + 1; 32]);
        let delegation = Delegation {
            key: server.public(),
            not_before: now() - Duration::days(1),
            not_after: now() + Duration::days(365),
        }
        .sign(&root);
        World {
            root,
            server,
            delegation,
        }
    }

    fn station(w: &World, seed: u8, venue: &str) -> (SecretKey, LanCredential) {
        let key = SecretKey::from_seed(&[seed; 32]);
        let cert = DeviceCert {
            device_id: device_id(&key.public()),
            public_key: key.public().to_hex(),
            venue_id: venue.into(),
            checkpoint_id: format!("door-{seed}"),
            not_before: now() - Duration::hours(1),
            not_after: now() + CERT_LIFETIME,
        };
        (key, LanCredential::issue(&w.server, &w.delegation, &cert))
    }

    fn ask(cred: &LanCredential, venue: &str, reply_secret: &[u8; 32]) -> LanAsk {
        LanAsk {
            from: cred.clone(),
            venue_id: venue.into(),
            epoch: String::new(),
            after: 0,
            reply_key: hex(&seal::public_key(reply_secret)),
            nonce: "00112233445566778899aabbccddeeff".into(),
            at: now(),
        }
    }

    fn passage(id: &str) -> Passage {
        Passage {
            id: id.into(),
            subject: "subject-1".into(),
            checkpoint_id: "south".into(),
            direction: Direction::Entry,
            at: now() - Duration::minutes(3),
        }
    }

    fn reply(a: &LanAsk, key: &SecretKey, cred: &LanCredential, passages: &[Passage]) -> Signed {
        LanReply::make(
            a,
            ReplyParts {
                from: cred,
                epoch: "log-b",
                upto: 7,
                more: false,
                passages,
            },
            key,
            [9; 32],
            now(),
        )
        .unwrap()
    }

    #[test]
    fn two_stations_of_a_venue_exchange_sealed_passages() {
        let w = world(1);
        let (ka, ca) = station(&w, 10, "V1");
        let (kb, cb) = station(&w, 11, "V1");
        let secret = [5u8; 32];
        let a = ask(&ca, "V1", &secret);
        let env = a.sign(&ka);
        let (got, cert) = LanAsk::check(&env, &w.root.public(), "V1", now()).unwrap();
        assert_eq!(got, a);
        assert_eq!(cert.checkpoint_id, "door-10");
        let sent = vec![passage("p1"), passage("p2")];
        let r = reply(&a, &kb, &cb, &sent);
        // Nothing of the passages is readable on the air.
        assert!(!r.body.contains("subject-1"));
        let raw = String::from_utf8(b64().decode(&r.body).unwrap()).unwrap();
        assert!(!raw.contains("subject-1") && !raw.contains("south"));
        let heard = LanReply::check(&r, &a, &secret, &w.root.public(), now()).unwrap();
        assert_eq!(heard.passages, sent);
        assert_eq!((heard.upto, heard.epoch.as_str()), (7, "log-b"));
        assert_eq!(heard.peer.device_id, device_id(&kb.public()));
    }

    #[test]
    fn a_device_of_another_venue_or_deployment_is_not_heard() {
        let w = world(1);
        let (ka, ca) = station(&w, 10, "V1");
        let (kx, cx) = station(&w, 12, "V2");
        let secret = [5u8; 32];
        // Another venue's station asking this one.
        let env = ask(&cx, "V1", &secret).sign(&kx);
        assert!(matches!(
            LanAsk::check(&env, &w.root.public(), "V1", now()),
            Err(LanError::OtherVenue { .. })
        ));
        // ... or answering this one's ask.
        let a = ask(&ca, "V1", &secret);
        let r = reply(&a, &kx, &cx, &[passage("x")]);
        assert!(matches!(
            LanReply::check(&r, &a, &secret, &w.root.public(), now()),
            Err(LanError::OtherVenue { .. })
        ));
        // Another deployment's station, even claiming this venue.
        let other = world(40);
        let (ko, co) = station(&other, 41, "V1");
        let env = ask(&co, "V1", &secret).sign(&ko);
        assert!(matches!(
            LanAsk::check(&env, &w.root.public(), "V1", now()),
            Err(LanError::Delegation(_))
        ));
        // A station of the venue whose key signs someone else's certificate.
        let env = ask(&ca, "V1", &secret).sign(&kx);
        assert_eq!(
            LanAsk::check(&env, &w.root.public(), "V1", now()),
            Err(LanError::BadSignature)
        );
        let _ = ka;
    }

    #[test]
    fn altered_stale_or_misdirected_messages_are_refused() {
        let w = world(1);
        let (ka, ca) = station(&w, 10, "V1");
        let (kb, cb) = station(&w, 11, "V1");
        let secret = [5u8; 32];
        let a = ask(&ca, "V1", &secret);
        // One changed byte of the body.
        let mut env = a.sign(&ka);
        let mut raw = b64().decode(&env.body).unwrap();
        let i = raw.iter().position(|b| *b == b'0').unwrap();
        raw[i] = b'1';
        env.body = b64().encode(raw);
        assert!(LanAsk::check(&env, &w.root.public(), "V1", now()).is_err());
        // Too old.
        let env = a.sign(&ka);
        assert!(matches!(
            LanAsk::check(&env, &w.root.public(), "V1", now() + Duration::minutes(11)),
            Err(LanError::Stale { .. })
        ));
        // A certificate past its date.
        assert!(matches!(
            LanAsk::check(&env, &w.root.public(), "V1", now() + Duration::days(31)),
            Err(LanError::CertificateExpired { .. }) | Err(LanError::Stale { .. })
        ));
        // A reply to another ask (replayed), or opened with another key.
        let r = reply(&a, &kb, &cb, &[passage("p1")]);
        let mut other = a.clone();
        other.nonce = "ffeeddccbbaa99887766554433221100".into();
        assert_eq!(
            LanReply::check(&r, &other, &secret, &w.root.public(), now()),
            Err(LanError::WrongNonce)
        );
        assert_eq!(
            LanReply::check(&r, &a, &[6u8; 32], &w.root.public(), now()),
            Err(LanError::DoesNotOpen)
        );
        // Garbage never panics.
        for junk in ["", "!!", "e30=", "bnVsbA=="] {
            let env = Signed {
                body: junk.into(),
                signature: "zz".into(),
            };
            assert!(LanAsk::check(&env, &w.root.public(), "V1", now()).is_err());
            assert!(LanReply::check(&env, &a, &secret, &w.root.public(), now()).is_err());
        }
    }

    #[test]
    fn malformed_passages_are_dropped() {
        let w = world(1);
        let (ka, ca) = station(&w, 10, "V1");
        let secret = [5u8; 32];
        let a = ask(&ca, "V1", &secret);
        let mut future = passage("f");
        future.at = now() + Duration::hours(1);
        let mut empty = passage("e");
        empty.subject.clear();
        let r = reply(&a, &ka, &ca, &[passage("ok"), future, empty]);
        let heard = LanReply::check(&r, &a, &secret, &w.root.public(), now()).unwrap();
        assert_eq!(heard.passages, vec![passage("ok")]);
    }
}
