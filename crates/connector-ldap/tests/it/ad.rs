//! Active Directory specifics against Samba: DirSync deltas.

use connector::{ImportEntry, ImportMode};
use connector_ldap::LdapConnector;
use model::{AttributeName, ObjectType, Value, ValueChange};
use testkit::samba::SambaAd;

use crate::contract_ad::{ou, settings};
use crate::support::import_all;

#[tokio::test]
async fn a_dirsync_delta_has_only_changed_attributes_incremental_members_and_deletes() {
    let dc = SambaAd::start();
    let ou = ou();
    dc.ldapadd(&format!(
        "dn: {ou}\nobjectClass: organizationalUnit\nou: idsync\n\n\
         dn: CN=ada,{ou}\nobjectClass: user\nsAMAccountName: ada\nsn: Lovelace\ndisplayName: Ada\n\n\
         dn: CN=alan,{ou}\nobjectClass: user\nsAMAccountName: alan\nsn: Turing\n\n\
         dn: CN=team,{ou}\nobjectClass: group\nsAMAccountName: team\nmember: CN=ada,{ou}\n"
    ))
    .expect("seed");
    let mut settings = settings(&dc);
    settings.object_types.push(config::LdapObjectType {
        object_type: ObjectType::new("group"),
        object_class: "group".to_owned(),
    });
    let full = import_all(
        &mut LdapConnector::new(settings.clone()),
        ImportMode::Full,
        None,
    )
    .await;
    let objects: Vec<_> = full.iter().flat_map(|p| &p.entries).collect();
    assert_eq!(objects.len(), 3, "{objects:?}");
    let anchor_of = |name: &str| {
        objects
            .iter()
            .find(|e| matches!(e, ImportEntry::Upsert(o) if o.attributes.first(&AttributeName::new("sAMAccountName")) == Some(&Value::from(name))))
            .map(|e| e.anchor().clone())
            .unwrap_or_else(|| panic!("{name} not imported"))
    };
    let (ada, alan, team) = (anchor_of("ada"), anchor_of("alan"), anchor_of("team"));
    let watermark = full.last().unwrap().watermark.clone().expect("watermark");

    dc.ldapmodify(&format!(
        "dn: CN=ada,{ou}\nchangetype: modify\nreplace: displayName\ndisplayName: Ada King\n\n\
         dn: CN=team,{ou}\nchangetype: modify\nadd: member\nmember: CN=alan,{ou}\n"
    ))
    .expect("modify");
    let delta = import_all(
        &mut LdapConnector::new(settings.clone()),
        ImportMode::Delta,
        Some(watermark),
    )
    .await;
    assert_eq!(delta[0].mode, ImportMode::Delta);
    let entries: Vec<&ImportEntry> = delta.iter().flat_map(|p| &p.entries).collect();
    let changes_of = |anchor| {
        entries
            .iter()
            .find_map(|e| match e {
                ImportEntry::Modify {
                    anchor: a, changes, ..
                } if *a == anchor => Some(changes.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no change for {anchor}: {entries:?}"))
    };
    let ada_changes = changes_of(ada.clone());
    let display = ada_changes
        .iter()
        .find(|c| c.name == AttributeName::new("displayName"))
        .expect("displayName changed");
    assert_eq!(
        display.change,
        ValueChange::Replace(vec![Value::from("Ada King")])
    );
    assert!(
        !ada_changes
            .iter()
            .any(|c| c.name == AttributeName::new("sn")),
        "only changed attributes: {ada_changes:?}"
    );
    let team_changes = changes_of(team);
    let member = team_changes
        .iter()
        .find(|c| c.name == AttributeName::new("member"))
        .expect("member changed");
    assert_eq!(
        member.change,
        ValueChange::Add(vec![Value::Reference(alan.as_str().to_owned())]),
        "an incremental member add, not the whole list"
    );
    let watermark = delta.last().unwrap().watermark.clone().expect("watermark");

    dc.ldapdelete(&[&format!("CN=ada,{ou}")]).expect("delete");
    let delta = import_all(
        &mut LdapConnector::new(settings),
        ImportMode::Delta,
        Some(watermark),
    )
    .await;
    let entries: Vec<&ImportEntry> = delta.iter().flat_map(|p| &p.entries).collect();
    assert!(
        entries
            .iter()
            .any(|e| matches!(e, ImportEntry::Delete { anchor, .. } if *anchor == ada)),
        "the tombstone is a delete: {entries:?}"
    );
}
