//! HTTPS with the emulator's own CA, checked by a rustls client that trusts only that CA.

use std::net::SocketAddr;
use std::sync::Arc;

use graph_emulator::{Emulator, EmulatorOptions};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn https_is_served_with_a_certificate_from_the_written_ca() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(EmulatorOptions {
        listen_https: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        listen_http: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        tls_dir: Some(dir.path().to_owned()),
        seed: Some(5),
        ..EmulatorOptions::default()
    })
    .await
    .unwrap();
    let info = emulator.info.clone();
    assert!(info.graph_url.starts_with("https://127.0.0.1:"));
    assert!(
        info.http_graph_url
            .as_deref()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let ca_path = info.ca_path.clone().unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&ca_path).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let authority = info.login_url.trim_start_matches("https://").to_owned();
    let tcp = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let server_name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector
        .connect(server_name, tcp)
        .await
        .expect("handshake with the emulator's CA");
    let request = format!(
        "GET /{}/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n",
        info.tenant_id
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // Links name the https authority.
    assert!(
        text.contains(&format!(
            "\"token_endpoint\":\"https://{authority}/{}/oauth2/v2.0/token\"",
            info.tenant_id
        )),
        "{text}"
    );
    emulator.shutdown().await;
}
