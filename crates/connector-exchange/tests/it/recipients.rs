//! Recipients Exchange makes without a password: a guest's mail user, adopted once the
//! invitation has made it, and a shared mailbox made by `New-Mailbox -Shared`.

use std::time::Duration;

use connector::{ExportId, ExportRequest, ExportResult, Exporter};
use model::{Anchor, AttributeName, Attributes, ObjectChange, ObjectType, Value};
use reqwest::Method;
use serde_json::json;

use crate::mailbox::import_all;
use crate::support::Tenant;

fn create(id: i64, object_type: &str, attributes: &[(&str, Value)]) -> ExportRequest {
    let mut a = Attributes::new();
    for (name, value) in attributes {
        a.set(AttributeName::new(*name), vec![value.clone()]);
    }
    ExportRequest {
        id: ExportId(id),
        object_type: ObjectType::new(object_type),
        anchor: None,
        change: ObjectChange::Create { attributes: a },
    }
}

#[tokio::test]
async fn a_guests_mail_user_is_waited_for_then_shown_in_the_address_book() {
    let mut tenant = Tenant::start().await;
    tenant
        .emulator
        .state()
        .exchange
        .set_mailbox_delay(Duration::from_secs(3600));
    let (status, invitation) = tenant
        .graph(
            Method::POST,
            "invitations",
            Some(json!({
                "invitedUserEmailAddress": "pia@partner.example",
                "inviteRedirectUrl": "https://myapps.microsoft.com",
                "sendInvitationMessage": false,
            })),
        )
        .await;
    assert_eq!(status, 201, "{invitation}");
    let guest = invitation["invitedUser"]["id"].as_str().unwrap().to_owned();

    let mut connector = tenant.connector(&["mailUser"], 10);
    let request = || {
        create(
            1,
            "mailUser",
            &[
                ("externalEmailAddress", Value::string("pia@partner.example")),
                ("hiddenFromAddressLists", Value::Boolean(false)),
                ("emailAddresses", Value::string("smtp:pia@contoso.example")),
            ],
        )
    };
    // Exchange has not made the mail user yet: a wait, named, with nothing written.
    let outcomes = connector.export(vec![request()]).await.unwrap();
    let ExportResult::Waiting { reason, .. } = &outcomes[0].result else {
        panic!("{:?}", outcomes[0].result)
    };
    assert!(reason.contains("waiting for the mail user"), "{reason}");

    tenant
        .emulator
        .state()
        .exchange
        .set_mailbox_delay(Duration::ZERO);
    let outcomes = connector.export(vec![request()]).await.unwrap();
    assert_eq!(
        outcomes[0].result,
        ExportResult::Applied {
            anchor: Some(Anchor::new(guest.as_str()))
        }
    );

    let users = import_all(&mut connector).await;
    assert_eq!(users.len(), 1, "{users:?}");
    let pia = &users[0];
    assert_eq!(pia.anchor.as_str(), guest);
    let get = |n: &str| {
        pia.attributes
            .get(&AttributeName::new(n))
            .unwrap_or_default()
    };
    assert_eq!(get("hiddenFromAddressLists"), [Value::Boolean(false)]);
    assert_eq!(
        get("externalEmailAddress"),
        [Value::string("pia@partner.example")]
    );
    assert!(
        get("emailAddresses").contains(&Value::string("smtp:pia@contoso.example")),
        "{:?}",
        pia.attributes
    );

    // Removing a mail user would delete the Entra account: refused, with the way to do it.
    let delete = ExportRequest {
        id: ExportId(2),
        object_type: ObjectType::new("mailUser"),
        anchor: Some(Anchor::new(guest.as_str())),
        change: ObjectChange::Delete,
    };
    let outcomes = connector.export(vec![delete]).await.unwrap();
    let ExportResult::Permanent { reason } = &outcomes[0].result else {
        panic!("{:?}", outcomes[0].result)
    };
    assert!(
        reason.contains("remove the guest or user in Entra"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_shared_mailbox_is_made_without_a_licence_and_given_its_settings() {
    let mut tenant = Tenant::start().await;
    let domain = tenant.emulator.info.initial_domain.clone();
    let (status, member) = tenant
        .graph(
            Method::POST,
            "users",
            Some(json!({
                "accountEnabled": true,
                "displayName": "Sam",
                "mailNickname": "sam",
                "userPrincipalName": format!("sam@{domain}"),
                "passwordProfile": {"password": "Xy!2-long-enough-password"},
            })),
        )
        .await;
    assert_eq!(status, 201, "{member}");
    let member = member["id"].as_str().unwrap().to_owned();

    let mut connector = tenant.connector(&["mailbox"], 10);
    let outcomes = connector
        .export(vec![create(
            1,
            "mailbox",
            &[
                ("name", Value::string("Support Desk")),
                ("alias", Value::string("support")),
                ("displayName", Value::string("Support Desk")),
                ("shared", Value::string("True")),
                ("litigationHold", Value::string("True")),
                ("fullAccess", Value::Reference(member.clone())),
            ],
        )])
        .await
        .unwrap();
    let ExportResult::Applied {
        anchor: Some(anchor),
    } = &outcomes[0].result
    else {
        panic!("{:?}", outcomes[0].result)
    };

    let mailboxes = import_all(&mut connector).await;
    let desk = mailboxes
        .iter()
        .find(|m| &m.anchor == anchor)
        .unwrap_or_else(|| panic!("{mailboxes:?}"));
    let get = |n: &str| {
        desk.attributes
            .get(&AttributeName::new(n))
            .unwrap_or_default()
    };
    assert_eq!(get("shared"), [Value::Boolean(true)]);
    assert_eq!(get("litigationHold"), [Value::Boolean(true)]);
    assert_eq!(get("fullAccess"), [Value::Reference(member)]);
    assert_eq!(get("name"), [Value::string("Support Desk")]);

    // Its Entra account exists, signed-in never: a shared mailbox's user is disabled.
    let (status, user) = tenant
        .graph(
            Method::GET,
            &format!("users/{}?$select=accountEnabled", anchor.as_str()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["accountEnabled"], false, "{user}");
}

/// Contacts and groups synchronized from AD are AD's: the import says so (`isDirSynced`),
/// which is what makes the engine withhold every attribute of theirs, and Exchange itself
/// refuses a change, with its reason.
#[tokio::test]
async fn synchronized_contacts_and_groups_are_read_as_ads() {
    let mut tenant = Tenant::start().await;
    let contact = tenant
        .emulator
        .state()
        .seed_synced_mail_contact("Ann Vendor", "ann@vendor.example")
        .unwrap();
    tenant
        .cmdlet("New-DistributionGroup", json!({"Name": "Finance"}))
        .await
        .unwrap();
    tenant
        .emulator
        .state()
        .mark_mail_group_synced("Finance")
        .unwrap();

    let mut connector = tenant.connector(&["mailContact", "distributionGroup"], 10);
    let objects = import_all(&mut connector).await;
    assert_eq!(objects.len(), 2, "{objects:?}");
    for object in &objects {
        assert_eq!(
            object.attributes.first(&AttributeName::new("isDirSynced")),
            Some(&Value::Boolean(true)),
            "{object:?}"
        );
        let mastered = connector_exchange::schema::mastered_on_premises(
            &object.object_type,
            &object.attributes,
        );
        for name in ["displayName", "hiddenFromAddressLists"] {
            assert!(mastered.contains(&AttributeName::new(name)), "{mastered:?}");
        }
        if object.object_type.as_str() == "distributionGroup" {
            assert!(
                mastered.contains(&AttributeName::new("members")),
                "{mastered:?}"
            );
        }
    }

    let rename = ExportRequest {
        id: ExportId(1),
        object_type: ObjectType::new("mailContact"),
        anchor: Some(Anchor::new(contact.as_str())),
        change: ObjectChange::Update {
            changes: vec![model::AttributeChange::replace(
                AttributeName::new("displayName"),
                vec![Value::string("Ann V.")],
            )],
        },
    };
    let outcomes = connector.export(vec![rename]).await.unwrap();
    let ExportResult::Permanent { reason } = &outcomes[0].result else {
        panic!("{:?}", outcomes[0].result)
    };
    assert!(
        reason.contains("synchronized from your on-premises organization"),
        "{reason}"
    );
}
