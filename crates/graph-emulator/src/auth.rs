//! The Microsoft identity platform side: the client-credentials token endpoint, the
//! tenant's OpenID configuration, and bearer-token checks for Graph calls.

use std::collections::HashMap;
use std::fmt;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::clock::IdGenerator;
use crate::error::GraphError;

/// Lifetime of an access token, as the real service reports it in `expires_in`.
pub const TOKEN_LIFETIME_SECS: i64 = 3599;

/// A client secret: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

/// The emulated tenant and its one registered application.
#[derive(Debug, Clone)]
pub struct TenantIdentity {
    pub tenant_id: String,
    /// The initial `*.onmicrosoft.com` domain; the tenant can be named by it too.
    pub initial_domain: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// Certificates registered on the app, for client assertions.
    pub certificates: Vec<RegisteredCertificate>,
}

/// A certificate registered on the app: its thumbprints and RSA public key.
#[derive(Debug, Clone)]
pub struct RegisteredCertificate {
    pub x5t: String,
    pub x5t_s256: String,
    pub public_key: Vec<u8>,
}

/// The fixed `client_assertion_type` of certificate credentials.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed on `nbf` and `exp`.
const ASSERTION_SKEW_SECS: i64 = 300;

impl TenantIdentity {
    pub fn names_tenant(&self, tenant: &str) -> bool {
        tenant.eq_ignore_ascii_case(&self.tenant_id)
            || tenant.eq_ignore_ascii_case(&self.initial_domain)
    }
}

/// An AADSTS error from the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl TokenError {
    fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    pub fn tenant_not_found(tenant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    fn missing_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// The JSON body: `error`, `error_description` with trace footer, `error_codes`, …
    pub fn body(
        &self,
        trace_id: &str,
        correlation_id: &str,
        now: Timestamp,
        login_url: &str,
    ) -> Value {
        let timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ").to_string();
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("{login_url}/error?code={}", self.code),
        })
    }
}

/// A successful token response.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
}

impl IssuedToken {
    pub fn body(&self) -> Value {
        json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECS,
            "ext_expires_in": TOKEN_LIFETIME_SECS,
            "access_token": self.access_token,
        })
    }
}

/// Tokens the emulator issued, with their expiry.
#[derive(Debug, Default)]
pub struct TokenStore {
    issued: HashMap<String, Timestamp>,
}

impl TokenStore {
    /// Handles `POST /{tenant}/oauth2/v2.0/token` (form fields already decoded).
    /// `basic` is the decoded `Authorization: Basic` pair, if any.
    #[allow(clippy::too_many_arguments)]
    pub fn token_request(
        &mut self,
        identity: &TenantIdentity,
        login_url: &str,
        tenant: &str,
        form: &HashMap<String, String>,
        basic: Option<(String, String)>,
        ids: &IdGenerator,
        now: Timestamp,
    ) -> Result<IssuedToken, TokenError> {
        if !identity.names_tenant(tenant) {
            return Err(TokenError::tenant_not_found(tenant));
        }
        let grant_type = form
            .get("grant_type")
            .ok_or_else(|| TokenError::missing_parameter("grant_type"))?;
        if grant_type != "client_credentials" {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{grant_type}'."),
            ));
        }
        let (client_id, secret) = match basic {
            Some((id, secret)) => (id, Some(secret)),
            None => (
                form.get("client_id")
                    .cloned()
                    .ok_or_else(|| TokenError::missing_parameter("client_id"))?,
                form.get("client_secret").cloned(),
            ),
        };
        let scope = form
            .get("scope")
            .ok_or_else(|| TokenError::missing_parameter("scope"))?;
        if !client_id.eq_ignore_ascii_case(&identity.client_id) {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
                ),
            ));
        }
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if scopes.len() > 1 {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                700022,
                "The provided value for the input parameter scope is not valid because it contains more than one resource.",
            ));
        }
        if !scopes
            .first()
            .is_some_and(|s| s.ends_with("/.default") && s.contains("graph.microsoft.com"))
        {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                70011,
                format!(
                    "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
                ),
            ));
        }
        if let Some(assertion) = form.get("client_assertion") {
            if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
                return Err(TokenError::missing_parameter("client_assertion_type"));
            }
            check_assertion(identity, login_url, tenant, assertion, now)?;
        } else if let Some(secret) = secret {
            if secret != identity.client_secret.expose() {
                return Err(TokenError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                        identity.client_id
                    ),
                ));
            }
        } else {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
        let expires = now
            .checked_add(SignedDuration::from_secs(TOKEN_LIFETIME_SECS))
            .unwrap_or(now);
        let access_token = access_token(identity, ids, now, expires);
        self.issued.insert(access_token.clone(), expires);
        Ok(IssuedToken { access_token })
    }

    /// Checks an `Authorization` header for a Graph call.
    pub fn check_bearer(
        &self,
        authorization: Option<&str>,
        now: Timestamp,
    ) -> Result<(), GraphError> {
        let token = authorization
            .and_then(|h| {
                let (scheme, rest) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GraphError::invalid_token("Access token is empty."))?;
        match self.issued.get(token) {
            None if token.matches('.').count() != 2 => Err(GraphError::invalid_token(
                "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.",
            )),
            None => Err(GraphError::invalid_token(
                "Access token validation failure. Invalid signature.",
            )),
            Some(expiry) if *expiry <= now => Err(GraphError::invalid_token(
                "Lifetime validation failed, the token is expired.",
            )),
            Some(_) => Ok(()),
        }
    }
}

