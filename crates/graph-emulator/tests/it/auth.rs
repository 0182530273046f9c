use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{error_code, start, urlencode};

async fn token_error(g: &crate::support::Graph, tenant: &str, form: &str) -> (StatusCode, Value) {
    let url = format!("{}/{tenant}/oauth2/v2.0/token", g.emulator.login_url());
    let response = g
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn client_secret_token_has_the_real_shape() {
    let g = start().await;
    let info = &g.emulator.info;
    // HTTP Basic instead of the form field works too.
    let response = g
        .http
        .post(g.emulator.token_url())
        .basic_auth(&info.client_id, Some(urlencode(&info.client_secret)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert_eq!(
        body["access_token"].as_str().unwrap().matches('.').count(),
        2
    );
}

#[tokio::test]
async fn wrong_secret_unknown_tenant_and_bad_scope_are_aadsts_errors() {
    let g = start().await;
    let info = g.emulator.info.clone();
    let scope = "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials";

    let (status, body) = token_error(
        &g,
        &info.tenant_id,
        &format!("client_id={}&client_secret=nope&{scope}", info.client_id),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"][0], 7000215);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: ")
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("\r\nTrace ID: ")
    );

    let (status, body) = token_error(
        &g,
        "fabrikam.onmicrosoft.com",
        &format!("client_id={}&client_secret=x&{scope}", info.client_id),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_codes"][0], 90002);

    let (_, body) = token_error(
        &g,
        &info.tenant_id,
        &format!(
            "client_id={}&client_secret=x&scope=User.Read&grant_type=client_credentials",
            info.client_id
        ),
    )
    .await;
    assert_eq!(body["error"], "invalid_scope");
    assert_eq!(body["error_codes"][0], 70011);

    let (_, body) = token_error(
        &g,
        &info.tenant_id,
        &format!("client_id={}&{scope}", info.client_id),
    )
    .await;
    assert_eq!(body["error_codes"][0], 7000218);

    let (status, body) = token_error(
        &g,
        &info.tenant_id,
        &format!("client_id=00000000-0000-0000-0000-000000000000&client_secret=x&{scope}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(body["error_codes"][0], 700016);
}

#[tokio::test]
async fn openid_configuration_points_at_the_token_endpoint() {
    let g = start().await;
    let info = &g.emulator.info;
    for tenant in [info.tenant_id.as_str(), "contoso.onmicrosoft.com"] {
        let url = format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            info.login_url
        );
        let body: Value = g.http.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            body["token_endpoint"].as_str().unwrap(),
            g.emulator.token_url()
        );
    }
}

#[tokio::test]
async fn graph_calls_without_a_valid_token_get_401() {
    let g = start().await;
    let response = g.http.get(g.url("users")).send().await.unwrap();
    let (code, body) = error_code(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(code, "InvalidAuthenticationToken");
    assert_eq!(body["error"]["message"], "Access token is empty.");

    let response = g
        .http
        .get(g.url("users"))
        .bearer_auth("a.b.c")
        .send()
        .await
        .unwrap();
    let (code, _) = error_code(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(code, "InvalidAuthenticationToken");
}
