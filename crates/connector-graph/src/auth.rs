//! OAuth 2.0 client credentials against the Microsoft identity platform: a client secret or
//! a certificate client assertion, with the token cached and renewed before it expires.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use config::{GraphCredential, Secret};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use crate::error::GraphError;

/// A token is renewed when less than this is left, so no request leaves with a token that
/// expires in flight.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// How long a client assertion is valid; the platform asks for "5–10 minutes at most".
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// The app's proof of identity, loaded once.
pub enum ClientProof {
    Secret(Secret),
    Certificate(Box<CertificateKey>),
}

impl std::fmt::Debug for ClientProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientProof::Secret(_) => f.write_str("ClientProof::Secret(***)"),
            ClientProof::Certificate(c) => write!(f, "ClientProof::Certificate({})", c.thumbprint),
        }
    }
}

/// A certificate registered on the app and its private key.
pub struct CertificateKey {
    key: RsaKeyPair,
    /// base64url of the SHA-256 of the certificate's DER: the `x5t#S256` header.
    thumbprint: String,
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertificateKey({})", self.thumbprint)
    }
}

impl ClientProof {
    /// Reads the secret or the certificate and key. Errors name the file, never its content.
    pub fn load(credential: &GraphCredential) -> Result<Self, String> {
        match credential {
            GraphCredential::ClientSecret(source) => source.read().map(ClientProof::Secret),
            GraphCredential::Certificate {
                certificate,
                private_key,
                password,
            } => {
                if password.is_some() || is_pkcs12(certificate) {
                    return Err(format!(
                        "{}: PKCS#12 certificates are not supported yet; convert it to PEM (openssl pkcs12 -nodes -in app.pfx -out app.pem)",
                        certificate.display()
                    ));
                }
                let key_file = private_key.as_deref().unwrap_or(certificate);
                CertificateKey::from_pem(certificate, key_file)
                    .map(|c| ClientProof::Certificate(Box::new(c)))
            }
        }
    }
}

fn is_pkcs12(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pfx") || e.eq_ignore_ascii_case("p12"))
}

impl CertificateKey {
    fn from_pem(certificate: &Path, key_file: &Path) -> Result<Self, String> {
        let cert = CertificateDer::from_pem_file(certificate)
            .map_err(|e| format!("{}: no PEM certificate: {e}", certificate.display()))?;
        let key = PrivateKeyDer::from_pem_file(key_file)
            .map_err(|e| format!("{}: no PEM private key: {e}", key_file.display()))?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => {
                return Err(format!(
                    "{}: the private key is not an RSA key; Entra ID signs client assertions with RSA",
                    key_file.display()
                ));
            }
        }
        .map_err(|e| format!("{}: unusable RSA private key: {e}", key_file.display()))?;
        let thumbprint = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, cert.as_ref()));
        Ok(Self { key, thumbprint })
    }

    /// A client assertion for `audience` (the token endpoint): PS256 with `x5t#S256`, as
    /// the platform's current documentation asks.
    fn assertion(&self, client_id: &str, audience: &str) -> Result<String, String> {
        let now = jiff::Timestamp::now().as_second();
        let header = serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.thumbprint});
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": random_id(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the client assertion failed".to_owned())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// A random GUID-shaped identifier.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct TokenErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Gets and caches access tokens.
#[derive(Debug)]
pub struct TokenSource {
    token_url: String,
    client_id: String,
    scope: String,
    proof: ClientProof,
    cached: Option<(Secret, Instant)>,
}

impl TokenSource {
    pub fn new(token_url: String, client_id: String, scope: String, proof: ClientProof) -> Self {
        Self {
            token_url,
            client_id,
            scope,
            proof,
            cached: None,
        }
    }

    /// Forgets the cached token (the service refused it).
    pub fn invalidate(&mut self) {
        self.cached = None;
    }

    /// A token valid for at least a few more minutes.
    pub async fn token(&mut self, http: &reqwest::Client) -> Result<Secret, GraphError> {
        if let Some((token, expires)) = &self.cached
            && expires.saturating_duration_since(Instant::now()) > RENEW_BEFORE
        {
            return Ok(token.clone());
        }
        let mut form = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
            ("grant_type", "client_credentials".to_owned()),
        ];
        match &self.proof {
            ClientProof::Secret(secret) => {
                form.push(("client_secret", secret.expose().to_owned()));
            }
            ClientProof::Certificate(certificate) => {
                let assertion = certificate
                    .assertion(&self.client_id, &self.token_url)
                    .map_err(GraphError::Credential)?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ));
                form.push(("client_assertion", assertion));
            }
        }
        let started = Instant::now();
        let response = http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| GraphError::unreachable(&self.token_url, &e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| GraphError::unreachable(&self.token_url, &e))?;
        if status.is_success() {
            let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                GraphError::Protocol(format!("the token endpoint's answer is unreadable: {e}"))
            })?;
            let secret = Secret::new(token.access_token);
            self.cached = Some((
                secret.clone(),
                started + Duration::from_secs(token.expires_in),
            ));
            return Ok(secret);
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(GraphError::Unavailable {
                message: format!("the token endpoint answered {status}"),
                retry_after: None,
            });
        }
        // The description starts with the AADSTS code, which is what an operator searches for;
        // the trace footer after the first line is noise here.
        let reason = match serde_json::from_slice::<TokenErrorBody>(&body) {
            Ok(e) => format!(
                "{}: {}",
                e.error,
                e.error_description.lines().next().unwrap_or_default()
            ),
            Err(_) => format!("HTTP {status}"),
        };
        Err(GraphError::Denied(format!(
            "the token endpoint refused the app {}: {reason}",
            self.client_id
        )))
    }
}

/// An HTTPS client for a Microsoft cloud endpoint that also trusts `ca_file` (an emulator,
/// a TLS-inspecting proxy).
pub fn https_client(
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<reqwest::Client, connector::ConnectorError> {
    use connector::ConnectorError;
    let mut http = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!("idsync/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca).map_err(|e| {
            ConnectorError::Config(format!("cannot read ca_file {}: {e}", ca.display()))
        })?;
        let certificate = reqwest::Certificate::from_pem(&pem).map_err(|e| {
            ConnectorError::Config(format!("{}: not a PEM certificate: {e}", ca.display()))
        })?;
        http = http.add_root_certificate(certificate);
    }
    http.build()
        .map_err(|e| ConnectorError::Config(format!("cannot set up HTTPS: {e}")))
}

/// Client-credential tokens for `scope` from the tenant's token endpoint under `login_url`;
/// the secret or certificate is read here, once.
pub fn token_source(
    credential: &GraphCredential,
    login_url: &str,
    tenant: &str,
    client_id: &str,
    scope: String,
) -> Result<TokenSource, connector::ConnectorError> {
    let proof = ClientProof::load(credential).map_err(connector::ConnectorError::Config)?;
    let token_url = format!("{login_url}/{tenant}/oauth2/v2.0/token");
    Ok(TokenSource::new(
        token_url,
        client_id.to_owned(),
        scope,
        proof,
    ))
}
