//! TLS for the fault proxy: it terminates the station's TLS with the server's own certificate
//! (a test holds the deployment's keys) and opens TLS to the server trusting the deployment CA,
//! so faults hit requests over TLS end to end as they would on a real network.
//!
//! Invariant: one blocking stream per side, closed with a TLS close_notify where there is one;
//! the handshake runs on the first read or write, under the socket's timeouts.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConnection, ServerConnection, StreamOwned};

/// A connection the proxy reads and writes: plain TCP or TLS over it.
pub trait Conn: Read + Write + Send {
    /// Ends the connection (close_notify first, for TLS).
    fn close(&mut self);
}

impl Conn for TcpStream {
    fn close(&mut self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

impl Conn for StreamOwned<ServerConnection, TcpStream> {
    fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

impl Conn for StreamOwned<ClientConnection, TcpStream> {
    fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

/// Both sides' TLS configuration.
pub struct ProxyTls {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

impl ProxyTls {
    /// From a deployment directory: the server's certificate and key (`server/tls.crt`,
    /// `server/tls.key`) to present, the CA (`ca.pem`) to trust upstream.
    pub fn from_keys(keys: &Path) -> Result<ProxyTls> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = CertificateDer::pem_file_iter(keys.join("server/tls.crt"))?
            .collect::<Result<Vec<_>, _>>()
            .context("server/tls.crt")?;
        let key = PrivateKeyDer::from_pem_file(keys.join("server/tls.key")).context("tls.key")?;
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(keys.join("ca.pem"))? {
            roots.add(ca.context("ca.pem")?)?;
        }
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(ProxyTls {
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }

    /// The station's side: TLS terminated here.
    pub fn accept(&self, tcp: TcpStream) -> Result<Box<dyn Conn>> {
        let conn = ServerConnection::new(self.server.clone())?;
        Ok(Box::new(StreamOwned::new(conn, tcp)))
    }

    /// The server's side: TLS to 127.0.0.1, verified against the deployment CA.
    pub fn connect(&self, tcp: TcpStream) -> Result<Box<dyn Conn>> {
        let name = ServerName::try_from("127.0.0.1")?.to_owned();
        let conn = ClientConnection::new(self.client.clone(), name)?;
        Ok(Box::new(StreamOwned::new(conn, tcp)))
    }
}
