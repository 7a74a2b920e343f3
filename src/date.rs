//! Calendar dates without a clock: versions are named by date, and "today"
//! comes only from `--date` or `SOURCE_DATE_EPOCH`, so builds are reproducible.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// The date of a Unix timestamp (UTC), as `SOURCE_DATE_EPOCH` gives it.
    pub fn from_unix(seconds: i64) -> Date {
        let days = seconds.div_euclid(86_400);
        // Civil-from-days, after Howard Hinnant's public-domain algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Days since 1970-01-01, for differences between dates.
    pub fn days_since_epoch(self) -> i64 {
        let (y, m) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn days_until(self, later: Date) -> i64 {
        later.days_since_epoch() - self.days_since_epoch()
    }

    /// RFC 3339 timestamp at midnight UTC, for feeds and sitemaps.
    pub fn rfc3339(self) -> String {
        format!("{self}T00:00:00Z")
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = String;

    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("`{s}` is not a date in the form YYYY-MM-DD");
        let bytes = s.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().map_err(|_| bad());
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        Date::new(y as i32, m, d).ok_or_else(|| format!("`{s}` is not a real calendar date"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The build date: `--date`, else `SOURCE_DATE_EPOCH`, else `None` (callers
/// then use the date by which every version is in force, never the clock).
pub fn build_date(flag: Option<Date>) -> Result<Option<Date>, String> {
    if flag.is_some() {
        return Ok(flag);
    }
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .map(|s| Some(Date::from_unix(s)))
            .map_err(|_| format!("SOURCE_DATE_EPOCH=`{v}` is not a number of seconds")),
        _ => Ok(None),
    }
}

/// Today for the authoring commands (`serve`, `revise`, `init`), which may
/// ask the clock, unlike the build: `--date`, else `SOURCE_DATE_EPOCH`, else the clock.
pub fn authoring_today(flag: Option<Date>) -> Result<Date, String> {
    Ok(build_date(flag)?.unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date::from_unix(now)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_iso_dates() {
        let d: Date = "2025-01-30".parse().unwrap();
        assert_eq!(d, Date::new(2025, 1, 30).unwrap());
        assert_eq!(d.to_string(), "2025-01-30");
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!("2025-02-30".parse::<Date>().is_err());
        assert!("2025-1-30".parse::<Date>().is_err());
        assert!("latest".parse::<Date>().is_err());
        assert!("2024-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn converts_unix_time_both_ways() {
        let d = Date::from_unix(1_738_195_200); // 2025-01-30T00:00:00Z
        assert_eq!(d.to_string(), "2025-01-30");
        assert_eq!(d.days_since_epoch() * 86_400, 1_738_195_200);
        assert_eq!(Date::from_unix(0).to_string(), "1970-01-01");
        let a: Date = "2024-12-31".parse().unwrap();
        assert_eq!(a.days_until(d), 30);
    }
}
