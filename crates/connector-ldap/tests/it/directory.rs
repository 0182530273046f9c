//! What the contract does not cover: references, rename and move, the server's rejections,
//! escaping, TLS, an unreachable server, a cookie across a restart.

use std::collections::BTreeSet;

use connector::{
    Connector, ConnectorError, ExportId, ExportRequest, ExportResult, Exporter, ImportEntry,
    ImportMode, ImportedObject,
};
use connector_ldap::LdapConnector;
use model::{
    Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, ObjectType, Syntax, Value,
};
use testkit::openldap::Slapd;

use crate::support::{GROUPS, PEOPLE, import_all, person_ldif, settings};

/// Every object of a full import, by DN (lower case).
async fn objects(connector: &mut LdapConnector) -> Vec<ImportedObject> {
    import_all(connector, ImportMode::Full, None)
        .await
        .into_iter()
        .flat_map(|p| p.entries)
        .map(|e| match e {
            ImportEntry::Upsert(o) => o,
            other => panic!("a full import returned {other:?}"),
        })
        .collect()
}

fn by_uid<'a>(objects: &'a [ImportedObject], uid: &str) -> &'a ImportedObject {
    objects
        .iter()
        .find(|o| o.attributes.first(&AttributeName::new("uid")) == Some(&Value::from(uid)))
        .unwrap_or_else(|| panic!("no object with uid {uid} in {objects:?}"))
}

async fn export_one(
    connector: &mut LdapConnector,
    object_type: &str,
    anchor: Option<Anchor>,
    change: ObjectChange,
) -> ExportResult {
    let mut outcomes = connector
        .export(vec![ExportRequest {
            id: ExportId(1),
            object_type: ObjectType::new(object_type),
            anchor,
            change,
        }])
        .await
        .expect("export");
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0).result
}

