//! Export against the emulated tenant: groups and membership, licenses, certificates,
//! throttling and faults.

use std::collections::BTreeSet;

use config::GraphCredential;
use connector::{
    Connector, ExportId, ExportOutcome, ExportRequest, ExportResult, Exporter, ImportEntry,
    ImportMode, ImportRequest,
};
use connector_graph::GraphConnector;
use graph_emulator::{EmulatorOptions, ThrottleLimits};
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, ObjectType, Value};
use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::support::Tenant;

fn create(id: i64, object_type: &str, attributes: Attributes) -> ExportRequest {
    ExportRequest {
        id: ExportId(id),
        object_type: ObjectType::new(object_type),
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

fn applied_anchor(outcome: &ExportOutcome) -> String {
    match &outcome.result {
        ExportResult::Applied { anchor: Some(a) } => a.as_str().to_owned(),
        other => panic!(
            "export {:?} was not applied with an anchor: {other:?}",
            outcome.id
        ),
    }
}

fn refs(ids: &[String]) -> Vec<Value> {
    ids.iter().map(|id| Value::Reference(id.clone())).collect()
}

async fn members(tenant: &Tenant, group: &str) -> BTreeSet<String> {
    let state = tenant.state().await;
    let group = state["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == group)
        .cloned()
        .unwrap_or(Json::Null);
    group["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect()
}

async fn users(tenant: &Tenant, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            tenant
                .add_user(json!({
                    "userPrincipalName": format!("m{i}@{}", tenant.domain()),
                    "displayName": format!("Member {i}"),
                }))
                .await,
        );
    }
    ids
}

#[tokio::test]
async fn group_members_go_twenty_to_a_patch_and_an_existing_member_does_not_block_the_rest() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let people = users(&tenant, 45).await;
    let mut connector = GraphConnector::new(tenant.settings());

    let outcomes = connector
        .export(vec![
            create(
                1,
                "group",
                Attributes::new()
                    .with("displayName", "Engineering (all)")
                    .with("description", "Everyone in engineering"),
            )
            .with_members(&people[..41]),
        ])
        .await
        .unwrap();
    let group = applied_anchor(&outcomes[0]);
    assert_eq!(members(&tenant, &group).await.len(), 41);
    let (requests, _, _) = connector.traffic().unwrap().snapshot();
    // Token-free count: the create with 20 members, two PATCHes of 20 and 1, in three
    // batches, plus the domain lookup none (groups need none).
    assert!(
        requests <= 4,
        "{requests} HTTP requests for one group of 41"
    );

    // Someone adds people[41] by hand; idsync then adds 41 and 42 and removes 0.
    let (status, body) = tenant
        .graph(
            Method::POST,
            &format!("groups/{group}/members/$ref"),
            Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", people[41])})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let outcomes = connector
        .export(vec![update(
            2,
            "group",
            &group,
            vec![
                AttributeChange::add(AttributeName::new("members"), refs(&people[41..43])),
                AttributeChange::remove(AttributeName::new("members"), refs(&people[..1])),
            ],
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let now = members(&tenant, &group).await;
    assert_eq!(now.len(), 42);
    assert!(now.contains(&people[42]) && !now.contains(&people[0]));

    // A whole-list replacement becomes adds and removes against what the group holds.
    let outcomes = connector
        .export(vec![update(
            3,
            "group",
            &group,
            vec![AttributeChange::replace(
                AttributeName::new("members"),
                refs(&people[40..45]),
            )],
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let expected: BTreeSet<String> = people[40..45].iter().cloned().collect();
    assert_eq!(members(&tenant, &group).await, expected);
}

trait WithMembers {
    fn with_members(self, ids: &[String]) -> Self;
}

impl WithMembers for ExportRequest {
    fn with_members(mut self, ids: &[String]) -> Self {
        if let ObjectChange::Create { attributes } = &mut self.change {
            attributes.set(AttributeName::new("members"), refs(ids));
        }
        self
    }
}

#[tokio::test]
async fn licenses_are_assigned_by_part_number_and_an_unknown_sku_is_a_permanent_error() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let mut settings = tenant.settings();
    settings
        .disabled_plans
        .insert("ENTERPRISEPACK".into(), vec!["TEAMS1".into()]);
    let mut connector = GraphConnector::new(settings);
    let person = |n: &str| {
        Attributes::new()
            .with("userPrincipalName", n)
            .with("displayName", n)
            .with("usageLocation", "DE")
            .with("licenses", "ENTERPRISEPACK")
    };
    let outcomes = connector
        .export(vec![
            create(1, "user", person("ann")),
            create(2, "user", person("bob").with("licenses", "SPE_E5")),
            create(
                3,
                "user",
                person("cy").with("usageLocation", Value::String(String::new())),
            ),
        ])
        .await
        .unwrap();
    let ann = applied_anchor(&outcomes[0]);
    let ExportResult::Permanent { reason } = &outcomes[1].result else {
        panic!("{:?}", outcomes[1])
    };
    assert!(
        reason.contains("SPE_E5") && reason.contains("ENTERPRISEPACK"),
        "{reason}"
    );
    let ExportResult::Permanent { reason } = &outcomes[2].result else {
        panic!("{:?}", outcomes[2])
    };
    assert!(reason.contains("usageLocation"), "{reason}");
    // Nothing was created for the refused requests.
    assert!(tenant.user_by("displayName", "bob").await.is_none());

    let (_, details) = tenant
        .graph(Method::GET, &format!("users/{ann}/licenseDetails"), None)
        .await;
    let plans = details["value"][0]["servicePlans"].as_array().unwrap();
    let teams = plans
        .iter()
        .find(|p| p["servicePlanName"] == "TEAMS1")
        .unwrap();
    assert_eq!(teams["provisioningStatus"], "Disabled", "{details:#}");

    // The import names the license by its part number again.
    let page = connector
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .unwrap();
    let imported = page
        .entries
        .iter()
        .find_map(|e| match e {
            ImportEntry::Upsert(o) if o.anchor.as_str() == ann => Some(o),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        imported.attributes.get(&AttributeName::new("licenses")),
        Some(&[Value::string("ENTERPRISEPACK")][..])
    );

    // Replacing the licenses removes what is no longer wanted.
    let outcomes = connector
        .export(vec![update(
            4,
            "user",
            &ann,
            vec![AttributeChange::replace(
                AttributeName::new("licenses"),
                vec![Value::string("EMS")],
            )],
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let user = tenant.user_by("id", &ann).await.unwrap();
    assert_eq!(
        user["assignedLicenses"].as_array().unwrap().len(),
        1,
        "{user:#}"
    );
}

#[tokio::test]
async fn certificate_credentials_sign_a_client_assertion_the_tenant_accepts() {
    let tenant = Tenant::start(EmulatorOptions {
        client_certificate: true,
        ..EmulatorOptions::default()
    })
    .await;
    let info = &tenant.emulator.info;
    let mut settings = tenant.settings();
    settings.credential = GraphCredential::Certificate {
        certificate: info.certificate_path.clone().unwrap().into(),
        private_key: info.private_key_path.clone().map(Into::into),
        password: None,
    };
    let mut connector = GraphConnector::new(settings);
    let health = connector.check().await.unwrap();
    assert!(health.is_healthy(), "{health:?}");
    assert!(
        health.passed.iter().any(|p| p.contains("token for app")),
        "{health:?}"
    );

    // A key that does not belong to the registered certificate is refused, by name.
    let other = tempfile::tempdir().unwrap();
    let key = other.path().join("other.pem");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let mut settings = tenant.settings();
    settings.credential = GraphCredential::Certificate {
        certificate: info.certificate_path.clone().unwrap().into(),
        private_key: Some(key.clone()),
        password: None,
    };
    let error = GraphConnector::new(settings)
        .check()
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("other.pem"), "{error}");
}

#[tokio::test]
async fn a_throttled_and_failing_tenant_loses_and_repeats_no_write() {
    let tenant = Tenant::start(EmulatorOptions {
        throttle: ThrottleLimits {
            app_tenant_writes: 40.0,
            app_tenant_write_window_secs: 2.0,
            ..ThrottleLimits::default()
        },
        fault_rate: 0.1,
        seed: Some(7),
        ..EmulatorOptions::default()
    })
    .await;
    let mut connector = GraphConnector::new(tenant.settings());
    let mut pending: Vec<ExportRequest> = (0..120)
        .map(|i| {
            create(
                i,
                "user",
                Attributes::new()
                    .with("userPrincipalName", format!("load{i}"))
                    .with("displayName", format!("Load {i}"))
                    .with("employeeId", format!("L{i}")),
            )
        })
        .collect();
    let mut applied = 0;
    // The engine retries transient outcomes on later runs; so does this loop.
    for _round in 0..10 {
        if pending.is_empty() {
            break;
        }
        let outcomes = connector.export(pending.clone()).await.unwrap();
        let mut retry = Vec::new();
        for (request, outcome) in pending.into_iter().zip(outcomes) {
            assert_eq!(request.id, outcome.id);
            match outcome.result {
                ExportResult::Applied { .. } => applied += 1,
                ExportResult::Transient { .. } => retry.push(request),
                ExportResult::Permanent { reason }
                | ExportResult::Partial { reason, .. }
                | ExportResult::Waiting { reason, .. } => {
                    panic!("{reason}")
                }
            }
        }
        pending = retry;
    }
    assert_eq!(applied, 120);
    let state = tenant.state().await;
    let upns: BTreeSet<&str> = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userPrincipalName"].as_str())
        .collect();
    assert_eq!(upns.len(), 120, "each user exactly once");
    let (_, throttled, _) = connector.traffic().unwrap().snapshot();
    assert!(throttled > 0, "the write quota was reached");
}

#[tokio::test]
async fn a_delta_import_sees_membership_changes_made_in_the_tenant() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let people = users(&tenant, 3).await;
    let mut connector = GraphConnector::new(tenant.settings());
    let outcomes = connector
        .export(vec![
            create(1, "group", Attributes::new().with("displayName", "Pilots"))
                .with_members(&people[..2]),
        ])
        .await
        .unwrap();
    let group = applied_anchor(&outcomes[0]);

    let mut cursor = None;
    let watermark = loop {
        let page = connector
            .import(ImportRequest {
                mode: ImportMode::Full,
                watermark: None,
                cursor,
            })
            .await
            .unwrap();
        cursor = page.next;
        if cursor.is_none() {
            break page.watermark;
        }
    };
    let (status, _) = tenant
        .graph(
            Method::DELETE,
            &format!("groups/{group}/members/{}/$ref", people[0]),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = tenant
        .graph(
            Method::POST,
            &format!("groups/{group}/members/$ref"),
            Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", people[2])})),
        )
        .await;
    assert_eq!(status, 204);

    let mut entries = Vec::new();
    let mut cursor = None;
    loop {
        let page = connector
            .import(ImportRequest {
                mode: ImportMode::Delta,
                watermark: watermark.clone(),
                cursor,
            })
            .await
            .unwrap();
        assert_eq!(page.mode, ImportMode::Delta);
        entries.extend(page.entries);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let changes: Vec<&AttributeChange> = entries
        .iter()
        .filter_map(|e| match e {
            ImportEntry::Modify {
                anchor, changes, ..
            } if anchor.as_str() == group => Some(changes),
            _ => None,
        })
        .flatten()
        .filter(|c| c.name.as_str() == "members")
        .collect();
    assert!(
        changes.contains(&&AttributeChange::add(
            AttributeName::new("members"),
            refs(&people[2..3])
        )),
        "{changes:?}"
    );
    assert!(
        changes.contains(&&AttributeChange::remove(
            AttributeName::new("members"),
            refs(&people[..1])
        )),
        "{changes:?}"
    );
}

#[tokio::test]
async fn a_deleted_user_who_comes_back_is_restored_with_the_same_id() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let mut connector = GraphConnector::new(tenant.settings());
    let person = |title: &str| {
        Attributes::new()
            .with("userPrincipalName", "rehire")
            .with("displayName", "Re Hire")
            .with("jobTitle", title)
    };
    let outcomes = connector
        .export(vec![create(1, "user", person("Analyst"))])
        .await
        .unwrap();
    let id = applied_anchor(&outcomes[0]);
    let outcomes = connector
        .export(vec![ExportRequest {
            id: ExportId(2),
            object_type: ObjectType::new("user"),
            anchor: Some(Anchor::new(id.as_str())),
            change: ObjectChange::Delete,
        }])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    assert!(tenant.user_by("id", &id).await.is_none(), "soft-deleted");

    let outcomes = connector
        .export(vec![create(3, "user", person("Manager"))])
        .await
        .unwrap();
    assert_eq!(
        applied_anchor(&outcomes[0]),
        id,
        "restored, not created anew"
    );
    let user = tenant.user_by("id", &id).await.expect("live again");
    assert_eq!(user["jobTitle"], "Manager", "and brought up to date");

    // Deleting what is already gone is applied.
    let outcomes = connector
        .export(vec![ExportRequest {
            id: ExportId(4),
            object_type: ObjectType::new("user"),
            anchor: Some(Anchor::new("00000000-0000-0000-0000-000000000000")),
            change: ObjectChange::Delete,
        }])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
}

#[tokio::test]
async fn a_create_whose_license_finds_no_free_seat_is_partial_and_names_the_license() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let mut connector = GraphConnector::new(tenant.settings());
    // EMS has 10 seats in the emulated tenant.
    let requests = (0..11)
        .map(|i| {
            create(
                i,
                "user",
                Attributes::new()
                    .with("userPrincipalName", format!("seat{i}"))
                    .with("displayName", format!("Seat {i}"))
                    .with("usageLocation", "GB")
                    .with("licenses", "EMS"),
            )
        })
        .collect();
    let outcomes = connector.export(requests).await.unwrap();
    let partial: Vec<&ExportOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o.result, ExportResult::Partial { .. }))
        .collect();
    assert_eq!(partial.len(), 1, "{outcomes:#?}");
    let ExportResult::Partial {
        anchor,
        unapplied,
        reason,
    } = &partial[0].result
    else {
        unreachable!()
    };
    assert!(anchor.is_some(), "the user was created: its anchor is kept");
    assert_eq!(unapplied, &[AttributeName::new("licenses")]);
    assert!(reason.contains("available licenses"), "{reason}");
}

#[tokio::test]
async fn a_guest_is_invited_by_their_external_address_and_then_given_the_rest() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let mut connector = GraphConnector::new(tenant.settings());
    let outcomes = connector
        .export(vec![create(
            1,
            "user",
            Attributes::new()
                .with("userType", "Guest")
                .with("mail", "kim.lee@fabrikam.example")
                .with("displayName", "Kim Lee (Fabrikam)")
                .with("department", "Contractors")
                .with("companyName", "Fabrikam"),
        )])
        .await
        .unwrap();
    let id = applied_anchor(&outcomes[0]);
    let guest = tenant.user_by("id", &id).await.expect("the guest exists");
    assert_eq!(guest["userType"], "Guest");
    assert_eq!(guest["externalUserState"], "PendingAcceptance");
    assert!(
        guest["userPrincipalName"]
            .as_str()
            .unwrap()
            .contains("#EXT#"),
        "{guest:#}"
    );
    assert_eq!(guest["department"], "Contractors");
    assert_eq!(guest["companyName"], "Fabrikam");

    // Without an address there is nobody to invite.
    let outcomes = connector
        .export(vec![create(
            2,
            "user",
            Attributes::new()
                .with("userType", "Guest")
                .with("displayName", "Nobody"),
        )])
        .await
        .unwrap();
    let ExportResult::Permanent { reason } = &outcomes[0].result else {
        panic!("{outcomes:?}")
    };
    assert!(reason.contains("mail"), "{reason}");
}

#[tokio::test]
async fn a_configured_directory_extension_is_created_written_and_read_back() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let mut settings = tenant.settings();
    settings.extensions = vec!["employeeNumber".into()];
    let extension = format!(
        "extension_{}_employeeNumber",
        tenant.emulator.info.client_id.replace('-', "")
    );
    let mut connector = GraphConnector::new(settings.clone());
    let health = connector.check().await.unwrap();
    assert!(
        health.passed.iter().any(|p| p.contains(&extension)),
        "check names the extension it created: {health:?}"
    );
    // Creating extensions needs a permission the emulated app was not granted: check says
    // which, by name.
    assert!(
        health
            .problems
            .iter()
            .any(|p| p.contains("Application.ReadWrite.All")),
        "{health:?}"
    );
    let outcomes = connector
        .export(vec![create(
            1,
            "user",
            Attributes::new()
                .with("userPrincipalName", "staff")
                .with("displayName", "Staff Member")
                .with(extension.as_str(), "HR-000123"),
        )])
        .await
        .unwrap();
    let id = applied_anchor(&outcomes[0]);

    // A new connector (a new run) finds the extension and imports its value.
    let mut connector = GraphConnector::new(settings);
    let schema = connector.schema().await.unwrap();
    assert!(
        schema.object_types[0]
            .attribute(&AttributeName::new(extension.as_str()))
            .is_some()
    );
    let page = connector
        .import(ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .unwrap();
    let user = page
        .entries
        .iter()
        .find_map(|e| match e {
            ImportEntry::Upsert(o) if o.anchor.as_str() == id => Some(o),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        user.attributes.get(&AttributeName::new(extension.as_str())),
        Some(&[Value::string("HR-000123")][..])
    );
}

async fn import_all(
    connector: &mut GraphConnector,
    mode: ImportMode,
    watermark: Option<connector::Watermark>,
) -> (Vec<ImportEntry>, Option<connector::Watermark>) {
    let mut entries = Vec::new();
    let mut cursor = None;
    loop {
        let page = connector
            .import(ImportRequest {
                mode,
                watermark: watermark.clone(),
                cursor,
            })
            .await
            .unwrap();
        entries.extend(page.entries);
        cursor = page.next;
        if cursor.is_none() {
            return (entries, page.watermark);
        }
    }
}

fn roles_of(entries: &[ImportEntry], id: &str) -> Option<Vec<Value>> {
    entries.iter().rev().find_map(|e| match e {
        ImportEntry::Upsert(o) if o.anchor.as_str() == id => Some(
            o.attributes
                .get(&AttributeName::new("roles"))
                .unwrap_or(&[])
                .to_vec(),
        ),
        ImportEntry::Modify {
            anchor, changes, ..
        } if anchor.as_str() == id => {
            changes
                .iter()
                .find(|c| c.name.as_str() == "roles")
                .map(|c| match &c.change {
                    model::ValueChange::Replace(v) => v.clone(),
                    other => panic!("{other:?}"),
                })
        }
        _ => None,
    })
}

#[tokio::test]
async fn directory_roles_are_assigned_by_name_replaced_and_seen_by_delta() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let mut settings = tenant.settings();
    settings.directory_roles = true;
    let mut connector = GraphConnector::new(settings);
    let outcomes = connector
        .export(vec![create(
            1,
            "user",
            Attributes::new()
                .with("userPrincipalName", "helpdesk.lead")
                .with("displayName", "Helpdesk Lead")
                .with("roles", "Helpdesk Administrator"),
        )])
        .await
        .unwrap();
    let id = applied_anchor(&outcomes[0]);
    let (entries, watermark) = import_all(&mut connector, ImportMode::Full, None).await;
    assert_eq!(
        roles_of(&entries, &id),
        Some(vec![Value::string("Helpdesk Administrator")])
    );

    let outcomes = connector
        .export(vec![update(
            2,
            "user",
            &id,
            vec![AttributeChange::replace(
                AttributeName::new("roles"),
                vec![
                    Value::string("User Administrator"),
                    Value::string("Global Reader"),
                ],
            )],
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let (_, assignments) = tenant
        .graph(
            Method::GET,
            &format!("roleManagement/directory/roleAssignments?$filter=principalId eq '{id}'"),
            None,
        )
        .await;
    assert_eq!(
        assignments["value"].as_array().unwrap().len(),
        2,
        "{assignments:#}"
    );

    // A delta sees the change in roles (made here by the connector, as anyone could).
    let (entries, _) = import_all(&mut connector, ImportMode::Delta, watermark).await;
    assert_eq!(
        roles_of(&entries, &id),
        Some(vec![
            Value::string("Global Reader"),
            Value::string("User Administrator")
        ])
    );

    // An unknown role is refused before anything is sent.
    let outcomes = connector
        .export(vec![update(
            3,
            "user",
            &id,
            vec![AttributeChange::add(
                AttributeName::new("roles"),
                vec![Value::string("Chief Everything Officer")],
            )],
        )])
        .await
        .unwrap();
    let ExportResult::Permanent { reason } = &outcomes[0].result else {
        panic!("{outcomes:?}")
    };
    assert!(
        reason.contains("Chief Everything Officer") && reason.contains("User Administrator"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_expired_delta_link_falls_back_to_a_full_import_and_a_stale_token_is_renewed() {
    let clock = std::sync::Arc::new(graph_emulator::clock::ManualClock::new(
        "2026-11-01T08:00:00Z".parse().unwrap(),
    ));
    let tenant = Tenant::start(EmulatorOptions {
        clock: clock.clone(),
        ..EmulatorOptions::default()
    })
    .await;
    users(&tenant, 3).await;
    let mut connector = GraphConnector::new(tenant.settings());
    let (_, watermark) = import_all(&mut connector, ImportMode::Full, None).await;

    // Eight days later the link is past its seven days, and the cached token long expired.
    clock.advance(jiff::SignedDuration::from_hours(24 * 8));
    let page = connector
        .import(ImportRequest {
            mode: ImportMode::Delta,
            watermark,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(page.mode, ImportMode::Full, "served in full");
    let upserts = page
        .entries
        .iter()
        .filter(|e| matches!(e, ImportEntry::Upsert(_)))
        .count();
    assert_eq!(upserts, 3);
}

#[tokio::test]
async fn a_microsoft_365_group_gets_its_owners_on_create_and_later_changes() {
    let tenant = Tenant::start(EmulatorOptions::default()).await;
    let people = users(&tenant, 3).await;
    let mut connector = GraphConnector::new(tenant.settings());
    let outcomes = connector
        .export(vec![create(
            1,
            "group",
            Attributes::new()
                .with("displayName", "Project Apollo")
                .with("mailEnabled", Value::Boolean(true))
                .with("securityEnabled", Value::Boolean(false))
                .with("groupTypes", "Unified")
                .with("owners", Value::Reference(people[0].clone())),
        )])
        .await
        .unwrap();
    let group = applied_anchor(&outcomes[0]);
    let owners = |body: Json| -> BTreeSet<String> {
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o["id"].as_str().map(str::to_owned))
            .collect()
    };
    let (_, body) = tenant
        .graph(Method::GET, &format!("groups/{group}/owners"), None)
        .await;
    assert_eq!(owners(body), BTreeSet::from([people[0].clone()]));

    let outcomes = connector
        .export(vec![update(
            2,
            "group",
            &group,
            vec![AttributeChange::add(
                AttributeName::new("owners"),
                refs(&people[1..3]),
            )],
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let outcomes = connector
        .export(vec![update(
            3,
            "group",
            &group,
            vec![AttributeChange::remove(
                AttributeName::new("owners"),
                refs(&people[..1]),
            )],
        )])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, ExportResult::Applied { anchor: None });
    let (_, body) = tenant
        .graph(Method::GET, &format!("groups/{group}/owners"), None)
        .await;
    assert_eq!(owners(body), people[1..3].iter().cloned().collect());
}
