//! A private Samba Active Directory domain controller for one test, from the
//! distribution's `samba` and `samba-ad-dc` packages.
//!
//! Samba's LDAP ports (389, 636) are fixed in its code, so instances bind no TCP port at all
//! (`interfaces` names an address no interface has) and serve LDAP on their own unix socket,
//! `ldapi://DIR/private/ldapi`, where simple bind, paged results and DirSync work: any
//! number of tests can run at once.
//!
//! Provisioning a domain takes seconds, so it happens once into a template directory shared
//! by every test (kept under the system's temporary directory, keyed by the samba version,
//! created atomically); each instance is a copy of it. `samba -i` runs as this process's
//! child with a pipe on its standard input, so it exits with the test even if a drop is
//! skipped.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::openldap::binary;

pub const REALM: &str = "EXAMPLE.TEST";
pub const DOMAIN: &str = "EXAMPLE";
/// The domain's naming context.
pub const BASE: &str = "DC=example,DC=test";
/// The administrator, bound as `Administrator@EXAMPLE.TEST`. A test fixture, not a secret.
pub const ADMIN_PASSWORD: &str = "Passw0rd!Adm1n";
pub const ADMIN: &str = "Administrator@EXAMPLE.TEST";

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running Samba AD DC. Dropping it stops it and removes its directory.
#[derive(Debug)]
pub struct SambaAd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Held open: samba -i exits when it reaches end of file.
    _stdin: Option<ChildStdin>,
    /// For an instance on 127.0.0.1: the machine-wide lock on Samba's fixed ports.
    tcp: Option<std::fs::File>,
}

impl SambaAd {
    /// Starts a fresh domain controller (a copy of the provisioned template), on its unix
    /// socket only.
    pub fn start() -> SambaAd {
        SambaAd::start_inner(false)
    }

    /// Starts one that also listens on 127.0.0.1: plain LDAP on 389 and LDAPS on 636 with a
    /// certificate from a generated CA ([`SambaAd::ca_file`]). Samba's ports are fixed, so
    /// such instances take a machine-wide lock and run one at a time.
    pub fn start_with_ldaps() -> SambaAd {
        SambaAd::start_inner(true)
    }

