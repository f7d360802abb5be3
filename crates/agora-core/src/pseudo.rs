//! Pseudo-versions, the versions the go command gives untagged commits,
//! following `golang.org/x/mod/module/pseudo.go`.
//!
//! The three forms, each optionally followed by `+incompatible` (or other
//! build metadata) are:
//!
//! 1. `vX.0.0-yyyymmddhhmmss-abcdefabcdef` when no earlier tag exists;
//! 2. `vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdefabcdef` after release `vX.Y.Z`;
//! 3. `vX.Y.Z-pre.0.yyyymmddhhmmss-abcdefabcdef` after prerelease `vX.Y.Z-pre`.
//!
//! Each sorts just above its base tag and below any later tag. The list
//! endpoint must leave them out and a fetcher must verify them against the
//! repository, so agora needs both to recognise them and to take them
//! apart; a native fetcher also needs to build them.

use crate::path::go_quote;
use crate::semver;

/// A version that is not a well-formed pseudo-version, or pseudo-version
/// parts that cannot be assembled into one.
///
/// `Display` gives a one-line message; for parsing errors it is the go
/// command's wording, such as
/// `pseudo-version "v1.0.0-0.20191109021931-daa7c04131f5" invalid: version before v1.0.0 would have negative patch number`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PseudoError {
    message: String,
}

impl PseudoError {
    fn invalid(version: &str, reason: &str) -> Self {
        PseudoError {
            message: format!("pseudo-version {} invalid: {reason}", go_quote(version)),
        }
    }

