//! `idsync check`: the configuration's syntax, then its meaning, then the live systems.

use engine::connectors::AnyConnector;
use engine::schema_check::{attribute_names, unknown_attributes};

use super::{ConfigArg, runtime};
use crate::exit;
use crate::open::load_config;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Check only the file, not the connected systems.
    #[arg(long)]
    pub offline: bool,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let config = match load_config(&args.config.path) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    println!(
        "{}: configuration ok ({} connectors, {} inbound rules, {} outbound rules)",
        config.path.display(),
        config.connectors.len(),
        config.inbound.len(),
        config.outbound.len()
    );
    if args.offline {
        return Ok(exit::OK);
    }
    let base = config
        .path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let mut problems = 0;
    runtime()?.block_on(async {
        for c in &config.connectors {
            let mut connector = match AnyConnector::open(c, &base, config.is_target_only(&c.name)) {
                Ok(connector) => connector,
                Err(e) => {
                    problems += 1;
                    println!("{} ({}): cannot open: {e}", c.name, c.kind.type_name());
                    continue;
                }
            };
            let healthy = match connector.check().await {
                Ok(health) => {
                    for line in &health.passed {
                        println!("{} ({}): ok: {line}", c.name, c.kind.type_name());
                    }
                    for line in &health.problems {
                        problems += 1;
                        println!("{} ({}): problem: {line}", c.name, c.kind.type_name());
                    }
                    health.is_healthy()
                }
                Err(e) => {
                    problems += 1;
                    println!("{} ({}): check failed: {e}", c.name, c.kind.type_name());
                    false
                }
            };
            // Without the system, its schema is only what the settings say; comparing the
            // rules with that would list every column as unknown.
            if !healthy {
                continue;
            }
            match connector.schema().await {
                Ok(schema) => {
                    let unknown = unknown_attributes(&config, &c.name, &schema);
                    for u in &unknown {
                        problems += 1;
                        println!(
                            "{}: {u}; it has: {}",
                            c.name,
                            attribute_names(&schema).join(", ")
                        );
                    }
                }
                Err(e) => {
                    problems += 1;
                    println!("{}: cannot read the schema: {e}", c.name);
                }
            }
        }
    });
    if problems > 0 {
        println!("{problems} problems found");
        Ok(exit::CONFIG)
    } else {
        println!("all connectors reachable; every rule reads attributes its connector has");
        Ok(exit::OK)
    }
}
