//! How the server reaches PostgreSQL: plain, or TLS (rustls on ring) verified against the CA the
//! URL names, as libpq's `sslmode` reads.
//!
//! | `sslmode` | channel | checks |
//! |---|---|---|
//! | absent, `disable`, `prefer` | plain | none (a loopback or socket deployment) |
//! | `require` | TLS | the chain, against `sslrootcert` (required here, see below) |
//! | `verify-ca` | TLS | the chain, against `sslrootcert` |
//! | `verify-full` | TLS | the chain and the host name (or IP address) the URL connects to |
//!
//! Invariants: a TLS mode never falls back to plain; a TLS mode without `sslrootcert` is refused
//! at start (libpq's `require` would encrypt to whoever answers: an attacker in between reads
//! every record, so this server does not offer that); the roots are exactly the certificates in
//! `sslrootcert`, never the system's.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Why a database URL's TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgTlsError {
    #[error(
        "sslmode={0} needs sslrootcert=<CA file> in the database URL: without it the server \
         cannot tell the database from whoever answers on the network"
    )]
    NoRootCert(String),
    #[error("sslmode={0} is not one of disable, prefer, require, verify-ca, verify-full")]
    UnknownMode(String),
    #[error("sslrootcert {path}: {what}")]
    RootCert { path: PathBuf, what: String },
    #[error("the database URL is not a postgres:// URL: {0}")]
    Url(String),
}

/// How connections are made.
#[derive(Clone)]
pub enum PgTls {
    /// No TLS (the URL asked for none).
    Plain,
    /// TLS, verified as the mode asks.
    Tls(MakeRustlsConnect),
}

impl std::fmt::Debug for PgTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgTls::Plain => f.write_str("Plain"),
            PgTls::Tls(_) => f.write_str("Tls"),
        }
    }
}

/// Splits `url` into what the `postgres` crate reads (with `sslmode` set to `require` for the TLS
/// modes, which it does not know) and the TLS connector. Options other than `sslmode` and
/// `sslrootcert` pass through untouched.
pub fn parse(url: &str) -> Result<(postgres::Config, PgTls), crate::store::StoreError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut mode: Option<String> = None;
    let mut root: Option<String> = None;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => mode = Some(decode(v)?),
            "sslrootcert" => root = Some(decode(v)?),
            _ => kept.push(pair),
        }
    }
    let tls_mode = match mode.as_deref() {
        None | Some("disable") | Some("prefer") => None,
        Some(m @ ("require" | "verify-ca")) => Some((m.to_string(), false)),
        Some(m @ "verify-full") => Some((m.to_string(), true)),
        Some(other) => return Err(PgTlsError::UnknownMode(other.to_string()).into()),
    };
    let mut rebuilt = base.to_string();
    let mut params = kept;
    let plain_mode = match mode.as_deref() {
        Some(m @ ("disable" | "prefer")) => Some(format!("sslmode={m}")),
        _ => None,
    };
    if let Some(p) = &plain_mode {
        params.push(p);
    } else if tls_mode.is_some() {
        params.push("sslmode=require");
    }
    if !params.is_empty() {
        rebuilt.push('?');
        rebuilt.push_str(&params.join("&"));
    }
    let config: postgres::Config = rebuilt.parse()?;
    let tls = match tls_mode {
        None => PgTls::Plain,
        Some((mode, check_name)) => {
            let root = root.ok_or(PgTlsError::NoRootCert(mode))?;
            PgTls::Tls(connector(PathBuf::from(root), check_name)?)
        }
    };
    Ok((config, tls))
}

/// Percent-decodes a query value (paths may carry `%2F`) as the `postgres` crate reads the rest of
/// the URL (the `percent-encoding` crate; `+` stays `+`, as libpq reads it).
fn decode(v: &str) -> Result<String, PgTlsError> {
    percent_encoding::percent_decode_str(v)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| PgTlsError::Url(format!("{v:?} is not UTF-8 once decoded")))
}