/// A JWT-shaped access token with the claims the real one carries. The emulator keeps the
/// issued tokens, so the signature part is random rather than a real signature.
fn access_token(
    identity: &TenantIdentity,
    ids: &IdGenerator,
    now: Timestamp,
    expires: Timestamp,
) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "idsync-graph-emulator"});
    let claims = json!({
        "aud": "https://graph.microsoft.com",
        "iss": format!("https://sts.windows.net/{}/", identity.tenant_id),
        "iat": now.as_second(),
        "nbf": now.as_second(),
        "exp": expires.as_second(),
        "appid": identity.client_id,
        "idtyp": "app",
        "oid": identity.client_id,
        "roles": ["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"],
        "sub": identity.client_id,
        "tid": identity.tenant_id,
        "ver": "1.0",
        "uti": ids.guid(),
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(ids.bytes(32)),
    )
}

/// Decodes `Authorization: Basic base64(client_id:secret)` (RFC 6749 §2.3.1: both parts
/// form-urlencoded before joining).
pub fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String { form_urlencoded_decode(s) };
    Some((unescape(id), unescape(secret)))
}

fn form_urlencoded_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .ok()
        .and_then(|mut v| v.pop())
        .map(|(_, v)| v)
        .unwrap_or_else(|| s.to_owned())
}

