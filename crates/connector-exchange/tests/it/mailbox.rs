//! Mailbox settings, permissions and distribution groups, through the connector.

use std::time::Duration;

use connector::{
    Connector, ExportId, ExportRequest, ExportResult, Exporter, ImportEntry, ImportMode,
    ImportRequest,
};
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, ObjectType, Value};
use reqwest::Method;
use serde_json::json;

use crate::support::Tenant;

const E3: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";

pub(crate) async fn licensed_user(tenant: &mut Tenant, nickname: &str) -> String {
    let domain = tenant.emulator.info.initial_domain.clone();
    let (status, user) = tenant
        .graph(
            Method::POST,
            "users",
            Some(json!({
                "accountEnabled": true,
                "displayName": nickname,
                "mailNickname": nickname,
                "userPrincipalName": format!("{nickname}@{domain}"),
                "usageLocation": "NL",
                "passwordProfile": {"password": "Xy!2-long-enough-password"},
            })),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_owned();
    let (status, body) = tenant
        .graph(
            Method::POST,
            &format!("users/{id}/assignLicense"),
            Some(
                json!({"addLicenses": [{"skuId": E3, "disabledPlans": []}], "removeLicenses": []}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

pub(crate) async fn import_all(
    connector: &mut connector_exchange::ExchangeConnector,
) -> Vec<connector::ImportedObject> {
    let mut cursor = None;
    let mut objects = Vec::new();
    loop {
        let page = connector
            .import(ImportRequest {
                mode: ImportMode::Full,
                watermark: None,
                cursor,
            })
            .await
            .expect("import");
        assert!(page.problems.is_empty(), "{:?}", page.problems);
        for entry in page.entries {
            let ImportEntry::Upsert(o) = entry else {
                panic!("a full import upserts")
            };
            objects.push(o);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return objects,
        }
    }
}

pub(crate) fn request(
    id: i64,
    object_type: &str,
    anchor: Option<&str>,
    change: ObjectChange,
) -> ExportRequest {
    ExportRequest {
        id: ExportId(id),
        object_type: ObjectType::new(object_type),
        anchor: anchor.map(Anchor::new),
        change,
    }
}

#[tokio::test]
async fn a_mailbox_setting_waits_for_the_mailbox_then_lands() {
    let mut tenant = Tenant::start().await;
    tenant
        .emulator
        .state()
        .exchange
        .set_mailbox_delay(Duration::from_secs(3600));
    let upn = format!("ann@{}", tenant.emulator.info.initial_domain);
    let id = licensed_user(&mut tenant, "ann").await;
    let mut connector = tenant.connector(&["mailbox"], 10);
    let create = ObjectChange::Create {
        attributes: Attributes::new()
            .with("userPrincipalName", upn.as_str())
            .with("litigationHold", Value::Boolean(true))
            .with("archive", Value::Boolean(true)),
    };
    let outcomes = connector
        .export(vec![request(1, "mailbox", None, create.clone())])
        .await
        .unwrap();
    let ExportResult::Waiting { reason, .. } = &outcomes[0].result else {
        panic!("expected a wait, got {:?}", outcomes[0].result);
    };
    assert!(reason.contains("waiting for the mailbox"), "{reason}");
    assert!(reason.contains(&upn), "{reason}");

    tenant
        .emulator
        .state()
        .exchange
        .set_mailbox_delay(Duration::ZERO);
    let outcomes = connector
        .export(vec![request(2, "mailbox", None, create)])
        .await
        .unwrap();
    assert_eq!(
        outcomes[0].result,
        ExportResult::Applied {
            anchor: Some(Anchor::new(id.as_str()))
        }
    );

    let mailboxes = import_all(&mut connector).await;
    assert_eq!(mailboxes.len(), 1);
    let mailbox = &mailboxes[0];
    assert_eq!(mailbox.anchor.as_str(), id);
    assert_eq!(
        mailbox
            .attributes
            .first(&AttributeName::new("litigationHold")),
        Some(&Value::Boolean(true))
    );
    assert_eq!(
        mailbox.attributes.first(&AttributeName::new("archive")),
        Some(&Value::Boolean(true))
    );
}

#[tokio::test]
async fn permissions_and_shared_mailboxes_change_by_adds_and_removes() {
    let mut tenant = Tenant::start().await;
    let owner = licensed_user(&mut tenant, "team").await;
    let delegate = licensed_user(&mut tenant, "dora").await;
    let mut connector = tenant.connector(&["mailbox"], 10);
    let update = ObjectChange::Update {
        changes: vec![
            AttributeChange::replace(AttributeName::new("shared"), vec![Value::Boolean(true)]),
            AttributeChange::add(
                AttributeName::new("fullAccess"),
                vec![Value::Reference(delegate.clone())],
            ),
            AttributeChange::add(
                AttributeName::new("sendAs"),
                vec![Value::Reference(delegate.clone())],
            ),
            AttributeChange::add(
                AttributeName::new("emailAddresses"),
                vec![Value::string("smtp:team@contoso.example")],
            ),
        ],
    };
    let outcomes = connector
        .export(vec![request(1, "mailbox", Some(&owner), update)])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let mailboxes = import_all(&mut connector).await;
    let team = mailboxes
        .iter()
        .find(|m| m.anchor.as_str() == owner)
        .unwrap();
    assert_eq!(
        team.attributes.first(&AttributeName::new("shared")),
        Some(&Value::Boolean(true))
    );
    assert_eq!(
        team.attributes.get(&AttributeName::new("fullAccess")),
        Some(&[Value::Reference(delegate.clone())][..])
    );
    assert_eq!(
        team.attributes.get(&AttributeName::new("sendAs")),
        Some(&[Value::Reference(delegate.clone())][..])
    );
    assert_eq!(
        team.attributes.get(&AttributeName::new("emailAddresses")),
        Some(&[Value::string("smtp:team@contoso.example")][..])
    );

    let remove = ObjectChange::Update {
        changes: vec![AttributeChange::remove(
            AttributeName::new("fullAccess"),
            vec![Value::Reference(delegate.clone())],
        )],
    };
    let outcomes = connector
        .export(vec![request(2, "mailbox", Some(&owner), remove)])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let mailboxes = import_all(&mut connector).await;
    let team = mailboxes
        .iter()
        .find(|m| m.anchor.as_str() == owner)
        .unwrap();
    assert!(
        team.attributes
            .get(&AttributeName::new("fullAccess"))
            .unwrap_or_default()
            .is_empty(),
        "FullAccess removed: {:?}",
        team.attributes
    );
}

/// Exchange names trustees by UPN or group name beside a SID, lists the mailbox's own
/// `NT AUTHORITY\SELF`, and keeps a deleted user's grant as a bare SID. The import turns
/// the names into Entra ids and leaves the other two out.
#[tokio::test]
async fn permission_trustees_are_read_as_entra_ids_of_users_and_groups() {
    let mut tenant = Tenant::start().await;
    let owner = licensed_user(&mut tenant, "desk").await;
    let gone = licensed_user(&mut tenant, "gone").await;
    let domain = tenant.emulator.info.initial_domain.clone();
    // A user without a mailbox is no recipient: only Get-User knows it.
    let (status, plain) = tenant
        .graph(
            Method::POST,
            "users",
            Some(json!({
                "accountEnabled": true,
                "displayName": "Plain",
                "mailNickname": "plain",
                "userPrincipalName": format!("plain@{domain}"),
                "passwordProfile": {"password": "Xy!2-long-enough-password"},
            })),
        )
        .await;
    assert_eq!(status, 201, "{plain}");
    let plain = plain["id"].as_str().unwrap().to_owned();
    let group = tenant
        .cmdlet(
            "New-DistributionGroup",
            json!({"Name": "Desk Crew", "Type": "Security"}),
        )
        .await
        .unwrap();
    let group = group["value"][0]["ExternalDirectoryObjectId"]
        .as_str()
        .unwrap()
        .to_owned();
    for trustee in [&plain, &group, &gone] {
        tenant
            .cmdlet(
                "Add-MailboxPermission",
                json!({"Identity": owner, "User": trustee, "AccessRights": ["FullAccess"], "InheritanceType": "All"}),
            )
            .await
            .unwrap();
    }
    tenant
        .cmdlet(
            "Add-RecipientPermission",
            json!({"Identity": owner, "Trustee": group, "AccessRights": ["SendAs"], "Confirm": false}),
        )
        .await
        .unwrap();
    let (status, body) = tenant
        .graph(Method::DELETE, &format!("users/{gone}"), None)
        .await;
    assert_eq!(status, 204, "{body}");
    let rows = tenant
        .cmdlet("Get-MailboxPermission", json!({"Identity": owner}))
        .await
        .unwrap();
    let users: Vec<&str> = rows["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["User"].as_str())
        .collect();
    assert!(
        users.contains(&"NT AUTHORITY\\SELF") && users.iter().any(|u| u.starts_with("S-1-5-21-")),
        "the emulator lists SELF and the orphaned SID: {users:?}"
    );

    let mut connector = tenant.connector(&["mailbox"], 10);
    let mailboxes = import_all(&mut connector).await;
    let desk = mailboxes
        .iter()
        .find(|m| m.anchor.as_str() == owner)
        .unwrap();
    let mut expected = [Value::Reference(plain), Value::Reference(group.clone())];
    expected.sort_by_key(Value::to_text);
    assert_eq!(
        desk.attributes.get(&AttributeName::new("fullAccess")),
        Some(&expected[..])
    );
    assert_eq!(
        desk.attributes.get(&AttributeName::new("sendAs")),
        Some(&[Value::Reference(group)][..])
    );
}

#[tokio::test]
async fn a_distribution_group_is_kept_in_step_and_shows_in_graph() {
    let mut tenant = Tenant::start().await;
    let a = licensed_user(&mut tenant, "amy").await;
    let b = licensed_user(&mut tenant, "ben").await;
    let mut connector = tenant.connector(&["distributionGroup"], 10);
    let create = ObjectChange::Create {
        attributes: Attributes::new()
            .with("name", "sales")
            .with("displayName", "Sales")
            .with("members", Value::Reference(a.clone())),
    };
    let outcomes = connector
        .export(vec![request(1, "distributionGroup", None, create)])
        .await
        .unwrap();
    let ExportResult::Applied {
        anchor: Some(group),
    } = outcomes[0].result.clone()
    else {
        panic!("{:?}", outcomes[0].result);
    };
    let (status, graph) = tenant
        .graph(Method::GET, &format!("groups/{}", group.as_str()), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(graph["mailEnabled"], true);

    // Adding a member that is already there is not an error for the connector.
    let update = ObjectChange::Update {
        changes: vec![AttributeChange::add(
            AttributeName::new("members"),
            vec![Value::Reference(a.clone()), Value::Reference(b.clone())],
        )],
    };
    let outcomes = connector
        .export(vec![request(
            2,
            "distributionGroup",
            Some(group.as_str()),
            update,
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let replace = ObjectChange::Update {
        changes: vec![AttributeChange::replace(
            AttributeName::new("members"),
            vec![Value::Reference(b.clone())],
        )],
    };
    let outcomes = connector
        .export(vec![request(
            3,
            "distributionGroup",
            Some(group.as_str()),
            replace,
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let groups = import_all(&mut connector).await;
    assert_eq!(
        groups[0].attributes.get(&AttributeName::new("members")),
        Some(&[Value::Reference(b)][..])
    );
}

#[tokio::test]
async fn a_rejected_contact_names_the_object_and_the_reason() {
    let tenant = Tenant::start().await;
    let mut connector = tenant.connector(&["mailContact"], 10);
    let create = |id| {
        request(
            id,
            "mailContact",
            None,
            ObjectChange::Create {
                attributes: Attributes::new()
                    .with("name", "dup")
                    .with("externalEmailAddress", "dup@partner.example"),
            },
        )
    };
    let outcomes = connector.export(vec![create(1), create(2)]).await.unwrap();
    assert!(matches!(
        outcomes[0].result,
        ExportResult::Applied { anchor: Some(_) }
    ));
    let ExportResult::Permanent { reason } = &outcomes[1].result else {
        panic!("{:?}", outcomes[1].result);
    };
    assert!(
        reason.contains("mailContact dup") && reason.contains("already being used"),
        "{reason}"
    );
}

#[tokio::test]
async fn throttled_cmdlets_are_sat_out_with_no_lost_or_repeated_writes() {
    let mut tenant = Tenant::start().await;
    // A budget of 3 cmdlets, refilled at 20 a second: most creates meet a 429 first.
    tenant
        .emulator
        .state()
        .exchange
        .set_throttle(graph_emulator::exchange::ExchangeThrottle {
            burst: 3.0,
            per_second: 20.0,
        });
    let mut connector = tenant.connector(&["mailContact"], 1000);
    let batch: Vec<ExportRequest> = (0..30)
        .map(|i| {
            request(
                i,
                "mailContact",
                None,
                ObjectChange::Create {
                    attributes: Attributes::new()
                        .with("name", format!("t{i}"))
                        .with("externalEmailAddress", format!("t{i}@partner.example")),
                },
            )
        })
        .collect();
    let outcomes = connector.export(batch).await.unwrap();
    assert_eq!(outcomes.len(), 30);
    for outcome in &outcomes {
        assert!(
            matches!(outcome.result, ExportResult::Applied { anchor: Some(_) }),
            "{outcome:?}"
        );
    }
    let traffic = connector.traffic().unwrap();
    assert!(
        traffic.throttled > 0,
        "the budget was never hit: {traffic:?}"
    );
    let stats = tenant.emulator.state().exchange.stats();
    assert_eq!(stats.throttled, traffic.throttled);
    // Every create ran exactly once: 30 contacts, no duplicate-name rejections.
    tenant
        .emulator
        .state()
        .exchange
        .set_throttle(graph_emulator::exchange::ExchangeThrottle::default());
    let contacts = tenant.cmdlet("Get-MailContact", json!({})).await.unwrap();
    assert_eq!(contacts["value"].as_array().unwrap().len(), 30);
}

/// An app that lacks Exchange's grants is told which one, not left with a bare status.
#[tokio::test]
async fn check_names_the_missing_grant() {
    use graph_emulator::exchange::Grants;
    let tenant = Tenant::start().await;
    let exchange = &tenant.emulator.state().exchange;
    exchange.set_grants(Grants {
        app_role: true,
        directory_role: false,
    });
    let mut connector = tenant.connector(&["mailContact"], 100);
    let outcome = connector.check().await;
    let text = match outcome {
        Ok(health) => health.problems.join("\n"),
        Err(error) => error.to_string(),
    };
    assert!(text.contains("directory role"), "{text}");
    exchange.set_grants(Grants {
        app_role: false,
        directory_role: false,
    });
    let mut connector = tenant.connector(&["mailContact"], 100);
    let text = match connector.check().await {
        Ok(health) => health.problems.join("\n"),
        Err(error) => error.to_string(),
    };
    assert!(text.contains("Exchange.ManageAsApp"), "{text}");
}
