//! The contract the engine and the config loader rely on, and the language rules the
//! documented cases do not cover.

use expr::{Dialect, EvalContext, Expression, Outcome, UniquenessOracle};
use model::{AttributeName, Attributes, Value};

fn ctx() -> EvalContext<'static> {
    EvalContext::new("2021-07-02T15:33:38Z".parse().unwrap())
}

fn eval(source: &str, dialect: Dialect, attributes: &Attributes) -> Result<Outcome, String> {
    let expression = Expression::parse(source, dialect).map_err(|d| d.render(source))?;
    expression
        .evaluate(attributes, &ctx())
        .map_err(|e| e.message)
}

fn texts(outcome: Outcome) -> Vec<String> {
    match outcome {
        Outcome::Values(values) => values.iter().map(expr::json::value_text).collect(),
        Outcome::Ignored => vec!["<ignored>".into()],
    }
}

fn person() -> Attributes {
    Attributes::new()
        .with("givenName", "Ada")
        .with("surname", "Lovelace")
        .with("Status", "Active")
}

#[test]
fn a_bare_attribute_is_a_direct_flow() {
    let expression = Expression::parse(" [GivenName] ", Dialect::Provisioning).unwrap();
    assert_eq!(
        expression.as_attribute(),
        Some(&AttributeName::new("givenName"))
    );
    assert_eq!(
        expression.evaluate(&person(), &ctx()).unwrap(),
        Outcome::Values(vec![Value::string("Ada")])
    );
    assert_eq!(
        Expression::parse("[missing]", Dialect::Provisioning)
            .unwrap()
            .evaluate(&person(), &ctx())
            .unwrap(),
        Outcome::Values(vec![])
    );
}

