//! The deployment's own TLS: a CA made with the deployment (its key stays offline with the root
//! key), a server certificate signed by it for the names stations use, and the CA certificate
//! stations pin. Made with rcgen (ECDSA P-256, the ring backend rustls uses).
//!
//! Files: `OUT/tls-ca.key` (0600, offline), `OUT/ca.pem` (stations pin it; a copy in `server/`),
//! `OUT/server/tls.crt`, `OUT/server/tls.key` (0600).
//!
//! Invariant: the server certificate names only the given hosts, is valid from a day before
//! `now` for [`SERVER_CERT_DAYS`], and is usable only for server authentication.

use std::path::Path;

use chrono::{DateTime, Datelike, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use crate::{write, DeploymentError};

/// How long a server certificate lasts.
pub const SERVER_CERT_DAYS: i64 = 397;
/// How long the deployment CA lasts.
pub const CA_DAYS: i64 = 3650;

fn tls_err(path: &Path, e: rcgen::Error) -> DeploymentError {
    DeploymentError::Tls {
        path: path.to_path_buf(),
        what: e.to_string(),
    }
}

/// Valid from the day before `now` for `days` (whole days: clocks differ).
fn validity(params: &mut CertificateParams, now: DateTime<Utc>, days: i64) {
    let day = |t: DateTime<Utc>| rcgen::date_time_ymd(t.year(), t.month() as u8, t.day() as u8);
    params.not_before = day(now - Duration::days(1));
    params.not_after = day(now + Duration::days(days));
}

/// The CA certificate for `ca_key`: the same subject and key every time, so a certificate made
/// again for an existing key signs server certificates the pinned `ca.pem` verifies.
fn ca_certificate(
    out: &Path,
    ca_key: &KeyPair,
    now: DateTime<Utc>,
) -> Result<rcgen::Certificate, DeploymentError> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| tls_err(out, e))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "VenueCode deployment CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut ca, now, CA_DAYS);
    ca.self_signed(ca_key).map_err(|e| tls_err(out, e))
}

/// Writes a new server key and certificate for `names` into `out/server`, signed by the CA.
fn server_certificate(
    out: &Path,
    names: &[&str],
    now: DateTime<Utc>,
    ca_cert: &rcgen::Certificate,
    ca_key: &KeyPair,
) -> Result<(), DeploymentError> {
    let key = KeyPair::generate().map_err(|e| tls_err(out, e))?;
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut leaf = CertificateParams::new(names).map_err(|e| tls_err(out, e))?;
    leaf.distinguished_name
        .push(DnType::CommonName, "VenueCode server");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut leaf, now, SERVER_CERT_DAYS);
    let cert = leaf
        .signed_by(&key, ca_cert, ca_key)
        .map_err(|e| tls_err(out, e))?;
    let server = out.join("server");
    write(&server.join("tls.crt"), cert.pem().trim_end(), false)?;
    write(
        &server.join("tls.key"),
        key.serialize_pem().trim_end(),
        true,
    )
}

/// Makes the CA and a server certificate for `names` (DNS names or IP addresses) in `out`.
pub fn make_tls(out: &Path, names: &[&str], now: DateTime<Utc>) -> Result<(), DeploymentError> {
    let ca_key = KeyPair::generate().map_err(|e| tls_err(out, e))?;
    let ca_cert = ca_certificate(out, &ca_key, now)?;
    write(
        &out.join("tls-ca.key"),
        ca_key.serialize_pem().trim_end(),
        true,
    )?;
    write(&out.join("ca.pem"), ca_cert.pem().trim_end(), false)?;
    write(&out.join("server/ca.pem"), ca_cert.pem().trim_end(), false)?;
    server_certificate(out, names, now, &ca_cert, &ca_key)
}

/// Rotates the server's TLS key: a new key and certificate for `names`, signed by the
/// deployment's CA (`out/tls-ca.key`); `ca.pem`, which stations pin, does not change.
pub fn renew_server_certificate(
    out: &Path,
    names: &[&str],
    now: DateTime<Utc>,
) -> Result<(), DeploymentError> {
    let path = out.join("tls-ca.key");
    let pem = crate::read_text(&path)?;
    let ca_key = KeyPair::from_pem(&pem).map_err(|e| tls_err(&path, e))?;
    let ca_cert = ca_certificate(out, &ca_key, now)?;
    server_certificate(out, names, now, &ca_cert, &ca_key)
}
