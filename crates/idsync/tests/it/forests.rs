//! Two directories joined into one identity: an account forest (users with their objectSid)
//! and a resource forest (disabled linked mailbox accounts whose msExchMasterAccountSID holds
//! the account's objectSid), each a real slapd with the AD attributes added to its schema.
//! Precedence takes the sign-in names from the account forest and the mail from the
//! resource forest, and `idsync show` explains each value.

use testkit::openldap::{ADMIN_DN, ADMIN_PASSWORD, Slapd, SlapdOptions};
use testkit::{Workspace, idsync};

use crate::support::{BIN, values};

/// The AD attributes the scenario needs, as an OpenLDAP schema (the OIDs are AD's).
const AD_SCHEMA: &str = "\
dn: cn=msad,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: msad
olcAttributeTypes: ( 1.2.840.113556.1.4.146 NAME 'objectSid' SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.7000.102.50093 NAME 'msExchMasterAccountSID' SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( 1.2.840.113556.1.5.9.99 NAME 'idsyncAdAccount' AUXILIARY MAY ( objectSid $ msExchMasterAccountSID $ userPrincipalName $ sAMAccountName ) )
";

/// A security identifier in its binary form, base64 for LDIF.
fn sid(text: &str) -> String {
    let mut parts = text.strip_prefix("S-").unwrap().split('-');
    let revision: u8 = parts.next().unwrap().parse().unwrap();
    let authority: u64 = parts.next().unwrap().parse().unwrap();
    let subs: Vec<u32> = parts.map(|p| p.parse().unwrap()).collect();
    let mut bytes = vec![revision, subs.len() as u8];
    bytes.extend_from_slice(&authority.to_be_bytes()[2..]);
    for s in subs {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    base64(&bytes)
}

/// Standard base64 with padding (LDIF's `attr:: value`).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const ADA_SID: &str = "S-1-5-21-1004336348-1177238915-682003330-1105";
const ALAN_SID: &str = "S-1-5-21-1004336348-1177238915-682003330-1106";

fn forest(schema: &std::path::Path, entries: String) -> Slapd {
    Slapd::start_with(SlapdOptions {
        seed_ldif: vec![entries],
        extra_schema: vec![schema.to_path_buf()],
        ..Default::default()
    })
}

fn connector(name: &str, slapd: &Slapd) -> String {
    format!(
        r#"
[[connector]]
name = "{name}"
type = "ldap"
url = "{url}"
bind_dn = "{ADMIN_DN}"
password = {{ file = "bind-password" }}
base = "ou=people,dc=example,dc=com"
object_types = {{ user = ["inetOrgPerson", "idsyncAdAccount"] }}
"#,
        url = slapd.url()
    )
}

#[test]
fn account_and_resource_forests_join_on_the_master_account_sid() {
    let ws = Workspace::new();
    let schema = ws.write("msad.ldif", AD_SCHEMA);
    let person = |uid: &str, extra: &str| {
        format!(
            "dn: uid={uid},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nobjectClass: idsyncAdAccount\nuid: {uid}\ncn: {uid}\nsn: {uid}\n{extra}\n"
        )
    };
    let accounts = forest(
        &schema,
        [
            person(
                "ada",
                &format!(
                    "objectSid:: {}\nuserPrincipalName: ada@corp.example\nsAMAccountName: ada\nmail: ada@corp.example\n",
                    sid(ADA_SID)
                ),
            ),
            person(
                "alan",
                &format!(
                    "objectSid:: {}\nuserPrincipalName: alan@corp.example\nsAMAccountName: alan\n",
                    sid(ALAN_SID)
                ),
            ),
        ]
        .concat(),
    );
    let resources = forest(
        &schema,
        person(
            "ada-mbx",
            &format!(
                "msExchMasterAccountSID:: {}\nuserPrincipalName: ada-mbx@res.example\nsAMAccountName: adambx\nmail: ada.lovelace@mail.example\nemployeeType: disabled\n",
                sid(ADA_SID)
            ),
        ),
    );
    ws.write("bind-password", ADMIN_PASSWORD);
    ws.write(
        "idsync.toml",
        format!(
            r#"
[store]
path = "idsync.db"
{}{}
[[inbound]]
name = "account-forest"
connector = "accounts"
precedence = 10
project = true
join = [ {{ vault = "sid", expr = "[objectSid]" }} ]
[inbound.flows]
sid = "[objectSid]"
userPrincipalName = "[userPrincipalName]"
sAMAccountName = "[sAMAccountName]"
mail = {{ expr = "[mail]", precedence = 50 }}

[[inbound]]
name = "resource-forest"
connector = "resources"
precedence = 20
project = false
join = [ {{ vault = "sid", expr = "[msExchMasterAccountSID]" }} ]
[inbound.flows]
userPrincipalName = "[userPrincipalName]"
sAMAccountName = "[sAMAccountName]"
mail = {{ expr = "[mail]", precedence = 5 }}
"#,
            connector("accounts", &accounts),
            connector("resources", &resources)
        ),
    );
    for _ in 0..2 {
        let run = idsync(BIN, ws.path(), &["run", "-c", "idsync.toml"], &[]);
        assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    }
    let ada_uuid = accounts
        .ldapsearch(&[
            "-b",
            "uid=ada,ou=people,dc=example,dc=com",
            "-s",
            "base",
            "entryUUID",
        ])
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("entryUUID: ").map(str::to_owned))
        .unwrap();
    let target = format!("accounts:{ada_uuid}");
    let shown = idsync(
        BIN,
        ws.path(),
        &["show", "-c", "idsync.toml", &target, "--json"],
        &[],
    );
    assert_eq!(shown.code, Some(0), "{}{}", shown.stdout, shown.stderr);
    let ada = shown.json();
    assert_eq!(
        values(&ada, "sid"),
        [ADA_SID],
        "objectSid read as a SID: {ada}"
    );
    assert_eq!(values(&ada, "userPrincipalName"), ["ada@corp.example"]);
    assert_eq!(values(&ada, "sAMAccountName"), ["ada"]);
    assert_eq!(
        values(&ada, "mail"),
        ["ada.lovelace@mail.example"],
        "the resource forest wins mail"
    );
    let objects = ada["objects"].as_array().expect("objects");
    assert_eq!(objects.len(), 2, "one identity holds both accounts: {ada}");
    // Every value is explained: the text names both forests' rules.
    let text = idsync(BIN, ws.path(), &["show", "-c", "idsync.toml", &target], &[]);
    assert!(text.stdout.contains("account-forest"), "{}", text.stdout);
    assert!(text.stdout.contains("resource-forest"), "{}", text.stdout);
}
