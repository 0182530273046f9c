use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{error_code, start};

const E3: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
const EMS: &str = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e";
const EXCHANGE: &str = "efb87545-963c-4e0d-99df-69c6916d9eb0";

fn add(sku: &str, disabled: &[&str]) -> Value {
    json!({"addLicenses": [{"skuId": sku, "disabledPlans": disabled}], "removeLicenses": []})
}

#[tokio::test]
async fn assign_license_needs_usage_location_and_counts_seats() {
    let g = start().await;
    let id = g.create_user("a").await;
    let (code, body) = error_code(
        g.post(&format!("users/{id}/assignLicense"), add(E3, &[]))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");
    assert_eq!(
        body["error"]["message"],
        "License assignment cannot be done for user with invalid usage location."
    );

    g.patch(&format!("users/{id}"), json!({"usageLocation": "NL"}))
        .await;
    let response = g
        .post(&format!("users/{id}/assignLicense"), add(E3, &[EXCHANGE]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["id"], id.as_str());

    let skus: Value = g.get("subscribedSkus").await.json().await.unwrap();
    let e3 = skus["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["skuId"] == E3)
        .unwrap();
    assert_eq!(e3["consumedUnits"], 1);
    assert_eq!(e3["prepaidUnits"]["enabled"], 25);

    let details: Value = g
        .get(&format!("users/{id}/licenseDetails"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(details["value"][0]["skuPartNumber"], "ENTERPRISEPACK");
    let exchange = details["value"][0]["servicePlans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["servicePlanId"] == EXCHANGE)
        .unwrap();
    assert_eq!(exchange["provisioningStatus"], "Disabled");

    let selected: Value = g
        .get(&format!("users/{id}?$select=assignedLicenses"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(selected["assignedLicenses"][0]["skuId"], E3);

    let (code, _) = error_code(
        g.post(
            &format!("users/{id}/assignLicense"),
            add("00000000-0000-4000-8000-000000000000", &[]),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(code, "Request_BadRequest");

    // EMS has 10 seats: the eleventh assignment fails.
    let mut last = None;
    for i in 0..11 {
        let u = g.create_user(&format!("ems{i}")).await;
        g.patch(&format!("users/{u}"), json!({"usageLocation": "US"}))
            .await;
        last = Some(
            g.post(&format!("users/{u}/assignLicense"), add(EMS, &[]))
                .await,
        );
    }
    let (_, body) = error_code(last.unwrap(), StatusCode::BAD_REQUEST).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not have any available licenses")
    );
}

async fn select_licenses(g: &crate::support::Graph, id: &str) -> Value {
    g.get(&format!(
        "users/{id}?$select=assignedLicenses,licenseAssignmentStates"
    ))
    .await
    .json()
    .await
    .unwrap()
}

async fn ems_consumed(g: &crate::support::Graph) -> u64 {
    let skus: Value = g.get("subscribedSkus").await.json().await.unwrap();
    skus["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["skuId"] == EMS)
        .unwrap()["consumedUnits"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn group_licenses_are_inherited_by_members_and_counted_once() {
    let g = start().await;
    let group = g.create_group("licensed").await;
    let member = g.create_user("member").await;
    let both = g.create_user("both").await;
    g.patch(&format!("users/{both}"), json!({"usageLocation": "NL"}))
        .await;
    assert_eq!(
        g.post(&format!("users/{both}/assignLicense"), add(EMS, &[]))
            .await
            .status(),
        StatusCode::OK
    );
    for user in [&member, &both] {
        g.post(
            &format!("groups/{group}/members/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")}),
        )
        .await;
    }

    let response = g
        .post(&format!("groups/{group}/assignLicense"), add(EMS, &[]))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(response.headers().contains_key("location"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["assignedLicenses"][0]["skuId"], EMS);

    // A member without a usage location inherits the license (group licensing does not
    // need one); the state names the group.
    let inherited = select_licenses(&g, &member).await;
    assert_eq!(inherited["assignedLicenses"][0]["skuId"], EMS);
    let state = &inherited["licenseAssignmentStates"][0];
    assert_eq!(state["assignedByGroup"], group.as_str());
    assert_eq!(state["state"], "Active");
    // Direct and inherited: two states, one license, one seat.
    let doubled = select_licenses(&g, &both).await;
    assert_eq!(
        doubled["licenseAssignmentStates"].as_array().unwrap().len(),
        2
    );
    assert_eq!(doubled["assignedLicenses"].as_array().unwrap().len(), 1);
    assert_eq!(ems_consumed(&g).await, 2);

    // Leaving the group takes the inherited license away, not the direct one.
    for user in [&member, &both] {
        assert_eq!(
            g.delete(&format!("groups/{group}/members/{user}/$ref"))
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        select_licenses(&g, &member).await["assignedLicenses"],
        json!([])
    );
    assert_eq!(
        select_licenses(&g, &both).await["assignedLicenses"][0]["skuId"],
        EMS
    );
    assert_eq!(ems_consumed(&g).await, 1);
}
