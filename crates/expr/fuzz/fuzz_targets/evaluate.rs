//! Whatever parses must evaluate to a value or an error, never panic, over a few objects.
#![no_main]

use expr::{Dialect, EvalContext, Expression};
use libfuzzer_sys::fuzz_target;
use model::{Attributes, AttributeName, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let mut multi = Attributes::new().with("a", "Zoë O'Neil").with("b", "2021-08-25T17:41:18Z").with("c", 42i64);
    multi.set(AttributeName::new("m"), vec![Value::string(" x "), Value::string(""), Value::string("SMTP:a@b")]);
    let objects = [Attributes::new(), Attributes::new().with("a", "").with("b", "-1"), multi];
    let parameters = [("Forest.LDAP".to_owned(), "DC=contoso,DC=com".to_owned())];
    for dialect in [Dialect::Provisioning, Dialect::Connect] {
        let Ok(expression) = Expression::parse(source, dialect) else { continue };
        for object in &objects {
            let mut ctx = EvalContext::new("2021-07-02T15:33:38Z".parse().unwrap());
            ctx.parameters = &parameters;
            let _ = expression.evaluate(object, &ctx);
        }
    }
});
