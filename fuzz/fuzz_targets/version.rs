//! Versions and version queries: Go's semantic versions (agora-core
//! `semver`), pseudo-versions (`pseudo`), module path and version pairs
//! (`path::check`, `split_path_version`), a query as a request names it
//! (`Version::from_escaped`), and an upstream `.info` (`RevInfo::parse`).
//!
//! The input is up to four strings separated by newlines. Besides never
//! panicking: canonical forms are valid, fixed points and compare equal to
//! what they came from; comparison is antisymmetric; a pseudo-version built
//! by `pseudo_version` parses back into its parts and sorts after its base.
#![no_main]

use std::cmp::Ordering;

use agora_core::{ModulePath, RevInfo, Version, path, pseudo, semver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = RevInfo::parse(data) {
        assert!(semver::is_valid(&info.version), "{:?}", info.version);
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = s.splitn(4, '\n');
    let mut next = || parts.next().unwrap_or("");
    let (a, b, c, d) = (next(), next(), next(), next());

    for v in [a, b, c, d] {
        one_version(v);
    }
    let ab = semver::compare(a, b);
    assert_eq!(ab, semver::compare(b, a).reverse(), "{a:?} {b:?}");
    assert_eq!(
        semver::compare_version(a, b) == Ordering::Equal,
        a == b,
        "{a:?} {b:?}"
    );
    let m = semver::max(a, b);
    assert!(m == a || m == b);

    // Building a pseudo-version from fuzzed parts (major, older, time, rev).
    if let Ok(p) = pseudo::pseudo_version(a, b, c, d) {
        assert!(
            pseudo::is_pseudo_version(&p),
            "{p:?} from {a:?} {b:?} {c:?} {d:?}"
        );
        assert_eq!(pseudo::pseudo_version_rev(&p).ok(), Some(d), "{p:?}");
        assert_eq!(pseudo::pseudo_version_time(&p).ok(), Some(c), "{p:?}");
        let base = if semver::is_valid(b) {
            format!("{}{}", semver::canonical(b), semver::build(b))
        } else {
            String::new()
        };
        assert_eq!(
            pseudo::pseudo_version_base(&p).ok().as_deref(),
            Some(base.as_str()),
            "{p:?} from older {b:?}"
        );
    }

    // A module path and a version, as a request pairs them.
    let _ = path::check(a, b);
    if let Some((prefix, major)) = path::split_path_version(a) {
        assert_eq!(format!("{prefix}{major}"), a);
        let _ = path::check_path_major(b, major);
    }
    if let (Ok(module), Ok(query)) = (ModulePath::new(a), Version::from_escaped(b)) {
        if query.is_canonical_for(&module) {
            assert!(path::check(a, query.as_str()).is_ok(), "{a:?}@{b:?}");
            assert_eq!(path::canonical_version(query.as_str()), query.as_str());
        }
        let _ = query.is_pseudo();
    }
});

fn one_version(v: &str) {
    if !semver::is_valid(v) {
        assert_eq!(semver::canonical(v), "", "{v:?}");
        assert!(!pseudo::is_pseudo_version(v), "{v:?}");
        return;
    }
    let c = semver::canonical(v);
    assert!(semver::is_valid(&c), "{v:?} -> {c:?}");
    assert_eq!(semver::canonical(&c), c, "{v:?}");
    assert_eq!(semver::compare(v, &c), Ordering::Equal, "{v:?} -> {c:?}");
    assert_eq!(semver::prerelease(&c), semver::prerelease(v), "{v:?}");
    assert!(semver::build(&c).is_empty(), "{v:?}");
    assert!(c.starts_with(&semver::major_minor(v)), "{v:?}");
    assert!(
        semver::major_minor(v).starts_with(&semver::major(v)),
        "{v:?}"
    );
    let cv = path::canonical_version(v);
    assert_eq!(semver::compare(v, &cv), Ordering::Equal, "{v:?} -> {cv:?}");
    assert_eq!(path::canonical_version(&cv), cv, "{v:?}");

    if pseudo::is_pseudo_version(v) {
        let rev = pseudo::pseudo_version_rev(v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
        assert!(!rev.is_empty() && rev.bytes().all(|b| b.is_ascii_alphanumeric()));
        let _ = pseudo::pseudo_version_time(v);
        if let Ok(base) = pseudo::pseudo_version_base(v)
            && !base.is_empty()
        {
            assert!(semver::is_valid(&base), "{v:?} base {base:?}");
            assert_eq!(
                semver::compare(&base, v),
                Ordering::Less,
                "{v:?} base {base:?}"
            );
        }
    } else {
        assert!(pseudo::pseudo_version_rev(v).is_err(), "{v:?}");
    }
    let zero = pseudo::zero_pseudo_version(&semver::major(v));
    assert!(pseudo::is_zero_pseudo_version(&zero), "{zero:?}");
}
