//! `idsync schema`: what a connected system holds, as its connector reads it: object types,
//! attributes, their syntax and whether they hold several values.

use engine::connectors::AnyConnector;
use model::ConnectorName;

use super::{ConfigArg, runtime};
use crate::exit;
use crate::open::load_config;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The connector, by name.
    pub connector: String,
}

pub fn run(args: &SchemaArgs) -> anyhow::Result<u8> {
    let config = match load_config(&args.config.path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let name = ConnectorName::new(args.connector.as_str());
    let Some(settings) = config.connector(&name) else {
        let known: Vec<String> = config
            .connectors
            .iter()
            .map(|c| c.name.to_string())
            .collect();
        eprintln!(
            "error: no connector \"{}\" in {}; it has: {}",
            args.connector,
            config.path.display(),
            known.join(", ")
        );
        return Ok(exit::CONFIG);
    };
    let base = config
        .path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let mut connector = AnyConnector::open(settings, &base, config.is_target_only(&name))?;
    let schema = runtime()?.block_on(connector.schema())?;
    for object_type in &schema.object_types {
        let anchor: Vec<String> = object_type.anchor.iter().map(|a| a.to_string()).collect();
        println!("{} (anchor: {})", object_type.name, anchor.join(" + "));
        for attribute in &object_type.attributes {
            let mut notes = vec![attribute.syntax.to_string()];
            if attribute.multi_valued {
                notes.push("multi-valued".into());
            }
            if attribute.required {
                notes.push("required".into());
            }
            println!("  {:<40} {}", attribute.name.to_string(), notes.join(", "));
        }
    }
    Ok(exit::OK)
}
