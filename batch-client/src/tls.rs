//! TLS trust and transport error causes, shared by Batch and Microsoft Entra ID requests.
//!
//! Trusted roots are the union of the operating system's store (`rustls-native-certs`, which
//! reads `SSL_CERT_FILE` / `SSL_CERT_DIR` instead when either is set), the roots bundled into the
//! binary (`webpki-roots`, so a broken or empty OS store still reaches Azure) and any PEMs the
//! caller adds. TLS-inspecting proxies re-sign traffic with a company CA that only the OS store
//! knows, which is why the OS store matters.
//!
//! A rejected certificate is reported with its subject and issuer, so "not trusted" says whose CA
//! is missing. [`describe`] walks an error's source chain and names the cause in words.

use crate::error::{BatchError, Result};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// Builds the rustls client configuration: OS roots + bundled roots + `extra_pem`, with a
/// verifier whose errors name the rejected certificate.
pub(crate) fn client_config(extra_pem: &[Vec<u8>]) -> Result<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    // Unparsable entries in the OS store are skipped like every other TLS client does.
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(
        os_roots_added = added,
        os_roots_ignored = ignored,
        os_store_errors = native.errors.len(),
        "TLS roots loaded"
    );
    for pem in extra_pem {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| BatchError::Config(format!("invalid root certificate PEM: {e}")))?;
        if certs.is_empty() {
            return Err(BatchError::Config(
                "invalid root certificate PEM: no CERTIFICATE block found".into(),
            ));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| BatchError::Config(format!("invalid root certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| BatchError::Config(format!("cannot build the TLS verifier: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BatchError::Config(format!("cannot configure TLS: {e}")))?
        .dangerous() // only to install a verifier that delegates every decision to webpki
        .with_custom_certificate_verifier(Arc::new(NamingVerifier { inner }))
        .with_no_client_auth();
    Ok(config)
}

/// Delegates to webpki and, on rejection, replaces the bare reason with one that names the
/// certificate's subject and issuer.
#[derive(Debug)]
struct NamingVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for NamingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                rustls::Error::InvalidCertificate(reason) => {
                    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                        Arc::new(Rejected::new(end_entity, server_name, reason)),
                    )))
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A server certificate the verifier rejected.
#[derive(Debug)]
pub struct Rejected {
    server: String,
    subject: String,
    issuer: String,
    reason: CertificateError,
}

impl Rejected {
    fn new(cert: &CertificateDer<'_>, server: &ServerName<'_>, reason: CertificateError) -> Self {
        let (subject, issuer) = match x509_parser::parse_x509_certificate(cert.as_ref()) {
            Ok((_, c)) => (c.subject().to_string(), c.issuer().to_string()),
            Err(_) => ("(unparsable certificate)".into(), "(unknown)".into()),
        };
        Self {
            server: server.to_str().into_owned(),
            subject,
            issuer,
            reason,
        }
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (server, subject, issuer) = (&self.server, &self.subject, &self.issuer);
        match &self.reason {
            CertificateError::UnknownIssuer => write!(
                f,
                "the certificate of {server} is not trusted: it was issued by \"{issuer}\", which is neither in the operating system's trust store (or the bundle named by SSL_CERT_FILE / SSL_CERT_DIR) nor among the bundled roots. Behind a TLS-inspecting proxy, add the company CA to the OS trust store or point SSL_CERT_FILE at a PEM bundle that contains it"
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                write!(
                    f,
                    "the certificate presented for {server} (subject \"{subject}\", issued by \"{issuer}\") is not valid for that name"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => write!(
                f,
                "the certificate of {server} (subject \"{subject}\", issued by \"{issuer}\") has expired"
            ),
            other => write!(
                f,
                "the certificate of {server} (subject \"{subject}\", issued by \"{issuer}\") was rejected: {other}"
            ),
        }
    }
}

impl StdError for Rejected {}

/// The cause of a transport failure in words, from the error's source chain: a rejected
/// certificate (whose, issued by whom), a proxy that refused the tunnel, a name that did not
/// resolve, a refused connection, a timeout. Falls back to the chain's messages.
pub fn describe(err: &(dyn StdError + 'static)) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut cause: Option<String> = None;
    for e in chain(err) {
        if cause.is_none() {
            cause = classify(e);
        }
        let m = e.to_string();
        // Wrappers often repeat their source's text; keep each message once.
        if !m.is_empty() && !messages.iter().any(|p| p.contains(&m)) {
            messages.push(m);
        }
    }
    match cause {
        Some(c) => c,
        None if messages.is_empty() => "unknown error".into(),
        None => messages.join(": "),
    }
}

/// True when the chain holds a TLS failure (handshake or certificate), which no retry fixes.
pub(crate) fn is_tls_failure(err: &(dyn StdError + 'static)) -> bool {
    chain(err).any(|e| e.is::<rustls::Error>() || e.is::<Rejected>())
}

/// `err` and its sources. An `io::Error` wrapping another error reports that error's *source*
/// as its own, skipping the wrapped error itself (e.g. a `rustls::Error`), so step into it.
fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e| next_cause(*e))
}

fn next_cause<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    match e.downcast_ref::<std::io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    }
}