    fn start_inner(tcp: bool) -> SambaAd {
        let lock = tcp.then(|| {
            let file = std::fs::File::create(std::env::temp_dir().join("idsync-samba-tcp.lock"))
                .expect("create the samba port lock");
            file.lock().expect("take the samba port lock");
            file
        });
        let template = template();
        let dir = tempfile::Builder::new()
            .prefix("idsync-samba-")
            .tempdir()
            .expect("create a temporary directory for samba");
        let status = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", template.display()))
            .arg(dir.path())
            .status()
            .expect("copy the samba template");
        assert!(status.success(), "copying the samba template failed");
        let conf = dir.path().join("etc/smb.conf");
        let text = std::fs::read_to_string(&conf).expect("read smb.conf");
        std::fs::write(
            &conf,
            text.replace(
                &template.display().to_string(),
                &dir.path().display().to_string(),
            ),
        )
        .expect("write smb.conf");
        for pid in std::fs::read_dir(dir.path().join("run"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if pid.path().extension().is_some_and(|e| e == "pid") {
                let _ = std::fs::remove_file(pid.path());
            }
        }
        if tcp {
            std::fs::create_dir_all(dir.path().join("tls")).expect("tls directory");
            crate::openldap::write_tls(&dir.path().join("tls"));
            // Samba refuses a key file others can read.
            let key = dir.path().join("tls/server.key");
            let mut permissions = std::fs::metadata(&key).expect("key").permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
            std::fs::set_permissions(&key, permissions).expect("key permissions");
        }
        let mut server = SambaAd {
            dir,
            child: None,
            _stdin: None,
            tcp: lock,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("log/samba.log")).expect("samba log");
        let mut command = Command::new(binary("samba"));
        command
            .args(["-i", "-M", "single", "-s"])
            .arg(self.dir.path().join("etc/smb.conf"))
            .arg("--option=server services=ldap");
        if self.tcp.is_some() {
            let tls = self.dir.path().join("tls");
            command
                .args([
                    "--option=interfaces=lo",
                    "--option=bind interfaces only=yes",
                ])
                .arg("--option=tls enabled=yes")
                .arg(format!(
                    "--option=tls keyfile={}",
                    tls.join("server.key").display()
                ))
                .arg(format!(
                    "--option=tls certfile={}",
                    tls.join("server.pem").display()
                ))
                .arg(format!(
                    "--option=tls cafile={}",
                    tls.join("ca.pem").display()
                ));
        } else {
            command.arg("--option=interfaces=127.0.0.254/32");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("samba log"))
            .stderr(log)
            .spawn()
            .expect("start samba");
        self._stdin = child.stdin.take();
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "samba exited with {status} during startup; its log:\n{}",
                    self.log()
                );
            }
            let ready = Command::new(binary("ldapsearch"))
                .args([
                    "-x",
                    "-LLL",
                    "-H",
                    &self.url(),
                    "-D",
                    ADMIN,
                    "-w",
                    ADMIN_PASSWORD,
                ])
                .args(["-s", "base", "-b", BASE, "dn"])
                .output()
                .is_ok_and(|o| o.status.success());
            let listening =
                self.tcp.is_none() || std::net::TcpStream::connect(("127.0.0.1", 636)).is_ok();
            if ready && listening {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "samba not ready after {READY_TIMEOUT:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `ldapi://` with the socket path percent-encoded.
    pub fn url(&self) -> String {
        let path = self.dir.path().join("private/ldapi");
        format!(
            "ldapi://{}",
            path.display()
                .to_string()
                .replace('%', "%25")
                .replace('/', "%2F")
        )
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `ldaps://127.0.0.1` (only for [`SambaAd::start_with_ldaps`]).
    pub fn ldaps_url(&self) -> String {
        "ldaps://127.0.0.1".to_owned()
    }

    /// The CA that signed the LDAPS certificate (only for [`SambaAd::start_with_ldaps`]).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/samba.log")).unwrap_or_default()
    }

    /// Runs an ldap-utils tool bound as the administrator.
    pub fn tool(&self, tool: &str, args: &[&str], input: &str) -> Result<String, String> {
        let mut child = Command::new(binary(tool))
            .args(["-x", "-H", &self.url(), "-D", ADMIN, "-w", ADMIN_PASSWORD])
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
        let _ = writer.join();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "{tool} failed ({}): {}{stdout}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    pub fn ldapmodify(&self, ldif: &str) -> Result<(), String> {
        self.tool("ldapmodify", &[], ldif).map(drop)
    }

    pub fn ldapadd(&self, ldif: &str) -> Result<(), String> {
        self.tool("ldapadd", &[], ldif).map(drop)
    }

    pub fn ldapdelete(&self, dns: &[&str]) -> Result<(), String> {
        self.tool("ldapdelete", dns, "").map(drop)
    }

    pub fn ldapsearch(&self, args: &[&str]) -> Result<String, String> {
        self.tool(
            "ldapsearch",
            &[&["-LLL", "-o", "ldif-wrap=no"], args].concat(),
            "",
        )
    }

    pub fn stop(&mut self) {
        self._stdin = None;
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
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
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

impl Drop for SambaAd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether samba is installed.
pub fn available() -> bool {
    ["samba", "samba-tool", "ldapsearch"]
        .iter()
        .all(|tool| std::panic::catch_unwind(|| binary(tool)).is_ok())
}

/// The provisioned template, made once (per machine and samba version) and then reused.
fn template() -> PathBuf {
    static TEMPLATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(provision_template).clone()
}

fn provision_template() -> PathBuf {
    let version = Command::new(binary("samba"))
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        })
        .unwrap_or_default();
    let root = std::env::temp_dir();
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let target = root.join(format!("idsync-samba-template-{uid}-{version}"));
    if target.join("etc/smb.conf").is_file() {
        return target;
    }
    // Provision beside it and rename into place: parallel test binaries may race, and the
    // rename makes exactly one complete template visible.
    let work = tempfile::Builder::new()
        .prefix("idsync-samba-provision-")
        .tempdir_in(&root)
        .expect("create a provisioning directory");
    let t = work.path().join("tpl");
    for sub in ["run", "log"] {
        std::fs::create_dir_all(t.join(sub)).expect("create template directories");
    }
    let d = t.display().to_string();
    let output = Command::new(binary("samba-tool"))
        .args(["domain", "provision"])
        .arg(format!("--realm={REALM}"))
        .arg(format!("--domain={DOMAIN}"))
        .args([
            "--host-name=DC1",
            "--server-role=dc",
            "--dns-backend=NONE",
            "--use-rfc2307",
        ])
        .arg(format!("--adminpass={ADMIN_PASSWORD}"))
        .arg("--host-ip=127.0.0.1")
        .arg(format!("--targetdir={d}"))
        .args([
            "--option=interfaces=lo",
            "--option=bind interfaces only=yes",
        ])
        .arg(format!("--option=log file={d}/log/log.%m"))
        .arg(format!("--option=pid directory={d}/run"))
        .arg(format!("--option=ncalrpc dir={d}/run/ncalrpc"))
        .arg(format!(
            "--option=winbindd socket directory={d}/run/winbindd"
        ))
        .arg(format!(
            "--option=ntp signd socket directory={d}/run/ntp_signd"
        ))
        .arg(format!("--option=usershare path={d}/usershares"))
        .arg(format!("--option=smb passwd file={d}/private/smbpasswd"))
        .args(["--option=panic action=", "--option=dns update command="])
        .output()
        .expect("run samba-tool domain provision");
    assert!(
        output.status.success(),
        "samba-tool domain provision failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // provision drops these --option values; they go into smb.conf directly. No fsync makes
    // writes about twice as fast, which is right for a throw-away domain.
    let conf = t.join("etc/smb.conf");
    let text = std::fs::read_to_string(&conf).expect("read smb.conf");
    let text = text.replacen(
        "[global]",
        "[global]\n\tldap server require strong auth = no\n\tldb:nosync = true",
        1,
    );
    std::fs::write(&conf, text.replace(&d, &target.display().to_string())).expect("write smb.conf");
    if std::fs::rename(&t, &target).is_err() && !target.join("etc/smb.conf").is_file() {
        panic!("cannot put the samba template at {}", target.display());
    }
    target
}
