//! Behaviour the references state but the documented sample does not cover, one line each
//! through one `check`.

use expr::json::{CaseContext, attributes_from_json, values_to_json};
use expr::{Dialect, Expression, Outcome};
use serde_json::{Value as Json, json};

/// Evaluates `source` over `attributes` (JSON) and compares with `expected` (JSON: a string,
/// an array, null, `{"ignored": true}` or `{"error": "<part of the message>"}`).
fn check(dialect: Dialect, source: &str, attributes: Json, expected: Json) {
    let expression =
        Expression::parse(source, dialect).unwrap_or_else(|d| panic!("{}", d.render(source)));
    let attributes = attributes_from_json(&attributes).unwrap();
    let mut context = CaseContext::new("2021-08-25T17:41:18Z".parse().unwrap());
    context.parameters = vec![("Domain.Netbios".into(), "CONTOSO".into())];
    let actual = match expression.evaluate(&attributes, &context.eval_context()) {
        Ok(Outcome::Values(values)) => values_to_json(&values),
        Ok(Outcome::Ignored) => json!({ "ignored": true }),
        Err(e) => {
            let wanted = expected["error"]
                .as_str()
                .unwrap_or_else(|| panic!("{source}: unexpected error {}", e.message));
            assert!(
                e.message.contains(wanted),
                "{source}: error {:?} does not mention {wanted:?}",
                e.message
            );
            return;
        }
    };
    assert_eq!(actual, expected, "{source}");
}

fn p(source: &str, attributes: Json, expected: Json) {
    check(Dialect::Provisioning, source, attributes, expected);
}

fn c(source: &str, attributes: Json, expected: Json) {
    check(Dialect::Connect, source, attributes, expected);
}

#[test]
fn replace_modes() {
    p(
        r#"Replace([BusinessTitle], "Product Developer", , , "Software Engineer", , )"#,
        json!({"BusinessTitle": "Product Developer"}),
        json!("Software Engineer"),
    );
    p(
        r#"Replace([mobile], , "[()\\s-]+", , "", , )"#,
        json!({"mobile": "+1 (999) 888-7777"}),
        json!("+19998887777"),
    );
    p(
        r#"Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )"#,
        json!({"userPrincipalName": "jsmith@contoso.com"}),
        json!("jsmith"),
    );
    p(
        r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber", , [mobile], )"#,
        json!({"telephoneNumber": "+1 5551234567", "mobile": "+91 8887779999"}),
        json!("+1 5551234567"),
    );
    p(
        r#"Replace([mail], "@contoso.com", , , , [domain], )"#,
        json!({"mail": "a@contoso.com", "domain": "@fabrikam.com"}),
        json!("a@fabrikam.com"),
    );
    p(
        r#"Replace([mail], , "(?<=@)contoso", , "fabrikam", , )"#,
        json!({"mail": "a@contoso.com"}),
        json!("a@fabrikam.com"),
    );
    p(
        r#"Replace([mail], , "(", , "", , )"#,
        json!({"mail": "a"}),
        json!({"error": "not a valid regular expression"}),
    );
    p(
        r#"Replace([proxyAddresses], "contoso", , , "fabrikam", , )"#,
        json!({"proxyAddresses": ["SMTP:a@contoso.com", "smtp:b@contoso.com"]}),
        json!(["SMTP:a@fabrikam.com", "smtp:b@fabrikam.com"]),
    );
}

