//! The signing time, given by the caller (the core never reads a clock).

use crate::error::Error;

/// Seconds since the Unix epoch, UTC, within the years 1970..=9999 (the four-digit years of
/// `X-Amz-Date`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    secs: u64,
}

/// 9999-12-31T23:59:59Z.
const MAX_SECS: u64 = 253_402_300_799;

impl Timestamp {
    /// A timestamp from seconds since the Unix epoch.
    pub fn from_unix_seconds(secs: u64) -> Result<Self, Error> {
        if secs > MAX_SECS {
            return Err(Error::InvalidTimestamp);
        }
        Ok(Timestamp { secs })
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> u64 {
        self.secs
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ`, optionally with fractional seconds (dropped: SigV4 has
    /// one-second resolution).
    pub fn parse_rfc3339(text: &str) -> Result<Self, Error> {
        let b = text.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return Err(Error::InvalidTimestamp);
        }
        if !matches!(b[10], b'T' | b't') {
            return Err(Error::InvalidTimestamp);
        }
        let rest = &b[19..];
        let rest = match rest.first() {
            Some(b'.') => {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return Err(Error::InvalidTimestamp);
                }
                &rest[1 + digits..]
            }
            _ => rest,
        };
        if !matches!(rest, b"Z" | b"z") {
            return Err(Error::InvalidTimestamp);
        }
        let num = |range: core::ops::Range<usize>| -> Result<u64, Error> {
            b[range].iter().try_fold(0u64, |acc, &c| {
                if c.is_ascii_digit() {
                    Ok(acc * 10 + u64::from(c - b'0'))
                } else {
                    Err(Error::InvalidTimestamp)
                }
            })
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if year < 1970
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(Error::InvalidTimestamp);
        }
        // A leap second is signed as the last second of its minute.
        let second = second.min(59);
        let days = days_from_civil(year, month, day);
        Timestamp::from_unix_seconds(days * 86_400 + hour * 3600 + minute * 60 + second)
    }

    /// Parses `YYYYMMDDTHHMMSSZ`, the form of `X-Amz-Date`.
    pub fn parse_amz_date(text: &str) -> Result<Self, Error> {
        let b = text.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
            return Err(Error::InvalidTimestamp);
        }
        // As `YYYY-MM-DDTHH:MM:SSZ`, which has one parser.
        let mut rfc3339 = *b"0000-00-00T00:00:00Z";
        for (to, from) in [(0, 0), (5, 4), (8, 6), (11, 9), (14, 11), (17, 13)] {
            let width = if to == 0 { 4 } else { 2 };
            rfc3339[to..to + width].copy_from_slice(&b[from..from + width]);
        }
        Timestamp::parse_rfc3339(
            core::str::from_utf8(&rfc3339).map_err(|_| Error::InvalidTimestamp)?,
        )
    }

    /// `YYYYMMDDTHHMMSSZ`, the form of `X-Amz-Date`.
    pub fn amz_date(&self) -> [u8; 16] {
        let (year, month, day) = civil_from_days(self.secs / 86_400);
        let in_day = self.secs % 86_400;
        let mut out = *b"00000000T000000Z";
        put_digits(&mut out[0..4], year);
        put_digits(&mut out[4..6], month);
        put_digits(&mut out[6..8], day);
        put_digits(&mut out[9..11], in_day / 3600);
        put_digits(&mut out[11..13], in_day / 60 % 60);
        put_digits(&mut out[13..15], in_day % 60);
        out
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, as AWS writes expirations.
    pub fn rfc3339(&self) -> [u8; 20] {
        let d = self.amz_date();
        let mut out = *b"0000-00-00T00:00:00Z";
        for (to, from) in [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (5, 4),
            (6, 5),
            (8, 6),
            (9, 7),
        ] {
            out[to] = d[from];
        }
        for (to, from) in [(11, 9), (12, 10), (14, 11), (15, 12), (17, 13), (18, 14)] {
            out[to] = d[from];
        }
        out
    }

    /// `YYYYMMDD`, the date of the credential scope.
    pub fn date(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out.copy_from_slice(&self.amz_date()[..8]);
        out
    }
}

fn put_digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`, for
/// years >= 1970 only, so all arithmetic stays unsigned).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let t = Timestamp::parse_rfc3339("2015-08-30T12:36:00Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_440_938_160);
        assert_eq!(&t.amz_date(), b"20150830T123600Z");
        assert_eq!(&t.date(), b"20150830");
        assert_eq!(&t.rfc3339(), b"2015-08-30T12:36:00Z");
        let t = Timestamp::parse_rfc3339("2024-02-29T23:59:59.123Z").unwrap();
        assert_eq!(&t.amz_date(), b"20240229T235959Z");
        assert_eq!(
            &Timestamp::from_unix_seconds(0).unwrap().amz_date(),
            b"19700101T000000Z"
        );
        assert_eq!(
            &Timestamp::from_unix_seconds(MAX_SECS).unwrap().amz_date(),
            b"99991231T235959Z"
        );
    }

    #[test]
    fn round_trips_every_day_boundary() {
        for days in (0..2_932_896u64).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "2015-08-30 12:36:00Z",
            "2015-02-30T12:36:00Z",
            "2015-08-30T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2015-08-30T12:36:00+01:00",
            "2015-08-30T12:36:00.Z",
            "2015-08-3aT12:36:00Z",
        ] {
            assert_eq!(
                Timestamp::parse_rfc3339(bad),
                Err(Error::InvalidTimestamp),
                "{bad}"
            );
        }
        assert_eq!(
            Timestamp::from_unix_seconds(MAX_SECS + 1),
            Err(Error::InvalidTimestamp)
        );
    }
}
