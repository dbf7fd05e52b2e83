//! RFC 3339 times as credential documents write them: `Z` or `z`, or an offset (`+00:00`, as
//! `aws configure export-credentials` writes, or `-07:00`), with or without fractional seconds.
//! The calendar arithmetic is the core's ([`sigv4_core::Timestamp::parse_rfc3339`], which takes
//! UTC only); this adds the offset.

use std::fmt;

/// A text that is not an RFC 3339 date-time (the text is shown: expirations are not secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeError(pub String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an RFC 3339 date-time", self.0)
    }
}

impl std::error::Error for TimeError {}

/// Unix seconds of an RFC 3339 date-time, fractional seconds dropped.
pub fn parse_rfc3339(text: &str) -> Result<u64, TimeError> {
    let bad = || TimeError(text.to_string());
    let utc = |date_time: &str| {
        sigv4_core::Timestamp::parse_rfc3339(date_time)
            .map(|t| t.unix_seconds())
            .map_err(|_| bad())
    };
    if text.ends_with(['Z', 'z']) {
        return utc(text);
    }
    // `[+-]HH:MM` at the end.
    let Some(split) = text.len().checked_sub(6) else {
        return Err(bad());
    };
    let (date_time, offset) = text.split_at_checked(split).ok_or_else(bad)?;
    let o = offset.as_bytes();
    let sign: i64 = match o[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(bad()),
    };
    let digits = |pair: &[u8]| -> Option<i64> {
        pair.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (Some(hours), b':', Some(minutes)) = (digits(&o[1..3]), o[3], digits(&o[4..6])) else {
        return Err(bad());
    };
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    let local = utc(&format!("{date_time}Z"))?;
    // Local time minus the offset is UTC.
    let seconds = i64::try_from(local).map_err(|_| bad())? - sign * (hours * 3600 + minutes * 60);
    let seconds = u64::try_from(seconds).map_err(|_| bad())?;
    sigv4_core::Timestamp::from_unix_seconds(seconds)
        .map(|t| t.unix_seconds())
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_893_456_000; // 2030-01-01T00:00:00Z

    #[test]
    fn every_offset_form() {
        for text in [
            "2030-01-01T00:00:00Z",
            "2030-01-01t00:00:00z",
            "2030-01-01T00:00:00+00:00",
            "2030-01-01T00:00:00-00:00",
            "2030-01-01T00:00:00.123456Z",
            "2030-01-01T00:00:00.5+00:00",
            "2030-01-01T02:30:00+02:30",
            "2029-12-31T17:00:00-07:00",
            "2029-12-31T17:00:00.999-07:00",
        ] {
            assert_eq!(parse_rfc3339(text), Ok(T), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        for text in [
            "",
            "soon",
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00+0000",
            "2030-01-01T00:00:00+24:00",
            "2030-01-01T00:00:00+01:60",
            "2030-01-01T00:00:00*01:00",
            "2030-01-01T00:00:00+0a:00",
            "2030-01-01 00:00:00+00:00",
            "1970-01-01T00:00:00+00:01",
            "2030-01-01T00:00:00é:00",
        ] {
            assert!(parse_rfc3339(text).is_err(), "{text}");
        }
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00-00:01"), Ok(60));
    }
}
