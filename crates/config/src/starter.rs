//! The commented configuration `idsync init` writes.

/// A commented starter configuration: an HR file and a contractors file feeding the vault,
/// and an accounts file written back out. It loads as is.
pub fn starter_config() -> &'static str {
    include_str!("starter.toml")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_starter_configuration_loads_cleanly() {
        let config = crate::load_str(
            super::starter_config(),
            std::path::Path::new("/srv/idsync/idsync.toml"),
        )
        .unwrap_or_else(|errors| panic!("{errors}"));
        assert_eq!(config.connectors.len(), 3);
        assert_eq!(config.inbound.len(), 2);
        assert_eq!(config.outbound.len(), 1);
    }
}