fn ldap_values(slapd: &Slapd, dn: &str, attribute: &str) -> BTreeSet<String> {
    let ldif = slapd
        .ldapsearch(&["-b", dn, "-s", "base", "(objectClass=*)", attribute])
        .unwrap_or_else(|e| panic!("read {dn}: {e}"));
    let prefix = format!("{attribute}: ");
    ldif.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn group_members_import_as_references_and_export_as_adds_and_removes() {
    let slapd = Slapd::start();
    let mut ldif = String::new();
    for (uid, n) in [("ada", "1"), ("alan", "2"), ("grace", "3")] {
        ldif.push_str(&person_ldif(uid, "Surname", n));
    }
    ldif.push_str(&format!(
        "dn: cn=research,{GROUPS}\nobjectClass: groupOfNames\ncn: research\nmember: uid=ada,{PEOPLE}\nmember: UID=Alan, ou=People,dc=example,dc=com\n"
    ));
    slapd.ldapadd(&ldif).expect("seed");
    let mut connector = LdapConnector::new(settings(&slapd));
    let all = objects(&mut connector).await;
    assert_eq!(all.len(), 4, "{all:?}");
    let group = all
        .iter()
        .find(|o| o.object_type == ObjectType::new("group"))
        .expect("the group is imported as a group");
    let members: BTreeSet<Value> = group
        .attributes
        .get(&AttributeName::new("member"))
        .unwrap()
        .iter()
        .cloned()
        .collect();
    let expected: BTreeSet<Value> = ["ada", "alan"]
        .iter()
        .map(|u| Value::Reference(by_uid(&all, u).anchor.as_str().to_owned()))
        .collect();
    assert_eq!(
        members, expected,
        "members are references to the members' anchors"
    );

    // Grace joins, Ada leaves: one add and one remove, Alan untouched.
    let change = ObjectChange::Update {
        changes: vec![
            AttributeChange::add(
                AttributeName::new("member"),
                vec![Value::Reference(by_uid(&all, "grace").anchor.to_string())],
            ),
            AttributeChange::remove(
                AttributeName::new("member"),
                vec![Value::Reference(by_uid(&all, "ada").anchor.to_string())],
            ),
        ],
    };
    let result = export_one(
        &mut connector,
        "group",
        Some(group.anchor.clone()),
        change.clone(),
    )
    .await;
    assert_eq!(result, ExportResult::Applied { anchor: None });
    let members = ldap_values(&slapd, &format!("cn=research,{GROUPS}"), "member");
    assert_eq!(
        members,
        BTreeSet::from([
            // As slapd stored it from the seed, not as idsync would spell it.
            "uid=Alan,ou=People,dc=example,dc=com".to_owned(),
            format!("uid=grace,{PEOPLE}"),
        ]),
        "the member Alan was written with is kept as written: no rewrite of the list"
    );
    // The same change again (an outcome lost in a crash) is applied without effect.
    let again = export_one(&mut connector, "group", Some(group.anchor.clone()), change).await;
    assert_eq!(again, ExportResult::Applied { anchor: None });
}

#[tokio::test]
async fn a_changed_dn_renames_and_moves_the_entry_and_keeps_its_anchor() {
    let slapd = Slapd::start();
    slapd
        .ldapadd(&format!(
            "{}dn: ou=research,{PEOPLE}\nobjectClass: organizationalUnit\nou: research\n",
            person_ldif("ada", "Lovelace", "1")
        ))
        .expect("seed");
    let mut connector = LdapConnector::new(settings(&slapd));
    let before = objects(&mut connector).await;
    let ada = by_uid(&before, "ada");
    let new_dn = format!("uid=ada.king,ou=research,{PEOPLE}");
    let change = ObjectChange::Update {
        changes: vec![
            AttributeChange::replace(AttributeName::new("dn"), vec![Value::from(new_dn.as_str())]),
            AttributeChange::replace(AttributeName::new("sn"), vec![Value::from("King")]),
        ],
    };
    let result = export_one(&mut connector, "person", Some(ada.anchor.clone()), change).await;
    assert_eq!(result, ExportResult::Applied { anchor: None });
    let after = objects(&mut LdapConnector::new(settings(&slapd))).await;
    let renamed = after
        .iter()
        .find(|o| o.anchor == ada.anchor)
        .expect("the same anchor after the rename");
    assert_eq!(
        renamed.attributes.first(&AttributeName::new("dn")),
        Some(&Value::from(new_dn.as_str()))
    );
    assert_eq!(
        renamed.attributes.first(&AttributeName::new("sn")),
        Some(&Value::from("King"))
    );
    // The old RDN value is gone (deleteoldrdn), the new one is there.
    let uids: Vec<&Value> = renamed
        .attributes
        .get(&AttributeName::new("uid"))
        .unwrap()
        .iter()
        .collect();
    assert_eq!(uids, [&Value::from("ada.king")]);
}

#[tokio::test]
async fn rejected_creates_are_permanent_and_name_the_dn_and_the_servers_reason() {
    let slapd = Slapd::start();
    slapd
        .ldapadd(&person_ldif("ada", "Lovelace", "1"))
        .expect("seed");
    let mut connector = LdapConnector::new(settings(&slapd));
    // inetOrgPerson requires sn.
    let missing_sn = Attributes::new()
        .with("dn", format!("uid=alan,{PEOPLE}"))
        .with("uid", "alan")
        .with("cn", "Alan Turing");
    match export_one(
        &mut connector,
        "person",
        None,
        ObjectChange::Create {
            attributes: missing_sn,
        },
    )
    .await
    {
        ExportResult::Permanent { reason } => {
            assert!(reason.contains(&format!("uid=alan,{PEOPLE}")), "{reason}");
            assert!(reason.contains("objectClassViolation (65)"), "{reason}");
            assert!(reason.contains("'sn'"), "the server's message: {reason}");
        }
        other => panic!("a schema violation must be permanent: {other:?}"),
    }
    let exists = Attributes::new()
        .with("dn", format!("uid=ada,{PEOPLE}"))
        .with("uid", "ada")
        .with("cn", "Ada")
        .with("sn", "Lovelace");
    match export_one(
        &mut connector,
        "person",
        None,
        ObjectChange::Create { attributes: exists },
    )
    .await
    {
        ExportResult::Permanent { reason } => {
            assert!(reason.contains("entryAlreadyExists (68)"), "{reason}")
        }
        other => panic!("an existing DN must be permanent: {other:?}"),
    }
    let no_dn = Attributes::new()
        .with("uid", "x")
        .with("sn", "X")
        .with("cn", "X");
    match export_one(
        &mut connector,
        "person",
        None,
        ObjectChange::Create { attributes: no_dn },
    )
    .await
    {
        ExportResult::Permanent { reason } => assert!(reason.contains("needs a dn"), "{reason}"),
        other => panic!("a create without a dn must be permanent: {other:?}"),
    }
}

#[tokio::test]
async fn anchors_are_escaped_in_filters() {
    let slapd = Slapd::start();
    slapd
        .ldapadd(&person_ldif("ada", "Lovelace", "1"))
        .expect("seed");
    let mut connector = LdapConnector::new(settings(&slapd));
    // Unescaped, "*" would match every entry and the update would hit one of them.
    let change = ObjectChange::Update {
        changes: vec![AttributeChange::replace(
            AttributeName::new("sn"),
            vec![Value::from("Injected")],
        )],
    };
    for anchor in ["*", "*)(uid=ada", "x)(|(entryUUID=*"] {
        let result = export_one(
            &mut connector,
            "person",
            Some(Anchor::new(anchor)),
            change.clone(),
        )
        .await;
        assert!(
            matches!(&result, ExportResult::Permanent { reason } if reason.contains("no entry has entryUUID")),
            "{anchor}: {result:?}"
        );
    }
    assert_eq!(
        ldap_values(&slapd, &format!("uid=ada,{PEOPLE}"), "sn"),
        BTreeSet::from(["Lovelace".to_owned()])
    );
}

#[tokio::test]
async fn an_unreachable_server_is_transient_for_export_and_import() {
    let mut slapd = Slapd::start();
    let settings = settings(&slapd);
    slapd.stop();
    let mut connector = LdapConnector::new(settings);
    let create = ObjectChange::Create {
        attributes: Attributes::new()
            .with("dn", format!("uid=x,{PEOPLE}"))
            .with("sn", "X")
            .with("cn", "X"),
    };
    let result = export_one(&mut connector, "person", None, create).await;
    assert!(
        matches!(result, ExportResult::Transient { .. }),
        "{result:?}"
    );
    let error = connector
        .import(connector::ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .expect_err("nothing to import from");
    assert!(error.is_transient(), "{error}");
    let health = connector.check().await.expect("check reports, not fails");
    assert!(!health.is_healthy());
}

#[tokio::test]
async fn a_wrong_password_is_denied_and_never_shown() {
    let slapd = Slapd::start();
    let mut settings = settings(&slapd);
    let wrong = "not-the-Secret-42";
    let file = slapd.dir().join("wrong-password");
    std::fs::write(&file, wrong).unwrap();
    settings.password = Some(config::SecretSource::File(file));
    let mut connector = LdapConnector::new(settings);
    let health = connector.check().await.expect("check");
    let text = format!("{health:?} {connector:?}");
    assert!(text.contains("invalid credentials (49)"), "{text}");
    assert!(!text.contains(wrong), "the password leaked: {text}");
    let error = connector
        .import(connector::ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .expect_err("denied");
    assert!(matches!(error, ConnectorError::Denied(_)), "{error:?}");
    assert!(!error.to_string().contains(wrong));
}

#[tokio::test]
async fn starttls_and_ldaps_verify_the_server_against_the_ca_file() {
    let slapd = Slapd::start();
    for (url, starttls) in [(slapd.url(), true), (slapd.ldaps_url(), false)] {
        let mut trusted = settings(&slapd);
        trusted.url = url.clone();
        trusted.starttls = starttls;
        trusted.ca_file = Some(slapd.ca_file());
        let health = LdapConnector::new(trusted.clone())
            .check()
            .await
            .expect("check");
        assert!(health.is_healthy(), "{url}: {:?}", health.problems);
        // Without the CA, the system's roots do not know the test CA: refused.
        trusted.ca_file = None;
        let health = LdapConnector::new(trusted).check().await.expect("check");
        assert!(
            health.problems.iter().any(|p| p.contains("TLS")),
            "{url}: an unknown CA must fail verification: {health:?}"
        );
    }
}

#[tokio::test]
async fn the_schema_types_attributes_by_syntax() {
    let slapd = Slapd::start();
    let schema = LdapConnector::new(settings(&slapd))
        .schema()
        .await
        .expect("schema");
    let group = schema
        .object_type(&ObjectType::new("group"))
        .expect("group");
    let member = group
        .attribute(&AttributeName::new("member"))
        .expect("member");
    assert_eq!(member.syntax, Syntax::Reference);
    assert!(member.required);
    let person = schema
        .object_type(&ObjectType::new("person"))
        .expect("person");
    assert_eq!(
        person
            .attribute(&AttributeName::new("jpegPhoto"))
            .unwrap()
            .syntax,
        Syntax::Binary
    );
    assert_eq!(
        person
            .attribute(&AttributeName::new("manager"))
            .unwrap()
            .syntax,
        Syntax::Reference
    );
    assert!(
        person
            .attribute(&AttributeName::new("sn"))
            .unwrap()
            .required
    );
    assert!(
        !person
            .attribute(&AttributeName::new("displayName"))
            .unwrap()
            .multi_valued
    );
    assert_eq!(person.anchor, [AttributeName::new("entryUUID")]);
}

#[tokio::test]
async fn a_syncrepl_cookie_still_gives_a_delta_after_a_server_restart() {
    let mut slapd = Slapd::start();
    slapd
        .ldapadd(&format!(
            "{}{}",
            person_ldif("ada", "Lovelace", "1"),
            person_ldif("alan", "Turing", "2")
        ))
        .expect("seed");
    let mut connector = LdapConnector::new(settings(&slapd));
    let full = import_all(&mut connector, ImportMode::Full, None).await;
    let watermark = full.last().unwrap().watermark.clone().expect("a watermark");
    let anchors: Vec<Anchor> = full
        .iter()
        .flat_map(|p| &p.entries)
        .map(|e| e.anchor().clone())
        .collect();
    slapd.restart();
    slapd
        .ldapmodify(&format!(
            "dn: uid=ada,{PEOPLE}\nchangetype: modify\nreplace: sn\nsn: King\n"
        ))
        .expect("modify");
    slapd
        .ldapdelete(&[&format!("uid=alan,{PEOPLE}")])
        .expect("delete");
    let mut connector = LdapConnector::new(settings(&slapd));
    let delta = import_all(&mut connector, ImportMode::Delta, Some(watermark)).await;
    assert_eq!(delta[0].mode, ImportMode::Delta);
    let entries: Vec<&ImportEntry> = delta.iter().flat_map(|p| &p.entries).collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries.iter().any(|e| matches!(e, ImportEntry::Upsert(o)
        if o.attributes.first(&AttributeName::new("sn")) == Some(&Value::from("King")))),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| matches!(e, ImportEntry::Delete { anchor, .. } if anchors.contains(anchor))),
        "{entries:?}"
    );
}

#[tokio::test]
async fn a_timestamp_delta_sees_changes_on_a_server_without_syncprov() {
    let slapd = Slapd::start_with(testkit::openldap::SlapdOptions {
        without_syncprov: true,
        ..Default::default()
    });
    slapd
        .ldapadd(&format!(
            "{}{}",
            person_ldif("ada", "Lovelace", "1"),
            person_ldif("alan", "Turing", "2")
        ))
        .expect("seed");
    let mut settings = settings(&slapd);
    settings.delta = config::LdapDelta::Timestamp;
    let full = import_all(
        &mut LdapConnector::new(settings.clone()),
        ImportMode::Full,
        None,
    )
    .await;
    let watermark = full.last().unwrap().watermark.clone().expect("a watermark");
    slapd
        .ldapmodify(&format!(
            "dn: uid=ada,{PEOPLE}\nchangetype: modify\nreplace: sn\nsn: King\n"
        ))
        .expect("modify");
    let delta = import_all(
        &mut LdapConnector::new(settings),
        ImportMode::Delta,
        Some(watermark),
    )
    .await;
    let entries: Vec<&ImportEntry> = delta.iter().flat_map(|p| &p.entries).collect();
    assert!(
        entries.iter().any(|e| matches!(e, ImportEntry::Upsert(o)
        if o.attributes.first(&AttributeName::new("sn")) == Some(&Value::from("King")))),
        "{entries:?}"
    );
    assert_eq!(delta[0].mode, ImportMode::Delta);
}

#[tokio::test]
async fn member_values_follow_a_rename_and_go_with_a_delete() {
    let slapd = Slapd::start();
    slapd
        .ldapadd(&format!(
            "{}{}dn: cn=team,{GROUPS}\nobjectClass: groupOfNames\ncn: team\nmember: uid=ada,{PEOPLE}\nmember: uid=alan,{PEOPLE}\n",
            person_ldif("ada", "Lovelace", "1"),
            person_ldif("alan", "Turing", "2")
        ))
        .expect("seed");
    let mut connector = LdapConnector::new(settings(&slapd));
    let all = objects(&mut connector).await;
    let rename = ObjectChange::Update {
        changes: vec![AttributeChange::replace(
            AttributeName::new("dn"),
            vec![Value::from(format!("uid=ada.king,{PEOPLE}").as_str())],
        )],
    };
    let ada = by_uid(&all, "ada").anchor.clone();
    assert_eq!(
        export_one(&mut connector, "person", Some(ada), rename).await,
        ExportResult::Applied { anchor: None }
    );
    let alan = by_uid(&all, "alan").anchor.clone();
    assert_eq!(
        export_one(&mut connector, "person", Some(alan), ObjectChange::Delete).await,
        ExportResult::Applied { anchor: None }
    );
    assert_eq!(
        ldap_values(&slapd, &format!("cn=team,{GROUPS}"), "member"),
        BTreeSet::from([format!("uid=ada.king,{PEOPLE}")])
    );
}

#[tokio::test]
async fn an_update_finds_an_entry_renamed_outside_idsync_since_it_was_read() {
    let slapd = Slapd::start();
    slapd
        .ldapadd(&person_ldif("ada", "Lovelace", "1"))
        .expect("seed");
    let mut connector = LdapConnector::new(settings(&slapd));
    let all = objects(&mut connector).await;
    let ada = by_uid(&all, "ada").anchor.clone();
    slapd
        .ldapmodify(&format!(
            "dn: uid=ada,{PEOPLE}\nchangetype: modrdn\nnewrdn: uid=ada.king\ndeleteoldrdn: 0\n"
        ))
        .expect("rename behind idsync's back");
    let change = ObjectChange::Update {
        changes: vec![AttributeChange::replace(
            AttributeName::new("sn"),
            vec![Value::from("King")],
        )],
    };
    assert_eq!(
        export_one(&mut connector, "person", Some(ada), change).await,
        ExportResult::Applied { anchor: None }
    );
    assert_eq!(
        ldap_values(&slapd, &format!("uid=ada.king,{PEOPLE}"), "sn"),
        BTreeSet::from(["King".to_owned()])
    );
}

#[tokio::test]
async fn sasl_external_binds_with_the_client_certificate() {
    let slapd = Slapd::start();
    slapd
        .ldapadd(&person_ldif("ada", "Lovelace", "1"))
        .expect("seed");
    let (cert, key) = slapd.client_certificate();
    let mut settings = settings(&slapd);
    settings.bind_dn = None;
    settings.password = None;
    settings.starttls = true;
    settings.ca_file = Some(slapd.ca_file());
    settings.client_certificate = Some(cert);
    settings.client_key = Some(config::SecretSource::File(key));
    let mut connector = LdapConnector::new(settings);
    let health = connector.check().await.expect("check");
    assert!(health.is_healthy(), "{:?}", health.problems);
    // Bound as the certificate's identity (mapped to the root DN): it may write.
    let create = ObjectChange::Create {
        attributes: Attributes::new()
            .with("dn", format!("uid=alan,{PEOPLE}"))
            .with("uid", "alan")
            .with("cn", "Alan Turing")
            .with("sn", "Turing"),
    };
    let result = export_one(&mut connector, "person", None, create).await;
    assert!(
        matches!(result, ExportResult::Applied { anchor: Some(_) }),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_server_restart_mid_import_reads_again_and_misses_nothing() {
    let mut slapd = Slapd::start();
    let ldif: String = (0..8)
        .map(|i| person_ldif(&format!("u{i}"), "Surname", &i.to_string()))
        .collect();
    slapd.ldapadd(&ldif).expect("seed");
    let port = slapd.port();
    let mut connector = LdapConnector::new(settings(&slapd));
    let first = connector
        .import(connector::ImportRequest {
            mode: ImportMode::Full,
            watermark: None,
            cursor: None,
        })
        .await
        .expect("first page");
    let mut cursor = first.next.clone().expect("more pages");
    let mut uids: BTreeSet<String> = BTreeSet::new();
    let mut collect = |page: &connector::ImportPage| {
        for entry in &page.entries {
            if let ImportEntry::Upsert(o) = entry {
                uids.insert(
                    o.attributes
                        .first(&AttributeName::new("uid"))
                        .unwrap()
                        .to_text(),
                );
            }
        }
    };
    collect(&first);
    slapd.restart();
    assert_eq!(slapd.port(), port, "the server came back on its port");
    let last = loop {
        let page = connector
            .import(connector::ImportRequest {
                mode: ImportMode::Full,
                watermark: None,
                cursor: Some(cursor.clone()),
            })
            .await
            .expect("the import goes on after the restart");
        collect(&page);
        match page.next.clone() {
            Some(next) => cursor = next,
            None => break page,
        }
    };
    assert!(last.watermark.is_some());
    let expected: BTreeSet<String> = (0..8).map(|i| format!("u{i}")).collect();
    assert_eq!(uids, expected, "every entry, none missed");
}
