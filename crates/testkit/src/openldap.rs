//! A private OpenLDAP server for one test: `slapd` from the distribution's package, in a
//! temporary directory, on 127.0.0.1 with free ports, stopped when dropped.
//!
//! What [`Slapd::start`] builds (nothing outside the temporary directory is touched):
//! - `cn=config` generated as LDIF and loaded with `slapadd -n0`, with the core, cosine,
//!   inetOrgPerson and nis schemas from `/etc/ldap/schema`;
//! - `cn=accesslog` (mdb) and the data database `dc=example,dc=com` (mdb), whose `syncprov`
//!   overlay serves RFC 4533 content synchronization and takes its session log from the
//!   accesslog, so a syncrepl cookie still yields a delta (with deletes) after a restart;
//! - rootdn `cn=admin,dc=example,dc=com` with a password, no size or time limits;
//! - a self-signed certificate authority and a server certificate for 127.0.0.1, so
//!   `ldap://` offers StartTLS and a second port serves `ldaps://`;
//! - the base entries `dc=example,dc=com`, `ou=people` and `ou=groups`.
//!
//! `slapd` runs in the foreground (`-d 0`) as this process's child, so it is killed and
//! reaped on drop; readiness is polled (a search over our own ldapi socket, and the TCP
//! port accepting), never waited for by sleeping a fixed time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The data database's suffix.
pub const SUFFIX: &str = "dc=example,dc=com";
/// The data database's root DN.
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=com";
/// The root DN's password. A test fixture, not a secret.
pub const ADMIN_PASSWORD: &str = "idsync-test-secret";

const SCHEMA_DIR: &str = "/etc/ldap/schema";
const MODULE_DIR: &str = "/usr/lib/ldap";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How to build the server.
#[derive(Debug, Clone, Default)]
pub struct SlapdOptions {
    /// LDIF loaded offline with `slapadd` before the server starts (fast bulk loads).
    pub seed_ldif: Vec<String>,
    /// Extra schema LDIF files (paths) included in `cn=config`, after the standard ones.
    pub extra_schema: Vec<PathBuf>,
    /// Leave out the syncprov and accesslog overlays: a server without content
    /// synchronization, as a connector's timestamp fallback sees it.
    pub without_syncprov: bool,
}

/// A running slapd. Dropping it stops the server and removes its directory.
#[derive(Debug)]
pub struct Slapd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
    ldaps_port: u16,
}

impl Slapd {
    /// Starts a fresh server with the base entries. Panics (failing the test) with the
    /// server's log when it cannot start.
    pub fn start() -> Slapd {
        Slapd::start_with(SlapdOptions::default())
    }

    pub fn start_with(options: SlapdOptions) -> Slapd {
        let slapd = binary("slapd");
        let slapadd = binary("slapadd");
        let dir = tempfile::Builder::new()
            .prefix("idsync-slapd-")
            .tempdir()
            .expect("create a temporary directory for slapd");
        let root = dir.path().to_path_buf();
        for sub in ["slapd.d", "db", "accesslog", "run", "tls"] {
            std::fs::create_dir_all(root.join(sub)).expect("create slapd directories");
        }
        write_tls(&root.join("tls"));
        let config = config_ldif(&root, &options);
        std::fs::write(root.join("config.ldif"), config).expect("write config.ldif");
        run(Command::new(&slapadd)
            .args(["-q", "-n", "0", "-F"])
            .arg(root.join("slapd.d"))
            .arg("-l")
            .arg(root.join("config.ldif")))
        .unwrap_or_else(|e| panic!("slapadd of cn=config failed: {e}"));
        let mut seeds = vec![BASE_LDIF.to_owned()];
        seeds.extend(options.seed_ldif.iter().cloned());
        for (i, ldif) in seeds.iter().enumerate() {
            let path = root.join(format!("seed-{i}.ldif"));
            std::fs::write(&path, ldif).expect("write seed LDIF");
            // -q: no consistency checks (fast); -w: write the context CSN syncprov serves.
            run(Command::new(&slapadd)
                .args(["-q", "-w", "-F"])
                .arg(root.join("slapd.d"))
                .args(["-b", SUFFIX, "-l"])
                .arg(&path))
            .unwrap_or_else(|e| panic!("slapadd of seed {i} failed: {e}"));
        }
        let mut server = Slapd {
            dir,
            child: None,
            port: 0,
            ldaps_port: 0,
        };
        server.launch(&slapd);
        server
    }

