//! Durations as written in the configuration: `"90s"`, `"15m"`, `"6h"`, `"30d"`, or several
//! parts such as `"1h30m"`.

use std::time::Duration;

/// Why a duration did not parse. The messages are meant to follow "invalid duration: ".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("the duration is empty")]
    Empty,
    #[error("expected a number before \"{0}\"")]
    MissingNumber(String),
    #[error("\"{0}\" has no unit")]
    MissingUnit(String),
    #[error("unknown unit \"{0}\"")]
    UnknownUnit(String),
    #[error("the duration is too long")]
    Overflow,
}

/// The help shown with every duration error.
pub(crate) const DURATION_HELP: &str =
    "write a number and a unit (s, m, h or d), such as \"90s\", \"15m\", \"6h\" or \"30d\"";

/// Parses a duration such as `"90s"`, `"15m"`, `"6h"`, `"30d"` or `"1h30m"`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(DurationError::MissingNumber(rest.to_owned()));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::Overflow)?;
        rest = &rest[digits..];
        let unit_len = rest.len() - rest.trim_start_matches(|c: char| c.is_alphabetic()).len();
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(text.to_owned()));
        }
        let seconds_per = match &rest[..unit_len] {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            other => return Err(DurationError::UnknownUnit(other.to_owned())),
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(seconds_per)
            .and_then(|s| total.checked_add(s))
            .ok_or(DurationError::Overflow)?;
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(2_592_000)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("15"),
            Err(DurationError::MissingUnit("15".into()))
        );
        assert_eq!(
            parse_duration("15 m"),
            Err(DurationError::MissingUnit("15 m".into()))
        );
        assert_eq!(
            parse_duration("2w"),
            Err(DurationError::UnknownUnit("w".into()))
        );
        assert_eq!(
            parse_duration("m"),
            Err(DurationError::MissingNumber("m".into()))
        );
        assert_eq!(
            parse_duration("-5m"),
            Err(DurationError::MissingNumber("-5m".into()))
        );
        assert_eq!(
            parse_duration("99999999999999999999d"),
            Err(DurationError::Overflow)
        );
    }
}
