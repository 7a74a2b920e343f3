//! When a rights request must be answered: a table of response periods per
//! jurisdiction (GDPR one month, Québec 30 days, California 45 days, and
//! whatever `--due NAME=PERIOD` adds), counted from the receiver's own
//! receipt time. Also the receipt time itself, the one place that reads the clock.

use crate::date::Date;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// A response period: whole calendar months, or days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Months(u32),
    Days(u32),
}

impl std::str::FromStr for Period {
    type Err = String;

    /// `1m` (months) or `30d` (days).
    fn from_str(text: &str) -> Result<Period, String> {
        let bad = || format!("`{text}` is not a period: write 30d (days) or 1m (months)");
        let (number, unit) = text.split_at(text.len().saturating_sub(1));
        let number: u32 = number.parse().map_err(|_| bad())?;
        match unit {
            "d" => Ok(Period::Days(number)),
            "m" => Ok(Period::Months(number)),
            _ => Err(bad()),
        }
    }
}

impl Period {
    /// The last day to answer a request received on `day`. A month runs to
    /// the same date of the next month, or its last day when it has no such
    /// date (EU Regulation 1182/71, which the GDPR's "one month" follows).
    pub fn due(self, day: Date) -> Date {
        match self {
            Period::Days(days) => day_from_epoch(day.days_since_epoch() + i64::from(days)),
            Period::Months(months) => {
                let index = day.month - 1 + months;
                let year = day.year + (index / 12) as i32;
                let month = index % 12 + 1;
                (0..4)
                    .find_map(|back| Date::new(year, month, day.day - back))
                    .expect("every month has a 28th")
            }
        }
    }
}

/// Jurisdiction name → response period, and the one applied to new requests.
#[derive(Debug, Clone)]
pub struct DueTable {
    pub periods: BTreeMap<String, Period>,
    pub jurisdiction: String,
}

impl Default for DueTable {
    fn default() -> Self {
        DueTable {
            periods: [
                ("gdpr", Period::Months(1)),
                ("quebec", Period::Days(30)),
                ("california", Period::Days(45)),
            ]
            .into_iter()
            .map(|(name, period)| (name.to_string(), period))
            .collect(),
            jurisdiction: "gdpr".into(),
        }
    }
}

impl DueTable {
    /// The default table with `NAME=PERIOD` entries added or replaced, applying `jurisdiction`.
    pub fn with(overrides: &[String], jurisdiction: &str) -> Result<DueTable, String> {
        let mut table = DueTable::default();
        for entry in overrides {
            let (name, period) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not NAME=PERIOD, such as quebec=30d"))?;
            table
                .periods
                .insert(name.trim().to_string(), period.trim().parse()?);
        }
        if !table.periods.contains_key(jurisdiction) {
            let known: Vec<_> = table.periods.keys().cloned().collect();
            return Err(format!(
                "no response period for the jurisdiction `{jurisdiction}` (known: {})",
                known.join(", ")
            ));
        }
        table.jurisdiction = jurisdiction.to_string();
        Ok(table)
    }

    pub fn due(&self, received: Date) -> Date {
        self.periods[&self.jurisdiction].due(received)
    }
}

/// How much longer a request may take, once, where the law allows it and
/// the requester is told with the reasons before the first period ends:
/// GDPR Art. 12(3), two further months; California (CCPA, Civ. Code
/// § 1798.130(a)(2)), 45 more days. None known for the others.
pub fn extension(jurisdiction: &str) -> Option<Period> {
    match jurisdiction {
        "gdpr" => Some(Period::Months(2)),
        "california" => Some(Period::Days(45)),
        _ => None,
    }
}

fn day_from_epoch(days: i64) -> Date {
    Date::from_unix(days * 86_400)
}

/// Now, in milliseconds since 1970: the receipt time.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// Now, as the receipt time: RFC 3339 UTC with milliseconds (sorts as text).
pub fn now() -> (String, Date) {
    timestamp(now_millis())
}

/// The RFC 3339 text and the date of a time in milliseconds since 1970.
pub fn timestamp(millis: i64) -> (String, Date) {
    let seconds = millis.div_euclid(1000);
    let date = Date::from_unix(seconds);
    let in_day = seconds.rem_euclid(86_400);
    let text = format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60,
        millis.rem_euclid(1000)
    );
    (text, date)
}

/// Today's date, for marking overdue requests.
pub fn today() -> Date {
    now().1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn one_month_ends_on_the_same_date_or_the_last_day_of_a_shorter_month() {
        let month = Period::Months(1);
        assert_eq!(month.due(d("2025-01-15")), d("2025-02-15"));
        assert_eq!(month.due(d("2025-01-31")), d("2025-02-28"));
        assert_eq!(month.due(d("2024-01-31")), d("2024-02-29"));
        assert_eq!(month.due(d("2025-12-10")), d("2026-01-10"));
    }

    #[test]
    fn days_count_across_months_and_years() {
        assert_eq!(Period::Days(30).due(d("2025-01-15")), d("2025-02-14"));
        assert_eq!(Period::Days(45).due(d("2025-12-01")), d("2026-01-15"));
    }

    #[test]
    fn the_table_takes_overrides_and_refuses_an_unknown_jurisdiction() {
        let table = DueTable::with(&["brazil=15d".into()], "brazil").unwrap();
        assert_eq!(table.due(d("2025-03-01")), d("2025-03-16"));
        assert_eq!(
            DueTable::with(&[], "quebec").unwrap().due(d("2025-03-01")),
            d("2025-03-31")
        );
        assert!(DueTable::with(&[], "mars").unwrap_err().contains("mars"));
        assert!(DueTable::with(&["x=3w".into()], "gdpr").is_err());
    }

    #[test]
    fn timestamps_are_rfc_3339_utc_with_milliseconds() {
        assert_eq!(
            timestamp(1_738_591_632_345).0,
            "2025-02-03T14:07:12.345Z".to_string()
        );
    }
}
