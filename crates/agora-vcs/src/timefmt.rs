//! Unix seconds to the two UTC text forms the go command uses for commit
//! times: RFC 3339 (`.info` `Time`) and `yyyymmddhhmmss` (pseudo-versions).

/// Civil date and time in UTC from Unix seconds (proleptic Gregorian; the
/// days-from-civil inverse by Howard Hinnant, valid for every i64 day count
/// git can produce).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // All components are small and non-negative by construction.
    let c = |v: i64| u32::try_from(v).unwrap_or(0);
    (
        year,
        c(month),
        c(day),
        c(rem / 3600),
        c(rem % 3600 / 60),
        c(rem % 60),
    )
}

/// `2006-01-02T15:04:05Z`, as Go marshals a UTC `time.Time` with whole
/// seconds.
pub(crate) fn rfc3339(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `20060102150405`, the pseudo-version timestamp.
pub(crate) fn pseudo_stamp(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_573_264_771), "2019-11-09T01:59:31Z");
        assert_eq!(pseudo_stamp(1_573_264_771), "20191109015931");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
