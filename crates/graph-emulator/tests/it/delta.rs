use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Graph, start};

/// Follows next links to the end of a round; returns the entries and the delta link.
async fn round(g: &Graph, first: &str) -> (Vec<Value>, String) {
    let mut url = first.to_owned();
    let mut entries = Vec::new();
    loop {
        let response = g
            .http
            .get(&url)
            .bearer_auth(&g.token)
            .header("Prefer", "odata.maxpagesize=2")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        entries.extend(body["value"].as_array().unwrap().iter().cloned());
        if let Some(next) = body["@odata.nextLink"].as_str() {
            assert!(next.contains("$skiptoken="));
            url = next.to_owned();
            continue;
        }
        let delta = body["@odata.deltaLink"]
            .as_str()
            .expect("a round ends with a delta link");
        assert!(delta.contains("$deltatoken="));
        return (entries, delta.to_owned());
    }
}

#[tokio::test]
async fn delta_round_trip_reports_changes_and_removals() {
    let g = start().await;
    let a = g.create_user("a").await;
    let b = g.create_user("b").await;
    let c = g.create_user("c").await;

    let (initial, link) = round(&g, &g.url("users/delta?$select=displayName,jobTitle")).await;
    assert_eq!(initial.len(), 3);
    assert!(initial[0].get("userPrincipalName").is_none());

    let (nothing, link) = round(&g, &link).await;
    assert!(nothing.is_empty());

    g.patch(&format!("users/{a}"), json!({"jobTitle": "Engineer"}))
        .await;
    // Not selected, so not tracked.
    g.patch(
        &format!("users/{b}"),
        json!({"mobilePhone": "+1 425 555 0109"}),
    )
    .await;
    g.delete(&format!("users/{c}")).await;
    let d = g.create_user("d").await;

    let (changes, link) = round(&g, &link).await;
    let ids: Vec<&str> = changes.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a.as_str(), c.as_str(), d.as_str()]);
    assert_eq!(changes[0]["jobTitle"], "Engineer");
    assert_eq!(changes[1]["@removed"]["reason"], "changed");

    let (after, _) = round(&g, &link).await;
    assert!(after.is_empty());
}

#[tokio::test]
async fn delta_latest_starts_from_now() {
    let g = start().await;
    g.create_user("a").await;
    let body: Value = g
        .get("users/delta?$deltatoken=latest")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["value"], json!([]));
    let link = body["@odata.deltaLink"].as_str().unwrap().to_owned();
    let b = g.create_user("b").await;
    let (changes, _) = round(&g, &link).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["id"], b.as_str());
}

#[tokio::test]
async fn delta_reports_purge_as_deleted_and_restore_as_present() {
    let g = start().await;
    let a = g.create_user("a").await;
    let b = g.create_user("b").await;
    let (_, link) = round(&g, &g.url("users/delta")).await;
    g.delete(&format!("users/{a}")).await;
    g.delete(&format!("users/{b}")).await;
    g.delete(&format!("directory/deletedItems/{b}")).await;
    g.post(&format!("directory/deletedItems/{a}/restore"), json!({}))
        .await;
    let (changes, _) = round(&g, &link).await;
    let last_for = |id: &str| {
        changes
            .iter()
            .rev()
            .find(|e| e["id"] == id)
            .unwrap()
            .clone()
    };
    assert!(
        last_for(&a).get("@removed").is_none(),
        "a restored user is present again"
    );
    assert_eq!(last_for(&b)["@removed"]["reason"], "deleted");
}

#[tokio::test]
async fn group_delta_carries_members_delta() {
    let g = start().await;
    let group = g.create_group("ops").await;
    let a = g.create_user("a").await;
    let b = g.create_user("b").await;
    let add = |id: &str| json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")});
    g.post(&format!("groups/{group}/members/$ref"), add(&a))
        .await;

    let (initial, link) = round(&g, &g.url("groups/delta?$select=displayName,members")).await;
    assert_eq!(initial.len(), 1);
    assert_eq!(
        initial[0]["members@delta"],
        json!([{"@odata.type": "#microsoft.graph.user", "id": a}])
    );
    assert!(initial[0].get("members").is_none());

    g.post(&format!("groups/{group}/members/$ref"), add(&b))
        .await;
    g.delete(&format!("groups/{group}/members/{a}/$ref")).await;
    let (changes, _) = round(&g, &link).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0]["members@delta"],
        json!([
            {"@odata.type": "#microsoft.graph.user", "id": b},
            {"@odata.type": "#microsoft.graph.user", "id": a, "@removed": {"reason": "deleted"}}
        ])
    );
}