#[test]
fn text_functions() {
    p(
        r#"PCase([lastName], " '-")"#,
        json!({"lastName": "PINTO-DE'SILVA"}),
        json!("Pinto-De'Silva"),
    );
    p(
        r#"PCase([name])"#,
        json!({"name": "o'neil mcdonald-smith"}),
        json!("O'neil Mcdonald-Smith"),
    );
    p(
        r#"Word("The quick brown fox", 3, " ")"#,
        json!({}),
        json!("brown"),
    );
    p(r#"Word("a,,b", 2, ",")"#, json!({}), json!("b"));
    p(
        r#"InStr("repEated", "e", 3, vbBinaryCompare)"#,
        json!({}),
        json!("7"),
    );
    p(
        r#"InStr("repEated", "e", 3, vbTextCompare)"#,
        json!({}),
        json!("4"),
    );
    p(r#"InStr("abc", "z")"#, json!({}), json!("0"));
    p(r#"Len([missing])"#, json!({}), json!("0"));
    p(r#"Mid("John Doe", 6)"#, json!({}), json!("Doe"));
    p(r#"Mid("John Doe", 20, 2)"#, json!({}), json!("John Doe"));
    p(r#"Mid("John Doe", 1, 0)"#, json!({}), json!(""));
    p(r#"Left([missing], 3)"#, json!({}), json!(""));
    p(
        r#"ToLower([x], "tr-TR")"#,
        json!({"x": "ISTANBUL"}),
        json!("ıstanbul"),
    );
    p(
        r#"NormalizeDiacritics([x])"#,
        json!({"x": "Šťastný Øyvind Œ̄ ǣ"}),
        json!("Stastny OEyvind OE ae"),
    );
    p(
        r#"StripSpaces([x])"#,
        json!({"x": " a b\tc "}),
        json!("ab\tc"),
    );
    p(r#"Append([missing], "x")"#, json!({}), json!(null));
    c(
        r#"ReplaceChars("Raksmörgås", "ö:o, å : a")"#,
        json!({}),
        json!("Raksmorgas"),
    );
    c(
        r#"ReplaceChars("a", "ab:c")"#,
        json!({}),
        json!({"error": "exactly one character"}),
    );
    c(r#"PadLeft([x], 5, "0")"#, json!({}), json!(""));
    c(r#"PadLeft("123456", 3, "0")"#, json!({}), json!("123456"));
    c(r#"InStrRev("abcabc", "abc", 5)"#, json!({}), json!("1"));
    // .NET maps case one character for one: ß has no single upper-case letter.
    c(r#"UCase("straße")"#, json!({}), json!("STRAßE"));
    c(r#"LCase("İSTANBUL")"#, json!({}), json!("istanbul"));
    p(r#"Not(1)"#, json!({}), json!("False"));
}

#[test]
fn flow_functions() {
    p(
        r#"Coalesce([a], [b], "default")"#,
        json!({"b": "B"}),
        json!("B"),
    );
    p(
        r#"Coalesce([a], [b], "default")"#,
        json!({}),
        json!("default"),
    );
    p(
        r#"Switch([c], , "1", "one")"#,
        json!({"c": "2"}),
        json!(null),
    );
    p(
        r#"Switch(IsPresent([jobTitle]), "DefaultValue", "True", [jobTitle])"#,
        json!({}),
        json!("DefaultValue"),
    );
    p(
        r#"IIF(Len([x]) > 3, "long", "short")"#,
        json!({"x": "abcd"}),
        json!("long"),
    );
    p(
        r#"IIF([x] = "", "empty", "full")"#,
        json!({"x": ""}),
        json!({"error": "absent or empty"}),
    );
    p(
        r#"IgnoreFlowIfNullOrEmpty(IIF([a] = "x", "", "y"))"#,
        json!({"a": "x"}),
        json!({"ignored": true}),
    );
    p(
        r#"DefaultDomain()"#,
        json!({}),
        json!({"error": "no default verified domain"}),
    );
    c(
        r#"IIF([a] = "x", IgnoreThisFlow, [a])"#,
        json!({"a": "x"}),
        json!({"ignored": true}),
    );
    c(
        r#"Switch([a] = "x", "one", [a] = "y", "two")"#,
        json!({"a": "z"}),
        json!(null),
    );
    c(
        r#"Switch([a] = "x", Error("no"), True, "ok")"#,
        json!({"a": "z"}),
        json!("ok"),
    );
    c(
        r#"Where($item, [phones], Left($item, 3) = "425")"#,
        json!({}),
        json!(null),
    );
    c(
        r#"Select($p, Split("a-b", "-"), UCase($p))"#,
        json!({}),
        json!(["A", "B"]),
    );
    c(
        r#"With($n, [name], $n & "@" & %Domain.Netbios%)"#,
        json!({"name": "ada"}),
        json!("ada@CONTOSO"),
    );
    // One priority, left to right: comparisons joined by && need parentheses.
    c(
        r#"([a] = "x") && ([b] = "y")"#,
        json!({"a": "x", "b": "y"}),
        json!("True"),
    );
    c(
        r#"([a] = "x") || ([b] = "y")"#,
        json!({"a": "q", "b": "q"}),
        json!("False"),
    );
    c(
        r#"[a] = "x" && [b] = "y""#,
        json!({"a": "x", "b": "y"}),
        json!({"error": "is not True or False"}),
    );
    c(
        r#""line1" & CRLF & "line2""#,
        json!({}),
        json!("line1\r\nline2"),
    );
}

#[test]
fn multi_valued_functions() {
    p(
        r#"Item([m], 3)"#,
        json!({"m": ["a", "b"]}),
        json!({"error": "no value number 3"}),
    );
    c(r#"ItemOrNull([m], 0)"#, json!({"m": ["a"]}), json!(null));
    p(r#"Count([m])"#, json!({}), json!("0"));
    p(
        r#"Join(",", [m], "z")"#,
        json!({"m": ["a", "", "b"]}),
        json!("a,b,z"),
    );
    c(r#"Join([m])"#, json!({"m": ["a", "b"]}), json!("a b"));
    c(r#"Join([m], "")"#, json!({"m": ["a", "b"]}), json!("ab"));
    c(r#"Split("a,b,c", ",", 2)"#, json!({}), json!(["a", "b,c"]));
    c(
        r#"Contains([m], "smtp:", CaseInsensitive)"#,
        json!({"m": ["x", "SMTP:a"]}),
        json!("2"),
    );
    c(
        r#"Contains([m], "smtp:")"#,
        json!({"m": ["x", "SMTP:a"]}),
        json!("0"),
    );
    p(
        r#"RemoveDuplicates([m])"#,
        json!({"m": ["a", "A", "a"]}),
        json!(["a", "A"]),
    );
}

#[test]
fn dates() {
    p(
        r#"DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))"#,
        json!({}),
        json!("-493"),
    );
    p(
        r#"DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))"#,
        json!({}),
        json!("-113"),
    );
    p(
        r#"DateDiff("d", Now(), CDate("2021-08-28-07:00"))"#,
        json!({}),
        json!("2"),
    );
    p(
        r#"DateDiff("q", CDate("2021-03-31"), CDate("2021-04-01"))"#,
        json!({}),
        json!("1"),
    );
    p(
        r#"DateAdd("m", 1, CDate("2021-01-31"))"#,
        json!({}),
        json!("2/28/2021 12:00:00 AM"),
    );
    p(
        r#"DateAdd("yyyy", -1, CDate("2024-02-29"))"#,
        json!({}),
        json!("2/28/2023 12:00:00 AM"),
    );
    p(
        r#"DateAdd("n", 90, CDate("2021-01-01"))"#,
        json!({}),
        json!("1/1/2021 1:30:00 AM"),
    );
    p(
        r#"CDate("2009-06-15T01:45:30-07:00")"#,
        json!({}),
        json!("6/15/2009 8:45:30 AM"),
    );
    p(
        r#"CDate("not a date")"#,
        json!({}),
        json!({"error": "is not a date"}),
    );
    p(
        r#"FormatDateTime([d], "yyyy-MM-ddzzz", "yyyyMMdd")"#,
        json!({"d": "2020-12-31-08:00"}),
        json!("20201231"),
    );
    p(
        r#"FormatDateTime([d], , "M/d/yyyy hh:mm:ss tt", "yyyy-MM-dd")"#,
        json!({"d": "12/31/2020 11:59:59 PM"}),
        json!("2020-12-31"),
    );
    p(
        r#"FormatDateTime([d], , "yyyyMMddHHmmss.fZ", "dddd d MMMM yyyy HH:mm")"#,
        json!({"d": "20150123105347.1Z"}),
        json!("Friday 23 January 2015 10:53"),
    );
    p(
        r#"FormatDateTime([d], , "yyyy-MM-dd", "yyyy")"#,
        json!({"d": "23/01/2015"}),
        json!({"error": "does not match the input format"}),
    );
    p(
        r#"NumFromDate(Join("", FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd"), " 23:59:59-08:00"))"#,
        json!({"endDate": "12/31/2020 12:00:00 AM"}),
        json!("132539615990000000"),
    );
    c(
        r#"FormatDateTime(DateFromNum(129699324000000000), "yyyy-MM-dd HH:mm")"#,
        json!({}),
        json!("2012-01-01 23:00"),
    );
    c(
        r#"DateAdd("q", 1, CDate("2001-01-31"))"#,
        json!({}),
        json!("4/30/2001 12:00:00 AM"),
    );
}

#[test]
fn conversions_and_directory_names() {
    p(
        r#"CBool("abc")"#,
        json!({}),
        json!({"error": "is not a boolean"}),
    );
    p(r#"CBool(0)"#, json!({}), json!("False"));
    p(r#"Not("TRUE")"#, json!({}), json!("False"));
    p(r#"BitAnd(&HF, [flags])"#, json!({"flags": 6}), json!("6"));
    c(
        r#"StringFromGuid(CGuid("{00001111-AAAA-2222-BBBB-3333CCCC4444}"))"#,
        json!({}),
        json!("00001111-aaaa-2222-bbbb-3333cccc4444"),
    );
    c(
        r#"CGuid("nope")"#,
        json!({}),
        json!({"error": "is not a GUID"}),
    );
    c(
        r#"ConvertFromBase64("SGVsbG8=", UTF8)"#,
        json!({}),
        json!("Hello"),
    );
    c(r#"CNum("2.50") * 2"#, json!({}), json!("5"));
    c(r#"IsNumeric("12a")"#, json!({}), json!("False"));
    c(r#"IsEmpty([a])"#, json!({}), json!("False"));
    c(
        r#"DNComponentRev(CRef([dn]), 1, DC)"#,
        json!({"dn": "CN=Joe\\, Jr,OU=Sales,DC=contoso,DC=com"}),
        json!("Sales"),
    );
    c(
        r#"DNComponent(CRef([dn]), 1)"#,
        json!({"dn": "CN=Joe\\, Jr,OU=Sales,DC=contoso,DC=com"}),
        json!("Joe\\, Jr"),
    );
    c(
        r#"EscapeDNComponent("cn= Joe+Ann ")"#,
        json!({}),
        json!("cn=\\ Joe\\+Ann\\ "),
    );
    c(
        r#"IsCert([c])"#,
        json!({"c": "bm90IGEgY2VydGlmaWNhdGU="}),
        json!("False"),
    );
    c(
        r#"CertThumbprint([c])"#,
        json!({"c": "bm90IGEgY2VydGlmaWNhdGU="}),
        json!({"error": "not an X.509 certificate"}),
    );
}
