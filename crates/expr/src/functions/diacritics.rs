//! NormalizeDiacritics: Entra's table of accented letters and their plain replacements.
//!
//! The service is table-driven, not a Unicode decomposition: letters outside the table stay
//! as they are (Vietnamese `ồ`, azure-docs#106226), and `ä` becomes `a`, not `ae`. Some table
//! entries are a letter followed by combining marks, so the input is brought to NFC and the
//! longest entry that matches wins.

use unicode_normalization::UnicodeNormalization;

use super::{Dialects, Example, Family, Function, Imp, string};
use crate::value;

pub(crate) static NORMALIZE_DIACRITICS: Function = Function {
    name: "NormalizeDiacritics",
    dialects: Dialects::Provisioning,
    family: Family::Text,
    signature: "NormalizeDiacritics(source)",
    summary: "Replaces accented letters by plain ones following Entra's table (`Zoë` → `Zoe`, `æ` → `ae`, `ß` → `ss`, `ł` → `l`). Letters outside the table are left unchanged; there is no culture option (`ä` becomes `a`).",
    min_args: 1,
    max_args: Some(1),
    example: Example {
        expression: "NormalizeDiacritics([givenName])",
        attributes: r#"{"givenName": "Zoë"}"#,
        result: r#""Zoe""#,
    },
    imp: Imp::PerValue(|_, args| Ok(args[0].and_then(|v| string(normalize(&value::text(v)))))),
};

