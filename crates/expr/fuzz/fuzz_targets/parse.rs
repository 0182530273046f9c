//! The parser and checker must return a result or a diagnostic for any text, never panic,
//! and every diagnostic's span must lie inside the text on character boundaries.
#![no_main]

use expr::{Dialect, Expression};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    for dialect in [Dialect::Provisioning, Dialect::Connect] {
        if let Err(problems) = Expression::parse_all(source, dialect) {
            for d in problems {
                assert!(d.span.start <= d.span.end && d.span.end <= source.len(), "span {:?} outside {source:?}", d.span);
                assert!(source.is_char_boundary(d.span.start) && source.is_char_boundary(d.span.end));
                let _ = d.render(source);
            }
        }
    }
});