#[test]
fn a_bare_constant_is_a_constant_flow() {
    let expression = Expression::parse(r#""Contoso \"Ltd\"""#, Dialect::Provisioning).unwrap();
    assert_eq!(expression.as_attribute(), None);
    assert_eq!(
        texts(expression.evaluate(&person(), &ctx()).unwrap()),
        ["Contoso \"Ltd\""]
    );
}

#[test]
fn a_scope_filter_is_a_boolean() {
    for dialect in [Dialect::Provisioning, Dialect::Connect] {
        let expression = Expression::parse(r#"[Status] = "Active""#, dialect).unwrap();
        let outcome = expression.evaluate(&person(), &ctx()).unwrap();
        assert_eq!(outcome, Outcome::Values(vec![Value::Boolean(true)]));
        assert!(outcome.is_true());
        let other = Attributes::new().with("Status", "Inactive");
        assert!(!expression.evaluate(&other, &ctx()).unwrap().is_true());
        assert!(
            !expression
                .evaluate(&Attributes::new(), &ctx())
                .unwrap()
                .is_true()
        );
    }
}

#[test]
fn referenced_attributes_are_listed_once_in_order() {
    let expression = Expression::parse(
        r#"Join(" ", [givenName], [surname], [GIVENNAME])"#,
        Dialect::Provisioning,
    )
    .unwrap();
    assert_eq!(
        expression.referenced_attributes(),
        vec![
            AttributeName::new("givenName"),
            AttributeName::new("surname")
        ]
    );
    assert_eq!(expression.top_function(), Some("Join"));
}

#[test]
fn unknown_attributes_point_at_their_brackets() {
    let source = r#"Join(" ", [givenName], [surnam])"#;
    let expression = Expression::parse(source, Dialect::Provisioning).unwrap();
    let problems = expression.check(&|name| name.as_str() != "surnam");
    assert_eq!(problems.len(), 1);
    assert_eq!(&source[problems[0].span.clone()], "[surnam]");
}

#[test]
fn an_unknown_function_suggests_the_nearest_name() {
    let source = r#"Joinn(" ", [givenName])"#;
    let error = Expression::parse(source, Dialect::Provisioning).unwrap_err();
    assert_eq!(&source[error.span.clone()], "Joinn");
    assert_eq!(error.help.as_deref(), Some("did you mean `Join`?"));
    assert_eq!(
        error.render(source),
        "error: unknown function `Joinn`\n  Joinn(\" \", [givenName])\n  ^^^^^\n  help: did you mean `Join`?"
    );
}

#[test]
fn a_function_of_the_other_dialect_says_so() {
    let error = Expression::parse("Trim([a])", Dialect::Provisioning).unwrap_err();
    assert_eq!(
        error.help.as_deref(),
        Some("Trim exists only in the connect dialect")
    );
}

#[test]
fn connect_function_names_are_case_sensitive_provisioning_names_are_not() {
    assert!(Expression::parse(r#"switch([a], "x", "1", "one")"#, Dialect::Provisioning).is_ok());
    let error = Expression::parse("trim([a])", Dialect::Connect).unwrap_err();
    assert_eq!(error.help.as_deref(), Some("write `Trim`"));
}

#[test]
fn argument_counts_are_checked_with_the_signature() {
    let source = "Left([a])";
    let error = Expression::parse(source, Dialect::Provisioning).unwrap_err();
    assert_eq!(error.message, "Left takes 2 arguments, but 1 was given");
    assert_eq!(error.span, 0..source.len());
    assert!(Expression::parse(r#"IIF(, "a", "b")"#, Dialect::Provisioning).is_err());
    assert!(Expression::parse(r#"Switch([a], "d", "k")"#, Dialect::Provisioning).is_err());
}

#[test]
fn multi_line_diagnostics_give_line_and_column() {
    let source = "Join(\" \",\n  [a],\n  Lefft([b], 1))";
    let error = Expression::parse(source, Dialect::Provisioning).unwrap_err();
    assert_eq!(error.line_column(source), (3, 3));
    assert!(
        error
            .render(source)
            .contains("\n    Lefft([b], 1))\n    ^^^^^")
    );
}

#[test]
fn concatenation_is_connect_only_with_a_hint() {
    let error = Expression::parse(r#""t-" & [alias]"#, Dialect::Provisioning).unwrap_err();
    assert!(error.help.unwrap().contains("Join"));
    assert_eq!(
        texts(eval(r#""t-" & [givenName]"#, Dialect::Connect, &person()).unwrap()),
        ["t-Ada"]
    );
}

#[test]
fn connect_operators_run_left_to_right_with_one_priority() {
    assert_eq!(
        texts(eval("1 + 2 * 3", Dialect::Connect, &person()).unwrap()),
        ["9"]
    );
    assert_eq!(
        texts(eval("1 + (2 * 3)", Dialect::Connect, &person()).unwrap()),
        ["7"]
    );
    assert_eq!(
        texts(eval("7 / 2", Dialect::Connect, &person()).unwrap()),
        ["3.5"]
    );
}

#[test]
fn iif_on_a_missing_attribute_fails_in_provisioning_only() {
    let source = r#"IIF([country] = "US", "A", "B")"#;
    let error = eval(source, Dialect::Provisioning, &person()).unwrap_err();
    assert!(
        error.contains("Switch([country], [country], \"\", \"default\")"),
        "{error}"
    );
    assert_eq!(
        texts(eval(source, Dialect::Connect, &person()).unwrap()),
        ["B"]
    );
}

#[test]
fn only_the_branch_taken_is_evaluated() {
    let source = r#"IIF(IsPresent([givenName]), [givenName], Error("missing"))"#;
    assert_eq!(
        texts(eval(source, Dialect::Connect, &person()).unwrap()),
        ["Ada"]
    );
    assert_eq!(
        eval(source, Dialect::Connect, &Attributes::new()).unwrap_err(),
        "missing"
    );
}

#[test]
fn ignore_flow_wraps_the_whole_expression_only() {
    let source = r#"IgnoreFlowIfNullOrEmpty(Switch([c], "", "1", "one"))"#;
    assert_eq!(
        eval(source, Dialect::Provisioning, &Attributes::new()).unwrap(),
        Outcome::Ignored
    );
    assert_eq!(
        texts(
            eval(
                source,
                Dialect::Provisioning,
                &Attributes::new().with("c", "1")
            )
            .unwrap()
        ),
        ["one"]
    );
    let nested = r#"Join("", IgnoreFlowIfNullOrEmpty([a]))"#;
    assert!(
        Expression::parse(nested, Dialect::Provisioning)
            .unwrap_err()
            .message
            .contains("outermost")
    );
}

struct Taken(&'static [&'static str]);

impl UniquenessOracle for Taken {
    fn is_unique(&self, candidate: &str) -> bool {
        !self.0.contains(&candidate)
    }
}

#[test]
fn select_unique_value_asks_the_oracle_in_order() {
    let source = r#"SelectUniqueValue(Join("", [givenName], "1"), Join("", [givenName], "2"), Join("", [givenName], "3"))"#;
    let expression = Expression::parse(source, Dialect::Provisioning).unwrap();
    let taken = Taken(&["Ada1", "Ada2"]);
    let mut context = ctx();
    context.uniqueness = Some(&taken);
    assert_eq!(
        texts(expression.evaluate(&person(), &context).unwrap()),
        ["Ada3"]
    );
    let all = Taken(&["Ada1", "Ada2", "Ada3"]);
    context.uniqueness = Some(&all);
    assert!(
        expression
            .evaluate(&person(), &context)
            .unwrap_err()
            .message
            .contains("Ada1, Ada2, Ada3")
    );
    let nested = format!("Join(\"\", {source})");
    assert!(Expression::parse(&nested, Dialect::Provisioning).is_err());
}

#[test]
fn parameters_come_from_the_context() {
    let expression = Expression::parse(r#""OU=Users," & %Forest.LDAP%"#, Dialect::Connect).unwrap();
    assert!(expression.evaluate(&person(), &ctx()).is_err());
    let parameters = [("forest.ldap".to_owned(), "DC=contoso,DC=com".to_owned())];
    let mut context = ctx();
    context.parameters = &parameters;
    assert_eq!(
        texts(expression.evaluate(&person(), &context).unwrap()),
        ["OU=Users,DC=contoso,DC=com"]
    );
}

#[test]
fn random_functions_follow_the_seed() {
    let expression =
        Expression::parse("RandomString(12, 2, 2, 2, 2)", Dialect::Provisioning).unwrap();
    let mut context = ctx();
    context.seed = 7;
    let first = expression.evaluate(&person(), &context).unwrap();
    assert_eq!(first, expression.evaluate(&person(), &context).unwrap());
    context.seed = 8;
    assert_ne!(first, expression.evaluate(&person(), &context).unwrap());
}

#[test]
fn split_keeps_spaces_and_join_skips_empty_values() {
    assert_eq!(
        texts(eval(r#"Split("a, b", ",")"#, Dialect::Provisioning, &person()).unwrap()),
        ["a", " b"]
    );
    let mut attributes = person();
    attributes.set(AttributeName::new("middle"), vec![Value::string("")]);
    assert_eq!(
        texts(
            eval(
                r#"Join(" ", [givenName], [middle], [none], [surname])"#,
                Dialect::Provisioning,
                &attributes
            )
            .unwrap()
        ),
        ["Ada Lovelace"]
    );
}

#[test]
fn the_length_limit_and_nesting_limit_are_diagnostics() {
    let long = format!("Join(\"\", \"{}\")", "x".repeat(10_000));
    assert!(
        Expression::parse(&long, Dialect::Provisioning)
            .unwrap_err()
            .message
            .contains("10000")
    );
    let deep = format!("{}[a]{}", "ToLower(".repeat(500), ")".repeat(500));
    assert!(
        Expression::parse(&deep, Dialect::Provisioning)
            .unwrap_err()
            .message
            .contains("nests too deeply")
    );
    // Just under the limit, parsing, checking and evaluating fit a test thread's stack.
    let allowed = format!("{}[givenName]{}", "ToLower(".repeat(60), ")".repeat(60));
    assert_eq!(
        texts(eval(&allowed, Dialect::Provisioning, &person()).unwrap()),
        ["ada"]
    );
    let nested_iif = format!(
        "{}\"x\"{}",
        "IIF([givenName] = \"Ada\", ".repeat(30),
        ", \"y\")".repeat(30)
    );
    assert_eq!(
        texts(eval(&nested_iif, Dialect::Provisioning, &person()).unwrap()),
        ["x"]
    );
}

#[test]
fn expressions_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Expression>();
}

#[test]
fn one_seed_still_gives_each_object_its_own_random_values() {
    // The engine passes one seed per run; initial passwords must still differ per person.
    let expression =
        Expression::parse("RandomString(12, 2, 2, 2, 2)", Dialect::Provisioning).unwrap();
    let ada = Attributes::new().with("employeeId", "1");
    let grace = Attributes::new().with("employeeId", "2");
    assert_ne!(
        expression.evaluate(&ada, &ctx()).unwrap(),
        expression.evaluate(&grace, &ctx()).unwrap()
    );
    assert_eq!(
        expression.evaluate(&ada, &ctx()).unwrap(),
        expression.evaluate(&ada, &ctx()).unwrap()
    );
}

#[test]
fn constant_arguments_of_the_wrong_kind_are_caught_when_parsing() {
    let source = r#"Left([givenName], "three")"#;
    let error = Expression::parse(source, Dialect::Provisioning).unwrap_err();
    assert_eq!(&source[error.span.clone()], "\"three\"");
    assert!(Expression::parse(r#"DateAdd("day", 1, Now())"#, Dialect::Provisioning).is_err());
    assert!(Expression::parse(r#"Mid([a], "1", "8")"#, Dialect::Provisioning).is_ok());
}

#[test]
fn unknown_attributes_suggest_a_known_one() {
    let expression =
        Expression::parse(r#"Join(" ", [givenName], [surnam])"#, Dialect::Provisioning).unwrap();
    let known = [
        AttributeName::new("givenName"),
        AttributeName::new("surname"),
    ];
    let problems = expression.check_against(&known);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].help.as_deref(), Some("did you mean [surname]?"));
}
