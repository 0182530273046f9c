//! A request's independent cmdlets (one per member) go out together, ten to a `$batch`,
//! and a failure among them leaves the others landed and the request partial.

use std::collections::BTreeSet;

use connector::{ExportRequest, ExportResult, Exporter};
use connector_exchange::{ExchangeConnector, MAX_BATCH};
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, Value};
use serde_json::json;

use crate::mailbox::{import_all, licensed_user, request};
use crate::support::Tenant;

fn created(result: &ExportResult) -> Anchor {
    match result {
        ExportResult::Applied {
            anchor: Some(anchor),
        } => anchor.clone(),
        other => panic!("not created: {other:?}"),
    }
}

/// `count` mail contacts made through the connector, by anchor (their `Guid`).
async fn contacts(connector: &mut ExchangeConnector, count: usize) -> Vec<Anchor> {
    let creates: Vec<ExportRequest> = (0..count)
        .map(|i| {
            let attributes = Attributes::new()
                .with("name", format!("fan{i}"))
                .with("externalEmailAddress", format!("fan{i}@partner.example"));
            request(
                i as i64,
                "mailContact",
                None,
                ObjectChange::Create { attributes },
            )
        })
        .collect();
    let mut anchors = Vec::new();
    for chunk in creates.chunks(connector.batch_size()) {
        for outcome in connector.export(chunk.to_vec()).await.unwrap() {
            anchors.push(created(&outcome.result));
        }
    }
    anchors
}

async fn group(connector: &mut ExchangeConnector, name: &str) -> Anchor {
    let create = ObjectChange::Create {
        attributes: Attributes::new().with("name", name),
    };
    let outcomes = connector
        .export(vec![request(1, "distributionGroup", None, create)])
        .await
        .unwrap();
    created(&outcomes[0].result)
}

fn add_members(group: &Anchor, members: &[String]) -> ExportRequest {
    let change = AttributeChange::add(
        AttributeName::new("members"),
        members.iter().cloned().map(Value::Reference).collect(),
    );
    request(
        2,
        "distributionGroup",
        Some(group.as_str()),
        ObjectChange::Update {
            changes: vec![change],
        },
    )
}

/// The group's contact members as Exchange lists them, read behind the connector's back.
async fn contact_members(tenant: &mut Tenant, group: &Anchor) -> BTreeSet<String> {
    let answer = tenant
        .cmdlet(
            "Get-DistributionGroupMember",
            json!({"Identity": group.as_str()}),
        )
        .await
        .unwrap();
    answer["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Guid"].as_str().expect("a contact's Guid").to_owned())
        .collect()
}

fn requests(connector: &ExchangeConnector) -> u64 {
    connector.traffic().unwrap_or_default().requests
}

#[tokio::test]
async fn ninety_five_new_members_of_one_group_take_one_http_request_per_ten() {
    let mut tenant = Tenant::start().await;
    let mut connector = tenant.connector(&["mailContact", "distributionGroup"], 1000);
    let members = contacts(&mut connector, 95).await;
    let group = group(&mut connector, "fans").await;
    let cmdlets_before = tenant.emulator.state().exchange.stats().cmdlets;
    let before = requests(&connector);

    let ids: Vec<String> = members.iter().map(|m| m.as_str().to_owned()).collect();
    let outcomes = connector
        .export(vec![add_members(&group, &ids)])
        .await
        .unwrap();

    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    // An add needs no read: one Add-DistributionGroupMember per member, ten to a batch.
    assert_eq!(
        requests(&connector) - before,
        95_usize.div_ceil(MAX_BATCH) as u64
    );
    assert_eq!(
        tenant.emulator.state().exchange.stats().cmdlets - cmdlets_before,
        95
    );
    assert_eq!(
        contact_members(&mut tenant, &group).await,
        ids.into_iter().collect()
    );
}

#[tokio::test]
async fn a_member_that_does_not_exist_leaves_the_others_added_and_the_request_partial() {
    let mut tenant = Tenant::start().await;
    let mut connector = tenant.connector(&["mailContact", "distributionGroup"], 1000);
    let members = contacts(&mut connector, 5).await;
    let group = group(&mut connector, "fans").await;
    let missing = "00000000-0000-0000-0000-00000000dead";
    let mut ids: Vec<String> = members.iter().map(|m| m.as_str().to_owned()).collect();
    // First: its siblings go out in the same wave and land, so the request is partial
    // rather than failed.
    ids.insert(0, missing.to_owned());

    let outcomes = connector
        .export(vec![add_members(&group, &ids)])
        .await
        .unwrap();

    let ExportResult::Partial {
        anchor,
        unapplied,
        reason,
    } = &outcomes[0].result
    else {
        panic!("{:?}", outcomes[0].result);
    };
    assert_eq!(anchor, &None);
    assert_eq!(unapplied, &[AttributeName::new("members")]);
    assert!(reason.contains("Add-DistributionGroupMember"), "{reason}");
    assert!(reason.contains(group.as_str()), "{reason}");
    assert!(reason.contains(missing), "{reason}");
    assert_eq!(
        contact_members(&mut tenant, &group).await,
        members.iter().map(|m| m.as_str().to_owned()).collect()
    );
}

#[tokio::test]
async fn full_access_and_send_as_for_three_delegates_go_out_together_after_set_mailbox() {
    let mut tenant = Tenant::start().await;
    let owner = Anchor::new(licensed_user(&mut tenant, "desk").await);
    let mut delegates = Vec::new();
    for nickname in ["dora", "dirk", "dana"] {
        delegates.push(Value::Reference(licensed_user(&mut tenant, nickname).await));
    }
    let mut connector = tenant.connector(&["mailbox"], 10);
    let update = ObjectChange::Update {
        changes: vec![
            AttributeChange::replace(AttributeName::new("shared"), vec![Value::Boolean(true)]),
            AttributeChange::add(AttributeName::new("fullAccess"), delegates.clone()),
            AttributeChange::add(AttributeName::new("sendAs"), delegates.clone()),
        ],
    };

    let outcomes = connector
        .export(vec![request(1, "mailbox", Some(owner.as_str()), update)])
        .await
        .unwrap();

    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    // Set-Mailbox alone, then the six grants in one batch.
    assert_eq!(requests(&connector), 2);
    let mailboxes = import_all(&mut connector).await;
    let desk = mailboxes.iter().find(|m| m.anchor == owner).unwrap();
    let sorted = |values: &[Value]| {
        let mut values = values.to_vec();
        values.sort_by_key(Value::to_text);
        values
    };
    for permission in ["fullAccess", "sendAs"] {
        assert_eq!(
            sorted(
                desk.attributes
                    .get(&AttributeName::new(permission))
                    .unwrap_or_default()
            ),
            sorted(&delegates),
            "{permission}"
        );
    }
}