fn classify(e: &(dyn StdError + 'static)) -> Option<String> {
    if let Some(r) = e.downcast_ref::<Rejected>() {
        return Some(r.to_string());
    }
    if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(o))) =
        e.downcast_ref::<rustls::Error>()
    {
        return Some(o.to_string());
    }
    if let Some(t) = e.downcast_ref::<rustls::Error>() {
        return Some(format!("TLS handshake failed: {t}"));
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind as K;
        let what = match io.kind() {
            K::ConnectionRefused => "connection refused (nothing listens at that address and port)",
            K::TimedOut => "timed out",
            K::ConnectionReset => "connection reset by the peer",
            _ => return None,
        };
        return Some(what.into());
    }
    if let Some(r) = e.downcast_ref::<reqwest::Error>()
        && r.is_timeout()
    {
        return Some("timed out".into());
    }
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return Some(format!("the host name could not be resolved ({text})"));
    }
    if lower.contains("tunnel") || lower.contains("proxy") {
        return Some(format!(
            "the proxy refused the connection ({text}); check HTTPS_PROXY / NO_PROXY"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// An error with a message and an optional source, like the wrappers reqwest and hyper use.
    #[derive(Debug)]
    struct Wrap(&'static str, Option<Box<dyn StdError + Send + Sync>>);
    impl fmt::Display for Wrap {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Wrap {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
        }
    }

    fn wrapped(inner: impl StdError + Send + Sync + 'static) -> Wrap {
        Wrap(
            "error sending request",
            Some(Box::new(Wrap(
                "client error (Connect)",
                Some(Box::new(inner)),
            ))),
        )
    }

    #[test]
    fn causes_are_named() {
        let table: Vec<(Wrap, &str)> = vec![
            (
                wrapped(io::Error::from(io::ErrorKind::ConnectionRefused)),
                "connection refused",
            ),
            (
                wrapped(io::Error::from(io::ErrorKind::TimedOut)),
                "timed out",
            ),
            (
                wrapped(Wrap(
                    "dns error",
                    Some(Box::new(io::Error::other(
                        "failed to lookup address information",
                    ))),
                )),
                "the host name could not be resolved",
            ),
            (
                wrapped(Wrap("tunnel error: unsuccessful", None)),
                "the proxy refused the connection",
            ),
            (
                wrapped(io::Error::new(
                    io::ErrorKind::InvalidData,
                    rustls::Error::InvalidCertificate(CertificateError::Expired),
                )),
                "TLS handshake failed",
            ),
            (
                wrapped(Wrap("something else", None)),
                "error sending request: client error (Connect): something else",
            ),
        ];
        for (err, want) in table {
            let got = describe(&err);
            assert!(got.starts_with(want), "{err:?}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn only_tls_failures_are_permanent() {
        let tls = wrapped(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        ));
        assert!(is_tls_failure(&tls));
        assert!(!is_tls_failure(&wrapped(io::Error::from(
            io::ErrorKind::ConnectionRefused
        ))));
    }

    #[test]
    fn rejected_certificates_name_subject_and_issuer() {
        let ck = rcgen::generate_simple_self_signed(vec!["batch.example".to_string()]).unwrap();
        let name = ServerName::try_from("batch.example").unwrap();
        let unknown =
            Rejected::new(ck.cert.der(), &name, CertificateError::UnknownIssuer).to_string();
        assert!(unknown.contains("not trusted"), "{unknown}");
        assert!(
            unknown.contains("issued by \"CN=rcgen self signed cert"),
            "{unknown}"
        );
        assert!(unknown.contains("SSL_CERT_FILE"), "{unknown}");
        let expired = Rejected::new(ck.cert.der(), &name, CertificateError::Expired).to_string();
        assert!(expired.contains("has expired"), "{expired}");
    }

    #[test]
    fn extra_roots_must_be_certificates() {
        let ck = rcgen::generate_simple_self_signed(vec!["x".to_string()]).unwrap();
        assert!(client_config(&[ck.cert.pem().into_bytes()]).is_ok());
        let err = client_config(&[b"not a pem".to_vec()]).unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE block"), "{err}");
    }
}
