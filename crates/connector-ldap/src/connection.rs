//! Connecting and binding: ldap:// (optionally upgraded with StartTLS), ldaps://, ldapi://;
//! certificate verification always on, against a configured CA file or the system's roots.

use std::sync::{Arc, OnceLock};

use config::LdapSettings;
use connector::ConnectorError;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use rustls_pki_types::pem::PemObject as _;

use crate::error::{Failure, ldap_failure};

/// The runtime that drives every LDAP connection, on its own thread: receiving and
/// decoding the server's messages then overlaps with the engine converting the previous
/// page, and a search can run ahead (the next page) while the caller is busy. The socket is
/// opened there too, since tokio I/O is driven by the runtime that opened it.
pub fn driver() -> &'static tokio::runtime::Runtime {
    static DRIVER: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    DRIVER.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ldap-driver")
            .enable_all()
            .build()
            .expect("start the LDAP driver runtime")
    })
}

/// An open, bound connection.
pub async fn connect(settings: &LdapSettings) -> Result<Ldap, ConnectorError> {
    let mut conn_settings = LdapConnSettings::new()
        .set_conn_timeout(settings.timeout)
        .set_starttls(settings.starttls);
    let tls_url = settings.starttls || settings.url.to_ascii_lowercase().starts_with("ldaps://");
    if tls_url {
        conn_settings = conn_settings.set_config(tls_config(settings)?);
    }
    let url = settings.url.clone();
    let opened = driver()
        .spawn(async move {
            let (conn, ldap) = LdapConnAsync::with_settings(conn_settings, &url).await?;
            tokio::spawn(async move {
                if let Err(error) = conn.drive().await {
                    tracing::debug!(%error, "LDAP connection closed");
                }
            });
            Ok::<_, ldap3::LdapError>(ldap)
        })
        .await
        .map_err(|e| ConnectorError::unavailable(format!("{}: {e}", settings.url)))?;
    let mut ldap = opened.map_err(|e| connect_error(settings, e))?;
    ldap.with_timeout(settings.timeout);
    if settings.client_certificate.is_some() {
        // SASL EXTERNAL: the identity is the TLS client certificate's.
        ldap.with_timeout(settings.timeout);
        let result = ldap
            .sasl_external_bind()
            .await
            .map_err(|e| connect_error(settings, e))?;
        if result.rc != 0 {
            return Err(ConnectorError::Denied(format!(
                "{}: SASL EXTERNAL bind with the client certificate refused: {}",
                settings.url,
                crate::error::describe(&result)
            )));
        }
    } else if let Some(dn) = &settings.bind_dn {
        let password = match &settings.password {
            Some(source) => source.read().map_err(ConnectorError::Config)?,
            None => config::Secret::new(String::new()),
        };
        ldap.with_timeout(settings.timeout);
        let result = ldap
            .simple_bind(dn, password.expose())
            .await
            .map_err(|e| connect_error(settings, e))?;
        if result.rc != 0 {
            // The server's message, never the password.
            return Err(match result.rc {
                49 => ConnectorError::Denied(format!(
                    "{}: bind as {dn} refused: invalid credentials (49) {}",
                    settings.url, result.text
                )),
                _ => match ldap_failure(&result) {
                    Failure::Transient(reason) => ConnectorError::unavailable(format!(
                        "{}: bind as {dn}: {reason}",
                        settings.url
                    )),
                    Failure::Permanent(reason) => {
                        ConnectorError::Denied(format!("{}: bind as {dn}: {reason}", settings.url))
                    }
                },
            });
        }
    }
    Ok(ldap)
}

fn connect_error(settings: &LdapSettings, error: ldap3::LdapError) -> ConnectorError {
    match error {
        ldap3::LdapError::LdapResult { result } => match ldap_failure(&result) {
            Failure::Transient(reason) => {
                ConnectorError::unavailable(format!("{}: {reason}", settings.url))
            }
            Failure::Permanent(reason) => {
                ConnectorError::Denied(format!("{}: {reason}", settings.url))
            }
        },
        ldap3::LdapError::Rustls { source } => {
            ConnectorError::Denied(format!("{}: TLS failed: {source}", settings.url))
        }
        ldap3::LdapError::UrlParsing { .. } | ldap3::LdapError::UnknownScheme(_) => {
            ConnectorError::Config(format!("{}: {error}", settings.url))
        }
        // A certificate the CA does not vouch for will not become valid by waiting.
        other if other.to_string().contains("certificate") => {
            ConnectorError::Denied(format!("{}: TLS failed: {other}", settings.url))
        }
        other => ConnectorError::unavailable(format!("{}: cannot connect: {other}", settings.url)),
    }
}

fn tls_config(settings: &LdapSettings) -> Result<Arc<rustls::ClientConfig>, ConnectorError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match &settings.ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                ConnectorError::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let mut found = 0;
            for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| {
                    ConnectorError::Config(format!("CA file {}: {e}", path.display()))
                })?;
                roots.add(cert).map_err(|e| {
                    ConnectorError::Config(format!("CA file {}: {e}", path.display()))
                })?;
                found += 1;
            }
            if found == 0 {
                return Err(ConnectorError::Config(format!(
                    "CA file {} holds no PEM certificate",
                    path.display()
                )));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectorError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots);
    let config = match (&settings.client_certificate, &settings.client_key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<rustls_pki_types::CertificateDer<'static>> =
                rustls_pki_types::CertificateDer::pem_file_iter(cert)
                    .and_then(|certs| certs.collect::<Result<_, _>>())
                    .map_err(|e| {
                        ConnectorError::Config(format!(
                            "client certificate {}: {e}",
                            cert.display()
                        ))
                    })?;
            let pem = key.read().map_err(ConnectorError::Config)?;
            // The key's text is never part of a message.
            let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(pem.expose().as_bytes())
                .map_err(|_| {
                    ConnectorError::Config(format!(
                        "the client key for {} is not a PEM private key",
                        cert.display()
                    ))
                })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ConnectorError::Config(format!("client certificate: {e}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
