//! The Exchange admin endpoint: one tenant with Graph.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Graph, start, urlencode};

pub(crate) const E3: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
const EXCHANGE_PLAN: &str = "efb87545-963c-4e0d-99df-69c6916d9eb0";

pub(crate) async fn exchange_token(g: &Graph) -> String {
    let info = &g.emulator.info;
    let form = format!(
        "client_id={}&client_secret={}&scope=https%3A%2F%2Foutlook.office365.com%2F.default&grant_type=client_credentials",
        info.client_id,
        urlencode(&info.client_secret)
    );
    let response = g
        .http
        .post(g.emulator.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

pub(crate) async fn invoke(
    g: &Graph,
    token: &str,
    cmdlet: &str,
    parameters: Value,
) -> reqwest::Response {
    let url = format!(
        "{}/adminapi/beta/{}/InvokeCommand",
        g.emulator.login_url(),
        g.emulator.info.tenant_id
    );
    g.http
        .post(url)
        .bearer_auth(token)
        .header("X-CmdletName", cmdlet)
        .header(
            "X-AnchorMailbox",
            "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com",
        )
        .json(&json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Gives a user an E3 licence, so Exchange makes it a mailbox.
pub(crate) async fn license(g: &Graph, id: &str) {
    g.patch(&format!("users/{id}"), json!({"usageLocation": "NL"}))
        .await;
    let response = g
        .post(
            &format!("users/{id}/assignLicense"),
            json!({"addLicenses": [{"skuId": E3, "disabledPlans": []}], "removeLicenses": []}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The `details[0].message` of a failed cmdlet, after checking its status.
pub(crate) async fn failure(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"]["details"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_graph_token_is_refused_and_an_unknown_cmdlet_gets_a_bare_403() {
    let g = start().await;
    let response = invoke(&g, &g.token, "Get-Recipient", json!({})).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let token = exchange_token(&g).await;
    let response = invoke(&g, &token, "Get-Nonsense", json!({})).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.bytes().await.unwrap().is_empty());
    let response = invoke(&g, &token, "Get-Recipient", json!({"Bogus": 1})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("'Bogus'")
    );
}

/// Exchange needs two grants: without the app role 401, with only the app role a bare 403.
#[tokio::test]
async fn an_app_without_both_grants_is_refused_as_exchange_refuses_it() {
    use graph_emulator::exchange::Grants;
    let g = start().await;
    let token = exchange_token(&g).await;
    let exchange = &g.emulator.state().exchange;
    exchange.set_grants(Grants {
        app_role: false,
        directory_role: false,
    });
    let response = invoke(&g, &token, "Get-Recipient", json!({})).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    exchange.set_grants(Grants {
        app_role: true,
        directory_role: false,
    });
    let response = invoke(&g, &token, "Get-Recipient", json!({})).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.bytes().await.unwrap().is_empty());
    exchange.set_grants(Grants {
        app_role: true,
        directory_role: true,
    });
    let response = invoke(&g, &token, "Get-Recipient", json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_licensed_user_gets_a_mailbox_anchored_on_its_graph_id() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let id = g.create_user("alice").await;
    let none = ok(invoke(&g, &token, "Get-Mailbox", json!({})).await).await;
    assert_eq!(none["value"], json!([]));
    let response = invoke(
        &g,
        &token,
        "Set-Mailbox",
        json!({"Identity": id, "LitigationHoldEnabled": true}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    g.patch(&format!("users/{id}"), json!({"usageLocation": "NL"}))
        .await;
    let response = g
        .post(
            &format!("users/{id}/assignLicense"),
            json!({"addLicenses": [{"skuId": E3, "disabledPlans": []}], "removeLicenses": []}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let _ = EXCHANGE_PLAN;

    ok(invoke(
        &g,
        &token,
        "Set-Mailbox",
        json!({"Identity": id, "LitigationHoldEnabled": true}),
    )
    .await)
    .await;
    ok(invoke(
        &g,
        &token,
        "Enable-Mailbox",
        json!({"Identity": id, "Archive": true}),
    )
    .await)
    .await;
    let mailboxes = ok(invoke(&g, &token, "Get-Mailbox", json!({})).await).await;
    let mailbox = &mailboxes["value"][0];
    assert_eq!(mailbox["ExternalDirectoryObjectId"], id.as_str());
    assert_eq!(mailbox["LitigationHoldEnabled"], true);
    assert_eq!(mailbox["ArchiveStatus"], "Active");
    let again = invoke(
        &g,
        &token,
        "Enable-Mailbox",
        json!({"Identity": id, "Archive": true}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_distribution_group_is_mail_enabled_in_graph_and_a_repeated_add_is_an_error() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let member = g.create_user("bob").await;
    let created = ok(invoke(
        &g,
        &token,
        "New-DistributionGroup",
        json!({"Name": "Sales", "Type": "Security"}),
    )
    .await)
    .await;
    let group_id = created["value"][0]["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        created["value"][0]["RecipientTypeDetails"],
        "MailUniversalSecurityGroup"
    );
    let graph: Value = g
        .get(&format!("groups/{group_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(graph["mailEnabled"], true);
    assert_eq!(graph["securityEnabled"], true);

    // Graph reads it but changes it only through Exchange.
    for refused in [
        g.patch(&format!("groups/{group_id}"), json!({"description": "x"})).await,
        g.post(
            &format!("groups/{group_id}/members/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{member}")}),
        )
        .await,
    ] {
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "Cannot Update a mail-enabled security groups and or distribution list."
        );
    }

    // A user without a mailbox cannot be a member; a contact can.
    let refused = invoke(
        &g,
        &token,
        "Add-DistributionGroupMember",
        json!({"Identity": "Sales", "Member": member}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    ok(invoke(
        &g,
        &token,
        "New-MailContact",
        json!({"Name": "Carol", "ExternalEmailAddress": "carol@partner.example"}),
    )
    .await)
    .await;
    ok(invoke(
        &g,
        &token,
        "Add-DistributionGroupMember",
        json!({"Identity": "Sales", "Member": "carol@partner.example"}),
    )
    .await)
    .await;
    let twice = invoke(
        &g,
        &token,
        "Add-DistributionGroupMember",
        json!({"Identity": "Sales", "Member": "Carol"}),
    )
    .await;
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    let body: Value = twice.json().await.unwrap();
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("MemberAlreadyExists")
    );
    let members = ok(invoke(
        &g,
        &token,
        "Get-DistributionGroupMember",
        json!({"Identity": group_id}),
    )
    .await)
    .await;
    assert_eq!(members["value"][0]["Name"], "Carol");
}

#[tokio::test]
async fn get_recipient_pages_with_maxpagesize_and_next_links() {
    let g = start().await;
    let token = exchange_token(&g).await;
    for i in 0..5 {
        ok(invoke(&g, &token, "New-MailContact", json!({"Name": format!("c{i}"), "ExternalEmailAddress": format!("c{i}@partner.example")})).await).await;
    }
    let url = format!(
        "{}/adminapi/beta/{}/InvokeCommand?$select=Name,Guid",
        g.emulator.login_url(),
        g.emulator.info.tenant_id
    );
    let body = json!({"CmdletInput": {"CmdletName": "Get-Recipient", "Parameters": {"RecipientTypeDetails": "MailContact"}}});
    let mut next = Some(url);
    let mut names = Vec::new();
    let mut pages = 0;
    while let Some(url) = next {
        let response = g
            .http
            .post(url)
            .bearer_auth(&token)
            .header("Prefer", "odata.maxpagesize=2")
            .json(&body)
            .send()
            .await
            .unwrap();
        let page = ok(response).await;
        pages += 1;
        for r in page["value"].as_array().unwrap() {
            assert!(
                r.get("DisplayName").is_none(),
                "$select keeps only the named properties"
            );
            names.push(r["Name"].as_str().unwrap().to_owned());
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    // Every contact once, across the pages (in the store's order, not by name).
    names.sort();
    assert_eq!(names, ["c0", "c1", "c2", "c3", "c4"]);
}

#[tokio::test]
async fn the_cmdlet_budget_answers_429_with_retry_after() {
    let g = start().await;
    g.emulator
        .state()
        .exchange
        .set_throttle(graph_emulator::exchange::ExchangeThrottle {
            burst: 2.0,
            per_second: 0.001,
        });
    let token = exchange_token(&g).await;
    for _ in 0..2 {
        ok(invoke(&g, &token, "Get-Recipient", json!({})).await).await;
    }
    let throttled = invoke(&g, &token, "Get-Recipient", json!({})).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn a_new_contact_is_missing_from_reads_during_the_consistency_delay() {
    let clock = crate::support::frozen_clock();
    let g = crate::support::start_with(graph_emulator::EmulatorOptions {
        seed: Some(42),
        clock: clock.clone(),
        eventual_consistency: std::time::Duration::from_secs(5),
        ..graph_emulator::EmulatorOptions::default()
    })
    .await;
    let token = exchange_token(&g).await;
    ok(invoke(
        &g,
        &token,
        "New-MailContact",
        json!({"Name": "Eve", "ExternalEmailAddress": "eve@partner.example"}),
    )
    .await)
    .await;
    let soon = ok(invoke(&g, &token, "Get-MailContact", json!({})).await).await;
    assert_eq!(soon["value"], json!([]), "not visible yet");
    clock.advance(jiff::SignedDuration::from_secs(6));
    let later = ok(invoke(&g, &token, "Get-MailContact", json!({})).await).await;
    assert_eq!(later["value"][0]["Name"], "Eve");
}

#[tokio::test]
async fn a_batch_runs_up_to_ten_cmdlets_and_keeps_failures_inside() {
    let g = start().await;
    let token = exchange_token(&g).await;
    let root = format!(
        "{}/adminapi/beta/{}",
        g.emulator.login_url(),
        g.emulator.info.tenant_id
    );
    let item = |id: &str, name: &str| {
        json!({
            "id": id,
            "method": "POST",
            "url": format!("{root}/InvokeCommand"),
            "headers": {"X-CmdletName": "New-MailContact"},
            "body": {"CmdletInput": {"CmdletName": "New-MailContact", "Parameters": {"Name": name, "ExternalEmailAddress": format!("{name}@partner.example")}}},
        })
    };
    let response = g
        .http
        .post(format!("{root}/$batch"))
        .bearer_auth(&token)
        .json(&json!({"requests": [item("0", "x"), item("1", "x"), item("2", "y")]}))
        .send()
        .await
        .unwrap();
    let body = ok(response).await;
    let responses = body["responses"].as_array().unwrap();
    let status = |id: &str| {
        responses
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["status"].as_u64().unwrap())
    };
    assert_eq!(status("0"), Some(200));
    assert_eq!(
        status("1"),
        Some(400),
        "the duplicate name fails inside the batch"
    );
    assert_eq!(status("2"), Some(200));

    let eleven: Vec<Value> = (0..11)
        .map(|i| item(&i.to_string(), &format!("n{i}")))
        .collect();
    let response = g
        .http
        .post(format!("{root}/$batch"))
        .bearer_auth(&token)
        .json(&json!({ "requests": eleven }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// Each item takes one cmdlet from the budget: a throttled item answers 429 with
/// `Retry-After` inside the batch while the others run, and items look like single calls.
#[tokio::test]
async fn batch_items_are_metered_one_by_one_and_a_throttled_item_carries_retry_after() {
    let g = start().await;
    g.emulator
        .state()
        .exchange
        .set_throttle(graph_emulator::exchange::ExchangeThrottle {
            burst: 2.0,
            per_second: 0.001,
        });
    let token = exchange_token(&g).await;
    let root = format!(
        "{}/adminapi/beta/{}",
        g.emulator.login_url(),
        g.emulator.info.tenant_id
    );
    let item = |id: &str| {
        json!({
            "id": id,
            "method": "POST",
            "url": format!("{root}/InvokeCommand"),
            "headers": {"X-CmdletName": "Get-Recipient"},
            "body": {"CmdletInput": {"CmdletName": "Get-Recipient", "Parameters": {}}},
        })
    };
    let response = g
        .http
        .post(format!("{root}/$batch"))
        .bearer_auth(&token)
        .json(&json!({"requests": [item("a"), item("b"), item("c")]}))
        .send()
        .await
        .unwrap();
    let body = ok(response).await;
    let responses = body["responses"].as_array().unwrap();
    let by_status = |status: u64| -> Vec<&Value> {
        responses.iter().filter(|r| r["status"] == status).collect()
    };
    assert_eq!(by_status(200).len(), 2, "{body}");
    let throttled = by_status(429);
    assert_eq!(throttled.len(), 1, "{body}");
    let retry_after: u64 = throttled[0]["headers"]["Retry-After"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(throttled[0]["body"]["error"]["code"], "TooManyRequests");
    for done in by_status(200) {
        assert!(done["body"]["@odata.context"].as_str().is_some());
        assert_eq!(done["body"]["value"], json!([]));
        assert!(
            done["headers"]["Content-Type"]
                .as_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    assert_eq!(g.emulator.state().exchange.stats().throttled, 1);
}
