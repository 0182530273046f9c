//! Maps byte offsets inside a decoded TOML string back to offsets in the file, so an error in
//! an expression points at the exact character of the configuration file.

use std::ops::Range;

/// The file offsets of a decoded string's bytes.
#[derive(Debug)]
pub(crate) struct StringMap {
    /// For each byte of the decoded string, where its source starts in the file; one more
    /// entry for the end of the string. `None` when the string could not be followed
    /// exactly, in which case spans fall back to the whole string.
    offsets: Option<Vec<usize>>,
    whole: Range<usize>,
}

impl StringMap {
    /// `span` is the string value's span in `file_text`, quotes included.
    pub fn new(file_text: &str, span: Range<usize>, decoded: &str) -> Self {
        let offsets = file_text
            .get(span.clone())
            .and_then(|raw| follow(raw, decoded))
            .map(|offsets| offsets.into_iter().map(|o| o + span.start).collect());
        StringMap {
            offsets,
            whole: span,
        }
    }

    /// The file span of `range`, a byte range of the decoded string.
    pub fn map(&self, range: Range<usize>) -> Range<usize> {
        match &self.offsets {
            Some(offsets) => {
                let last = offsets.len() - 1;
                let start = offsets[range.start.min(last)];
                let end = offsets[range.end.min(last)];
                start..end.max(start)
            }
            None => self.whole.clone(),
        }
    }
}

/// Offsets into `raw` (a TOML string with its quotes) of each byte of `decoded`, plus the end.
fn follow(raw: &str, decoded: &str) -> Option<Vec<usize>> {
    let (delimiter, literal) = if raw.starts_with("'''") {
        ("'''", true)
    } else if raw.starts_with("\"\"\"") {
        ("\"\"\"", false)
    } else if raw.starts_with('\'') {
        ("'", true)
    } else if raw.starts_with('"') {
        ("\"", false)
    } else {
        return None;
    };
    let d = delimiter.len();
    if raw.len() < 2 * d {
        return None;
    }
    let mut start = d;
    let inner_end = raw.len() - d;
    if d == 3 {
        // TOML drops a newline right after the opening delimiter.
        if raw[start..].starts_with("\r\n") {
            start += 2;
        } else if raw[start..].starts_with('\n') {
            start += 1;
        }
    }
    let inner = raw.get(start..inner_end)?;
    let mut offsets = Vec::with_capacity(decoded.len() + 1);
    let mut out = String::with_capacity(decoded.len());
    if literal {
        out.push_str(inner);
        offsets.extend((0..inner.len()).map(|i| start + i));
    } else {
        let mut chars = inner.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let at = start + i;
            if c != '\\' {
                push(&mut out, &mut offsets, c, at);
                continue;
            }
            let (_, escape) = chars.next()?;
            let ch = match escape {
                'b' => '\u{8}',
                't' => '\t',
                'n' => '\n',
                'f' => '\u{c}',
                'r' => '\r',
                'e' => '\u{1b}',
                '"' => '"',
                '\\' => '\\',
                'x' | 'u' | 'U' => {
                    let len = match escape {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let mut hex = String::new();
                    for _ in 0..len {
                        hex.push(chars.next()?.1);
                    }
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                ' ' | '\t' | '\r' | '\n' if d == 3 => {
                    // A line-ending backslash swallows the whitespace and newlines after it.
                    while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
                    continue;
                }
                _ => return None,
            };
            push(&mut out, &mut offsets, ch, at);
        }
    }
    offsets.push(inner_end);
    (out == decoded).then_some(offsets)
}

fn push(out: &mut String, offsets: &mut Vec<usize>, c: char, at: usize) {
    out.push(c);
    offsets.extend(std::iter::repeat_n(at, c.len_utf8()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(line: &str, decoded: &str, range: Range<usize>) -> String {
        let start = line.find(['"', '\'']).unwrap();
        let map = StringMap::new(line, start..line.len(), decoded);
        line[map.map(range)].to_owned()
    }

    #[test]
    fn literal_strings_map_exactly() {
        assert_eq!(map(r#"x = '[a] = "b"'"#, r#"[a] = "b""#, 6..9), "\"b\"");
    }

    #[test]
    fn basic_strings_map_exactly_even_with_escapes() {
        assert_eq!(
            map(r#"x = "[a] = \"b\" + [c]""#, r#"[a] = "b" + [c]"#, 12..15),
            "[c]"
        );
        assert_eq!(map(r#"x = "é\u00e9[c]""#, "éé[c]", 4..7), "[c]");
    }

    #[test]
    fn multi_line_strings_skip_the_first_newline() {
        assert_eq!(map("x = '''\n[a] [c]'''", "[a] [c]", 4..7), "[c]");
        assert_eq!(
            map("x = \"\"\"\n[a] \\\n   [c]\"\"\"", "[a] [c]", 4..7),
            "[c]"
        );
    }

    #[test]
    fn an_unfollowable_string_maps_to_the_whole_string() {
        assert_eq!(map(r#"x = "\q[a]""#, "?[a]", 1..4), r#""\q[a]""#);
    }

    #[test]
    fn the_end_of_the_string_maps_before_the_closing_quote() {
        let line = "x = '[a]'";
        let map = StringMap::new(line, 4..line.len(), "[a]");
        assert_eq!(map.map(3..3), 8..8);
    }
}
