//! "Did you mean": the closest of the allowed words to a misspelt one.

/// The candidate closest to `word`, if it is close enough to be a likely typo: within one
/// edit for short words, a third of the word's length for longer ones. Case is ignored, and
/// a swap of two neighbouring letters counts as one edit (`nmae` → `name`).
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    let limit = word.chars().count().max(3) / 3;
    candidates
        .into_iter()
        .map(|candidate| (distance(&word, &candidate.to_lowercase()), candidate))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

/// The help line for an unknown word: a suggestion if one is close, else the list.
pub(crate) fn help_for(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(best) => format!("did you mean \"{best}\"?"),
        None => format!("expected one of: {}", list(candidates)),
    }
}

/// `"a", "b" or "c"`.
pub(crate) fn list(words: &[&str]) -> String {
    join(words, "or")
}

/// `"a", "b" and "c"`.
pub(crate) fn list_all(words: &[&str]) -> String {
    join(words, "and")
}

fn join(words: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// adjacent characters each cost one.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words() {
        assert_eq!(did_you_mean("hrr", ["hr", "directory"]), Some("hr"));
        assert_eq!(did_you_mean("nmae", ["name", "type"]), Some("name"));
        assert_eq!(
            did_you_mean("delimter", ["delimiter", "drop_dir"]),
            Some("delimiter")
        );
        assert_eq!(did_you_mean("Name", ["name"]), Some("name"));
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(did_you_mean("ldap", ["csv"]), None);
        assert_eq!(did_you_mean("x", ["name", "type"]), None);
    }

    #[test]
    fn lists_the_choices_when_nothing_is_close() {
        assert_eq!(
            help_for("zzz", &["delete", "disable", "disconnect"]),
            "expected one of: \"delete\", \"disable\" or \"disconnect\""
        );
        assert_eq!(
            help_for("delte", &["delete", "disable"]),
            "did you mean \"delete\"?"
        );
    }
}
