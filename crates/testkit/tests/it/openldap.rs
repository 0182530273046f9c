use testkit::openldap::{SUFFIX, Slapd};

#[test]
fn slapd_starts_serves_the_base_entries_and_stops_on_drop() {
    let slapd = Slapd::start();
    let listing = slapd
        .ldapsearch(&["-b", SUFFIX, "-s", "one", "1.1"])
        .expect("search the suffix");
    assert!(
        listing.contains("dn: ou=people,dc=example,dc=com"),
        "{listing}"
    );
    assert!(
        listing.contains("dn: ou=groups,dc=example,dc=com"),
        "{listing}"
    );
    let port = slapd.port();
    drop(slapd);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "slapd still listens on {port} after drop"
    );
}

#[test]
fn starttls_and_ldaps_are_served_with_the_generated_ca() {
    let slapd = Slapd::start();
    let ca = slapd.ca_file();
    for (url, extra) in [(slapd.ldaps_url(), None), (slapd.url(), Some("-ZZ"))] {
        let mut command = std::process::Command::new(testkit::openldap::binary("ldapsearch"));
        command
            .env("LDAPTLS_CACERT", &ca)
            .env("LDAPTLS_REQCERT", "demand")
            .args([
                "-x",
                "-LLL",
                "-H",
                &url,
                "-s",
                "base",
                "-b",
                "",
                "namingContexts",
            ]);
        if let Some(flag) = extra {
            command.arg(flag);
        }
        let output = command.output().expect("run ldapsearch");
        assert!(
            output.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
