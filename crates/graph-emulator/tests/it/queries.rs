//! `$search` and `$orderby` on users and groups.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Graph, error_code, start};

async fn get_eventual(g: &Graph, path: &str) -> reqwest::Response {
    g.http
        .get(g.url(path))
        .bearer_auth(&g.token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
}

async fn names(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["displayName"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn seed(g: &Graph) {
    for (nick, name) in [
        ("cvance", "Carol Vance"),
        ("abrown", "Alex Brown"),
        ("bvance", "Bob Vance"),
    ] {
        let mut body = crate::support::user_body(nick);
        body["displayName"] = json!(name);
        body["mail"] = json!(format!("{nick}@fabrikam.com"));
        assert_eq!(g.post("users", body).await.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn search_needs_consistency_level_and_matches_word_prefixes() {
    let g = start().await;
    seed(&g).await;
    let (code, body) = error_code(
        g.get("users?$search=\"displayName:vance\"").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_UnsupportedQuery");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ConsistencyLevel: eventual")
    );
    let found = names(get_eventual(&g, "users?$search=\"displayName:van\"").await).await;
    assert_eq!(found, ["Carol Vance", "Bob Vance"]);
    let found = names(
        get_eventual(
            &g,
            "users?$search=\"mail:abrown\" OR \"displayName:carol\"&$count=true",
        )
        .await,
    )
    .await;
    assert_eq!(found, ["Carol Vance", "Alex Brown"]);
    let (code, _) = error_code(
        get_eventual(&g, "users?$search=\"jobTitle:x\"").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_UnsupportedQuery");
}

#[tokio::test]
async fn orderby_sorts_and_pages_and_other_properties_need_an_advanced_query() {
    let g = start().await;
    seed(&g).await;
    let sorted = names(g.get("users?$orderby=displayName").await).await;
    assert_eq!(sorted, ["Alex Brown", "Bob Vance", "Carol Vance"]);
    let first = g.get("users?$orderby=displayName desc&$top=2").await;
    let body: Value = first.json().await.unwrap();
    let page: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(page, ["Carol Vance", "Bob Vance"]);
    let next = names(g.get(body["@odata.nextLink"].as_str().unwrap()).await).await;
    assert_eq!(next, ["Alex Brown"]);

    let (code, _) = error_code(
        g.get("users?$orderby=jobTitle").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_UnsupportedQuery");
    let advanced = names(get_eventual(&g, "users?$orderby=mail desc&$count=true").await).await;
    assert_eq!(advanced, ["Carol Vance", "Bob Vance", "Alex Brown"]);
}
