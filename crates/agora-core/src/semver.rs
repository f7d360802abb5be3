//! Go's dialect of semantic versioning, following `golang.org/x/mod/semver`.
//!
//! Versions carry a leading `v` (`v1.2.3-pre+build`), and `vMAJOR` and
//! `vMAJOR.MINOR` are accepted as shorthands for `vMAJOR.0.0` and
//! `vMAJOR.MINOR.0`. Like Go, the functions here never fail: an invalid
//! version yields `""` (or sorts below every valid one), so they are safe on
//! any input.

use std::cmp::Ordering;

/// The pieces of a valid version, as slices of the input.
#[derive(Debug, Clone, Copy)]
struct Parsed<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    /// What `canonical` must append to a shorthand (`.0.0` or `.0`).
    short: &'static str,
    /// `-pre`, including the hyphen, or empty.
    prerelease: &'a str,
    /// `+build`, including the plus, or empty.
    build: &'a str,
}

/// Reports whether `v` is a valid semantic version in Go's dialect.
pub fn is_valid(v: &str) -> bool {
    parse(v).is_some()
}

/// The canonical form of `v`: missing `.MINOR`/`.PATCH` filled in with zeros
/// and build metadata dropped, so that two versions are equal exactly when
/// their canonical forms are. Returns `""` for an invalid version.
pub fn canonical(v: &str) -> String {
    let Some(p) = parse(v) else {
        return String::new();
    };
    if !p.build.is_empty() {
        return v[..v.len() - p.build.len()].to_owned();
    }
    format!("{v}{}", p.short)
}

/// The major-version prefix of `v`, such as `v2` for `v2.1.0`, or `""` if
/// `v` is invalid.
pub fn major(v: &str) -> String {
    match parse(v) {
        Some(p) => format!("v{}", p.major),
        None => String::new(),
    }
}

/// The `major.minor` prefix of `v`, such as `v2.1` for `v2.1.0` (and `v2.0`
/// for the shorthand `v2`), or `""` if `v` is invalid.
pub fn major_minor(v: &str) -> String {
    match parse(v) {
        Some(p) => format!("v{}.{}", p.major, p.minor),
        None => String::new(),
    }
}

/// The prerelease suffix of `v` including its hyphen, such as `-pre` for
/// `v2.1.0-pre+meta`, or `""` if there is none or `v` is invalid.
pub fn prerelease(v: &str) -> String {
    parse(v).map_or_else(String::new, |p| p.prerelease.to_owned())
}

/// The build suffix of `v` including its plus sign, such as `+meta` for
/// `v2.1.0+meta`, or `""` if there is none or `v` is invalid.
pub fn build(v: &str) -> String {
    parse(v).map_or_else(String::new, |p| p.build.to_owned())
}

/// Compares two versions by semantic-version precedence (build metadata is
/// ignored). An invalid version sorts below every valid one, and all
/// invalid versions compare equal, exactly as Go's `semver.Compare`.
pub fn compare(v: &str, w: &str) -> Ordering {
    match (parse(v), parse(w)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(pv), Some(pw)) => compare_int(pv.major, pw.major)
            .then_with(|| compare_int(pv.minor, pw.minor))
            .then_with(|| compare_int(pv.patch, pw.patch))
            .then_with(|| compare_prerelease(pv.prerelease, pw.prerelease)),
    }
}

/// The greater of `v` and `w` by [`compare`], returned as given; on a tie
/// (including two invalid versions) `w` is returned, as in Go.
///
/// Go's deprecated `semver.Max` also canonicalizes its result; that is
/// [`max_canonical`]. This borrowing variant avoids rewriting a version the
/// caller may need verbatim.
pub fn max<'a>(v: &'a str, w: &'a str) -> &'a str {
    if compare(v, w) == Ordering::Greater {
        v
    } else {
        w
    }
}

/// Go's `semver.Max`: canonicalizes both versions and returns the greater
/// (`""` when both are invalid).
pub fn max_canonical(v: &str, w: &str) -> String {
    let (v, w) = (canonical(v), canonical(w));
    if compare(&v, &w) == Ordering::Greater {
        v
    } else {
        w
    }
}

