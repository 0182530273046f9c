//! Certificate credentials: a JWT client assertion signed with the registered key.

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaEncoding};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graph_emulator::EmulatorOptions;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

use crate::support::{Graph, start_with};

struct Signer {
    key: signature::RsaKeyPair,
    x5t: String,
    x5t_s256: String,
}

fn signer(g: &Graph) -> Signer {
    let info = &g.emulator.info;
    let cert = CertificateDer::from_pem_file(info.certificate_path.as_deref().unwrap()).unwrap();
    let key = PrivatePkcs8KeyDer::from_pem_file(info.private_key_path.as_deref().unwrap()).unwrap();
    Signer {
        key: signature::RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).unwrap(),
        x5t: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &cert)),
        x5t_s256: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &cert)),
    }
}

fn assertion(signer: &Signer, pss: bool, claims: &Value) -> String {
    let header = if pss {
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": signer.x5t_s256})
    } else {
        json!({"alg": "RS256", "typ": "JWT", "x5t": signer.x5t})
    };
    let encoding: &'static dyn RsaEncoding = if pss {
        &signature::RSA_PSS_SHA256
    } else {
        &signature::RSA_PKCS1_SHA256
    };
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0; signer.key.public_modulus_len()];
    signer
        .key
        .sign(encoding, &SystemRandom::new(), signed.as_bytes(), &mut sig)
        .unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
}

async fn token_with(g: &Graph, assertion: &str) -> (u16, Value) {
    let form = format!(
        "client_id={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}",
        g.emulator.info.client_id
    );
    let response = g
        .http
        .post(g.emulator.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn rs256_and_ps256_assertions_get_tokens_and_bad_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let g = start_with(EmulatorOptions {
        seed: Some(11),
        client_certificate: true,
        tls_dir: Some(dir.path().to_owned()),
        ..EmulatorOptions::default()
    })
    .await;
    let s = signer(&g);
    let now = jiff::Timestamp::now().as_second();
    let client = g.emulator.info.client_id.clone();
    let claims = json!({"aud": g.emulator.token_url(), "iss": client, "sub": client,
        "jti": "6b7a3a4e-1", "nbf": now, "exp": now + 600});

    for pss in [false, true] {
        let (status, body) = token_with(&g, &assertion(&s, pss, &claims)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
    }

    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("https://example.com/token");
    let (status, body) = token_with(&g, &assertion(&s, false, &wrong_aud)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_codes"][0], 50027);

    let mut expired = claims.clone();
    expired["nbf"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let (_, body) = token_with(&g, &assertion(&s, false, &expired)).await;
    assert_eq!(body["error_codes"][0], 700024);

    // A signature over other claims does not verify.
    let good = assertion(&s, false, &claims);
    let forged = assertion(&s, false, &wrong_aud);
    let (head, _) = good.rsplit_once('.').unwrap();
    let (_, forged_sig) = forged.rsplit_once('.').unwrap();
    let (status, body) = token_with(&g, &format!("{head}.{forged_sig}")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error_codes"][0], 700027);
}

/// What azure-identity's async `CertificateCredential` sends: every part padded with `=`,
/// a padded `x5t`, fractional `exp`/`iat` and no `nbf`. Entra accepts it.
#[tokio::test]
async fn padded_assertions_with_fractional_times_and_no_nbf_get_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let g = start_with(EmulatorOptions {
        seed: Some(12),
        client_certificate: true,
        tls_dir: Some(dir.path().to_owned()),
        ..EmulatorOptions::default()
    })
    .await;
    let s = signer(&g);
    let now = jiff::Timestamp::now().as_second() as f64 + 0.25;
    let client = g.emulator.info.client_id.clone();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5t": format!("{}=", s.x5t)});
    let claims = json!({"aud": g.emulator.token_url(), "iss": client, "sub": client,
        "jti": "6b7a3a4e-2", "iat": now, "exp": now + 600.0});
    let padded = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE.encode(bytes);
    let signed = format!(
        "{}.{}",
        padded(header.to_string().as_bytes()),
        padded(claims.to_string().as_bytes())
    );
    let mut sig = vec![0; s.key.public_modulus_len()];
    s.key
        .sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .unwrap();
    let assertion = format!("{signed}.{}", padded(&sig)).replace('=', "%3D");
    let (status, body) = token_with(&g, &assertion).await;
    assert_eq!(status, 200, "{body}");
}
