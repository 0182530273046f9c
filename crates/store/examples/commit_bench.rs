//! Times one commit of many connector-space writes on a file store.
//!
//! `cargo run --release -p store --example commit_bench [count]` (default 100,000).
//! A measurement, not a test: nothing here asserts a speed.

use std::time::{Duration, Instant};

use model::{Attributes, IdentityId, RunId, vault::Identity};
use store::{CsId, CsObject, IdentityRecord, SqliteStore, Store, Write, WriteBatch};

/// Time this thread spent on a CPU, from Linux's schedstat: on a busy machine wall time
/// also counts other processes' turns.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Runs `f`, printing its wall time and, where known, its CPU time.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let result = f();
    let wall = wall.elapsed();
    match (cpu, cpu_time()) {
        (Some(before), Some(after)) => {
            println!("{what}: {wall:.2?} wall, {:.2?} cpu", after - before)
        }
        _ => println!("{what}: {wall:.2?} wall"),
    }
    result
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let mut store = SqliteStore::open(&dir.path().join("bench.db"))?;

    let puts = |generation: u64| -> WriteBatch {
        let writes = (1..=count)
            .map(|id| {
                let anchor = format!("E{id:07}");
                let mail = format!("user{id}@example.com");
                let attributes = Attributes::new()
                    .with("employeeId", anchor.as_str())
                    .with("givenName", "Ada")
                    .with("surname", "Lovelace")
                    .with("mail", mail.as_str())
                    .with("department", "Engineering")
                    .with("title", "Engineer")
                    .with("active", true);
                Write::PutCs {
                    object: CsObject {
                        id: CsId(id),
                        connector: "hr".into(),
                        anchor: Some(anchor.as_str().into()),
                        object_type: "person".into(),
                        attributes,
                        digest: (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ generation,
                        link: None,
                        dirty: true,
                        deprovisioned_at: None,
                    },
                    keys: vec![("employeeId".into(), anchor), ("mail".into(), mail)],
                }
            })
            .collect();
        WriteBatch { writes }
    };

    let batch = puts(0);
    timed(&format!("{count} PutCs (new objects, 2 keys each)"), || {
        store.commit(batch)
    })?;
    let batch = puts(1);
    timed(
        &format!("{count} PutCs (replacing the same objects)"),
        || store.commit(batch),
    )?;

    let identities = WriteBatch {
        writes: (1..=count)
            .map(|id| Write::PutIdentity {
                record: IdentityRecord {
                    identity: Identity::new(IdentityId(id), "person".into(), RunId(1)),
                    dirty: true,
                },
                keys: vec![("employeeId".into(), format!("E{id:07}"))],
            })
            .collect(),
    };
    timed(&format!("{count} PutIdentity (1 key each)"), || {
        store.commit(identities)
    })?;

    timed(
        &format!("paging through {count} dirty objects, 5,000 a page"),
        || {
            let mut after = None;
            loop {
                let page = store.dirty_cs(&"hr".into(), after, 5_000)?;
                match page.last() {
                    Some(last) => after = Some(last.id),
                    None => return Ok::<_, store::StoreError>(()),
                }
            }
        },
    )?;
    Ok(())
}