/// Sorts versions by [`compare`], breaking ties (`v1` and `v1.0.0`, or any
/// two invalid strings) by byte-wise string order, as Go's `semver.Sort`,
/// so the result does not depend on the input order.
pub fn sort(list: &mut [String]) {
    list.sort_by(|a, b| compare_version(a, b));
}

/// The total order behind [`sort`]: precedence first, then the raw strings.
pub fn compare_version(a: &str, b: &str) -> Ordering {
    compare(a, b).then_with(|| a.cmp(b))
}

fn parse(v: &str) -> Option<Parsed<'_>> {
    let rest = v.strip_prefix('v')?;
    let (major, rest) = parse_int(rest)?;
    if rest.is_empty() {
        return Some(Parsed {
            major,
            minor: "0",
            patch: "0",
            short: ".0.0",
            prerelease: "",
            build: "",
        });
    }
    let (minor, rest) = parse_int(rest.strip_prefix('.')?)?;
    if rest.is_empty() {
        return Some(Parsed {
            major,
            minor,
            patch: "0",
            short: ".0",
            prerelease: "",
            build: "",
        });
    }
    let (patch, mut rest) = parse_int(rest.strip_prefix('.')?)?;
    let mut prerelease = "";
    if rest.starts_with('-') {
        (prerelease, rest) = parse_prerelease(rest)?;
    }
    let mut build = "";
    if rest.starts_with('+') {
        (build, rest) = parse_build(rest)?;
    }
    if !rest.is_empty() {
        return None;
    }
    Some(Parsed {
        major,
        minor,
        patch,
        short: "",
        prerelease,
        build,
    })
}

/// Splits a leading decimal number without extra leading zeros off `v`.
fn parse_int(v: &str) -> Option<(&str, &str)> {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits > 1 && v.starts_with('0')) {
        return None;
    }
    Some(v.split_at(digits))
}

/// Splits `-ident(.ident)*` off `v`: identifiers are non-empty, made of
/// `[0-9A-Za-z-]`, and numeric ones have no leading zeros.
fn parse_prerelease(v: &str) -> Option<(&str, &str)> {
    let body = v.strip_prefix('-')?;
    let end = body.find('+').unwrap_or(body.len());
    let idents = &body[..end];
    let ok = idents
        .split('.')
        .all(|id| !id.is_empty() && id.bytes().all(is_ident_char) && !is_bad_num(id));
    ok.then(|| v.split_at(1 + end))
}

