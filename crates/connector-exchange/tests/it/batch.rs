//! Export through `$batch`: many requests progress together, ten cmdlets to an HTTP
//! request, with the same outcomes as one cmdlet at a time.

use std::collections::HashSet;

use connector::{ExportId, ExportOutcome, ExportRequest, ExportResult, Exporter};
use connector_exchange::{ExchangeConnector, MAX_BATCH, Traffic};
use graph_emulator::exchange::ExchangeThrottle;
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, ObjectType, Value};
use serde_json::{Value as Json, json};

use crate::support::{Tenant, reversing_proxy};

fn contact(id: i64, name: &str, hidden: bool) -> ExportRequest {
    let mut attributes = Attributes::new()
        .with("name", name)
        .with("externalEmailAddress", format!("{name}@partner.example"));
    if hidden {
        attributes = attributes.with("hiddenFromAddressLists", Value::Boolean(true));
    }
    ExportRequest {
        id: ExportId(id),
        object_type: ObjectType::new("mailContact"),
        anchor: None,
        change: ObjectChange::Create { attributes },
    }
}

fn update(
    id: i64,
    object_type: &str,
    anchor: &str,
    changes: Vec<AttributeChange>,
) -> ExportRequest {
    ExportRequest {
        id: ExportId(id),
        object_type: ObjectType::new(object_type),
        anchor: Some(Anchor::new(anchor)),
        change: ObjectChange::Update { changes },
    }
}

fn traffic(connector: &ExchangeConnector) -> Traffic {
    connector.traffic().unwrap_or_default()
}

fn created(outcome: &ExportOutcome) -> Anchor {
    match &outcome.result {
        ExportResult::Applied {
            anchor: Some(anchor),
        } => anchor.clone(),
        other => panic!("request {:?} was not applied: {other:?}", outcome.id),
    }
}

/// The contacts in the tenant, by name.
async fn contacts(tenant: &mut Tenant) -> Vec<serde_json::Map<String, Json>> {
    let answer = tenant.cmdlet("Get-MailContact", json!({})).await.unwrap();
    answer["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_object().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn fifty_creates_with_a_follow_up_take_one_http_request_per_ten_cmdlets() {
    let mut tenant = Tenant::start().await;
    let mut connector = tenant.connector(&["mailContact"], 1000);
    let count = connector.batch_size();
    // New-MailContact takes no HiddenFromAddressListsEnabled: each create is two cmdlets.
    let creates: Vec<ExportRequest> = (0..count)
        .map(|i| contact(i as i64, &format!("c{i}"), true))
        .collect();
    let outcomes = connector.export(creates).await.unwrap();
    assert_eq!(outcomes.len(), count);
    let anchors: Vec<Anchor> = outcomes.iter().map(created).collect();
    let after_creates = traffic(&connector);
    assert_eq!(after_creates.throttled, 0, "{after_creates:?}");
    assert_eq!(
        after_creates.requests,
        2 * count.div_ceil(MAX_BATCH) as u64,
        "{after_creates:?}"
    );
    assert_eq!(
        tenant.emulator.state().exchange.stats().cmdlets,
        2 * count as u64
    );

    let renames: Vec<ExportRequest> = anchors
        .iter()
        .enumerate()
        .map(|(i, anchor)| {
            update(
                i as i64,
                "mailContact",
                anchor.as_str(),
                vec![AttributeChange::replace(
                    AttributeName::new("displayName"),
                    vec![Value::string(format!("Renamed {i}"))],
                )],
            )
        })
        .collect();
    let outcomes = connector.export(renames).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| o.result == ExportResult::Applied { anchor: None }),
        "{outcomes:?}"
    );
    assert_eq!(
        traffic(&connector).requests - after_creates.requests,
        count.div_ceil(MAX_BATCH) as u64
    );

    let contacts = contacts(&mut tenant).await;
    assert_eq!(contacts.len(), count);
    for (i, anchor) in anchors.iter().enumerate() {
        let contact = contacts
            .iter()
            .find(|c| c["Guid"] == anchor.as_str())
            .unwrap_or_else(|| panic!("no contact {anchor}"));
        assert_eq!(contact["Name"], format!("c{i}"));
        assert_eq!(contact["DisplayName"], format!("Renamed {i}"));
        assert_eq!(contact["HiddenFromAddressListsEnabled"], true);
    }
}

