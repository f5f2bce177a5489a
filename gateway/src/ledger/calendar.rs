//! Budget periods in UTC: which day or month a moment falls in, and how long it has left.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::keys::Period;

/// Seconds since 1970-01-01 UTC.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The name of the budget period `now` (UTC seconds) falls in (`2026-12-03`, `2026-12`), and
/// the time left in it.
pub fn period(period: Period, now: u64) -> (String, Duration) {
    let day = now / 86_400;
    let (year, month, date) = civil_from_days(day as i64);
    match period {
        Period::Day => (
            format!("{year:04}-{month:02}-{date:02}"),
            Duration::from_secs(86_400 - now % 86_400),
        ),
        Period::Month => {
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            let next = days_from_civil(next_year, next_month, 1) as u64 * 86_400;
            (
                format!("{year:04}-{month:02}"),
                Duration::from_secs(next.saturating_sub(now)),
            )
        }
    }
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// algorithm, public domain).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let date = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, date)
}

/// The day counted from 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, date: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(date) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_periods_roll_over_in_utc() {
        // 2026-12-03T19:00:00Z
        let now = 1_796_324_400;
        assert_eq!(period(Period::Day, now).0, "2026-12-03");
        assert_eq!(period(Period::Day, now).1, Duration::from_secs(5 * 3600));
        let (month, left) = period(Period::Month, now);
        assert_eq!(month, "2026-12");
        // To 2027-01-01T00:00:00Z: 28 days and 5 hours.
        assert_eq!(left, Duration::from_secs(28 * 86_400 + 5 * 3600));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