fn connector(root: PathBuf, check_name: bool) -> Result<MakeRustlsConnect, PgTlsError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |what: String| PgTlsError::RootCert {
        path: root.clone(),
        what,
    };
    let pem = std::fs::read(&root).map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!("not a PEM certificate: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = if check_name {
        webpki
    } else {
        Arc::new(ChainOnly(webpki))
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// `verify-ca`: the full WebPKI check (chain, validity, usage, handshake signature) except the
/// name, as libpq does.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_modes_keep_the_url_and_tls_modes_need_a_root() {
        let (c, tls) = parse("postgres://u@h:5/db?connect_timeout=5").unwrap();
        assert!(matches!(tls, PgTls::Plain));
        assert_eq!(
            c.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(5))
        );
        let (c, tls) = parse("postgres://u@h/db?sslmode=disable").unwrap();
        assert!(matches!(tls, PgTls::Plain));
        assert_eq!(c.get_ssl_mode(), postgres::config::SslMode::Disable);
        for mode in ["require", "verify-ca", "verify-full"] {
            let err = parse(&format!("postgres://u@h/db?sslmode={mode}")).unwrap_err();
            assert!(err.to_string().contains("sslrootcert"), "{mode}: {err}");
        }
        let err = parse("postgres://u@h/db?sslmode=allow-anything").unwrap_err();
        assert!(err.to_string().contains("allow-anything"), "{err}");
        let err = parse("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fno%2Fsuch.pem")
            .unwrap_err();
        assert!(err.to_string().contains("/no/such.pem"), "{err}");
    }

    /// A real cluster that refuses plain TCP: `verify-full` with the deployment's CA connects (and
    /// the session is encrypted); a stranger's CA, or a certificate for another name, is refused;
    /// `verify-ca` accepts the other name (chain only), as libpq does.
    #[test]
    fn a_cluster_is_reached_over_verified_tls_only() {
        use crate::store::postgres::PgStore;
        let mut cluster = match crate::pgcluster::start_for_tests("PostgreSQL over TLS") {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => panic!("starting a throwaway PostgreSQL cluster: {e}"),
        };
        let now = chrono::Utc::now();
        let deployment = tempfile::tempdir().unwrap();
        let stranger = tempfile::tempdir().unwrap();
        let other_name = tempfile::tempdir().unwrap();
        for d in [&deployment, &stranger, &other_name] {
            std::fs::create_dir(d.path().join("server")).unwrap();
        }
        venuecode_keys::make_tls(deployment.path(), &["127.0.0.1", "localhost"], now).unwrap();
        venuecode_keys::make_tls(stranger.path(), &["127.0.0.1"], now).unwrap();
        venuecode_keys::make_tls(other_name.path(), &["db.venuecode.test"], now).unwrap();
        let serve = |cluster: &mut crate::pgcluster::TempCluster, dir: &std::path::Path| {
            let server = dir.join("server");
            cluster
                .require_tls(&server.join("tls.crt"), &server.join("tls.key"))
                .unwrap();
        };
        let with_root = |url: &str, mode: &str, dir: &std::path::Path| {
            format!(
                "{url}&sslmode={mode}&sslrootcert={}",
                dir.join("ca.pem").display()
            )
        };
        serve(&mut cluster, deployment.path());
        let url = cluster.create_database("tls").unwrap();

        let plain = PgStore::open(&url).map(|_| ()).unwrap_err().to_string();
        assert!(
            plain.contains("pg_hba.conf"),
            "plain TCP must be refused: {plain}"
        );

        let store = PgStore::open(&with_root(&url, "verify-full", deployment.path())).unwrap();
        let encrypted: bool = store
            .with(|c| {
                Ok(c.query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )?
                .get(0))
            })
            .unwrap();
        assert!(encrypted, "the session must be encrypted");
        drop(store);

        let err = PgStore::open(&with_root(&url, "verify-full", stranger.path()))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid peer certificate"),
            "a stranger's CA: {err}"
        );
        let err = PgStore::open(&with_root(&url, "require", stranger.path()))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid peer certificate"),
            "require checks the chain too: {err}"
        );

        serve(&mut cluster, other_name.path());
        let err = PgStore::open(&with_root(&url, "verify-full", other_name.path()))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid for name"), "another name: {err}");
        PgStore::open(&with_root(&url, "verify-ca", other_name.path()))
            .expect("verify-ca checks the chain, not the name");
    }
}