pub(crate) fn normalize(source: &str) -> String {
    // Every table entry has a non-ASCII character, so ASCII text has nothing to replace.
    if source.is_ascii() {
        return source.to_owned();
    }
    let composed: String = source.nfc().collect();
    let mut out = String::with_capacity(composed.len());
    let mut rest = composed.as_str();
    while let Some(c) = rest.chars().next() {
        match longest_entry(rest, c) {
            Some((from, to)) => {
                out.push_str(to);
                rest = &rest[from.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// The longest table entry `rest` starts with. Entries are sorted by first character, so
/// only the few starting with `first` are compared.
fn longest_entry(rest: &str, first: char) -> Option<(&'static str, &'static str)> {
    let start = TABLE.partition_point(|(from, _)| from.chars().next() < Some(first));
    TABLE[start..]
        .iter()
        .take_while(|(from, _)| from.starts_with(first))
        .filter(|(from, _)| rest.starts_with(from))
        .max_by_key(|(from, _)| from.len())
        .copied()
}

/// Sorted by the entries' text (so by first character); the longest match wins, so a letter
/// with two marks is not taken for the letter with one.
static TABLE: &[(&str, &str)] = &[
    ("A\u{0331}", "A"),         // U+0041 + U+0331
    ("C\u{0304}", "C"),         // U+0043 + U+0304
    ("C\u{0331}", "C"),         // U+0043 + U+0331
    ("D\u{0304}", "D"),         // U+0044 + U+0304
    ("E\u{030A}\u{0304}", "E"), // U+0045 + U+030A + U+0304
    ("E\u{0331}", "E"),         // U+0045 + U+0331
    ("G\u{0331}", "G"),         // U+0047 + U+0331
    ("I\u{0331}", "I"),         // U+0049 + U+0331
    ("L\u{0304}", "L"),         // U+004C + U+0304
    ("N\u{0304}", "N"),         // U+004E + U+0304
    ("O\u{0331}", "O"),         // U+004F + U+0331
    ("R\u{0304}", "R"),         // U+0052 + U+0304
    ("S\u{0304}", "S"),         // U+0053 + U+0304
    ("S\u{0331}", "S"),         // U+0053 + U+0331
    ("T\u{0304}", "T"),         // U+0054 + U+0304
    ("U\u{0307}\u{0304}", "U"), // U+0055 + U+0307 + U+0304
    ("U\u{0331}", "U"),         // U+0055 + U+0331
    ("Y\u{0331}", "Y"),         // U+0059 + U+0331
    ("Z\u{0304}", "Z"),         // U+005A + U+0304
    ("a\u{0331}", "a"),         // U+0061 + U+0331
    ("c\u{0304}", "c"),         // U+0063 + U+0304
    ("c\u{0331}", "c"),         // U+0063 + U+0331
    ("d\u{0304}", "d"),         // U+0064 + U+0304
    ("e\u{030A}\u{0304}", "e"), // U+0065 + U+030A + U+0304
    ("e\u{0331}", "e"),         // U+0065 + U+0331
    ("g\u{0331}", "g"),         // U+0067 + U+0331
    ("i\u{0331}", "i"),         // U+0069 + U+0331
    ("l\u{0304}", "l"),         // U+006C + U+0304
    ("n\u{0304}", "n"),         // U+006E + U+0304
    ("o\u{0331}", "o"),         // U+006F + U+0331
    ("r\u{0304}", "r"),         // U+0072 + U+0304
    ("s\u{0304}", "s"),         // U+0073 + U+0304
    ("s\u{0331}", "s"),         // U+0073 + U+0331
    ("t\u{0304}", "t"),         // U+0074 + U+0304
    ("u\u{0307}\u{0304}", "u"), // U+0075 + U+0307 + U+0304
    ("u\u{0331}", "u"),         // U+0075 + U+0331
    ("y\u{0331}", "y"),         // U+0079 + U+0331
    ("z\u{0304}", "z"),         // U+007A + U+0304
    ("À", "A"),                 // U+00C0
    ("Á", "A"),                 // U+00C1
    ("Â", "A"),                 // U+00C2
    ("Ã", "A"),                 // U+00C3
    ("Ä", "A"),                 // U+00C4
    ("Å", "A"),                 // U+00C5
    ("Å\u{0304}", "A"),         // U+00C5 + U+0304
    ("Æ", "AE"),                // U+00C6
    ("Ç", "C"),                 // U+00C7
    ("È", "E"),                 // U+00C8
    ("É", "E"),                 // U+00C9
    ("Ê", "E"),                 // U+00CA
    ("Ê\u{0304}", "E"),         // U+00CA + U+0304
    ("Ë", "E"),                 // U+00CB
    ("Ë\u{0304}", "E"),         // U+00CB + U+0304
    ("Ì", "I"),                 // U+00CC
    ("Í", "I"),                 // U+00CD
    ("Î", "I"),                 // U+00CE
    ("Ï", "I"),                 // U+00CF
    ("Ñ", "N"),                 // U+00D1
    ("Ò", "O"),                 // U+00D2
    ("Ó", "O"),                 // U+00D3
    ("Ô", "O"),                 // U+00D4
    ("Õ", "O"),                 // U+00D5
    ("Ö", "O"),                 // U+00D6
    ("Ø", "OE"),                // U+00D8
    ("Ø\u{0304}", "OE"),        // U+00D8 + U+0304
    ("Ù", "U"),                 // U+00D9
    ("Ú", "U"),                 // U+00DA
    ("Û", "U"),                 // U+00DB
    ("Ü", "U"),                 // U+00DC
    ("Ý", "Y"),                 // U+00DD
    ("ß", "ss"),                // U+00DF
    ("à", "a"),                 // U+00E0
    ("á", "a"),                 // U+00E1
    ("â", "a"),                 // U+00E2
    ("ã", "a"),                 // U+00E3
    ("ä", "a"),                 // U+00E4
    ("å", "a"),                 // U+00E5
    ("å\u{0304}", "a"),         // U+00E5 + U+0304
    ("æ", "ae"),                // U+00E6
    ("ç", "c"),                 // U+00E7
    ("è", "e"),                 // U+00E8
    ("é", "e"),                 // U+00E9
    ("ê", "e"),                 // U+00EA
    ("ê\u{0304}", "e"),         // U+00EA + U+0304
    ("ë", "e"),                 // U+00EB
    ("ë\u{0304}", "e"),         // U+00EB + U+0304
    ("ì", "i"),                 // U+00EC
    ("í", "i"),                 // U+00ED
    ("î", "i"),                 // U+00EE
    ("ï", "i"),                 // U+00EF
    ("ñ", "n"),                 // U+00F1
    ("ò", "o"),                 // U+00F2
    ("ó", "o"),                 // U+00F3
    ("ô", "o"),                 // U+00F4
    ("õ", "o"),                 // U+00F5
    ("ö", "o"),                 // U+00F6
    ("ø", "oe"),                // U+00F8
    ("ø\u{0304}", "oe"),        // U+00F8 + U+0304
    ("ù", "u"),                 // U+00F9
    ("ú", "u"),                 // U+00FA
    ("û", "u"),                 // U+00FB
    ("ü", "u"),                 // U+00FC
    ("ý", "y"),                 // U+00FD
    ("ÿ", "y"),                 // U+00FF
    ("Ā", "A"),                 // U+0100
    ("Ā\u{0300}", "A"),         // U+0100 + U+0300
    ("Ā\u{0301}", "A"),         // U+0100 + U+0301
    ("Ā\u{0302}", "A"),         // U+0100 + U+0302
    ("Ā\u{0303}", "A"),         // U+0100 + U+0303
    ("Ā\u{0308}", "A"),         // U+0100 + U+0308
    ("ā", "a"),                 // U+0101
    ("ā\u{0300}", "a"),         // U+0101 + U+0300
    ("ā\u{0301}", "a"),         // U+0101 + U+0301
    ("ā\u{0302}", "a"),         // U+0101 + U+0302
    ("ā\u{0303}", "a"),         // U+0101 + U+0303
    ("ā\u{0308}", "a"),         // U+0101 + U+0308
    ("Ă", "A"),                 // U+0102
    ("ă", "a"),                 // U+0103
    ("Ą", "A"),                 // U+0104
    ("ą", "a"),                 // U+0105
    ("Ć", "C"),                 // U+0106
    ("ć", "c"),                 // U+0107
    ("Č", "C"),                 // U+010C
    ("č", "c"),                 // U+010D
    ("Ď", "D"),                 // U+010E
    ("ď", "d"),                 // U+010F
    ("Ē", "E"),                 // U+0112
    ("Ē\u{0302}", "E"),         // U+0112 + U+0302
    ("Ē\u{0303}", "E"),         // U+0112 + U+0303
    ("ē", "e"),                 // U+0113
    ("ē\u{0302}", "e"),         // U+0113 + U+0302
    ("ē\u{0303}", "e"),         // U+0113 + U+0303
    ("Ė", "E"),                 // U+0116
    ("ė", "e"),                 // U+0117
    ("Ę", "E"),                 // U+0118
    ("ę", "e"),                 // U+0119
    ("Ě", "E"),                 // U+011A
    ("ě", "e"),                 // U+011B
    ("Ğ", "G"),                 // U+011E
    ("ğ", "g"),                 // U+011F
    ("Ī", "I"),                 // U+012A
    ("Ī\u{0300}", "I"),         // U+012A + U+0300
    ("Ī\u{0301}", "I"),         // U+012A + U+0301
    ("Ī\u{0302}", "I"),         // U+012A + U+0302
    ("Ī\u{0303}", "I"),         // U+012A + U+0303
    ("ī", "i"),                 // U+012B
    ("ī\u{0300}", "i"),         // U+012B + U+0300
    ("ī\u{0301}", "i"),         // U+012B + U+0301
    ("ī\u{0302}", "i"),         // U+012B + U+0302
    ("ī\u{0303}", "i"),         // U+012B + U+0303
    ("İ", "I"),                 // U+0130
    ("ı", "i"),                 // U+0131
    ("Ľ", "L"),                 // U+013D
    ("ľ", "l"),                 // U+013E
    ("Ł", "L"),                 // U+0141
    ("ł", "l"),                 // U+0142
    ("Ń", "N"),                 // U+0143
    ("ń", "n"),                 // U+0144
    ("Ň", "N"),                 // U+0147
    ("ň", "n"),                 // U+0148
    ("Ō", "O"),                 // U+014C
    ("Ō\u{0302}", "O"),         // U+014C + U+0302
    ("Ō\u{0303}", "O"),         // U+014C + U+0303
    ("Ō\u{0308}", "O"),         // U+014C + U+0308
    ("ō", "o"),                 // U+014D
    ("ō\u{0302}", "o"),         // U+014D + U+0302
    ("ō\u{0303}", "o"),         // U+014D + U+0303
    ("ō\u{0308}", "o"),         // U+014D + U+0308
    ("Ő", "O"),                 // U+0150
    ("ő", "o"),                 // U+0151
    ("Œ\u{0304}", "OE"),        // U+0152 + U+0304
    ("œ\u{0304}", "oe"),        // U+0153 + U+0304
    ("Ř", "R"),                 // U+0158
    ("ř", "r"),                 // U+0159
    ("Ś", "S"),                 // U+015A
    ("ś", "s"),                 // U+015B
    ("Ş", "S"),                 // U+015E
    ("ş", "s"),                 // U+015F
    ("Š", "S"),                 // U+0160
    ("š", "s"),                 // U+0161
    ("Ť", "T"),                 // U+0164
    ("ť", "t"),                 // U+0165
    ("Ū", "U"),                 // U+016A
    ("Ū\u{0300}", "U"),         // U+016A + U+0300
    ("Ū\u{0301}", "U"),         // U+016A + U+0301
    ("Ū\u{0302}", "U"),         // U+016A + U+0302
    ("Ū\u{0303}", "U"),         // U+016A + U+0303
    ("ū", "u"),                 // U+016B
    ("ū\u{0300}", "u"),         // U+016B + U+0300
    ("ū\u{0301}", "u"),         // U+016B + U+0301
    ("ū\u{0302}", "u"),         // U+016B + U+0302
    ("ū\u{0303}", "u"),         // U+016B + U+0303
    ("Ů", "U"),                 // U+016E
    ("ů", "u"),                 // U+016F
    ("Ű", "U"),                 // U+0170
    ("ű", "u"),                 // U+0171
    ("Ÿ", "Y"),                 // U+0178
    ("Ź", "Z"),                 // U+0179
    ("ź", "z"),                 // U+017A
    ("Ż", "Z"),                 // U+017B
    ("ż", "z"),                 // U+017C
    ("Ž", "Z"),                 // U+017D
    ("ž", "z"),                 // U+017E
    ("Ǖ", "U"),                 // U+01D5
    ("ǖ", "u"),                 // U+01D6
    ("Ǟ", "A"),                 // U+01DE
    ("ǟ", "a"),                 // U+01DF
    ("Ǡ", "A"),                 // U+01E0
    ("ǡ", "a"),                 // U+01E1
    ("Ǣ", "AE"),                // U+01E2
    ("ǣ", "ae"),                // U+01E3
    ("Ǭ", "O"),                 // U+01EC
    ("ǭ", "o"),                 // U+01ED
    ("Ș", "S"),                 // U+0218
    ("ș", "s"),                 // U+0219
    ("Ț", "T"),                 // U+021A
    ("ț", "t"),                 // U+021B
    ("Ȫ", "O"),                 // U+022A
    ("ȫ", "o"),                 // U+022B
    ("Ȭ", "O"),                 // U+022C
    ("ȭ", "o"),                 // U+022D
    ("Ȱ", "O"),                 // U+0230
    ("ȱ", "o"),                 // U+0231
    ("Ȳ", "Y"),                 // U+0232
    ("Ȳ\u{0300}", "Y"),         // U+0232 + U+0300
    ("Ȳ\u{0301}", "Y"),         // U+0232 + U+0301
    ("Ȳ\u{0303}", "Y"),         // U+0232 + U+0303
    ("ȳ", "y"),                 // U+0233
    ("ȳ\u{0300}", "y"),         // U+0233 + U+0300
    ("ȳ\u{0301}", "y"),         // U+0233 + U+0301
    ("ȳ\u{0303}", "y"),         // U+0233 + U+0303
    ("Ḏ", "D"),                 // U+1E0E
    ("ḏ", "d"),                 // U+1E0F
    ("Ḕ", "E"),                 // U+1E14
    ("ḕ", "e"),                 // U+1E15
    ("Ḗ", "E"),                 // U+1E16
    ("ḗ", "e"),                 // U+1E17
    ("Ḡ", "G"),                 // U+1E20
    ("ḡ", "g"),                 // U+1E21
    ("Ḹ", "L"),                 // U+1E38
    ("ḹ", "l"),                 // U+1E39
    ("Ḻ", "L"),                 // U+1E3A
    ("ḻ", "l"),                 // U+1E3B
    ("Ṉ", "N"),                 // U+1E48
    ("ṉ", "n"),                 // U+1E49
    ("Ṑ", "O"),                 // U+1E50
    ("ṑ", "o"),                 // U+1E51
    ("Ṓ", "O"),                 // U+1E52
    ("ṓ", "o"),                 // U+1E53
    ("Ṝ", "R"),                 // U+1E5C
    ("ṝ", "r"),                 // U+1E5D
    ("Ṟ", "R"),                 // U+1E5E
    ("ṟ", "r"),                 // U+1E5F
    ("Ṯ", "T"),                 // U+1E6E
    ("ṯ", "t"),                 // U+1E6F
    ("Ṳ\u{0304}", "U"),         // U+1E72 + U+0304
    ("ṳ\u{0304}", "u"),         // U+1E73 + U+0304
    ("Ṻ", "U"),                 // U+1E7A
    ("ṻ", "u"),                 // U+1E7B
    ("Ẕ", "Z"),                 // U+1E94
    ("ẕ", "z"),                 // U+1E95
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_outside_the_table_are_kept() {
        assert_eq!(normalize("Hồ Chí Minh"), "Hồ Chi Minh");
        assert_eq!(normalize("Zoë Ørsted-Łukasz"), "Zoe OErsted-Lukasz");
    }

    #[test]
    fn the_table_is_sorted_for_lookup() {
        assert!(TABLE.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    }

    #[test]
    fn decomposed_input_matches_composed_entries() {
        assert_eq!(normalize("Zoe\u{0308}"), "Zoe");
    }
}
