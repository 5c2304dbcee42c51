//! Calendar arithmetic on plain integers. Times are seconds since the Unix epoch and dates
//! days since 1970-01-01; the seed writes them as Beijing time (UTC+8, no daylight saving),
//! so nothing depends on the machine's time zone or clock.

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// China Standard Time.
const UTC_OFFSET: i64 = 8 * HOUR;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month = month as i64;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: `(year, month, day)`.
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// The instant of a Beijing-time midnight.
pub const fn beijing_midnight(year: i64, month: u32, day: u32) -> i64 {
    days_from_civil(year, month, day) * DAY - UTC_OFFSET
}

/// The Beijing-time civil fields of an instant: `(year, month, day, hour, minute, second)`.
pub fn beijing_fields(instant: i64) -> (i64, u32, u32, u32, u32, u32) {
    let local = instant + UTC_OFFSET;
    let days = local.div_euclid(DAY);
    let seconds = local.rem_euclid(DAY) as u32;
    let (year, month, day) = civil_from_days(days);
    (
        year,
        month,
        day,
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
    )
}

/// The first event instant: 2024-11-01T00:00:00+08:00.
pub const EVENTS_START: i64 = beijing_midnight(2024, 11, 1);
/// Events end (exclusive) at 2026-11-01T00:00:00+08:00; no timestamp reaches it.
pub const EVENTS_END: i64 = beijing_midnight(2026, 11, 1);
/// Entities of the index were registered before the event window opens.
pub const ENTITIES_START: i64 = beijing_midnight(2015, 1, 1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in -30_000..30_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn beijing_time_is_utc_plus_eight() {
        // 2024-11-01T00:00:00+08:00 is 2024-10-31T16:00:00Z.
        assert_eq!(EVENTS_START, 1_730_390_400);
        assert_eq!(beijing_fields(EVENTS_START), (2024, 11, 1, 0, 0, 0));
        assert_eq!((EVENTS_END - EVENTS_START) / DAY, 730);
        assert_eq!(beijing_fields(EVENTS_END - 1), (2026, 10, 31, 23, 59, 59));
    }
}
