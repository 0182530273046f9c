//! A throwaway certificate authority and server certificate, so the emulator can serve
//! HTTPS: Microsoft's identity libraries insist on an https authority.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// PEM material for one run: the CA (to give to clients) and the server's chain and key.
#[derive(Clone)]
pub struct TlsMaterial {
    pub ca_pem: String,
    /// The server certificate followed by the CA certificate.
    pub chain_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsMaterial { key_pem: *** }")
    }
}

/// Why the certificates could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the emulator's certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write the emulator's CA certificate to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the emulator's certificate into rustls: {0}")]
    Load(std::io::Error),
}

impl TlsMaterial {
    /// A fresh CA and a server certificate for `localhost`, `127.0.0.1` and `::1`.
    pub fn generate() -> Result<Self, TlsError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "idsync Graph emulator CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;

        let server_key = KeyPair::generate()?;
        let mut server_params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "idsync Graph emulator");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params.signed_by(&server_key, &ca)?;
        Ok(Self {
            ca_pem: ca.pem(),
            chain_pem: format!("{}{}", server.pem(), ca.pem()),
            key_pem: server_key.serialize_pem(),
        })
    }

    /// Writes the CA certificate to `dir/ca.pem` and returns its path.
    pub fn write_ca(&self, dir: &Path) -> Result<PathBuf, TlsError> {
        let path = dir.join("ca.pem");
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, &self.ca_pem))
            .map_err(|source| TlsError::Write {
                path: path.clone(),
                source,
            })?;
        Ok(path)
    }
}