    /// Starts slapd on two free ports and waits until it answers.
    fn launch(&mut self, slapd: &Path) {
        // Another process may take a port between our probe and slapd's bind; slapd then
        // exits and we try other ports.
        let mut last_error = String::new();
        for attempt in 0..5 {
            let (port, ldaps_port) = match (attempt, self.port, self.ldaps_port) {
                // Back on the same ports after a restart, as a real server comes back.
                (0, p, l) if p != 0 && l != 0 => (p, l),
                _ => (free_port(), free_port()),
            };
            let log = std::fs::File::create(self.dir.path().join("slapd.log")).expect("slapd log");
            let urls = format!(
                "ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps_port}/ {}",
                self.ldapi_url()
            );
            let child = Command::new(slapd)
                .args(["-d", "0", "-F"])
                .arg(self.dir.path().join("slapd.d"))
                .args(["-h", &urls])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("slapd log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", slapd.display()));
            self.child = Some(child);
            self.port = port;
            self.ldaps_port = ldaps_port;
            match self.wait_ready() {
                Ok(()) => return,
                Err(e) => {
                    last_error = e;
                    self.kill();
                }
            }
        }
        panic!("slapd did not start: {last_error}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "slapd exited with {status} during startup; its log:\n{}",
                    self.log()
                ));
            }
            let answers = Command::new(binary("ldapsearch"))
                .args([
                    "-x",
                    "-LLL",
                    "-H",
                    &self.ldapi_url(),
                    "-s",
                    "base",
                    "-b",
                    "",
                ])
                .arg("namingContexts")
                .output()
                .is_ok_and(|o| o.status.success());
            if answers
                && TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
                && TcpStream::connect((Ipv4Addr::LOCALHOST, self.ldaps_port)).is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "slapd not ready after {READY_TIMEOUT:?}; its log:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `ldap://127.0.0.1:PORT` (plain, StartTLS offered).
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// `ldaps://127.0.0.1:PORT`.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// The unix socket URL (`ldapi://` with the path percent-encoded).
    pub fn ldapi_url(&self) -> String {
        let path = self.dir.path().join("run/ldapi");
        format!(
            "ldapi://{}",
            path.display()
                .to_string()
                .replace('%', "%25")
                .replace('/', "%2F")
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM file of the certificate authority that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    /// A client certificate (PEM) from the same CA, whose SASL EXTERNAL identity slapd maps
    /// to the root DN, and its key.
    pub fn client_certificate(&self) -> (PathBuf, PathBuf) {
        let tls = self.dir.path().join("tls");
        (tls.join("client.pem"), tls.join("client.key"))
    }

    /// The server's directory (configuration, databases, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What slapd wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }

    /// Stops the server (SIGTERM, then SIGKILL if it lingers) and waits for it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Starts the stopped server again with the same data, on the same ports when they
    /// are still free.
    pub fn restart(&mut self) {
        self.stop();
        self.launch(&binary("slapd"));
    }

    /// Runs an ldap-utils tool (`ldapmodify`, `ldapadd`, `ldapdelete`, `ldapsearch`) bound
    /// as the root DN, with `input` on its standard input.
    pub fn tool(&self, tool: &str, args: &[&str], input: &str) -> Output {
        let mut child = Command::new(binary(tool))
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                ADMIN_DN,
                "-w",
                ADMIN_PASSWORD,
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {tool}: {e}"));
        // Written from another thread: a tool that prints a line per entry fills its stdout
        // pipe before it has read a large input, and both sides would wait forever.
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.to_owned();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait for {tool}: {e}"));
        // A tool that exits early (an error) closes its input: not our failure to report.
        let _ = writer.join();
        output
    }

    /// Applies LDIF change records with `ldapmodify` (`changetype: add/modify/delete/modrdn`).
    /// Returns an error with the tool's message when it fails.
    pub fn ldapmodify(&self, ldif: &str) -> Result<(), String> {
        checked("ldapmodify", self.tool("ldapmodify", &[], ldif))
    }

    /// Adds the entries of an LDIF with `ldapadd`.
    pub fn ldapadd(&self, ldif: &str) -> Result<(), String> {
        checked("ldapadd", self.tool("ldapadd", &[], ldif))
    }

    /// Deletes entries with `ldapdelete`.
    pub fn ldapdelete(&self, dns: &[&str]) -> Result<(), String> {
        checked("ldapdelete", self.tool("ldapdelete", dns, ""))
    }

    /// Searches with `ldapsearch -LLL` and returns the LDIF it printed.
    pub fn ldapsearch(&self, args: &[&str]) -> Result<String, String> {
        let output = self.tool(
            "ldapsearch",
            &[&["-LLL", "-o", "ldif-wrap=no"], args].concat(),
            "",
        );
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        checked("ldapsearch", output).map(|()| stdout)
    }

    /// Deletes every entry below `ou=people` and `ou=groups`, leaving the base entries.
    pub fn clear(&self) -> Result<(), String> {
        for ou in ["ou=people", "ou=groups"] {
            let base = format!("{ou},{SUFFIX}");
            let listing = self.ldapsearch(&["-b", &base, "-s", "one", "1.1"])?;
            let dns: Vec<&str> = listing
                .lines()
                .filter_map(|l| l.strip_prefix("dn: "))
                .collect();
            // Base64 DNs (dn::) do not occur in our fixtures.
            if !dns.is_empty() {
                checked(
                    "ldapdelete",
                    self.tool("ldapdelete", &[&["-r"], &dns[..]].concat(), ""),
                )?;
            }
        }
        Ok(())
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn checked(tool: &str, output: Output) -> Result<(), String> {
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        ))
    }
}

