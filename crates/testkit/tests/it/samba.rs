use testkit::samba::{BASE, SambaAd};

#[test]
fn two_samba_domain_controllers_run_side_by_side_from_one_template() {
    let (a, b) = (SambaAd::start(), SambaAd::start());
    for dc in [&a, &b] {
        let users = dc
            .ldapsearch(&[
                "-b",
                &format!("CN=Users,{BASE}"),
                "(sAMAccountName=Administrator)",
                "objectGUID",
            ])
            .expect("search the domain");
        assert!(
            users.contains("dn: CN=Administrator,CN=Users,DC=example,DC=test"),
            "{users}"
        );
    }
    drop(a);
    // The second one is unaffected by the first one's stop.
    b.ldapsearch(&["-b", BASE, "-s", "base", "dn"])
        .expect("still serving");
}
