//! Dates the way .NET and VB handle them: the default text form (`3/16/2020 7:00:00 AM`),
//! lenient parsing for CDate, custom format strings for FormatDateTime, Windows FILETIME
//! numbers, and calendar arithmetic for DateAdd and DateDiff.
//!
//! All arithmetic is done on a small civil calendar here (proleptic Gregorian, UTC), so the
//! only thing taken from `jiff` is the instant itself.

use std::fmt::Write as _;

use model::Timestamp;

/// A calendar date and time of day in UTC, with the offset it was written in (for `zzz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

const SECONDS_PER_DAY: i64 = 86_400;
/// Seconds from 1601-01-01 (the FILETIME epoch) to 1970-01-01.
const FILETIME_EPOCH_OFFSET: i64 = 11_644_473_600;

impl Civil {
    pub fn from_timestamp(ts: Timestamp) -> Civil {
        let seconds = ts.as_second();
        let nanos = ts.subsec_nanosecond();
        let (seconds, nanos) = if nanos < 0 {
            (seconds - 1, (nanos + 1_000_000_000) as u32)
        } else {
            (seconds, nanos as u32)
        };
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let rem = seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            nanos,
        }
    }

    /// The instant, reading this calendar time at `offset_seconds` east of UTC.
    pub fn to_timestamp(self, offset_seconds: i64) -> Option<Timestamp> {
        if !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
        {
            return None;
        }
        if self.hour > 23 || self.minute > 59 || self.second > 59 {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let seconds = days * SECONDS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - offset_seconds;
        Timestamp::new(seconds, self.nanos as i32).ok()
    }

    pub fn days_since_epoch(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// 0 = Sunday, as .NET's DayOfWeek.
    pub fn weekday(&self) -> i64 {
        (self.days_since_epoch() + 4).rem_euclid(7)
    }
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The text form of a date in both dialects: .NET `DateTime.ToString()` in the invariant
/// culture, in UTC (`3/16/2020 7:00:00 AM`).
pub(crate) fn default_text(ts: Timestamp) -> String {
    format(ts, 0, "M/d/yyyy h:mm:ss tt")
}

/// Windows FILETIME (100-ns ticks since 1601-01-01 UTC), as AD's accountExpires.
pub(crate) fn to_filetime(ts: Timestamp) -> i64 {
    let ticks = (ts.as_second() + FILETIME_EPOCH_OFFSET) * 10_000_000;
    ticks + i64::from(ts.subsec_nanosecond()) / 100
}

pub(crate) fn from_filetime(ticks: i64) -> Option<Timestamp> {
    let seconds = ticks.div_euclid(10_000_000) - FILETIME_EPOCH_OFFSET;
    let nanos = ticks.rem_euclid(10_000_000) * 100;
    Timestamp::new(seconds, nanos as i32).ok()
}

/// Adds whole calendar months the way .NET's AddMonths does: the day is clamped to the
/// length of the target month (Jan 31 + 1 month = Feb 28/29).
pub(crate) fn add_months(ts: Timestamp, months: i64) -> Option<Timestamp> {
    let mut civil = Civil::from_timestamp(ts);
    let total = civil.year * 12 + i64::from(civil.month) - 1 + months;
    civil.year = total.div_euclid(12);
    civil.month = (total.rem_euclid(12) + 1) as u32;
    civil.day = civil.day.min(days_in_month(civil.year, civil.month));
    if !(1..=9999).contains(&civil.year) {
        return None;
    }
    civil.to_timestamp(0)
}

pub(crate) fn add_seconds(ts: Timestamp, seconds: i64) -> Option<Timestamp> {
    let total = ts.as_second().checked_add(seconds)?;
    Timestamp::new(total, ts.subsec_nanosecond()).ok()
}

// ----- lenient parsing (CDate) -----

/// Parses the date forms CDate meets: ISO 8601 (`2009-06-15T01:45:30-07:00`), a date with an
/// offset and no time (`2020-03-16-07:00`), US dates (`8/25/2021 5:41:18 PM`), and Connect's
/// `2013-01-10 4:00 PM -8`. Text without an offset is UTC.
pub(crate) fn parse_lenient(text: &str) -> Option<Timestamp> {
    let mut cursor = Cursor {
        text: text.trim(),
        pos: 0,
    };
    let (year, month, day) = cursor.date()?;
    let mut civil = Civil {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
    };
    cursor.skip_spaces();
    if cursor.eat('T') || cursor.peek().is_some_and(|c| c.is_ascii_digit()) {
        cursor.time(&mut civil)?;
    }
    cursor.skip_spaces();
    let offset = cursor.offset()?;
    cursor.skip_spaces();
    if !cursor.rest().is_empty() {
        return None;
    }
    civil.to_timestamp(offset)
}

struct Cursor<'t> {
    text: &'t str,
    pos: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    fn digits(&mut self, max: usize) -> Option<(u64, usize)> {
        let len = self
            .rest()
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len == 0 {
            return None;
        }
        let value = self.rest()[..len].parse().ok()?;
        self.pos += len;
        Some((value, len))
    }

    fn date(&mut self) -> Option<(i64, u32, u32)> {
        let (first, len) = self.digits(4)?;
        if len == 4 {
            let separator = self.peek().filter(|c| matches!(c, '-' | '/' | '.'))?;
            self.pos += 1;
            let (month, _) = self.digits(2)?;
            if !self.eat(separator) {
                return None;
            }
            let (day, _) = self.digits(2)?;
            return Some((first as i64, month as u32, day as u32));
        }
        // US order, as the invariant culture reads it: M/d/yyyy.
        if !self.eat('/') {
            return None;
        }
        let (day, _) = self.digits(2)?;
        if !self.eat('/') {
            return None;
        }
        let (year, _) = self.digits(4)?;
        Some((year as i64, first as u32, day as u32))
    }

    fn time(&mut self, civil: &mut Civil) -> Option<()> {
        civil.hour = self.digits(2)?.0 as u32;
        if !self.eat(':') {
            return None;
        }
        civil.minute = self.digits(2)?.0 as u32;
        if self.eat(':') {
            civil.second = self.digits(2)?.0 as u32;
            if self.eat('.') || self.eat(',') {
                let (fraction, len) = self.digits(9)?;
                civil.nanos = (fraction * 10u64.pow(9 - len as u32)) as u32;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
        }
        self.skip_spaces();
        let rest = self.rest().to_ascii_uppercase();
        if rest.starts_with("AM") || rest.starts_with("PM") {
            if civil.hour == 0 || civil.hour > 12 {
                return None;
            }
            let pm = rest.starts_with("PM");
            civil.hour = match (civil.hour, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
            self.pos += 2;
        }
        Some(())
    }

    /// `Z`, `+08:00`, `-0700`, `-8`, or nothing (UTC). Seconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        if self.eat('Z') || self.eat('z') {
            return Some(0);
        }
        let sign = match self.peek() {
            Some('+') => 1,
            Some('-') => -1,
            _ => return Some(0),
        };
        self.pos += 1;
        let (first, len) = self.digits(4)?;
        let (hours, minutes) = if len > 2 {
            (first / 100, first % 100)
        } else if self.eat(':') {
            (first, self.digits(2)?.0)
        } else {
            (first, 0)
        };
        if hours > 14 || minutes > 59 {
            return None;
        }
        Some(sign * (hours as i64 * 3600 + minutes as i64 * 60))
    }
}

// ----- .NET custom format strings (FormatDateTime) -----

#[derive(Clone, Debug, PartialEq)]
enum Spec {
    Literal(String),
    /// A pattern letter repeated `count` times (`yyyy`, `MM`, `fff`).
    Field(char, usize),
}

/// Expands the .NET standard format letters the docs use into custom patterns.
fn standard_pattern(format: &str) -> &str {
    match format {
        "d" => "M/d/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "f" => "dddd, dd MMMM yyyy HH:mm",
        "F" => "dddd, dd MMMM yyyy HH:mm:ss",
        "g" => "M/d/yyyy h:mm tt",
        "G" => "M/d/yyyy h:mm:ss tt",
        "o" | "O" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "t" => "h:mm tt",
        "T" => "h:mm:ss tt",
        "M" | "m" => "MMMM dd",
        "Y" | "y" => "yyyy MMMM",
        other => other,
    }
}

fn compile(format: &str) -> Vec<Spec> {
    let format = standard_pattern(format);
    let chars: Vec<char> = format.chars().collect();
    let mut specs = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            'y' | 'M' | 'd' | 'H' | 'h' | 'm' | 's' | 'f' | 'F' | 't' | 'z' | 'K' | 'g' => {
                let count = chars[i..].iter().take_while(|&&x| x == c).count();
                if !literal.is_empty() {
                    specs.push(Spec::Literal(std::mem::take(&mut literal)));
                }
                specs.push(Spec::Field(c, count));
                i += count;
            }
            '\'' | '"' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    literal.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '\\' if i + 1 < chars.len() => {
                literal.push(chars[i + 1]);
                i += 2;
            }
            '%' => i += 1,
            _ => {
                literal.push(c);
                i += 1;
            }
        }
    }
    if !literal.is_empty() {
        specs.push(Spec::Literal(literal));
    }
    specs
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Formats an instant with a .NET format string, showing it at `offset_seconds` east of UTC.
pub(crate) fn format(ts: Timestamp, offset_seconds: i64, format: &str) -> String {
    let local = add_seconds(ts, offset_seconds).unwrap_or(ts);
    let c = Civil::from_timestamp(local);
    let mut out = String::new();
    for spec in compile(format) {
        match spec {
            Spec::Literal(text) => out.push_str(&text),
            Spec::Field(letter, n) => {
                let _ = match (letter, n) {
                    ('y', 1) => write!(out, "{}", c.year % 100),
                    ('y', 2) => write!(out, "{:02}", c.year % 100),
                    ('y', n) => write!(out, "{:0width$}", c.year, width = n),
                    ('M', 1) => write!(out, "{}", c.month),
                    ('M', 2) => write!(out, "{:02}", c.month),
                    ('M', 3) => write!(out, "{}", &MONTHS[c.month as usize - 1][..3]),
                    ('M', _) => write!(out, "{}", MONTHS[c.month as usize - 1]),
                    ('d', 1) => write!(out, "{}", c.day),
                    ('d', 2) => write!(out, "{:02}", c.day),
                    ('d', 3) => write!(out, "{}", &DAYS[c.weekday() as usize][..3]),
                    ('d', _) => write!(out, "{}", DAYS[c.weekday() as usize]),
                    ('H', 1) => write!(out, "{}", c.hour),
                    ('H', _) => write!(out, "{:02}", c.hour),
                    ('h', n) => {
                        let h12 = if c.hour.is_multiple_of(12) {
                            12
                        } else {
                            c.hour % 12
                        };
                        if n == 1 {
                            write!(out, "{h12}")
                        } else {
                            write!(out, "{h12:02}")
                        }
                    }
                    ('m', 1) => write!(out, "{}", c.minute),
                    ('m', _) => write!(out, "{:02}", c.minute),
                    ('s', 1) => write!(out, "{}", c.second),
                    ('s', _) => write!(out, "{:02}", c.second),
                    ('f' | 'F', n) => {
                        let digits = format!("{:09}", c.nanos);
                        let n = n.min(7);
                        let part = &digits[..n];
                        if letter == 'F' {
                            write!(out, "{}", part.trim_end_matches('0'))
                        } else {
                            write!(out, "{part}")
                        }
                    }
                    ('t', 1) => write!(out, "{}", if c.hour < 12 { "A" } else { "P" }),
                    ('t', _) => write!(out, "{}", if c.hour < 12 { "AM" } else { "PM" }),
                    ('z', n) => {
                        let sign = if offset_seconds < 0 { '-' } else { '+' };
                        let abs = offset_seconds.abs();
                        match n {
                            1 => write!(out, "{sign}{}", abs / 3600),
                            2 => write!(out, "{sign}{:02}", abs / 3600),
                            _ => write!(out, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60),
                        }
                    }
                    ('K', _) => {
                        if offset_seconds == 0 {
                            write!(out, "Z")
                        } else {
                            let sign = if offset_seconds < 0 { '-' } else { '+' };
                            let abs = offset_seconds.abs();
                            write!(out, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
                        }
                    }
                    ('g', _) => write!(out, "A.D."),
                    _ => Ok(()),
                };
            }
        }
    }
    out
}

/// What ParseExact read: the calendar fields and the offset, when the format had one.
pub(crate) struct Parsed {
    pub civil: Civil,
    pub offset_seconds: Option<i64>,
}

/// `DateTime.ParseExact(text, format, InvariantCulture, styles)` with leading and trailing
/// white space allowed (the default styles of app provisioning).
pub(crate) fn parse_exact(text: &str, format: &str) -> Option<Parsed> {
    let specs = compile(format);
    let mut cursor = Cursor {
        text: text.trim(),
        pos: 0,
    };
    let mut civil = Civil {
        year: 1,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
    };
    let mut offset = None;
    let mut pm = None;
    let mut hour12 = None;
    for (index, spec) in specs.iter().enumerate() {
        // A numeric field followed directly by another numeric field (yyyyMMdd) must take
        // exactly its width; otherwise it takes up to two digits as .NET does for `M`, `d`.
        let next_is_field = matches!(specs.get(index + 1), Some(Spec::Field(..)));
        match spec {
            Spec::Literal(text) => {
                for expected in text.chars() {
                    if expected == ' ' {
                        cursor.skip_spaces();
                        continue;
                    }
                    if !cursor.eat(expected) {
                        return None;
                    }
                }
            }
            Spec::Field(letter, n) => {
                let width = |fixed: usize, loose: usize| if next_is_field { fixed } else { loose };
                match letter {
                    'y' => {
                        let (value, len) = cursor.digits(if *n <= 2 { 2 } else { width(*n, 5) })?;
                        civil.year = if len <= 2 && *n <= 2 {
                            2000 + value as i64
                        } else {
                            value as i64
                        };
                    }
                    'M' if *n >= 3 => {
                        let rest = cursor.rest().to_ascii_lowercase();
                        let (index, len) = MONTHS.iter().enumerate().find_map(|(i, m)| {
                            let m = m.to_ascii_lowercase();
                            if *n == 3 {
                                rest.starts_with(&m[..3]).then_some((i, 3))
                            } else {
                                rest.starts_with(&m).then_some((i, m.len()))
                            }
                        })?;
                        civil.month = index as u32 + 1;
                        cursor.pos += len;
                    }
                    'd' if *n >= 3 => {
                        let rest = cursor.rest().to_ascii_lowercase();
                        let len = DAYS.iter().find_map(|d| {
                            let d = d.to_ascii_lowercase();
                            if *n == 3 {
                                rest.starts_with(&d[..3]).then_some(3)
                            } else {
                                rest.starts_with(&d).then_some(d.len())
                            }
                        })?;
                        cursor.pos += len;
                    }
                    'M' | 'd' | 'H' | 'h' | 'm' | 's' => {
                        let (value, _) = cursor.digits(width((*n).max(2), 2))?;
                        let value = value as u32;
                        match letter {
                            'M' => civil.month = value,
                            'd' => civil.day = value,
                            'H' => civil.hour = value,
                            'h' => hour12 = Some(value),
                            'm' => civil.minute = value,
                            _ => civil.second = value,
                        }
                    }
                    'f' | 'F' => {
                        let (value, len) = match cursor.digits(*n) {
                            Some(found) => found,
                            None if *letter == 'F' => (0, 1),
                            None => return None,
                        };
                        civil.nanos = (value * 10u64.pow(9 - len.min(9) as u32)) as u32;
                    }
                    't' => {
                        let rest = cursor.rest().to_ascii_uppercase();
                        if rest.starts_with('A') {
                            pm = Some(false);
                        } else if rest.starts_with('P') {
                            pm = Some(true);
                        } else {
                            return None;
                        }
                        cursor.pos += if *n >= 2 && rest.len() >= 2 { 2 } else { 1 };
                    }
                    'z' | 'K' => {
                        if *letter == 'K' && cursor.peek().is_none() {
                            continue;
                        }
                        offset = Some(cursor.offset()?);
                    }
                    _ => return None,
                }
            }
        }
    }
    cursor.skip_spaces();
    if !cursor.rest().is_empty() {
        return None;
    }
    if let Some(h) = hour12 {
        civil.hour = match (h, pm) {
            (12, Some(false)) => 0,
            (12, _) => 12,
            (h, Some(true)) => h + 12,
            (h, _) => h,
        };
    } else if pm == Some(true) && civil.hour < 12 {
        civil.hour += 12;
    }
    civil.to_timestamp(0)?;
    Some(Parsed {
        civil,
        offset_seconds: offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn default_text_is_the_invariant_culture_form() {
        assert_eq!(
            default_text(ts("2020-03-16T07:00:00Z")),
            "3/16/2020 7:00:00 AM"
        );
        assert_eq!(
            default_text(ts("2021-06-29T16:00:00Z")),
            "6/29/2021 4:00:00 PM"
        );
        assert_eq!(
            default_text(ts("2021-06-29T00:05:00Z")),
            "6/29/2021 12:05:00 AM"
        );
    }

    #[test]
    fn lenient_parsing_reads_the_documented_forms() {
        assert_eq!(
            parse_lenient("2020-03-16-07:00"),
            Some(ts("2020-03-16T07:00:00Z"))
        );
        assert_eq!(
            parse_lenient("2021-06-30+08:00"),
            Some(ts("2021-06-29T16:00:00Z"))
        );
        assert_eq!(
            parse_lenient("8/25/2021 5:41:18 PM"),
            Some(ts("2021-08-25T17:41:18Z"))
        );
        assert_eq!(
            parse_lenient("2013-01-10 4:00 PM -8"),
            Some(ts("2013-01-11T00:00:00Z"))
        );
        assert_eq!(
            parse_lenient("2009-06-15T01:45:30-07:00"),
            Some(ts("2009-06-15T08:45:30Z"))
        );
        assert_eq!(parse_lenient("not a date"), None);
        assert_eq!(parse_lenient("2021-02-30"), None);
    }

    #[test]
    fn filetime_round_trips() {
        let t = ts("2012-01-01T23:00:00Z");
        assert_eq!(to_filetime(t), 129_699_324_000_000_000);
        assert_eq!(from_filetime(129_699_324_000_000_000), Some(t));
    }

    #[test]
    fn parse_exact_and_format_round_trip_compact_forms() {
        let parsed = parse_exact("20150123105347.1Z", "yyyyMMddHHmmss.fZ").unwrap();
        let t = parsed.civil.to_timestamp(0).unwrap();
        assert_eq!(format(t, 0, "yyyy-MM-dd"), "2015-01-23");
        assert_eq!(format(t, 0, "yyyyMMddHHmmss.fZ"), "20150123105347.1Z");
        let parsed = parse_exact("2023-12-01-08:00", "yyyy-MM-ddzzz").unwrap();
        assert_eq!(parsed.offset_seconds, Some(-8 * 3600));
    }

    #[test]
    fn add_months_clamps_the_day() {
        assert_eq!(
            add_months(ts("2021-01-31T00:00:00Z"), 1),
            Some(ts("2021-02-28T00:00:00Z"))
        );
        assert_eq!(
            add_months(ts("2001-01-01T00:00:00Z"), 3),
            Some(ts("2001-04-01T00:00:00Z"))
        );
    }
}