/// Finds a tool in PATH or /usr/sbin; panics with the install hint when it is missing.
pub fn binary(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/sbin"));
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed; run scripts/install-deps (Debian: slapd ldap-utils)")
        })
}

/// Whether slapd and ldap-utils are installed.
pub fn available() -> bool {
    ["slapd", "slapadd", "ldapsearch"]
        .iter()
        .all(|tool| std::panic::catch_unwind(|| binary(tool)).is_ok())
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("cannot start: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port on 127.0.0.1")
}

/// A certificate authority and a server certificate for 127.0.0.1 and localhost.
pub(crate) fn write_tls(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "idsync test slapd CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "idsync test slapd");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca).expect("server certificate");
    // A client certificate for SASL EXTERNAL; slapd maps its subject to the root DN.
    let client_key = KeyPair::generate().expect("client key");
    let mut client_params = CertificateParams::new(Vec::<String>::new()).expect("client params");
    client_params
        .distinguished_name
        .push(DnType::CommonName, "idsync-client");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params
        .signed_by(&client_key, &ca)
        .expect("client certificate");
    std::fs::write(dir.join("client.pem"), client.pem()).expect("write client.pem");
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).expect("write client.key");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
    std::fs::write(dir.join("server.pem"), cert.pem()).expect("write server.pem");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
}

const BASE_LDIF: &str = "\
dn: dc=example,dc=com
objectClass: top
objectClass: dcObject
objectClass: organization
dc: example
o: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups
";

fn config_ldif(root: &Path, options: &SlapdOptions) -> String {
    let d = root.display();
    let mut out = String::new();
    let _ = write!(
        out,
        "\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/run/slapd.pid
olcArgsFile: {d}/run/slapd.args
olcLogLevel: none
olcToolThreads: 2
olcTLSCACertificateFile: {d}/tls/ca.pem
olcTLSCertificateFile: {d}/tls/server.pem
olcTLSCertificateKeyFile: {d}/tls/server.key
olcTLSVerifyClient: try
olcAuthzRegexp: {{0}}\"^cn=idsync-client$\" \"{ADMIN_DN}\"

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
olcModuleLoad: {{0}}back_mdb
olcModuleLoad: {{1}}syncprov
olcModuleLoad: {{2}}accesslog

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://{SCHEMA_DIR}/core.ldif

include: file://{SCHEMA_DIR}/cosine.ldif

include: file://{SCHEMA_DIR}/inetorgperson.ldif

include: file://{SCHEMA_DIR}/nis.ldif

"
    );
    for schema in &options.extra_schema {
        let _ = write!(out, "include: file://{}\n\n", schema.display());
    }
    let _ = write!(
        out,
        "\
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: unlimited
olcTimeLimit: unlimited

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: cn=admin,cn=config
olcRootPW: {ADMIN_PASSWORD}
olcAccess: {{0}}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: cn=accesslog
olcDbDirectory: {d}/accesslog
olcRootDN: {ADMIN_DN}
olcDbMaxSize: 1073741824
olcDbNoSync: TRUE
olcDbIndex: default eq
olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN
olcAccess: {{0}}to * by users read by * none
olcLimits: {{0}}* size=unlimited time=unlimited

dn: olcOverlay={{0}}syncprov,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{0}}syncprov
olcSpNoPresent: TRUE
olcSpReloadHint: TRUE

dn: olcDatabase={{2}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{2}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {d}/db
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: entryCSN eq
olcDbIndex: entryUUID eq
olcDbIndex: uid eq
olcDbIndex: cn eq,sub
olcDbIndex: mail eq
olcDbIndex: member eq
olcDbIndex: uniqueMember eq
olcDbIndex: employeeNumber eq
olcDbIndex: modifyTimestamp eq
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by users read by * read
olcLimits: {{0}}* size=unlimited time=unlimited
"
    );
    if !options.without_syncprov {
        let _ = write!(
            out,
            "
dn: olcOverlay={{0}}syncprov,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{0}}syncprov
olcSpCheckpoint: 100 10
olcSpSessionlogSource: cn=accesslog

dn: olcOverlay={{1}}accesslog,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {{1}}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 07+00:00 01+00:00
"
        );
    }
    out
}
