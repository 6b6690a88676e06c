//! Weekly time windows in a fixed UTC offset: automation windows, office
//! hours, off-hours.
//!
//! Guests have no time zone database (no files, no clock), so a window names
//! a fixed offset instead of a zone: `Mon-Fri 01:00-03:00`,
//! `Sat,Sun 00:00-24:00 UTC`, `* 22:00-06:00 UTC+02:00`. Parts:
//!
//! - days: `Mon` … `Sun` (any case, also full names), ranges `Mon-Fri` (also
//!   wrapping, `Fri-Mon`), lists `Mon,Wed,Fri-Sun`, or `*` / `daily`;
//! - a time range `HH:MM-HH:MM`, start inclusive, end exclusive; `24:00`
//!   ends at midnight; an end before the start runs past midnight into the
//!   next day (the day names where the window *starts*);
//! - optionally `UTC`, `UTC+HH:MM` or `UTC-HH:MM` (default UTC).
//!
//! The arithmetic is done here rather than with a date crate because it is
//! a few lines of modular arithmetic on epoch milliseconds once time zones
//! are ruled out, and it keeps the component small.

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const FULL_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// One `days start-end offset` window.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Span {
    /// Bit `d` set when the window starts on weekday `d` (0 = Monday).
    days: u8,
    start_min: u16,
    end_min: u16,
    offset_min: i16,
}

/// A list of weekly windows; empty contains nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeeklySchedule {
    spans: Vec<Span>,
}