/// A group with more members than a page holds is spread across pages: the group again on
/// each, with the next slice of `members@delta`.
#[tokio::test]
async fn members_delta_of_a_large_group_spans_pages() {
    let g = crate::support::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(g.create_user(&format!("m{i}")).await);
    }
    let binds: Vec<String> = ids
        .iter()
        .map(|id| format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}"))
        .collect();
    let response = g
        .post(
            "groups",
            serde_json::json!({"displayName": "Big", "mailEnabled": false, "mailNickname": "big",
                               "securityEnabled": true, "members@odata.bind": binds}),
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let mut url = g.url("groups/delta");
    let mut seen: Vec<String> = Vec::new();
    let mut appearances = 0;
    loop {
        let page: serde_json::Value = g
            .http
            .get(&url)
            .bearer_auth(&g.token)
            .header("Prefer", "odata.maxpagesize=2")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for group in page["value"].as_array().unwrap() {
            appearances += 1;
            let members = group["members@delta"].as_array().unwrap();
            assert!(members.len() <= 2, "{page}");
            seen.extend(members.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => {
                assert!(page["@odata.deltaLink"].is_string());
                break;
            }
        }
    }
    assert_eq!(appearances, 3);
    assert_eq!(seen, ids);
}

async fn follow(
    g: &crate::support::Graph,
    url: &str,
    prefer: Option<&str>,
) -> (Vec<serde_json::Value>, String, reqwest::header::HeaderMap) {
    let mut url = url.to_owned();
    let mut objects = Vec::new();
    loop {
        let mut request = g.http.get(&url).bearer_auth(&g.token);
        if let Some(p) = prefer {
            request = request.header("Prefer", p);
        }
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        let page: serde_json::Value = response.json().await.unwrap();
        objects.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => {
                return (
                    objects,
                    page["@odata.deltaLink"].as_str().unwrap().to_owned(),
                    headers,
                );
            }
        }
    }
}

#[tokio::test]
async fn delta_filters_by_id_and_returns_minimal_changes_when_asked() {
    let g = crate::support::start().await;
    let a = g.create_user("fa").await;
    let b = g.create_user("fb").await;
    let (first, link, _) = follow(
        &g,
        &g.url(&format!("users/delta?$filter=id eq '{a}'")),
        None,
    )
    .await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["id"], a.as_str());
    for id in [&a, &b] {
        g.patch(
            &format!("users/{id}"),
            serde_json::json!({"jobTitle": "Changed"}),
        )
        .await;
    }
    // The filter travels in the delta link; minimal returns only what changed.
    let (changes, _, headers) = follow(&g, &link, Some("return=minimal")).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        changes[0],
        serde_json::json!({"id": a, "jobTitle": "Changed"})
    );
    assert_eq!(headers["preference-applied"], "return=minimal");

    let (code, _) = crate::support::error_code(
        g.get("users/delta?$filter=displayName eq 'x'").await,
        reqwest::StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_UnsupportedQuery");
}

#[tokio::test]
async fn group_delta_with_select_and_expand_members() {
    let g = crate::support::start().await;
    let user = g.create_user("gm").await;
    let group = g.create_group("gx").await;
    g.post(
        &format!("groups/{group}/members/$ref"),
        serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")}),
    )
    .await;
    let (objects, _, _) = follow(
        &g,
        &g.url("groups/delta?$select=displayName&$expand=members"),
        None,
    )
    .await;
    assert_eq!(objects[0]["members@delta"][0]["id"], user.as_str());
    assert!(objects[0].get("mailNickname").is_none());
    let (code, _) = crate::support::error_code(
        g.get("users/delta?$expand=manager").await,
        reqwest::StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_UnsupportedQuery");
}

#[tokio::test]
async fn manager_delta_tracks_the_manager_when_selected() {
    let g = crate::support::start().await;
    let boss = g.create_user("mboss").await;
    let worker = g.create_user("mworker").await;
    let set_manager = |manager: String| {
        let g = &g;
        let worker = worker.clone();
        async move {
            g.send(
                reqwest::Method::PUT,
                &format!("users/{worker}/manager/$ref"),
                Some(serde_json::json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{manager}")})),
            )
            .await
            .status()
        }
    };
    assert_eq!(
        set_manager(boss.clone()).await,
        reqwest::StatusCode::NO_CONTENT
    );
    let (initial, link, _) =
        follow(&g, &g.url("users/delta?$select=displayName,manager"), None).await;
    let entry = initial.iter().find(|u| u["id"] == worker.as_str()).unwrap();
    assert_eq!(entry["manager@delta"][0]["id"], boss.as_str());
    assert!(
        initial
            .iter()
            .find(|u| u["id"] == boss.as_str())
            .unwrap()
            .get("manager@delta")
            .is_none()
    );

    assert_eq!(
        g.delete(&format!("users/{worker}/manager/$ref"))
            .await
            .status(),
        reqwest::StatusCode::NO_CONTENT
    );
    let (changes, _, _) = follow(&g, &link, None).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["manager@delta"][0]["id"], boss.as_str());
    assert_eq!(
        changes[0]["manager@delta"][0]["@removed"]["reason"],
        "deleted"
    );
}