#[tokio::test]
async fn a_tiny_cmdlet_budget_lands_every_batched_contact_exactly_once() {
    let mut tenant = Tenant::start().await;
    // A budget of 3 cmdlets, refilled at 20 a second: most calls in a batch of ten meet a
    // 429 and go again in a later batch.
    tenant
        .emulator
        .state()
        .exchange
        .set_throttle(ExchangeThrottle {
            burst: 3.0,
            per_second: 20.0,
        });
    let mut connector = tenant.connector(&["mailContact"], 1000);
    let count = 20;
    let creates: Vec<ExportRequest> = (0..count)
        .map(|i| contact(i, &format!("t{i}"), true))
        .collect();
    let outcomes = connector.export(creates).await.unwrap();
    let ids: Vec<i64> = outcomes.iter().map(|o| o.id.0).collect();
    assert_eq!(ids, (0..count).collect::<Vec<_>>());
    let anchors: Vec<Anchor> = outcomes.iter().map(created).collect();
    let distinct: HashSet<&str> = anchors.iter().map(Anchor::as_str).collect();
    assert_eq!(distinct.len(), anchors.len(), "{anchors:?}");

    let traffic = traffic(&connector);
    let stats = tenant.emulator.state().exchange.stats();
    assert!(
        traffic.throttled > 0,
        "the budget was never hit: {traffic:?}"
    );
    assert_eq!(stats.throttled, traffic.throttled);
    // Every cmdlet ran exactly once (a New-* and a Set-* per contact), and throttled calls
    // were retried together rather than one request each.
    assert_eq!(stats.cmdlets, 2 * count as u64);
    assert!(traffic.requests < stats.cmdlets, "{traffic:?} {stats:?}");

    tenant
        .emulator
        .state()
        .exchange
        .set_throttle(ExchangeThrottle::default());
    let contacts = contacts(&mut tenant).await;
    assert_eq!(contacts.len(), count as usize);
    for (i, anchor) in anchors.iter().enumerate() {
        let contact = contacts
            .iter()
            .find(|c| c["Guid"] == anchor.as_str())
            .unwrap_or_else(|| panic!("no contact {anchor}"));
        assert_eq!(contact["Name"], format!("t{i}"));
        assert_eq!(contact["HiddenFromAddressListsEnabled"], true);
    }
}

#[tokio::test]
async fn a_failing_second_step_is_partial_beside_applied_neighbours_in_the_same_batch() {
    let mut tenant = Tenant::start().await;
    let mut groups = Vec::new();
    for name in ["g0", "g1", "g2"] {
        let made = tenant
            .cmdlet("New-DistributionGroup", json!({"Name": name}))
            .await
            .unwrap();
        groups.push(
            made["value"][0]["ExternalDirectoryObjectId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let made = tenant
        .cmdlet(
            "New-MailContact",
            json!({"Name": "member", "ExternalEmailAddress": "member@partner.example"}),
        )
        .await
        .unwrap();
    let member = made["value"][0]["Guid"].as_str().unwrap().to_owned();
    let rename = |name: &str| {
        AttributeChange::replace(AttributeName::new("displayName"), vec![Value::string(name)])
    };
    let add = |member: &str| {
        AttributeChange::add(
            AttributeName::new("members"),
            vec![Value::Reference(member.to_owned())],
        )
    };
    let mut connector = tenant.connector(&["distributionGroup"], 1000);
    let outcomes = connector
        .export(vec![
            update(
                0,
                "distributionGroup",
                &groups[0],
                vec![rename("Zero"), add(&member)],
            ),
            update(
                1,
                "distributionGroup",
                &groups[1],
                vec![rename("One"), add("nobody@nowhere.example")],
            ),
            update(2, "distributionGroup", &groups[2], vec![rename("Two")]),
        ])
        .await
        .unwrap();
    // Two waves: the three Set-DistributionGroup in one batch, the two adds in another.
    assert_eq!(traffic(&connector).requests, 2);
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    assert_eq!(outcomes[2].result, ExportResult::Applied { anchor: None });
    let ExportResult::Partial {
        anchor,
        unapplied,
        reason,
    } = &outcomes[1].result
    else {
        panic!("{:?}", outcomes[1].result);
    };
    assert_eq!(anchor, &None);
    assert_eq!(unapplied, &[AttributeName::new("members")]);
    assert!(
        reason.contains(&groups[1])
            && reason.contains("Add-DistributionGroupMember")
            && reason.contains("nobody@nowhere.example"),
        "{reason}"
    );
    // The first step of the partial request landed.
    let g1 = tenant
        .cmdlet("Get-DistributionGroup", json!({"Identity": groups[1]}))
        .await
        .unwrap();
    assert_eq!(g1["value"][0]["DisplayName"], "One");
}

#[tokio::test]
async fn outcomes_match_their_requests_when_batch_answers_come_back_shuffled() {
    let mut tenant = Tenant::start().await;
    // The odd names are taken already, so those creates are rejected.
    for i in (1..10).step_by(2) {
        tenant
            .cmdlet(
                "New-MailContact",
                json!({"Name": format!("n{i}"), "ExternalEmailAddress": format!("n{i}@partner.example")}),
            )
            .await
            .unwrap();
    }
    let (proxy, reversed) = reversing_proxy(tenant.emulator.login_url()).await;
    let mut settings = tenant.settings(&["mailContact"], 1000);
    settings.exchange_url = Some(proxy);
    let mut connector = ExchangeConnector::new(settings);
    let creates: Vec<ExportRequest> = (0..10)
        .map(|i| contact(i, &format!("n{i}"), true))
        .collect();
    let outcomes = connector.export(creates).await.unwrap();
    assert!(
        reversed.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the proxy reversed no batch"
    );
    let contacts = contacts(&mut tenant).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome.id, ExportId(i as i64));
        if i % 2 == 1 {
            let ExportResult::Permanent { reason } = &outcome.result else {
                panic!("{outcome:?}");
            };
            assert!(reason.contains(&format!("mailContact n{i}")), "{reason}");
            continue;
        }
        // The anchor is this request's contact, and its follow-up reached that contact.
        let anchor = created(outcome);
        let contact = contacts
            .iter()
            .find(|c| c["Guid"] == anchor.as_str())
            .unwrap_or_else(|| panic!("no contact {anchor}"));
        assert_eq!(contact["Name"], format!("n{i}"));
        assert_eq!(contact["HiddenFromAddressListsEnabled"], true);
    }
}