    /// The full message, as `Display` prints it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The revision time of the zero pseudo-version: Go's zero `time.Time`.
const ZERO_TIMESTAMP: &str = "00010101000000";
/// The revision of the zero pseudo-version.
const ZERO_REV: &str = "000000000000";

/// Reports whether `v` is a pseudo-version in any of the three forms (Go's
/// `module.IsPseudoVersion`). Only the shape is checked; the timestamp may
/// still be an impossible date (see [`pseudo_version_time`]).
pub fn is_pseudo_version(v: &str) -> bool {
    v.matches('-').count() >= 2 && semver::is_valid(v) && has_pseudo_shape(v)
}

/// The pseudo-version grammar, for a string already known to be a valid
/// semantic version: Go's
/// `^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+build)?$`,
/// written out by hand because agora-core has no regex engine.
fn has_pseudo_shape(v: &str) -> bool {
    // In a valid semantic version the build suffix starts at the first '+'
    // (and always fits the grammar's build part); before it, the first '-'
    // separates vMAJOR.MINOR.PATCH from the prerelease.
    let main = v.split_once('+').map_or(v, |(main, _)| main);
    let Some((core, pre)) = main.split_once('-') else {
        return false;
    };
    // Form 1 is only possible for vX.0.0; forms 2 and 3 need PRE to end in
    // `0.<timestamp>-<rev>`.
    (core.ends_with(".0.0") && is_timestamp_rev(pre)) || has_pseudo_tail_after_zero(pre)
}

/// Whether `pre` is `[anything.]0.<14 digits>-<alphanumerics>`.
fn has_pseudo_tail_after_zero(pre: &str) -> bool {
    let Some((head, tail)) = pre.rsplit_once('.') else {
        return false;
    };
    (head == "0" || head.ends_with(".0")) && is_timestamp_rev(tail)
}

/// Whether `s` is exactly `<14 digits>-<one or more ASCII alphanumerics>`.
fn is_timestamp_rev(s: &str) -> bool {
    match s.split_once('-') {
        Some((ts, rev)) => {
            ts.len() == 14
                && ts.bytes().all(|b| b.is_ascii_digit())
                && !rev.is_empty()
                && rev.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// A pseudo-version split the way Go's `parsePseudoVersion` splits it.
struct Parts<'a> {
    /// `vX.0.0`, `vX.Y.(Z+1)-0` or `vX.Y.Z-pre.0`.
    base: &'a str,
    timestamp: &'a str,
    rev: &'a str,
    build: &'a str,
}

fn parse(v: &str) -> Result<Parts<'_>, PseudoError> {
    let syntax = || PseudoError::invalid(v, "syntax error");
    if !is_pseudo_version(v) {
        return Err(syntax());
    }
    // The build suffix starts at the first '+' of a valid version.
    let (rest, build) = v.split_at(v.find('+').unwrap_or(v.len()));
    let (rest, rev) = rest.rsplit_once('-').ok_or_else(syntax)?;
    let dash = rest.rfind('-').ok_or_else(syntax)?;
    let (base, timestamp) = match rest.rfind('.') {
        Some(dot) if dot > dash => (&rest[..dot], &rest[dot + 1..]),
        _ => (&rest[..dash], &rest[dash + 1..]),
    };
    Ok(Parts {
        base,
        timestamp,
        rev,
        build,
    })
}

/// The tagged version a pseudo-version was derived from (Go's
/// `module.PseudoVersionBase`), keeping any build suffix such as
/// `+incompatible`; `""` for a form-1 pseudo-version, which has no base.
///
/// Fails for a non-pseudo-version, for `vX.0.0-…+incompatible` (no base yet
/// incompatible) and for `vX.Y.0-0.…`, whose base would need patch −1.
pub fn pseudo_version_base(v: &str) -> Result<String, PseudoError> {
    let parts = parse(v)?;
    let pre = semver::prerelease(parts.base);
    match pre.as_str() {
        "" => {
            if parts.build.is_empty() {
                Ok(String::new())
            } else {
                Err(PseudoError::invalid(
                    v,
                    &format!(
                        "lacks base version, but has build metadata {}",
                        go_quote(parts.build)
                    ),
                ))
            }
        }
        "-0" => {
            let release = parts.base.strip_suffix("-0").unwrap_or(parts.base);
            let Some((minor, patch)) = release.rsplit_once('.') else {
                return Err(PseudoError::invalid(v, "syntax error"));
            };
            match dec_decimal(patch) {
                Some(patch) => Ok(format!("{minor}.{patch}{}", parts.build)),
                None => Err(PseudoError::invalid(
                    v,
                    &format!("version before {release} would have negative patch number"),
                )),
            }
        }
        _ => match parts.base.strip_suffix(".0") {
            Some(base) => Ok(format!("{base}{}", parts.build)),
            // The grammar guarantees the ".0"; Go panics here, agora refuses.
            None => Err(PseudoError::invalid(v, "syntax error")),
        },
    }
}

/// The revision identifier of a pseudo-version, usually a 12-hex-digit
/// commit hash prefix (Go's `module.PseudoVersionRev`).
pub fn pseudo_version_rev(v: &str) -> Result<&str, PseudoError> {
    parse(v).map(|parts| parts.rev)
}

/// The commit timestamp of a pseudo-version, as its 14 digits
/// `yyyymmddhhmmss` in UTC (Go's `module.PseudoVersionTime`, which returns
/// the parsed time instead).
///
/// Fails for a non-pseudo-version, and, as Go's `time.Parse` does, for a
/// timestamp that is not a real date and time (month 13, 30 February, hour
/// 24, second 60).
pub fn pseudo_version_time(v: &str) -> Result<&str, PseudoError> {
    let parts = parse(v)?;
    if !is_valid_timestamp(parts.timestamp) {
        return Err(PseudoError::invalid(
            v,
            &format!("malformed time {}", go_quote(parts.timestamp)),
        ));
    }
    Ok(parts.timestamp)
}

/// Whether `ts` is 14 digits naming a real UTC date and time in Go's
/// `20060102150405` layout.
fn is_valid_timestamp(ts: &str) -> bool {
    if ts.len() != 14 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let num = |range: std::ops::Range<usize>| {
        ts.as_bytes()[range]
            .iter()
            .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (num(0..4), num(4..6), num(6..8));
    let (hour, minute, second) = (num(8..10), num(10..12), num(12..14));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day) && hour < 24 && minute < 60 && second < 60
}

/// The placeholder pseudo-version with zero time and revision for a major
/// version (Go's `module.ZeroPseudoVersion`): `v0.0.0-00010101000000-000000000000`
/// for `""` or `"v0"`.
pub fn zero_pseudo_version(major: &str) -> String {
    let major = if major.is_empty() { "v0" } else { major };
    format!("{major}.0.0-{ZERO_TIMESTAMP}-{ZERO_REV}")
}

/// Reports whether `v` is the placeholder pseudo-version of its major
/// version (Go's `module.IsZeroPseudoVersion`).
pub fn is_zero_pseudo_version(v: &str) -> bool {
    v == zero_pseudo_version(&semver::major(v))
}

/// Builds the pseudo-version for a commit (Go's `module.PseudoVersion`).
///
/// `major` is the path's major version (`""` means `v0`), used only when
/// there is no base; `older` is the most recent tag before the commit
/// (`""` for none, `vX.Y.Z`, `vX.Y.Z-pre`, either possibly `+incompatible`);
/// `time` is the commit time in UTC as `yyyymmddhhmmss`; `rev` is the
/// revision, normally the first 12 hex digits of the commit hash.
///
/// Unlike Go, which trusts its caller, this refuses a timestamp that is not
/// a real date, a `rev` that is not ASCII letters and digits (Go would let
/// `a+b` turn into build metadata, so the revision would not parse back),
/// and any input that would yield something [`is_pseudo_version`] rejects
/// (such as a `major` like `v1.2`), so a bad input can never produce a
/// version string that the go command would refuse or misread.
pub fn pseudo_version(
    major: &str,
    older: &str,
    time: &str,
    rev: &str,
) -> Result<String, PseudoError> {
    if !is_valid_timestamp(time) {
        return Err(PseudoError {
            message: format!(
                "invalid pseudo-version time {}: want yyyymmddhhmmss",
                go_quote(time)
            ),
        });
    }
    if rev.is_empty() || !rev.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(PseudoError {
            message: format!(
                "invalid pseudo-version revision {}: want ASCII letters and digits",
                go_quote(rev)
            ),
        });
    }
    let major = if major.is_empty() { "v0" } else { major };
    let segment = format!("{time}-{rev}");
    let build = semver::build(older);
    let older = semver::canonical(older);
    let version = if older.is_empty() {
        format!("{major}.0.0-{segment}")
    } else if !semver::prerelease(&older).is_empty() {
        format!("{older}.0.{segment}{build}")
    } else {
        // A canonical release always has a patch number after its last dot.
        let (minor, patch) = older.rsplit_once('.').unwrap_or((&older, "0"));
        format!("{minor}.{}-0.{segment}{build}", inc_decimal(patch))
    };
    if !is_pseudo_version(&version) {
        return Err(PseudoError {
            message: format!(
                "cannot build a pseudo-version from major {}, base {}, revision {}",
                go_quote(major),
                go_quote(&older),
                go_quote(rev)
            ),
        });
    }
    Ok(version)
}

/// Adds one to a decimal string of any length, carrying as far as needed.
fn inc_decimal(decimal: &str) -> String {
    let mut digits = decimal.as_bytes().to_vec();
    let mut i = digits.len();
    while i > 0 && digits[i - 1] == b'9' {
        digits[i - 1] = b'0';
        i -= 1;
    }
    if i > 0 {
        digits[i - 1] += 1;
    } else {
        digits.insert(0, b'1');
    }
    String::from_utf8(digits).unwrap_or_default()
}

/// Subtracts one from a decimal string; `None` when it is all zeros.
fn dec_decimal(decimal: &str) -> Option<String> {
    let mut digits = decimal.as_bytes().to_vec();
    let mut i = digits.len();
    while i > 0 && digits[i - 1] == b'0' {
        digits[i - 1] = b'9';
        i -= 1;
    }
    if i == 0 {
        return None;
    }
    if i == 1 && digits[0] == b'1' && digits.len() > 1 {
        // "10" becomes "9", not "09": patch numbers have no leading zeros.
        digits.remove(0);
    } else {
        digits[i - 1] -= 1;
    }
    String::from_utf8(digits).ok()
}

#[cfg(test)]
mod tests {
    //! The expected values were produced by running the go1.27.3 toolchain's
    //! vendored `golang.org/x/mod/module` on these inputs.

