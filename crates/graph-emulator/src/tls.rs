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

/// A client certificate registered on the emulated app, for certificate credentials
/// (a JWT client assertion signed with its private key).
#[derive(Clone)]
pub struct ClientCertificate {
    pub certificate_pem: String,
    pub private_key_pem: String,
    /// base64url SHA-1 thumbprint of the certificate (the `x5t` header of RS256 assertions).
    pub x5t: String,
    /// base64url SHA-256 thumbprint (the `x5t#S256` header of PS256 assertions).
    pub x5t_s256: String,
    /// The RSA public key (PKCS#1 DER).
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// A new RSA 2048 key and a self-signed certificate for it.
    pub fn generate() -> Result<Self, TlsError> {
        use aws_lc_rs::encoding::AsDer;
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let unavailable = || rcgen::Error::KeyGenerationUnavailable;
        let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| unavailable())?;
        let pkcs8 = rsa.as_der().map_err(|_| unavailable())?;
        let key = KeyPair::from_pkcs8_der_and_sign_algo(
            &rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_ref()),
            &rcgen::PKCS_RSA_SHA256,
        )?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "idsync Graph emulator client");
        let cert = params.self_signed(&key)?;
        let der = cert.der().as_ref();
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
        let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
        Ok(Self {
            certificate_pem: cert.pem(),
            private_key_pem: key.serialize_pem(),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
            public_key: aws_lc_rs::signature::KeyPair::public_key(&rsa)
                .as_ref()
                .to_vec(),
        })
    }

    /// Writes `client.pem` and `client.key` into `dir`; returns their paths.
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
        let cert = dir.join("client.pem");
        let key = dir.join("client.key");
        for (path, text) in [
            (&cert, &self.certificate_pem),
            (&key, &self.private_key_pem),
        ] {
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(path, text))
                .map_err(|source| TlsError::Write {
                    path: path.clone(),
                    source,
                })?;
        }
        Ok((cert, key))
    }
}