impl WeeklySchedule {
    /// Parse every entry; each bad entry gives one message.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<WeeklySchedule, Vec<String>> {
        let mut spans = Vec::new();
        let mut errors = Vec::new();
        for entry in entries {
            match parse_span(entry.as_ref()) {
                Ok(span) => spans.push(span),
                Err(message) => errors.push(format!("{:?}: {message}", entry.as_ref().trim())),
            }
        }
        if errors.is_empty() {
            Ok(WeeklySchedule { spans })
        } else {
            Err(errors)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Whether the instant (epoch ms, UTC) falls inside any window.
    pub fn contains(&self, time_ms: i64) -> bool {
        self.spans.iter().any(|span| span.contains(time_ms))
    }
}

impl Span {
    fn contains(&self, time_ms: i64) -> bool {
        let local = time_ms.saturating_add(i64::from(self.offset_min) * MINUTE_MS);
        let day = weekday(local);
        let minute = (local.rem_euclid(DAY_MS) / MINUTE_MS) as u16;
        let on = |d: u8| self.days & (1 << d) != 0;
        if self.start_min < self.end_min {
            on(day) && (self.start_min..self.end_min).contains(&minute)
        } else {
            // Runs past midnight: the evening part on a listed day, the
            // morning part on the day after one.
            (on(day) && minute >= self.start_min) || (on((day + 6) % 7) && minute < self.end_min)
        }
    }
}

/// Weekday of an epoch-ms instant, 0 = Monday. 1970-01-01 was a Thursday.
pub fn weekday(time_ms: i64) -> u8 {
    (time_ms.div_euclid(DAY_MS) + 3).rem_euclid(7) as u8
}

/// "Sat 14:02 UTC": weekday and time of day of an instant, for reason lines.
pub fn weekday_time_utc(time_ms: i64) -> String {
    let minute = time_ms.rem_euclid(DAY_MS) / MINUTE_MS;
    format!(
        "{} {:02}:{:02} UTC",
        DAY_NAMES[usize::from(weekday(time_ms))],
        minute / 60,
        minute % 60
    )
}

fn parse_span(text: &str) -> Result<Span, String> {
    let mut parts = text.split_whitespace();
    let (Some(days), Some(times)) = (parts.next(), parts.next()) else {
        return Err("expected `DAYS HH:MM-HH:MM [UTC±HH:MM]`, e.g. `Mon-Fri 01:00-03:00`".into());
    };
    let offset_min = match parts.next() {
        None => 0,
        Some(offset) => parse_offset(offset)?,
    };
    if let Some(extra) = parts.next() {
        return Err(format!("unexpected {extra:?} after the offset"));
    }
    let days = parse_days(days)?;
    let (start, end) = times
        .split_once('-')
        .ok_or_else(|| format!("{times:?} is not a time range HH:MM-HH:MM"))?;
    let start_min = parse_clock(start)?;
    let end_min = parse_clock(end)?;
    if start_min == 24 * 60 {
        return Err("a window cannot start at 24:00".into());
    }
    if start_min == end_min {
        return Err(format!(
            "{times:?} is empty; use 00:00-24:00 for a whole day"
        ));
    }
    Ok(Span {
        days,
        start_min,
        end_min,
        offset_min,
    })
}

fn parse_days(text: &str) -> Result<u8, String> {
    if text == "*" || text.eq_ignore_ascii_case("daily") {
        return Ok(0x7f);
    }
    let mut mask = 0u8;
    for item in text.split(',') {
        match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (parse_day(from)?, parse_day(to)?);
                let mut day = from;
                loop {
                    mask |= 1 << day;
                    if day == to {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => mask |= 1 << parse_day(item)?,
        }
    }
    Ok(mask)
}

fn parse_day(text: &str) -> Result<u8, String> {
    let lower = text.trim().to_ascii_lowercase();
    (0u8..7)
        .find(|&d| {
            let d = usize::from(d);
            lower == DAY_NAMES[d].to_ascii_lowercase() || lower == FULL_NAMES[d]
        })
        .ok_or_else(|| format!("{text:?} is not a weekday (Mon … Sun)"))
}

fn parse_clock(text: &str) -> Result<u16, String> {
    let bad = || format!("{text:?} is not a time of day HH:MM");
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if minutes > 59 || hours > 24 || (hours == 24 && minutes != 0) {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

fn parse_offset(text: &str) -> Result<i16, String> {
    let bad = || {
        format!(
            "{text:?} is not an offset UTC, UTC+HH:MM or UTC-HH:MM (no zone names: guests have no time zone database)"
        )
    };
    let rest = text
        .strip_prefix("UTC")
        .or_else(|| text.strip_prefix("utc"))
        .ok_or_else(bad)?;
    if rest.is_empty() {
        return Ok(0);
    }
    let (sign, clock) = match rest.split_at(1) {
        ("+", clock) => (1, clock),
        ("-", clock) => (-1, clock),
        _ => return Err(bad()),
    };
    let minutes = parse_clock(clock).map_err(|_| bad())?;
    if minutes > 14 * 60 {
        return Err(bad());
    }
    Ok(sign * minutes as i16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-01 was a Monday; 00:00 UTC.
    const MONDAY: i64 = 1_704_067_200_000;
    const HOUR: i64 = 3_600_000;

    fn at(day: i64, hour: i64, minute: i64) -> i64 {
        MONDAY + day * DAY_MS + hour * HOUR + minute * MINUTE_MS
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday(0), 3); // Thursday
        assert_eq!(weekday(MONDAY), 0);
        assert_eq!(weekday(MONDAY - 1), 6);
        assert_eq!(weekday_time_utc(at(5, 14, 2)), "Sat 14:02 UTC");
        assert_eq!(weekday(-1), 2); // 1969-12-31, a Wednesday
    }

    #[test]
    fn weekday_ranges() {
        let s = WeeklySchedule::parse(&["Mon-Fri 01:00-03:00"]).unwrap();
        assert!(s.contains(at(0, 1, 0)));
        assert!(s.contains(at(4, 2, 59)));
        assert!(!s.contains(at(4, 3, 0)));
        assert!(!s.contains(at(5, 2, 0)));
        assert!(!s.contains(at(0, 0, 59)));
    }

    #[test]
    fn offsets_shift_the_window() {
        // 01:00-03:00 at UTC+02:00 is 23:00-01:00 UTC the day before.
        let s = WeeklySchedule::parse(&["Mon 01:00-03:00 UTC+02:00"]).unwrap();
        assert!(s.contains(at(-1, 23, 30)));
        assert!(s.contains(at(0, 0, 30)));
        assert!(!s.contains(at(0, 1, 30)));
        let west = WeeklySchedule::parse(&["Mon 01:00-03:00 UTC-05:30"]).unwrap();
        assert!(west.contains(at(0, 6, 30)));
        assert!(!west.contains(at(0, 1, 30)));
    }

    #[test]
    fn overnight_lists_and_whole_days() {
        let s =
            WeeklySchedule::parse(&["Fri-Mon 22:00-06:00", "sat,Sunday 00:00-24:00 UTC"]).unwrap();
        assert!(s.contains(at(4, 23, 0))); // Fri evening
        assert!(s.contains(at(1, 5, 59))); // Tue morning, from Mon evening
        assert!(!s.contains(at(1, 6, 0)));
        assert!(!s.contains(at(2, 5, 0))); // Wed morning: Tue is not listed
        assert!(s.contains(at(6, 12, 0)));
        let daily = WeeklySchedule::parse(&["* 12:00-13:00"]).unwrap();
        assert!((0..7).all(|d| daily.contains(at(d, 12, 30))));
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let errors = WeeklySchedule::parse(&[
            "Mon-Fri 01:00-03:00",
            "Funday 01:00-02:00",
            "Mon 25:00-26:00",
            "Mon 01:00-01:00",
            "Mon 01:00-02:00 Europe/Paris",
            "Mon",
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[3].contains("time zone"), "{errors:?}");
    }

    #[test]
    fn empty_schedule_contains_nothing() {
        let s = WeeklySchedule::parse::<&str>(&[]).unwrap();
        assert!(s.is_empty());
        assert!(!s.contains(MONDAY));
    }
}