    use super::*;

    /// A row of `PSEUDOS`; see its doc for the fields.
    type PseudoRow = (
        &'static str,
        bool,
        bool,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    fn expect<T: AsRef<str> + std::fmt::Debug>(
        got: Result<T, PseudoError>,
        want: &str,
        want_err: &str,
        what: &str,
    ) {
        match got {
            Ok(s) => {
                assert!(
                    want_err.is_empty(),
                    "{what}: got {s:?}, want error {want_err:?}"
                );
                assert_eq!(s.as_ref(), want, "{what}");
            }
            Err(e) => assert_eq!(e.to_string(), want_err, "{what}"),
        }
    }

    #[test]
    fn parsing_matches_go() {
        for &(v, pseudo, zero, base, base_err, rev, rev_err, time, time_err) in PSEUDOS {
            assert_eq!(is_pseudo_version(v), pseudo, "IsPseudoVersion({v:?})");
            assert_eq!(
                is_zero_pseudo_version(v),
                zero,
                "IsZeroPseudoVersion({v:?})"
            );
            expect(
                pseudo_version_base(v),
                base,
                base_err,
                &format!("PseudoVersionBase({v:?})"),
            );
            expect(
                pseudo_version_rev(v),
                rev,
                rev_err,
                &format!("PseudoVersionRev({v:?})"),
            );
            expect(
                pseudo_version_time(v),
                time,
                time_err,
                &format!("PseudoVersionTime({v:?})"),
            );
        }
    }

    #[test]
    fn building_matches_go() {
        for &(major, older, time, rev, want, valid) in BUILDS {
            let got = pseudo_version(major, older, time, rev);
            let what = format!("PseudoVersion({major:?}, {older:?}, {time:?}, {rev:?})");
            // Go lets punctuation in rev become build metadata; agora refuses it.
            let rev_ok = rev.bytes().all(|b| b.is_ascii_alphanumeric());
            if valid && rev_ok {
                assert_eq!(got.as_deref(), Ok(want), "{what}");
            } else {
                assert!(got.is_err(), "{what} = {got:?}; Go's {want:?} is refused");
            }
        }
    }

    #[test]
    fn built_versions_parse_back() {
        for &(major, older, time, rev, _, _) in BUILDS {
            let Ok(want) = pseudo_version(major, older, time, rev) else {
                continue;
            };
            let want = want.as_str();
            assert_eq!(pseudo_version_rev(want), Ok(rev));
            assert_eq!(pseudo_version_time(want), Ok(time));
            let canonical = crate::path::canonical_version(older);
            let base = pseudo_version_base(want);
            if canonical.is_empty() {
                assert_eq!(base.as_deref(), Ok(""), "{want}");
            } else if semver::build(older).is_empty() || semver::build(older) == "+incompatible" {
                assert_eq!(base.as_deref(), Ok(canonical.as_str()), "{want}");
            }
        }
    }

    #[test]
    fn zero_pseudo_versions_match_go() {
        for &(major, want) in ZEROS {
            assert_eq!(
                zero_pseudo_version(major),
                want,
                "ZeroPseudoVersion({major:?})"
            );
        }
    }

    #[test]
    fn builder_refuses_impossible_times() {
        for time in [
            "",
            "2019110902193",
            "201911090219310",
            "2019110902193x",
            "20191399021931",
            "20190229000000",
            "20191109240000",
            "20191109236000",
            "20191109235960",
            "20190100000000",
            "\u{e9}0191109021931",
        ] {
            assert!(
                pseudo_version("v1", "", time, "abcdef123456").is_err(),
                "{time:?}"
            );
        }
        assert!(pseudo_version("v1", "", "20200229235959", "abcdef123456").is_ok());
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs = [
            String::new(),
            "-".repeat(8192),
            format!("v0.0.0-{}-abc", "9".repeat(8192)),
            format!("v1.2.{}-0.20191109021931-abc", "0".repeat(4096)),
            format!("v1.2.{}-0.20191109021931-abc", "9".repeat(4096)),
            format!("v1.2.3-{}0.20191109021931-abc", "a.".repeat(4096)),
            "v0.0.0-20191109021931-\u{e9}".to_owned(),
            "v0.0.0-20191109021931-a\0".to_owned(),
        ];
        for v in &inputs {
            let _ = is_pseudo_version(v);
            let _ = is_zero_pseudo_version(v);
            let _ = pseudo_version_base(v);
            let _ = pseudo_version_rev(v);
            let _ = pseudo_version_time(v);
            let _ = pseudo_version(v, v, v, v);
            let _ = pseudo_version("v1", v, "20191109021931", "abc");
            let _ = zero_pseudo_version(v);
        }
    }

    /// (version, IsPseudoVersion, IsZeroPseudoVersion, PseudoVersionBase, its error,
    /// PseudoVersionRev, its error, PseudoVersionTime as yyyymmddhhmmss, its error).
    #[rustfmt::skip]
    const PSEUDOS: &[PseudoRow] = &[
        ("v0.0.0-20191109021931-daa7c04131f5", true, false, "", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.4-0.20191109021931-daa7c04131f5", true, false, "v1.2.3", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v2.0.1-0.20200722182040-012345abcdef+incompatible", true, false, "v2.0.0+incompatible", "", "012345abcdef", "", "20200722182040", ""),
        ("v1.3.0-rc.1.0.20191109021931-daa7c04131f5", true, false, "v1.3.0-rc.1", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.3.0-rc.1.0.20191109021931-daa7c04131f5+incompatible", true, false, "v1.3.0-rc.1+incompatible", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v0.0.0-00010101000000-000000000000", true, true, "", "", "000000000000", "", "00010101000000", ""),
        ("v1.0.0-00010101000000-000000000000", true, true, "", "", "000000000000", "", "00010101000000", ""),
        ("v2.0.0-00010101000000-000000000000", true, true, "", "", "000000000000", "", "00010101000000", ""),
        ("v0.0.0-00010101000000-000000000001", true, false, "", "", "000000000001", "", "00010101000000", ""),
        ("v0.0.0-00010101000000-000000000000+incompatible", true, false, "", "pseudo-version \"v0.0.0-00010101000000-000000000000+incompatible\" invalid: lacks base version, but has build metadata \"+incompatible\"", "000000000000", "", "00010101000000", ""),
        ("v1.0.0-0.00010101000000-000000000000", true, false, "", "pseudo-version \"v1.0.0-0.00010101000000-000000000000\" invalid: version before v1.0.0 would have negative patch number", "000000000000", "", "00010101000000", ""),
        ("v0.0.0-20191109021931-daa7c04131f5+incompatible", true, false, "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5+incompatible\" invalid: lacks base version, but has build metadata \"+incompatible\"", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.0.0-0.20191109021931-daa7c04131f5", true, false, "", "pseudo-version \"v1.0.0-0.20191109021931-daa7c04131f5\" invalid: version before v1.0.0 would have negative patch number", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.0-0.20191109021931-daa7c04131f5", true, false, "", "pseudo-version \"v1.2.0-0.20191109021931-daa7c04131f5\" invalid: version before v1.2.0 would have negative patch number", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.10-0.20191109021931-daa7c04131f5", true, false, "v1.2.9", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.100-0.20191109021931-daa7c04131f5", true, false, "v1.2.99", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.1000-0.20191109021931-daa7c04131f5", true, false, "v1.2.999", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.10.0-0.20191109021931-daa7c04131f5", true, false, "", "pseudo-version \"v1.10.0-0.20191109021931-daa7c04131f5\" invalid: version before v1.10.0 would have negative patch number", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.3-20191109021931-daa7c04131f5", false, false, "", "pseudo-version \"v1.2.3-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-20191109021931-daa7c04131f5\" invalid: syntax error"),
        ("v0.0.0-2019110902193-daa7c04131f5", false, false, "", "pseudo-version \"v0.0.0-2019110902193-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.0-2019110902193-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.0-2019110902193-daa7c04131f5\" invalid: syntax error"),
        ("v0.0.0-201911090219311-daa7c04131f5", false, false, "", "pseudo-version \"v0.0.0-201911090219311-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.0-201911090219311-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.0-201911090219311-daa7c04131f5\" invalid: syntax error"),
        ("v0.0.0-20191109021931-", false, false, "", "pseudo-version \"v0.0.0-20191109021931-\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-\" invalid: syntax error"),
        ("v0.0.0-20191109021931-abc-def", false, false, "", "pseudo-version \"v0.0.0-20191109021931-abc-def\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-abc-def\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-abc-def\" invalid: syntax error"),
        ("v0.0.0-20191109021931-a", true, false, "", "", "a", "", "20191109021931", ""),
        ("v0.0.0-20191109021931-DAA7C04131F5", true, false, "", "", "DAA7C04131F5", "", "20191109021931", ""),
        ("v0.0.0-20191109021931-daa7c04131f5+meta", true, false, "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5+meta\" invalid: lacks base version, but has build metadata \"+meta\"", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.4-0.20191109021931-daa7c04131f5+meta.x-y", true, false, "v1.2.3+meta.x-y", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v0.0.0-20191399021931-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20191399021931-abcdef123456\" invalid: malformed time \"20191399021931\""),
        ("v0.0.0-20190229000000-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20190229000000-abcdef123456\" invalid: malformed time \"20190229000000\""),
        ("v0.0.0-20200229000000-abcdef123456", true, false, "", "", "abcdef123456", "", "20200229000000", ""),
        ("v0.0.0-19000229000000-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-19000229000000-abcdef123456\" invalid: malformed time \"19000229000000\""),
        ("v0.0.0-20000229000000-abcdef123456", true, false, "", "", "abcdef123456", "", "20000229000000", ""),
        ("v0.0.0-20191109240000-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20191109240000-abcdef123456\" invalid: malformed time \"20191109240000\""),
        ("v0.0.0-20191109236000-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20191109236000-abcdef123456\" invalid: malformed time \"20191109236000\""),
        ("v0.0.0-20191109235960-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20191109235960-abcdef123456\" invalid: malformed time \"20191109235960\""),
        ("v0.0.0-20191109235959-abcdef123456", true, false, "", "", "abcdef123456", "", "20191109235959", ""),
        ("v0.0.0-00000101000000-abcdef123456", true, false, "", "", "abcdef123456", "", "00000101000000", ""),
        ("v0.0.0-20190001000000-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20190001000000-abcdef123456\" invalid: malformed time \"20190001000000\""),
        ("v0.0.0-20190100000000-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20190100000000-abcdef123456\" invalid: malformed time \"20190100000000\""),
        ("v0.0.0-20190431000000-abcdef123456", true, false, "", "", "abcdef123456", "", "", "pseudo-version \"v0.0.0-20190431000000-abcdef123456\" invalid: malformed time \"20190431000000\""),
        ("v0.0.0-20190430000000-abcdef123456", true, false, "", "", "abcdef123456", "", "20190430000000", ""),
        ("v0.0.0-20191231235959-abcdef123456", true, false, "", "", "abcdef123456", "", "20191231235959", ""),
        ("v0.0.0-99991231235959-abcdef123456", true, false, "", "", "abcdef123456", "", "99991231235959", ""),
        ("v1.2.3-pre.0.20191109021931-daa7c04131f5", true, false, "v1.2.3-pre", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.3-0.0.20191109021931-daa7c04131f5", true, false, "v1.2.3-0", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.3-pre.1.20191109021931-daa7c04131f5", false, false, "", "pseudo-version \"v1.2.3-pre.1.20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre.1.20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre.1.20191109021931-daa7c04131f5\" invalid: syntax error"),
        ("v1.2.3-pre0.20191109021931-daa7c04131f5", false, false, "", "pseudo-version \"v1.2.3-pre0.20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre0.20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre0.20191109021931-daa7c04131f5\" invalid: syntax error"),
        ("v1.2.3-a.b.c.0.20191109021931-x", true, false, "v1.2.3-a.b.c", "", "x", "", "20191109021931", ""),
        ("v1.2.3-0.20191109021931.daa7c04131f5", false, false, "", "pseudo-version \"v1.2.3-0.20191109021931.daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-0.20191109021931.daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-0.20191109021931.daa7c04131f5\" invalid: syntax error"),
        ("v1.2.3-0-20191109021931-daa7c04131f5", false, false, "", "pseudo-version \"v1.2.3-0-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-0-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v1.2.3-0-20191109021931-daa7c04131f5\" invalid: syntax error"),
        ("v0.0.0-20191109021931-daa7c04131f5-", false, false, "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5-\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5-\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5-\" invalid: syntax error"),
        ("v0.0.0-20191109021931_daa7c04131f5", false, false, "", "pseudo-version \"v0.0.0-20191109021931_daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931_daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931_daa7c04131f5\" invalid: syntax error"),
        ("v0.0.0-20191109021931-daa7c04131f5\n", false, false, "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5\\n\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5\\n\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5\\n\" invalid: syntax error"),
        ("v0.0.0-20191109021931-daa7c04131f5 ", false, false, "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5 \" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5 \" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5 \" invalid: syntax error"),
        ("v0.0.0-20191109021931-daa7c04131f5+", false, false, "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5+\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5+\" invalid: syntax error", "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5+\" invalid: syntax error"),
        ("v0.0.1-20191109021931-daa7c04131f5", false, false, "", "pseudo-version \"v0.0.1-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.1-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.0.1-20191109021931-daa7c04131f5\" invalid: syntax error"),
        ("v0.1.0-20191109021931-daa7c04131f5", false, false, "", "pseudo-version \"v0.1.0-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.1.0-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v0.1.0-20191109021931-daa7c04131f5\" invalid: syntax error"),
        ("v01.0.0-20191109021931-daa7c04131f5", false, false, "", "pseudo-version \"v01.0.0-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v01.0.0-20191109021931-daa7c04131f5\" invalid: syntax error", "", "pseudo-version \"v01.0.0-20191109021931-daa7c04131f5\" invalid: syntax error"),
        ("v1.2.3", false, false, "", "pseudo-version \"v1.2.3\" invalid: syntax error", "", "pseudo-version \"v1.2.3\" invalid: syntax error", "", "pseudo-version \"v1.2.3\" invalid: syntax error"),
        ("v1.2.3-pre", false, false, "", "pseudo-version \"v1.2.3-pre\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre\" invalid: syntax error"),
        ("bad", false, false, "", "pseudo-version \"bad\" invalid: syntax error", "", "pseudo-version \"bad\" invalid: syntax error", "", "pseudo-version \"bad\" invalid: syntax error"),
        ("", false, false, "", "pseudo-version \"\" invalid: syntax error", "", "pseudo-version \"\" invalid: syntax error", "", "pseudo-version \"\" invalid: syntax error"),
        ("v0.0.0-0.20191109021931-daa7c04131f5", true, false, "", "pseudo-version \"v0.0.0-0.20191109021931-daa7c04131f5\" invalid: version before v0.0.0 would have negative patch number", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.0.0-0.0.20191109021931-daa7c04131f5", true, false, "v1.0.0-0", "", "daa7c04131f5", "", "20191109021931", ""),
        ("v0.0.0-00000000000000-000000000000", true, false, "", "", "000000000000", "", "", "pseudo-version \"v0.0.0-00000000000000-000000000000\" invalid: malformed time \"00000000000000\""),
        ("v3.0.0-20191109021931-daa7c04131f5+incompatible", true, false, "", "pseudo-version \"v3.0.0-20191109021931-daa7c04131f5+incompatible\" invalid: lacks base version, but has build metadata \"+incompatible\"", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.3-0.0.0.20191109021931-x", true, false, "v1.2.3-0.0", "", "x", "", "20191109021931", ""),
        ("v1.2.3-pre.00.20191109021931-x", false, false, "", "pseudo-version \"v1.2.3-pre.00.20191109021931-x\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre.00.20191109021931-x\" invalid: syntax error", "", "pseudo-version \"v1.2.3-pre.00.20191109021931-x\" invalid: syntax error"),
        ("v1.2.3-x.0.20191109021931-0+incompatible", true, false, "v1.2.3-x+incompatible", "", "0", "", "20191109021931", ""),
        ("v0.0.0-20191109021931-daa7c04131f5+incompatible.x", true, false, "", "pseudo-version \"v0.0.0-20191109021931-daa7c04131f5+incompatible.x\" invalid: lacks base version, but has build metadata \"+incompatible.x\"", "daa7c04131f5", "", "20191109021931", ""),
        ("v1.2.3-01.0.20191109021931-x", false, false, "", "pseudo-version \"v1.2.3-01.0.20191109021931-x\" invalid: syntax error", "", "pseudo-version \"v1.2.3-01.0.20191109021931-x\" invalid: syntax error", "", "pseudo-version \"v1.2.3-01.0.20191109021931-x\" invalid: syntax error"),
        ("v1.9.10-0.20191109021931-x", true, false, "v1.9.9", "", "x", "", "20191109021931", ""),
        ("v1.2.90-0.20191109021931-x", true, false, "v1.2.89", "", "x", "", "20191109021931", ""),
        ("v1.2.01-0.20191109021931-x", false, false, "", "pseudo-version \"v1.2.01-0.20191109021931-x\" invalid: syntax error", "", "pseudo-version \"v1.2.01-0.20191109021931-x\" invalid: syntax error", "", "pseudo-version \"v1.2.01-0.20191109021931-x\" invalid: syntax error"),
    ];
    /// (major, older, time, rev, PseudoVersion(major, older, time, rev), whether that
    /// result passes IsPseudoVersion).
    #[rustfmt::skip]
    const BUILDS: &[(&str, &str, &str, &str, &str, bool)] = &[
        ("", "", "20191109021931", "daa7c04131f5", "v0.0.0-20191109021931-daa7c04131f5", true),
        ("", "", "20191109021931", "000000000000", "v0.0.0-20191109021931-000000000000", true),
        ("", "", "00010101000000", "daa7c04131f5", "v0.0.0-00010101000000-daa7c04131f5", true),
        ("", "", "00010101000000", "000000000000", "v0.0.0-00010101000000-000000000000", true),
        ("", "", "20200229235959", "daa7c04131f5", "v0.0.0-20200229235959-daa7c04131f5", true),
        ("", "", "20200229235959", "000000000000", "v0.0.0-20200229235959-000000000000", true),
        ("v0", "", "20191109021931", "daa7c04131f5", "v0.0.0-20191109021931-daa7c04131f5", true),
        ("v0", "", "20191109021931", "000000000000", "v0.0.0-20191109021931-000000000000", true),
        ("v0", "", "00010101000000", "daa7c04131f5", "v0.0.0-00010101000000-daa7c04131f5", true),
        ("v0", "", "00010101000000", "000000000000", "v0.0.0-00010101000000-000000000000", true),
        ("v0", "", "20200229235959", "daa7c04131f5", "v0.0.0-20200229235959-daa7c04131f5", true),
        ("v0", "", "20200229235959", "000000000000", "v0.0.0-20200229235959-000000000000", true),
        ("v1", "", "20191109021931", "daa7c04131f5", "v1.0.0-20191109021931-daa7c04131f5", true),
        ("v1", "", "20191109021931", "000000000000", "v1.0.0-20191109021931-000000000000", true),
        ("v1", "", "00010101000000", "daa7c04131f5", "v1.0.0-00010101000000-daa7c04131f5", true),
        ("v1", "", "00010101000000", "000000000000", "v1.0.0-00010101000000-000000000000", true),
        ("v1", "", "20200229235959", "daa7c04131f5", "v1.0.0-20200229235959-daa7c04131f5", true),
        ("v1", "", "20200229235959", "000000000000", "v1.0.0-20200229235959-000000000000", true),
        ("v2", "", "20191109021931", "daa7c04131f5", "v2.0.0-20191109021931-daa7c04131f5", true),
        ("v2", "", "20191109021931", "000000000000", "v2.0.0-20191109021931-000000000000", true),
        ("v2", "", "00010101000000", "daa7c04131f5", "v2.0.0-00010101000000-daa7c04131f5", true),
        ("v2", "", "00010101000000", "000000000000", "v2.0.0-00010101000000-000000000000", true),
        ("v2", "", "20200229235959", "daa7c04131f5", "v2.0.0-20200229235959-daa7c04131f5", true),
        ("v2", "", "20200229235959", "000000000000", "v2.0.0-20200229235959-000000000000", true),
        ("v1", "v1.2.3", "20191109021931", "daa7c04131f5", "v1.2.4-0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.2.3", "20191109021931", "000000000000", "v1.2.4-0.20191109021931-000000000000", true),
        ("v1", "v1.2.9", "20191109021931", "daa7c04131f5", "v1.2.10-0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.2.9", "20191109021931", "000000000000", "v1.2.10-0.20191109021931-000000000000", true),
        ("v1", "v1.2.99", "20191109021931", "daa7c04131f5", "v1.2.100-0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.2.99", "20191109021931", "000000000000", "v1.2.100-0.20191109021931-000000000000", true),
        ("v1", "v1.9.999", "20191109021931", "daa7c04131f5", "v1.9.1000-0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.9.999", "20191109021931", "000000000000", "v1.9.1000-0.20191109021931-000000000000", true),
        ("v1", "v1.2.3-pre", "20191109021931", "daa7c04131f5", "v1.2.3-pre.0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.2.3-pre", "20191109021931", "000000000000", "v1.2.3-pre.0.20191109021931-000000000000", true),
        ("v1", "v1.2.3-rc.1", "20191109021931", "daa7c04131f5", "v1.2.3-rc.1.0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.2.3-rc.1", "20191109021931", "000000000000", "v1.2.3-rc.1.0.20191109021931-000000000000", true),
        ("v2", "v2.0.0+incompatible", "20191109021931", "daa7c04131f5", "v2.0.1-0.20191109021931-daa7c04131f5+incompatible", true),
        ("v2", "v2.0.0+incompatible", "20191109021931", "000000000000", "v2.0.1-0.20191109021931-000000000000+incompatible", true),
        ("v2", "v2.3.4-pre+incompatible", "20191109021931", "daa7c04131f5", "v2.3.4-pre.0.20191109021931-daa7c04131f5+incompatible", true),
        ("v2", "v2.3.4-pre+incompatible", "20191109021931", "000000000000", "v2.3.4-pre.0.20191109021931-000000000000+incompatible", true),
        ("v1", "v1.2", "20191109021931", "daa7c04131f5", "v1.2.1-0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.2", "20191109021931", "000000000000", "v1.2.1-0.20191109021931-000000000000", true),
        ("v1", "v1", "20191109021931", "daa7c04131f5", "v1.0.1-0.20191109021931-daa7c04131f5", true),
        ("v1", "v1", "20191109021931", "000000000000", "v1.0.1-0.20191109021931-000000000000", true),
        ("v1", "bad", "20191109021931", "daa7c04131f5", "v1.0.0-20191109021931-daa7c04131f5", true),
        ("v1", "bad", "20191109021931", "000000000000", "v1.0.0-20191109021931-000000000000", true),
        ("v1", "v1.2.3+meta", "20191109021931", "daa7c04131f5", "v1.2.4-0.20191109021931-daa7c04131f5+meta", true),
        ("v1", "v1.2.3+meta", "20191109021931", "000000000000", "v1.2.4-0.20191109021931-000000000000+meta", true),
        ("bad", "", "20191109021931", "daa7c04131f5", "bad.0.0-20191109021931-daa7c04131f5", false),
        ("bad", "", "20191109021931", "000000000000", "bad.0.0-20191109021931-000000000000", false),
        ("bad", "", "00010101000000", "daa7c04131f5", "bad.0.0-00010101000000-daa7c04131f5", false),
        ("bad", "", "00010101000000", "000000000000", "bad.0.0-00010101000000-000000000000", false),
        ("bad", "", "20200229235959", "daa7c04131f5", "bad.0.0-20200229235959-daa7c04131f5", false),
        ("bad", "", "20200229235959", "000000000000", "bad.0.0-20200229235959-000000000000", false),
        ("v2", "v1.2.3", "20191109021931", "daa7c04131f5", "v1.2.4-0.20191109021931-daa7c04131f5", true),
        ("v2", "v1.2.3", "20191109021931", "000000000000", "v1.2.4-0.20191109021931-000000000000", true),
        ("V1", "", "20191109021931", "daa7c04131f5", "V1.0.0-20191109021931-daa7c04131f5", false),
        ("V1", "", "20191109021931", "000000000000", "V1.0.0-20191109021931-000000000000", false),
        ("V1", "", "00010101000000", "daa7c04131f5", "V1.0.0-00010101000000-daa7c04131f5", false),
        ("V1", "", "00010101000000", "000000000000", "V1.0.0-00010101000000-000000000000", false),
        ("V1", "", "20200229235959", "daa7c04131f5", "V1.0.0-20200229235959-daa7c04131f5", false),
        ("V1", "", "20200229235959", "000000000000", "V1.0.0-20200229235959-000000000000", false),
        ("v1", "v1.2.3-0", "20191109021931", "daa7c04131f5", "v1.2.3-0.0.20191109021931-daa7c04131f5", true),
        ("v1", "v1.2.3-0", "20191109021931", "000000000000", "v1.2.3-0.0.20191109021931-000000000000", true),
        ("v1.0", "", "20191109021931", "daa7c04131f5", "v1.0.0.0-20191109021931-daa7c04131f5", false),
        ("v1.0", "", "20191109021931", "000000000000", "v1.0.0.0-20191109021931-000000000000", false),
        ("v1.0", "", "00010101000000", "daa7c04131f5", "v1.0.0.0-00010101000000-daa7c04131f5", false),
        ("v1.0", "", "00010101000000", "000000000000", "v1.0.0.0-00010101000000-000000000000", false),
        ("v1.0", "", "20200229235959", "daa7c04131f5", "v1.0.0.0-20200229235959-daa7c04131f5", false),
        ("v1.0", "", "20200229235959", "000000000000", "v1.0.0.0-20200229235959-000000000000", false),
        ("v", "", "20191109021931", "daa7c04131f5", "v.0.0-20191109021931-daa7c04131f5", false),
        ("v", "", "20191109021931", "000000000000", "v.0.0-20191109021931-000000000000", false),
        ("v", "", "00010101000000", "daa7c04131f5", "v.0.0-00010101000000-daa7c04131f5", false),
        ("v", "", "00010101000000", "000000000000", "v.0.0-00010101000000-000000000000", false),
        ("v", "", "20200229235959", "daa7c04131f5", "v.0.0-20200229235959-daa7c04131f5", false),
        ("v", "", "20200229235959", "000000000000", "v.0.0-20200229235959-000000000000", false),
        ("v1", "v1.2.3", "20191109021931", "abc-def", "v1.2.4-0.20191109021931-abc-def", false),
        ("v1", "v1.2.3", "20191109021931", "", "v1.2.4-0.20191109021931-", false),
        ("v1", "", "20191109021931", "a+b", "v1.0.0-20191109021931-a+b", true),
    ];
    /// (major, ZeroPseudoVersion(major)).
    #[rustfmt::skip]
    const ZEROS: &[(&str, &str)] = &[
        ("", "v0.0.0-00010101000000-000000000000"),
        ("v0", "v0.0.0-00010101000000-000000000000"),
        ("v1", "v1.0.0-00010101000000-000000000000"),
        ("v2", "v2.0.0-00010101000000-000000000000"),
        ("v10", "v10.0.0-00010101000000-000000000000"),
        ("bad", "bad.0.0-00010101000000-000000000000"),
    ];
}