/// The tenant's `/v2.0/.well-known/openid-configuration` document.
pub fn openid_configuration(identity: &TenantIdentity, login_url: &str) -> Value {
    let tid = &identity.tenant_id;
    json!({
        "token_endpoint": format!("{login_url}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{login_url}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{login_url}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{login_url}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{login_url}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{login_url}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{login_url}/{tid}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

fn malformed_assertion(reason: &str) -> TokenError {
    TokenError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        50027,
        format!("JWT token is invalid or malformed. [Reason - {reason}]"),
    )
}

/// Verifies a certificate client assertion: signature (RS256 with `x5t`, or PS256 with
/// `x5t#S256`) by a registered certificate, then `aud`, `iss`, `sub`, `jti`, `nbf`, `exp`.
fn check_assertion(
    identity: &TenantIdentity,
    login_url: &str,
    tenant: &str,
    assertion: &str,
    now: Timestamp,
) -> Result<(), TokenError> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts.as_slice() else {
        return Err(malformed_assertion("The token does not have three parts."));
    };
    // azure-identity's async credentials pad every part with `=` (its sync ones and MSAL
    // do not), and Entra accepts both, so the padding is ignored.
    let unpadded = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('='));
    let decode =
        |part: &str| -> Option<Value> { serde_json::from_slice(&unpadded(part).ok()?).ok() };
    let (Some(header), Some(claims), Ok(signature)) = (
        decode(header_b64),
        decode(claims_b64),
        unpadded(signature_b64),
    ) else {
        return Err(malformed_assertion(
            "The token is not base64url-encoded JSON.",
        ));
    };
    let key_not_found = || {
        TokenError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was not found.]",
        )
    };
    let (algorithm, certificate): (&'static dyn aws_lc_rs::signature::VerificationAlgorithm, _) =
        match header["alg"].as_str() {
            Some("RS256") => {
                let x5t = thumbprint(&header["x5t"]).ok_or_else(key_not_found)?;
                (
                    &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                    identity.certificates.iter().find(|c| c.x5t == x5t),
                )
            }
            Some("PS256") => {
                let x5t = thumbprint(&header["x5t#S256"])
                    .or_else(|| thumbprint(&header["x5t"]))
                    .ok_or_else(key_not_found)?;
                (
                    &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
                    identity
                        .certificates
                        .iter()
                        .find(|c| c.x5t_s256 == x5t || c.x5t == x5t),
                )
            }
            _ => {
                return Err(malformed_assertion(
                    "The 'alg' header must be RS256 or PS256.",
                ));
            }
        };
    let certificate = certificate.ok_or_else(key_not_found)?;
    let signed = format!("{header_b64}.{claims_b64}");
    aws_lc_rs::signature::UnparsedPublicKey::new(algorithm, &certificate.public_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| {
            TokenError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value.]",
            )
        })?;

    // The audience is the token endpoint, by tenant id or domain, on this emulator or on
    // the real authority the client may have been configured with.
    let aud = claims["aud"].as_str().unwrap_or_default();
    let audience_ok = [login_url, "https://login.microsoftonline.com"]
        .iter()
        .any(|base| {
            [
                identity.tenant_id.as_str(),
                identity.initial_domain.as_str(),
                tenant,
            ]
            .iter()
            .any(|t| aud.eq_ignore_ascii_case(&format!("{base}/{t}/oauth2/v2.0/token")))
        });
    if !audience_ok {
        return Err(malformed_assertion(
            "The 'aud' claim is not the token endpoint.",
        ));
    }
    for claim in ["iss", "sub"] {
        if !claims[claim]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case(&identity.client_id))
        {
            return Err(malformed_assertion(&format!(
                "The '{claim}' claim must be the client id."
            )));
        }
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(malformed_assertion("The 'jti' claim is missing."));
    }
    // MSAL sends `exp` and `iat` as fractional seconds and no `nbf` (RFC 7519's NumericDate
    // allows both), and Entra accepts that.
    let numeric_date = |claim: &str| claims[claim].as_f64().map(|v| v.floor() as i64);
    let Some(exp) = numeric_date("exp") else {
        return Err(malformed_assertion("The 'exp' claim is required."));
    };
    if !claims["nbf"].is_null() && numeric_date("nbf").is_none() {
        return Err(malformed_assertion("The 'nbf' claim is not a NumericDate."));
    }
    let nbf = numeric_date("nbf").unwrap_or(i64::MIN);
    let now = now.as_second();
    if nbf > now + ASSERTION_SKEW_SECS || exp < now - ASSERTION_SKEW_SECS {
        return Err(TokenError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

/// A thumbprint header without its base64 padding (MSAL and azure-identity pad it).
fn thumbprint(value: &Value) -> Option<&str> {
    value.as_str().map(|t| t.trim_end_matches('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let id = TenantIdentity {
            tenant_id: "t".into(),
            initial_domain: "contoso.onmicrosoft.com".into(),
            client_id: "c".into(),
            client_secret: ClientSecret::new("hunter2"),
            certificates: Vec::new(),
        };
        assert!(!format!("{id:?}").contains("hunter2"));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("app:s%2Bcret"));
        assert_eq!(decode_basic(&header), Some(("app".into(), "s+cret".into())));
    }
}