/// Splits `+ident(.ident)*` off `v`; build identifiers may have leading
/// zeros and must run to the end of the string.
fn parse_build(v: &str) -> Option<(&str, &str)> {
    let body = v.strip_prefix('+')?;
    let ok = body
        .split('.')
        .all(|id| !id.is_empty() && id.bytes().all(is_ident_char));
    ok.then_some((v, ""))
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

fn is_bad_num(id: &str) -> bool {
    id.len() > 1 && id.starts_with('0') && is_num(id)
}

fn is_num(id: &str) -> bool {
    id.bytes().all(|c| c.is_ascii_digit())
}

/// Compares decimal strings without leading zeros: the longer is larger,
/// which avoids overflow on arbitrarily long numbers.
fn compare_int(x: &str, y: &str) -> Ordering {
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

/// Prerelease precedence per semver.org §11: no prerelease beats any
/// prerelease; identifiers compare numerically when both are numeric,
/// numeric ones sort before alphanumeric ones, others compare as ASCII; a
/// longer list wins when one is a prefix of the other.
fn compare_prerelease(x: &str, y: &str) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    if x.is_empty() {
        return Ordering::Greater;
    }
    if y.is_empty() {
        return Ordering::Less;
    }
    let mut xs = x[1..].split('.');
    let mut ys = y[1..].split('.');
    loop {
        match (xs.next(), ys.next()) {
            (Some(dx), Some(dy)) => {
                if dx == dy {
                    continue;
                }
                return match (is_num(dx), is_num(dy)) {
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (true, true) => compare_int(dx, dy),
                    (false, false) => dx.cmp(dy),
                };
            }
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (None, None) => return Ordering::Equal,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The expected values were produced by running the go1.27.3 toolchain's
    //! vendored `golang.org/x/mod/semver` on these inputs; the first rows of
    //! `VERSIONS` and all of `COMPARE_MATRIX` are Go's own semver test list.

    use super::*;

    fn ordering(c: i32) -> Ordering {
        c.cmp(&0)
    }

    #[test]
    fn accessors_match_go() {
        for &(v, valid, canon, maj, maj_min, pre, bld) in VERSIONS {
            assert_eq!(is_valid(v), valid, "IsValid({v:?})");
            assert_eq!(canonical(v), canon, "Canonical({v:?})");
            assert_eq!(major(v), maj, "Major({v:?})");
            assert_eq!(major_minor(v), maj_min, "MajorMinor({v:?})");
            assert_eq!(prerelease(v), pre, "Prerelease({v:?})");
            assert_eq!(build(v), bld, "Build({v:?})");
        }
    }

    #[test]
    fn compare_matrix_matches_go() {
        for &(v, row) in COMPARE_MATRIX {
            assert_eq!(row.len(), COMPARE_MATRIX.len());
            for (&(w, _), cell) in COMPARE_MATRIX.iter().zip(row.chars()) {
                let want = match cell {
                    '<' => Ordering::Less,
                    '=' => Ordering::Equal,
                    _ => Ordering::Greater,
                };
                assert_eq!(compare(v, w), want, "Compare({v:?}, {w:?})");
            }
        }
    }

    #[test]
    fn compare_and_max_match_go() {
        for &(v, w, cmp, go_max) in COMPARES {
            assert_eq!(compare(v, w), ordering(cmp), "Compare({v:?}, {w:?})");
            assert_eq!(max_canonical(v, w), go_max, "Max({v:?}, {w:?})");
            let borrowed = max(v, w);
            assert_eq!(
                canonical(borrowed),
                go_max,
                "max({v:?}, {w:?}) = {borrowed:?}"
            );
        }
    }

    #[test]
    fn sort_matches_go() {
        for &(input, want) in SORTS {
            let mut list: Vec<String> = input.iter().map(|s| (*s).to_owned()).collect();
            sort(&mut list);
            assert_eq!(list, want, "Sort({input:?})");
        }
    }

    #[test]
    fn sort_is_total_on_hostile_input() {
        // Rust's sort may panic on an inconsistent order; feed it a mix of
        // valid, invalid and near-valid versions to check the order holds.
        let alphabet = ["v", "1", "0", ".", "-", "+", "a", "9", "V", "\u{e9}", "\0"];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut list: Vec<String> = (0..4000)
            .map(|_| {
                let len = (next() % 14) as usize;
                let mut s = String::from("v1.");
                for _ in 0..len {
                    s.push_str(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
                s
            })
            .collect();
        list.push("v".repeat(8192));
        list.push(format!("v1.2.3-{}", "9".repeat(8192)));
        list.push(format!("v{}.0.0", "9".repeat(8192)));
        sort(&mut list);
        for pair in list.windows(2) {
            assert_ne!(
                compare_version(&pair[0], &pair[1]),
                Ordering::Greater,
                "{pair:?}"
            );
        }
    }

    /// (version, IsValid, Canonical, Major, MajorMinor, Prerelease, Build).
    #[rustfmt::skip]
    const VERSIONS: &[(&str, bool, &str, &str, &str, &str, &str)] = &[
        ("bad", false, "", "", "", "", ""),
        ("v1-alpha.beta.gamma", false, "", "", "", "", ""),
        ("v1-pre", false, "", "", "", "", ""),
        ("v1+meta", false, "", "", "", "", ""),
        ("v1-pre+meta", false, "", "", "", "", ""),
        ("v1.2-pre", false, "", "", "", "", ""),
        ("v1.2+meta", false, "", "", "", "", ""),
        ("v1.2-pre+meta", false, "", "", "", "", ""),
        ("v1.0.0-alpha", true, "v1.0.0-alpha", "v1", "v1.0", "-alpha", ""),
        ("v1.0.0-alpha.1", true, "v1.0.0-alpha.1", "v1", "v1.0", "-alpha.1", ""),
        ("v1.0.0-alpha.beta", true, "v1.0.0-alpha.beta", "v1", "v1.0", "-alpha.beta", ""),
        ("v1.0.0-beta", true, "v1.0.0-beta", "v1", "v1.0", "-beta", ""),
        ("v1.0.0-beta.2", true, "v1.0.0-beta.2", "v1", "v1.0", "-beta.2", ""),
        ("v1.0.0-beta.11", true, "v1.0.0-beta.11", "v1", "v1.0", "-beta.11", ""),
        ("v1.0.0-rc.1", true, "v1.0.0-rc.1", "v1", "v1.0", "-rc.1", ""),
        ("v1", true, "v1.0.0", "v1", "v1.0", "", ""),
        ("v1.0", true, "v1.0.0", "v1", "v1.0", "", ""),
        ("v1.0.0", true, "v1.0.0", "v1", "v1.0", "", ""),
        ("v1.2", true, "v1.2.0", "v1", "v1.2", "", ""),
        ("v1.2.0", true, "v1.2.0", "v1", "v1.2", "", ""),
        ("v1.2.3-456", true, "v1.2.3-456", "v1", "v1.2", "-456", ""),
        ("v1.2.3-456.789", true, "v1.2.3-456.789", "v1", "v1.2", "-456.789", ""),
        ("v1.2.3-456-789", true, "v1.2.3-456-789", "v1", "v1.2", "-456-789", ""),
        ("v1.2.3-456a", true, "v1.2.3-456a", "v1", "v1.2", "-456a", ""),
        ("v1.2.3-pre", true, "v1.2.3-pre", "v1", "v1.2", "-pre", ""),
        ("v1.2.3-pre+meta", true, "v1.2.3-pre", "v1", "v1.2", "-pre", "+meta"),
        ("v1.2.3-pre.1", true, "v1.2.3-pre.1", "v1", "v1.2", "-pre.1", ""),
        ("v1.2.3-zzz", true, "v1.2.3-zzz", "v1", "v1.2", "-zzz", ""),
        ("v1.2.3", true, "v1.2.3", "v1", "v1.2", "", ""),
        ("v1.2.3+meta", true, "v1.2.3", "v1", "v1.2", "", "+meta"),
        ("v1.2.3+meta-pre", true, "v1.2.3", "v1", "v1.2", "", "+meta-pre"),
        ("v1.2.3+meta-pre.sha.256a", true, "v1.2.3", "v1", "v1.2", "", "+meta-pre.sha.256a"),
        ("", false, "", "", "", "", ""),
        ("v", false, "", "", "", "", ""),
        ("V1.2.3", false, "", "", "", "", ""),
        ("1.2.3", false, "", "", "", "", ""),
        ("v.1", false, "", "", "", "", ""),
        ("v1.", false, "", "", "", "", ""),
        ("v1..2", false, "", "", "", "", ""),
        ("v1.2.", false, "", "", "", "", ""),
        ("v1.2.3.4", false, "", "", "", "", ""),
        ("v01", false, "", "", "", "", ""),
        ("v1.02", false, "", "", "", "", ""),
        ("v1.2.03", false, "", "", "", "", ""),
        ("v0", true, "v0.0.0", "v0", "v0.0", "", ""),
        ("v0.0", true, "v0.0.0", "v0", "v0.0", "", ""),
        ("v0.0.0", true, "v0.0.0", "v0", "v0.0", "", ""),
        ("v00.0.0", false, "", "", "", "", ""),
        ("v1.2.3-", false, "", "", "", "", ""),
        ("v1.2.3+", false, "", "", "", "", ""),
        ("v1.2.3-.", false, "", "", "", "", ""),
        ("v1.2.3-a.", false, "", "", "", "", ""),
        ("v1.2.3-.a", false, "", "", "", "", ""),
        ("v1.2.3-a..b", false, "", "", "", "", ""),
        ("v1.2.3+a..b", false, "", "", "", "", ""),
        ("v1.2.3+a.", false, "", "", "", "", ""),
        ("v1.2.3-01", false, "", "", "", "", ""),
        ("v1.2.3-0", true, "v1.2.3-0", "v1", "v1.2", "-0", ""),
        ("v1.2.3-0a", true, "v1.2.3-0a", "v1", "v1.2", "-0a", ""),
        ("v1.2.3-00a", true, "v1.2.3-00a", "v1", "v1.2", "-00a", ""),
        ("v1.2.3-a.01", false, "", "", "", "", ""),
        ("v1.2.3-a.0", true, "v1.2.3-a.0", "v1", "v1.2", "-a.0", ""),
        ("v1.2.3+01", true, "v1.2.3", "v1", "v1.2", "", "+01"),
        ("v1.2.3+0.0", true, "v1.2.3", "v1", "v1.2", "", "+0.0"),
        ("v1.2.3-a_b", false, "", "", "", "", ""),
        ("v1.2.3 ", false, "", "", "", "", ""),
        (" v1.2.3", false, "", "", "", "", ""),
        ("v1.2.3\n", false, "", "", "", "", ""),
        ("v99999999999999999999.0.0", true, "v99999999999999999999.0.0", "v99999999999999999999", "v99999999999999999999.0", "", ""),
        ("v1.99999999999999999999.1", true, "v1.99999999999999999999.1", "v1", "v1.99999999999999999999", "", ""),
        ("v1.2.3-\u{e9}", false, "", "", "", "", ""),
        ("v1.2.3+incompatible", true, "v1.2.3", "v1", "v1.2", "", "+incompatible"),
        ("v2.0.0+incompatible", true, "v2.0.0", "v2", "v2.0", "", "+incompatible"),
        ("v2+incompatible", false, "", "", "", "", ""),
        ("v1.2.3-+", false, "", "", "", "", ""),
        ("v1.2.3--", true, "v1.2.3--", "v1", "v1.2", "--", ""),
        ("v1.2.3---", true, "v1.2.3---", "v1", "v1.2", "---", ""),
        ("v1.2.3-a-", true, "v1.2.3-a-", "v1", "v1.2", "-a-", ""),
        ("v1.2.3-A.B", true, "v1.2.3-A.B", "v1", "v1.2", "-A.B", ""),
        ("v1.2.3+A-B", true, "v1.2.3", "v1", "v1.2", "", "+A-B"),
        ("v1.2.3-pre+", false, "", "", "", "", ""),
        ("v1.2.3-pre+meta+more", false, "", "", "", "", ""),
        ("v1.2.3+meta-pre+x", false, "", "", "", "", ""),
        ("v1.2\0", false, "", "", "", "", ""),
        ("v1.2.3-\0", false, "", "", "", "", ""),
        ("v1.10", true, "v1.10.0", "v1", "v1.10", "", ""),
        ("v1.10.0", true, "v1.10.0", "v1", "v1.10", "", ""),
        ("v1.9.0", true, "v1.9.0", "v1", "v1.9", "", ""),
        ("v10", true, "v10.0.0", "v10", "v10.0", "", ""),
        ("v2", true, "v2.0.0", "v2", "v2.0", "", ""),
        ("v1.2.3-rc.10", true, "v1.2.3-rc.10", "v1", "v1.2", "-rc.10", ""),
        ("v1.2.3-rc.9", true, "v1.2.3-rc.9", "v1", "v1.2", "-rc.9", ""),
        ("v1.2.3-1", true, "v1.2.3-1", "v1", "v1.2", "-1", ""),
        ("v1.2.3-a", true, "v1.2.3-a", "v1", "v1.2", "-a", ""),
        ("v1.2.3-A", true, "v1.2.3-A", "v1", "v1.2", "-A", ""),
        ("v1.2.3-alpha.-1", true, "v1.2.3-alpha.-1", "v1", "v1.2", "-alpha.-1", ""),
        ("v1.2.3-x.7.z.92", true, "v1.2.3-x.7.z.92", "v1", "v1.2", "-x.7.z.92", ""),
        ("v1.0.0-0.3.7", true, "v1.0.0-0.3.7", "v1", "v1.0", "-0.3.7", ""),
        ("v0.0.0-20191109021931-daa7c04131f5", true, "v0.0.0-20191109021931-daa7c04131f5", "v0", "v0.0", "-20191109021931-daa7c04131f5", ""),
        ("v1-", false, "", "", "", "", ""),
        ("v1.2-", false, "", "", "", "", ""),
        ("v1+", false, "", "", "", "", ""),
        ("v1.2+", false, "", "", "", "", ""),
    ];
    /// Go's own semver test list; the second field holds Compare(row, column) for
    /// every version of the list, in order, as `<`, `=` or `>`.
    #[rustfmt::skip]
    const COMPARE_MATRIX: &[(&str, &str)] = &[
        ("bad", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1-alpha.beta.gamma", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1-pre", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1+meta", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1-pre+meta", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1.2-pre", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1.2+meta", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1.2-pre+meta", "========<<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1.0.0-alpha", ">>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1.0.0-alpha.1", ">>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<"),
        ("v1.0.0-alpha.beta", ">>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<"),
        ("v1.0.0-beta", ">>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<"),
        ("v1.0.0-beta.2", ">>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<"),
        ("v1.0.0-beta.11", ">>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<"),
        ("v1.0.0-rc.1", ">>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<"),
        ("v1", ">>>>>>>>>>>>>>>===<<<<<<<<<<<<<<"),
        ("v1.0", ">>>>>>>>>>>>>>>===<<<<<<<<<<<<<<"),
        ("v1.0.0", ">>>>>>>>>>>>>>>===<<<<<<<<<<<<<<"),
        ("v1.2", ">>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<"),
        ("v1.2.0", ">>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<"),
        ("v1.2.3-456", ">>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<"),
        ("v1.2.3-456.789", ">>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<"),
        ("v1.2.3-456-789", ">>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<"),
        ("v1.2.3-456a", ">>>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<"),
        ("v1.2.3-pre", ">>>>>>>>>>>>>>>>>>>>>>>>==<<<<<<"),
        ("v1.2.3-pre+meta", ">>>>>>>>>>>>>>>>>>>>>>>>==<<<<<<"),
        ("v1.2.3-pre.1", ">>>>>>>>>>>>>>>>>>>>>>>>>>=<<<<<"),
        ("v1.2.3-zzz", ">>>>>>>>>>>>>>>>>>>>>>>>>>>=<<<<"),
        ("v1.2.3", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>===="),
        ("v1.2.3+meta", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>===="),
        ("v1.2.3+meta-pre", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>===="),
        ("v1.2.3+meta-pre.sha.256a", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>===="),
    ];
    /// (v, w, Compare(v, w), Max(v, w)).
    #[rustfmt::skip]
    const COMPARES: &[(&str, &str, i32, &str)] = &[
        ("v1.2.3", "v1.2.3+meta", 0, "v1.2.3"),
        ("v1.10.0", "v1.9.0", 1, "v1.10.0"),
        ("v1.2.3-rc.10", "v1.2.3-rc.9", 1, "v1.2.3-rc.10"),
        ("v1.2.3-1", "v1.2.3-a", -1, "v1.2.3-a"),
        ("v1.2.3-A", "v1.2.3-a", -1, "v1.2.3-a"),
        ("v1.2.3-a", "v1.2.3-a.1", -1, "v1.2.3-a.1"),
        ("v10", "v9", 1, "v10.0.0"),
        ("v1.2", "v1.2.0", 0, "v1.2.0"),
        ("bad", "v0.0.0", -1, "v0.0.0"),
        ("bad", "worse", 0, ""),
        ("", "bad", 0, ""),
        ("v99999999999999999999.0.0", "v9.0.0", 1, "v99999999999999999999.0.0"),
        ("v1.0.0-alpha.-1", "v1.0.0-alpha.1", 1, "v1.0.0-alpha.-1"),
        ("v1.2.3-9", "v1.2.3-10", -1, "v1.2.3-10"),
        ("v1.2.3-a-b", "v1.2.3-a", 1, "v1.2.3-a-b"),
        ("v1.2.3-a.b", "v1.2.3-a-b", -1, "v1.2.3-a-b"),
        ("v1.2.3+incompatible", "v1.2.3", 0, "v1.2.3"),
        ("v2.0.0+incompatible", "v1.9.9", 1, "v2.0.0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "v1.0.0-0.20191109021931-daa7c04131f5", 1, "v1.0.0-20191109021931-daa7c04131f5"),
        ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", 1, "v1.2.4-0.20191109021931-daa7c04131f5"),
        ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-pre", -1, "v1.2.4-pre"),
        ("v1.3.0-rc.1.0.20191109021931-daa7c04131f5", "v1.3.0-rc.1", 1, "v1.3.0-rc.1.0.20191109021931-daa7c04131f5"),
        ("v1.3.0-rc.1.0.20191109021931-daa7c04131f5", "v1.3.0-rc.2", -1, "v1.3.0-rc.2"),
        ("v1", "v1.0.0+x", 0, "v1.0.0"),
        ("v1.0.0-0", "v1.0.0-00a", -1, "v1.0.0-00a"),
        ("v1.2.3+meta", "v1.2.3", 0, "v1.2.3"),
        ("v1.9.0", "v1.10.0", -1, "v1.10.0"),
        ("v1.2.3-rc.9", "v1.2.3-rc.10", -1, "v1.2.3-rc.10"),
        ("v1.2.3-a", "v1.2.3-1", 1, "v1.2.3-a"),
        ("v1.2.3-a", "v1.2.3-A", 1, "v1.2.3-a"),
        ("v1.2.3-a.1", "v1.2.3-a", 1, "v1.2.3-a.1"),
        ("v9", "v10", -1, "v10.0.0"),
        ("v1.2.0", "v1.2", 0, "v1.2.0"),
        ("v0.0.0", "bad", 1, "v0.0.0"),
        ("worse", "bad", 0, ""),
        ("bad", "", 0, ""),
        ("v9.0.0", "v99999999999999999999.0.0", -1, "v99999999999999999999.0.0"),
        ("v1.0.0-alpha.1", "v1.0.0-alpha.-1", -1, "v1.0.0-alpha.-1"),
        ("v1.2.3-10", "v1.2.3-9", 1, "v1.2.3-10"),
        ("v1.2.3-a", "v1.2.3-a-b", -1, "v1.2.3-a-b"),
        ("v1.2.3-a-b", "v1.2.3-a.b", 1, "v1.2.3-a-b"),
        ("v1.2.3", "v1.2.3+incompatible", 0, "v1.2.3"),
        ("v1.9.9", "v2.0.0+incompatible", -1, "v2.0.0"),
        ("v1.0.0-0.20191109021931-daa7c04131f5", "v1.0.0-20191109021931-daa7c04131f5", -1, "v1.0.0-20191109021931-daa7c04131f5"),
        ("v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5", -1, "v1.2.4-0.20191109021931-daa7c04131f5"),
        ("v1.2.4-pre", "v1.2.4-0.20191109021931-daa7c04131f5", 1, "v1.2.4-pre"),
        ("v1.3.0-rc.1", "v1.3.0-rc.1.0.20191109021931-daa7c04131f5", -1, "v1.3.0-rc.1.0.20191109021931-daa7c04131f5"),
        ("v1.3.0-rc.2", "v1.3.0-rc.1.0.20191109021931-daa7c04131f5", 1, "v1.3.0-rc.2"),
        ("v1.0.0+x", "v1", 0, "v1.0.0"),
        ("v1.0.0-00a", "v1.0.0-0", 1, "v1.0.0-00a"),
    ];
    /// (input, semver.Sort result).
    #[rustfmt::skip]
    const SORTS: &[(&[&str], &[&str])] = &[
        (&["v1.10.0", "v1.2.0", "v1.9.0", "bad", "v1.2", "v1.2.0+meta", "v1.0.0-rc.1", "", "v1.0.0-rc.10", "v1.0.0-rc.2", "v1", "v1.0", "v1.0.0", "zzz", "v0.0.0-20191109021931-daa7c04131f5"], &["", "bad", "zzz", "v0.0.0-20191109021931-daa7c04131f5", "v1.0.0-rc.1", "v1.0.0-rc.2", "v1.0.0-rc.10", "v1", "v1.0", "v1.0.0", "v1.2", "v1.2.0", "v1.2.0+meta", "v1.9.0", "v1.10.0"]),
        (&["v2.0.0+incompatible", "v2.0.0", "v1.0.0+b", "v1.0.0+a", "v1.0.0", "v1", "v1.0"], &["v1", "v1.0", "v1.0.0", "v1.0.0+a", "v1.0.0+b", "v2.0.0", "v2.0.0+incompatible"]),
        (&["b", "a", "c", "v0.1.0"], &["a", "b", "c", "v0.1.0"]),
        (&[], &[]),
        (&["v1.0.0"], &["v1.0.0"]),
    ];
}
