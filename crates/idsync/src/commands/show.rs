//! `idsync show`: one identity, every value with its lineage and the candidates that lost.

use std::fmt::Write as _;

use anyhow::bail;
use engine::plan::{render_changes, show};
use model::vault::Identity;
use model::{Anchor, IdentityId};
use serde::Serialize;
use store::{CsId, CsObject, HistoryEntry, LinkDirection, PendingExport, Store};

use super::ConfigArg;
use crate::open::{load_config, open_store};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// An identity id (`I-42`), an anchor (`E000123`), or `connector:anchor`.
    pub target: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct IdentityView {
    identity: Identity,
    objects: Vec<CsObject>,
    pending: Vec<PendingExport>,
    history: Vec<HistoryEntry>,
}

pub fn run(args: &ShowArgs) -> anyhow::Result<u8> {
    let config = match load_config(&args.config.path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let open = open_store(&config)?;
    let id = resolve(&config, &open.store, &args.target)?;
    let view = load(&open.store, id)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", render(&view));
    }
    Ok(crate::exit::OK)
}

/// One identity as text: what `idsync show` prints (also used by the demo).
pub fn render_identity(store: &dyn Store, id: IdentityId) -> anyhow::Result<String> {
    Ok(render(&load(store, id)?))
}

fn load(store: &dyn Store, id: IdentityId) -> anyhow::Result<IdentityView> {
    let Some(record) = store.identities(&[id])?.pop() else {
        bail!("no identity {id}");
    };
    let objects = store.cs_linked_to(&[id])?;
    let mut pending = Vec::new();
    for cs in &objects {
        if let Some(export) = store
            .pending_exports(&cs.connector, Some(CsId(cs.id.0 - 1)), 1)?
            .pop()
            && export.cs_id == cs.id
        {
            pending.push(export);
        }
    }
    Ok(IdentityView {
        identity: record.identity,
        objects,
        pending,
        history: store.identity_history(id)?,
    })
}

pub fn resolve(
    config: &config::Config,
    store: &dyn Store,
    target: &str,
) -> anyhow::Result<IdentityId> {
    if let Ok(id) = target.parse::<IdentityId>() {
        return Ok(id);
    }
    let (connectors, anchor): (Vec<&model::ConnectorName>, &str) = match target.split_once(':') {
        Some((connector, anchor))
            if config
                .connectors
                .iter()
                .any(|c| c.name.as_str() == connector) =>
        {
            (
                config
                    .connectors
                    .iter()
                    .filter(|c| c.name.as_str() == connector)
                    .map(|c| &c.name)
                    .collect(),
                anchor,
            )
        }
        _ => (config.connectors.iter().map(|c| &c.name).collect(), target),
    };
    let mut found = Vec::new();
    for connector in connectors {
        if let Some(cs) = store.cs_by_anchor(connector, &Anchor::new(anchor))? {
            match cs.link {
                Some(link) => found.push((connector.clone(), link.identity)),
                None => bail!(
                    "{connector}/{anchor} is not linked to any identity (no inbound rule joined or projected it)"
                ),
            }
        }
    }
    found.sort_by_key(|(_, id)| *id);
    found.dedup_by_key(|(_, id)| *id);
    match found.as_slice() {
        [] => bail!(
            "no identity or object {target:?} (give an identity id like I-42, an anchor, or connector:anchor)"
        ),
        [(_, id)] => Ok(*id),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|(c, id)| format!("{c}:{anchor} -> {id}"))
                .collect();
            bail!(
                "{target:?} is an anchor in several connectors; say which: {}",
                list.join(", ")
            )
        }
    }
}

fn render(view: &IdentityView) -> String {
    let mut out = String::new();
    let i = &view.identity;
    let _ = writeln!(
        out,
        "{} ({}), created in run {}, last changed in run {}",
        i.id, i.object_type, i.created_run.0, i.updated_run.0
    );
    if !i.has_source() {
        let _ = writeln!(
            out,
            "  no source any more: leaving (accounts are deprovisioned by the outbound rules)"
        );
    }
    let _ = writeln!(out, "\nconnected objects:");
    for cs in &view.objects {
        let Some(link) = &cs.link else { continue };
        let dir = match link.direction {
            LinkDirection::Inbound => "source",
            LinkDirection::Outbound => "account",
        };
        let anchor = cs
            .anchor
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "(create pending)".into());
        let disabled = cs
            .deprovisioned_at
            .map(|t| format!(", disabled since {t}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {dir:<7} {}/{anchor}  by {}  since {}{disabled}",
            cs.connector, link.rule, link.at
        );
    }
    let _ = writeln!(out, "\nattributes (winner first; lower precedence wins):");
    for (name, attr) in &i.attributes {
        let _ = writeln!(out, "  {name} = {}", show(attr.values()));
        for (n, c) in attr.contributions().iter().enumerate() {
            let l = &c.lineage;
            let role = if n == 0 { "from" } else { "  lost:" };
            let gone = if c.connected { "" } else { " [source gone]" };
            let value = if n == 0 {
                String::new()
            } else {
                format!("{} ", show(&c.values))
            };
            let _ = writeln!(
                out,
                "      {role} {value}{}/{} by {} (precedence {}), {} at {}{gone}",
                l.connector,
                l.anchor,
                l.rule,
                c.precedence,
                run_label(l.run.0),
                l.at
            );
        }
    }
    if !view.pending.is_empty() {
        let _ = writeln!(out, "\npending exports:");
        for p in &view.pending {
            let q = if p.quarantined {
                format!(" [quarantined: {}]", p.last_error.as_deref().unwrap_or(""))
            } else {
                String::new()
            };
            let _ = writeln!(out, "  {} {}{q}", p.operation.as_str(), p.connector);
            render_changes(&mut out, p);
        }
    }
    let _ = writeln!(out, "\nhistory:");
    for h in &view.history {
        let _ = writeln!(out, "  {} at {}: {}", run_label(h.run.0), h.at, h.event);
        for c in &h.changes {
            let _ = writeln!(
                out,
                "      {}: {} -> {}",
                c.attribute,
                show(&c.old),
                show(&c.new)
            );
        }
    }
    out
}

fn run_label(run: i64) -> String {
    format!("run {run}")
}
