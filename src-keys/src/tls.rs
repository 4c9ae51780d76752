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

/// Makes the CA and a server certificate for `names` (DNS names or IP addresses) in `out`.
pub fn make_tls(out: &Path, names: &[&str], now: DateTime<Utc>) -> Result<(), DeploymentError> {
    let day = |t: DateTime<Utc>| rcgen::date_time_ymd(t.year(), t.month() as u8, t.day() as u8);
    let ca_key = KeyPair::generate().map_err(|e| tls_err(out, e))?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| tls_err(out, e))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "VenueCode deployment CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = day(now - Duration::days(1));
    ca.not_after = day(now + Duration::days(CA_DAYS));
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| tls_err(out, e))?;

    let key = KeyPair::generate().map_err(|e| tls_err(out, e))?;
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut leaf = CertificateParams::new(names).map_err(|e| tls_err(out, e))?;
    leaf.distinguished_name
        .push(DnType::CommonName, "VenueCode server");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = day(now - Duration::days(1));
    leaf.not_after = day(now + Duration::days(SERVER_CERT_DAYS));
    let cert = leaf
        .signed_by(&key, &ca_cert, &ca_key)
        .map_err(|e| tls_err(out, e))?;

    write(
        &out.join("tls-ca.key"),
        ca_key.serialize_pem().trim_end(),
        true,
    )?;
    write(&out.join("ca.pem"), ca_cert.pem().trim_end(), false)?;
    let server = out.join("server");
    write(&server.join("ca.pem"), ca_cert.pem().trim_end(), false)?;
    write(&server.join("tls.crt"), cert.pem().trim_end(), false)?;
    write(
        &server.join("tls.key"),
        key.serialize_pem().trim_end(),
        true,
    )
}
