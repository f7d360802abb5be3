//! Module, import and file path validity, and how a module path ends in its
//! major version, following `golang.org/x/mod/module` (`CheckPath`,
//! `CheckImportPath`, `CheckFilePath`, `SplitPathVersion`, `CheckPathMajor`,
//! `Check`).
//!
//! These rules decide which requests agora will serve at all, so they run on
//! untrusted input: every function here accepts any string and never panics.
//! Error messages follow the go command's wording, so that a client sees the
//! same reason whether it talks to agora or validates locally.

use crate::semver;

/// A module path, import path, file path or path/version pair that Go's
/// rules reject.
///
/// `Display` gives the go command's one-line message, such as
/// `malformed module path "example.com/a//b": double slash`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PathError {
    message: String,
}

impl PathError {
    fn new(message: String) -> Self {
        PathError { message }
    }

    /// The full message, as `Display` prints it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Which rule set a path is checked against; Go applies the same structure
/// to all three and differs only in a few details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Module,
    Import,
    File,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Module => "module",
            Kind::Import => "import",
            Kind::File => "file",
        }
    }
}

/// Checks that `path` is a valid module path (Go's `module.CheckPath`).
///
/// A module path is an import path whose first element looks like a
/// lower-case domain name with a dot in it, whose elements never start with
/// a dot, and whose final `/vN` element (if any) is a well-formed major
/// version suffix (for `gopkg.in/` paths: a `.vN` suffix).
pub fn check_path(path: &str) -> Result<(), PathError> {
    check_module_path(path).map_err(|reason| invalid_path(Kind::Module, path, &reason))
}

fn check_module_path(path: &str) -> Result<(), String> {
    check_general(path, Kind::Module)?;
    let first_end = path.find('/').unwrap_or(path.len());
    if first_end == 0 {
        return Err("leading slash".to_owned());
    }
    let first = &path[..first_end];
    if !first.contains('.') {
        return Err("missing dot in first path element".to_owned());
    }
    if path.starts_with('-') {
        return Err("leading dash in first path element".to_owned());
    }
    if let Some(c) = first.chars().find(|&c| !first_path_ok(c)) {
        return Err(format!(
            "invalid char {} in first path element",
            go_quote_rune(c)
        ));
    }
    if split_path_version(path).is_none() {
        return Err("invalid version".to_owned());
    }
    Ok(())
}

/// Checks that `path` is a valid package import path (Go's
/// `module.CheckImportPath`): slash-separated elements of ASCII letters,
/// digits and `-._~+`, with no empty, all-dot or dot-ending elements, no
/// Windows reserved names and no Windows short-name (`~1`) suffixes.
pub fn check_import_path(path: &str) -> Result<(), PathError> {
    check_general(path, Kind::Import).map_err(|reason| invalid_path(Kind::Import, path, &reason))
}

/// Checks that `path` is a valid slash-separated file path inside a module
/// (Go's `module.CheckFilePath`), the rule every file in a module zip must
/// pass.
///
/// File names may use any Unicode letter, ASCII digits, space and the
/// punctuation `!#$%&()+,-.=@[]^_{}~`; Windows reserved names are still
/// rejected, but short-name suffixes are not.
pub fn check_file_path(path: &str) -> Result<(), PathError> {
    check_general(path, Kind::File).map_err(|reason| invalid_path(Kind::File, path, &reason))
}

fn invalid_path(kind: Kind, path: &str, reason: &str) -> PathError {
    PathError::new(format!(
        "malformed {} path {}: {reason}",
        kind.noun(),
        go_quote(path)
    ))
}

/// The checks shared by module, import and file paths (Go's `checkPath`).
/// Returns the bare reason; callers add the "malformed ... path" wrapping.
fn check_general(path: &str, kind: Kind) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty string".to_owned());
    }
    if path.starts_with('-') && kind != Kind::File {
        return Err("leading dash".to_owned());
    }
    if path.contains("//") {
        return Err("double slash".to_owned());
    }
    if path.ends_with('/') {
        return Err("trailing slash".to_owned());
    }
    path.split('/').try_for_each(|elem| check_elem(elem, kind))
}

/// Checks one path element (Go's `checkElem`). A version string is checked
/// as a file-path element too, which is why this is shared with `escape`.
fn check_elem(elem: &str, kind: Kind) -> Result<(), String> {
    if elem.is_empty() {
        return Err("empty path element".to_owned());
    }
    if elem.bytes().all(|b| b == b'.') {
        return Err(format!("invalid path element {}", go_quote(elem)));
    }
    if elem.starts_with('.') && kind == Kind::Module {
        return Err("leading dot in path element".to_owned());
    }
    if elem.ends_with('.') {
        return Err("trailing dot in path element".to_owned());
    }
    let char_ok = match kind {
        Kind::Module => mod_path_ok,
        Kind::Import => import_path_ok,
        Kind::File => file_name_ok,
    };
    if let Some(c) = elem.chars().find(|&c| !char_ok(c)) {
        return Err(format!("invalid char {}", go_quote_rune(c)));
    }

    // Windows refuses these names whatever follows the first dot, so
    // "con.txt" is as unusable as "con".
    let short = elem.split('.').next().unwrap_or(elem);
    // Every reserved name is ASCII and no non-ASCII rune case-folds to one of
    // their letters, so an ASCII case-insensitive compare is Go's EqualFold here.
    if BAD_WINDOWS_NAMES
        .iter()
        .any(|bad| bad.eq_ignore_ascii_case(short))
    {
        return Err(format!(
            "{} disallowed as path element component on Windows",
            go_quote(short)
        ));
    }

    if kind == Kind::File {
        // Short names only matter where the go command creates directories
        // named after the path, which file paths inside a zip never drive.
        return Ok(());
    }

    // "PROGRA~1"-style names can alias a longer name on Windows file systems.
    if let Some(tilde) = short.rfind('~') {
        let suffix = &short[tilde + 1..];
        if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
            return Err("trailing tilde and digits in path element".to_owned());
        }
    }
    Ok(())
}

/// Checks a version string the way `EscapeVersion`/`UnescapeVersion` do:
/// it must be a valid file-name element. Returns the bare reason.
pub(crate) fn check_version_elem(version: &str) -> Result<(), String> {
    check_elem(version, Kind::File)
}

/// Reserved device names on Windows, checked case-insensitively.
const BAD_WINDOWS_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// The first element must be a lower-case LDH domain name so that two
/// spellings of a host can never name different modules.
fn first_path_ok(c: char) -> bool {
    matches!(c, '-' | '.' | '0'..='9' | 'a'..='z')
}

/// Module paths avoid characters that change meaning in URLs (`%`, `+`) or
/// shells, and stay ASCII until Go defines a Unicode escaping.
fn mod_path_ok(c: char) -> bool {
    matches!(c, '-' | '.' | '_' | '~' | '0'..='9' | 'A'..='Z' | 'a'..='z')
}

/// Import paths additionally allow `+`, historically used in binary names
/// such as `g++`.
fn import_path_ok(c: char) -> bool {
    mod_path_ok(c) || c == '+'
}

/// File names allow all Unicode letters but only the ASCII punctuation that
/// no common shell or file system treats specially.
fn file_name_ok(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || "!#$%&()+,-.=@[]^_{}~ ".contains(c);
    }
    is_go_letter(c)
}

/// Splits a module path into the prefix and the major-version suffix, such
/// that `prefix + path_major == path` (Go's `module.SplitPathVersion`).
///
/// `path_major` is `""` or `/vN` with N ≥ 2 and no leading zero; for
/// `gopkg.in/` paths it is `.vN` (any N, including `.v0` and `.v1`),
/// optionally followed by `-unstable`. Returns `None` when the final element
/// looks like a version but is not an allowed one, such as `/v1`, `/v02` or
/// `/v2.1`, or when a `gopkg.in/` path lacks its `.vN`.
pub fn split_path_version(path: &str) -> Option<(&str, &str)> {
    if path.starts_with("gopkg.in/") {
        return split_gopkg_in(path);
    }
    let b = path.as_bytes();
    let mut i = b.len();
    let mut dot = false;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        dot |= b[i - 1] == b'.';
        i -= 1;
    }
    if i <= 1 || i == b.len() || b[i - 1] != b'v' || b[i - 2] != b'/' {
        return Some((path, ""));
    }
    // Bytes i-2 and i-1 are ASCII, so this is a char boundary.
    let (prefix, path_major) = path.split_at(i - 2);
    let pm = path_major.as_bytes();
    if dot || pm.len() <= 2 || pm[2] == b'0' || path_major == "/v1" {
        return None;
    }
    Some((prefix, path_major))
}

/// `split_path_version` for `gopkg.in/` paths, which name the major version
/// as `pkg.vN` rather than `pkg/vN`.
fn split_gopkg_in(path: &str) -> Option<(&str, &str)> {
    let b = path.as_bytes();
    let mut i = b.len();
    if path.ends_with("-unstable") {
        i -= "-unstable".len();
    }
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i <= 1 || b[i - 1] != b'v' || b[i - 2] != b'.' {
        return None;
    }
    let (prefix, path_major) = path.split_at(i - 2);
    let pm = path_major.as_bytes();
    // Go's check, kept as is: ".v0" is the only suffix allowed to start with
    // a zero, so ".v0-unstable" is rejected while ".v1-unstable" is not.
    if pm.len() <= 2 || (pm[2] == b'0' && path_major != ".v0") {
        return None;
    }
    Some((prefix, path_major))
}

/// Checks that semantic version `version` fits the major-version suffix
/// `path_major` returned by [`split_path_version`] (Go's
/// `module.CheckPathMajor`).
///
/// An empty suffix accepts `v0`, `v1` and any `+incompatible` version; `/vN`
/// and `.vN` accept only major `vN`. As in Go, `gopkg.in` `.v1` paths also
/// accept `v0.0.0-` pseudo-versions, which old go commands generated for them.
pub fn check_path_major(version: &str, path_major: &str) -> Result<(), PathError> {
    path_major_mismatch(version, path_major).map_err(|reason| {
        PathError::new(format!("version {} invalid: {reason}", go_quote(version)))
    })
}

/// The rule behind [`check_path_major`], returning the bare reason so that
/// [`check`] can word the error the way Go's `ModuleError` does.
fn path_major_mismatch(version: &str, path_major: &str) -> Result<(), String> {
    let mut path_major = path_major;
    if path_major.starts_with(".v") {
        path_major = path_major.strip_suffix("-unstable").unwrap_or(path_major);
    }
    if version.starts_with("v0.0.0-") && path_major == ".v1" {
        return Ok(());
    }
    let m = semver::major(version);
    let want = if path_major.is_empty() {
        if m == "v0" || m == "v1" || semver::build(version) == "+incompatible" {
            return Ok(());
        }
        "v0 or v1"
    } else if let Some(want) = path_major.strip_prefix(['/', '.']) {
        if m == want {
            return Ok(());
        }
        want
    } else {
        path_major
    };
    Err(format!("should be {want}, not {m}"))
}

/// Checks a module path and version pair (Go's `module.Check`): the path
/// must pass [`check_path`], the version must be a valid semantic version
/// (Go does not require the canonical form here), and the version's major
/// must fit the path's suffix as [`check_path_major`] decides.
pub fn check(path: &str, version: &str) -> Result<(), PathError> {
    check_path(path)?;
    let path_major = split_path_version(path).map_or("", |(_, major)| major);
    let result = if semver::is_valid(version) {
        path_major_mismatch(version, path_major)
    } else {
        Err("not a semantic version".to_owned())
    };
    result.map_err(|reason| PathError::new(format!("{path}@{version}: invalid version: {reason}")))
}

/// The canonical form of a module version (Go's `module.CanonicalVersion`):
/// [`semver::canonical`], except that a `+incompatible` build suffix is kept,
/// because it is part of how the go command names such versions.
/// Returns `""` for an invalid version.
pub fn canonical_version(version: &str) -> String {
    let mut canonical = semver::canonical(version);
    if semver::build(version) == "+incompatible" {
        canonical.push_str("+incompatible");
    }
    canonical
}

/// Quotes `s` the way Go's `strconv.Quote` (`%q`) does, so error messages
/// read like the go command's and never carry raw control characters.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_quoted(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Quotes one character the way Go's `strconv.QuoteRune` does.
pub(crate) fn go_quote_rune(c: char) -> String {
    let mut out = String::with_capacity(8);
    out.push('\'');
    push_quoted(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_quoted(out: &mut String, c: char, quote: char) {
    use std::fmt::Write as _;
    match c {
        _ if c == quote || c == '\\' => {
            out.push('\\');
            out.push(c);
        }
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        ' '..='~' => out.push(c),
        '\0'..='\u{1f}' | '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        _ if is_go_printable(c) => out.push(c),
        _ if u32::from(c) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
        _ => {
            let _ = write!(out, "\\U{:08x}", u32::from(c));
        }
    }
}

/// An approximation of Go's `unicode.IsPrint` for non-ASCII characters:
/// it only affects how error messages quote exotic characters, never
/// whether a path is accepted.
fn is_go_printable(c: char) -> bool {
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}' | '\u{f0000}'..)
        || (u32::from(c) & 0xfffe) == 0xfffe)
}

/// Go's `unicode.IsLetter` (general category L), which decides which
/// non-ASCII characters file names may use. Rust's `char::is_alphabetic`
/// is a different, larger property (it includes letter numbers and many
/// combining marks), so Go's own table is used instead.
fn is_go_letter(c: char) -> bool {
    let c = u32::from(c);
    // LETTER_RANGES holds sorted, disjoint inclusive (lo, hi) pairs.
    let pairs = LETTER_RANGES.len() / 2;
    let (mut lo, mut hi) = (0, pairs);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if c < LETTER_RANGES[2 * mid] {
            hi = mid;
        } else if c > LETTER_RANGES[2 * mid + 1] {
            lo = mid + 1;
        } else {
            return true;
        }
    }
    false
}

/// The non-ASCII code points Go 1.27 (Unicode 17.0.0) classifies as letters,
/// as inclusive `lo, hi` pairs, generated from `unicode.IsLetter`.
#[rustfmt::skip]
const LETTER_RANGES: &[u32] = &[
    0x00AA, 0x00AA, 0x00B5, 0x00B5, 0x00BA, 0x00BA, 0x00C0, 0x00D6, 0x00D8, 0x00F6,
    0x00F8, 0x02C1, 0x02C6, 0x02D1, 0x02E0, 0x02E4, 0x02EC, 0x02EC, 0x02EE, 0x02EE,
    0x0370, 0x0374, 0x0376, 0x0377, 0x037A, 0x037D, 0x037F, 0x037F, 0x0386, 0x0386,
    0x0388, 0x038A, 0x038C, 0x038C, 0x038E, 0x03A1, 0x03A3, 0x03F5, 0x03F7, 0x0481,
    0x048A, 0x052F, 0x0531, 0x0556, 0x0559, 0x0559, 0x0560, 0x0588, 0x05D0, 0x05EA,
    0x05EF, 0x05F2, 0x0620, 0x064A, 0x066E, 0x066F, 0x0671, 0x06D3, 0x06D5, 0x06D5,
    0x06E5, 0x06E6, 0x06EE, 0x06EF, 0x06FA, 0x06FC, 0x06FF, 0x06FF, 0x0710, 0x0710,
    0x0712, 0x072F, 0x074D, 0x07A5, 0x07B1, 0x07B1, 0x07CA, 0x07EA, 0x07F4, 0x07F5,
    0x07FA, 0x07FA, 0x0800, 0x0815, 0x081A, 0x081A, 0x0824, 0x0824, 0x0828, 0x0828,
    0x0840, 0x0858, 0x0860, 0x086A, 0x0870, 0x0887, 0x0889, 0x088F, 0x08A0, 0x08C9,
    0x0904, 0x0939, 0x093D, 0x093D, 0x0950, 0x0950, 0x0958, 0x0961, 0x0971, 0x0980,
    0x0985, 0x098C, 0x098F, 0x0990, 0x0993, 0x09A8, 0x09AA, 0x09B0, 0x09B2, 0x09B2,
    0x09B6, 0x09B9, 0x09BD, 0x09BD, 0x09CE, 0x09CE, 0x09DC, 0x09DD, 0x09DF, 0x09E1,
    0x09F0, 0x09F1, 0x09FC, 0x09FC, 0x0A05, 0x0A0A, 0x0A0F, 0x0A10, 0x0A13, 0x0A28,
    0x0A2A, 0x0A30, 0x0A32, 0x0A33, 0x0A35, 0x0A36, 0x0A38, 0x0A39, 0x0A59, 0x0A5C,
    0x0A5E, 0x0A5E, 0x0A72, 0x0A74, 0x0A85, 0x0A8D, 0x0A8F, 0x0A91, 0x0A93, 0x0AA8,
    0x0AAA, 0x0AB0, 0x0AB2, 0x0AB3, 0x0AB5, 0x0AB9, 0x0ABD, 0x0ABD, 0x0AD0, 0x0AD0,
    0x0AE0, 0x0AE1, 0x0AF9, 0x0AF9, 0x0B05, 0x0B0C, 0x0B0F, 0x0B10, 0x0B13, 0x0B28,
    0x0B2A, 0x0B30, 0x0B32, 0x0B33, 0x0B35, 0x0B39, 0x0B3D, 0x0B3D, 0x0B5C, 0x0B5D,
    0x0B5F, 0x0B61, 0x0B71, 0x0B71, 0x0B83, 0x0B83, 0x0B85, 0x0B8A, 0x0B8E, 0x0B90,
    0x0B92, 0x0B95, 0x0B99, 0x0B9A, 0x0B9C, 0x0B9C, 0x0B9E, 0x0B9F, 0x0BA3, 0x0BA4,
    0x0BA8, 0x0BAA, 0x0BAE, 0x0BB9, 0x0BD0, 0x0BD0, 0x0C05, 0x0C0C, 0x0C0E, 0x0C10,
    0x0C12, 0x0C28, 0x0C2A, 0x0C39, 0x0C3D, 0x0C3D, 0x0C58, 0x0C5A, 0x0C5C, 0x0C5D,
    0x0C60, 0x0C61, 0x0C80, 0x0C80, 0x0C85, 0x0C8C, 0x0C8E, 0x0C90, 0x0C92, 0x0CA8,
    0x0CAA, 0x0CB3, 0x0CB5, 0x0CB9, 0x0CBD, 0x0CBD, 0x0CDC, 0x0CDE, 0x0CE0, 0x0CE1,
    0x0CF1, 0x0CF2, 0x0D04, 0x0D0C, 0x0D0E, 0x0D10, 0x0D12, 0x0D3A, 0x0D3D, 0x0D3D,
    0x0D4E, 0x0D4E, 0x0D54, 0x0D56, 0x0D5F, 0x0D61, 0x0D7A, 0x0D7F, 0x0D85, 0x0D96,
    0x0D9A, 0x0DB1, 0x0DB3, 0x0DBB, 0x0DBD, 0x0DBD, 0x0DC0, 0x0DC6, 0x0E01, 0x0E30,
    0x0E32, 0x0E33, 0x0E40, 0x0E46, 0x0E81, 0x0E82, 0x0E84, 0x0E84, 0x0E86, 0x0E8A,
    0x0E8C, 0x0EA3, 0x0EA5, 0x0EA5, 0x0EA7, 0x0EB0, 0x0EB2, 0x0EB3, 0x0EBD, 0x0EBD,
    0x0EC0, 0x0EC4, 0x0EC6, 0x0EC6, 0x0EDC, 0x0EDF, 0x0F00, 0x0F00, 0x0F40, 0x0F47,
    0x0F49, 0x0F6C, 0x0F88, 0x0F8C, 0x1000, 0x102A, 0x103F, 0x103F, 0x1050, 0x1055,
    0x105A, 0x105D, 0x1061, 0x1061, 0x1065, 0x1066, 0x106E, 0x1070, 0x1075, 0x1081,
    0x108E, 0x108E, 0x10A0, 0x10C5, 0x10C7, 0x10C7, 0x10CD, 0x10CD, 0x10D0, 0x10FA,
    0x10FC, 0x1248, 0x124A, 0x124D, 0x1250, 0x1256, 0x1258, 0x1258, 0x125A, 0x125D,
    0x1260, 0x1288, 0x128A, 0x128D, 0x1290, 0x12B0, 0x12B2, 0x12B5, 0x12B8, 0x12BE,
    0x12C0, 0x12C0, 0x12C2, 0x12C5, 0x12C8, 0x12D6, 0x12D8, 0x1310, 0x1312, 0x1315,
    0x1318, 0x135A, 0x1380, 0x138F, 0x13A0, 0x13F5, 0x13F8, 0x13FD, 0x1401, 0x166C,
    0x166F, 0x167F, 0x1681, 0x169A, 0x16A0, 0x16EA, 0x16F1, 0x16F8, 0x1700, 0x1711,
    0x171F, 0x1731, 0x1740, 0x1751, 0x1760, 0x176C, 0x176E, 0x1770, 0x1780, 0x17B3,
    0x17D7, 0x17D7, 0x17DC, 0x17DC, 0x1820, 0x1878, 0x1880, 0x1884, 0x1887, 0x18A8,
    0x18AA, 0x18AA, 0x18B0, 0x18F5, 0x1900, 0x191E, 0x1950, 0x196D, 0x1970, 0x1974,
    0x1980, 0x19AB, 0x19B0, 0x19C9, 0x1A00, 0x1A16, 0x1A20, 0x1A54, 0x1AA7, 0x1AA7,
    0x1B05, 0x1B33, 0x1B45, 0x1B4C, 0x1B83, 0x1BA0, 0x1BAE, 0x1BAF, 0x1BBA, 0x1BE5,
    0x1C00, 0x1C23, 0x1C4D, 0x1C4F, 0x1C5A, 0x1C7D, 0x1C80, 0x1C8A, 0x1C90, 0x1CBA,
    0x1CBD, 0x1CBF, 0x1CE9, 0x1CEC, 0x1CEE, 0x1CF3, 0x1CF5, 0x1CF6, 0x1CFA, 0x1CFA,
    0x1D00, 0x1DBF, 0x1E00, 0x1F15, 0x1F18, 0x1F1D, 0x1F20, 0x1F45, 0x1F48, 0x1F4D,
    0x1F50, 0x1F57, 0x1F59, 0x1F59, 0x1F5B, 0x1F5B, 0x1F5D, 0x1F5D, 0x1F5F, 0x1F7D,
    0x1F80, 0x1FB4, 0x1FB6, 0x1FBC, 0x1FBE, 0x1FBE, 0x1FC2, 0x1FC4, 0x1FC6, 0x1FCC,
    0x1FD0, 0x1FD3, 0x1FD6, 0x1FDB, 0x1FE0, 0x1FEC, 0x1FF2, 0x1FF4, 0x1FF6, 0x1FFC,
    0x2071, 0x2071, 0x207F, 0x207F, 0x2090, 0x209C, 0x2102, 0x2102, 0x2107, 0x2107,
    0x210A, 0x2113, 0x2115, 0x2115, 0x2119, 0x211D, 0x2124, 0x2124, 0x2126, 0x2126,
    0x2128, 0x2128, 0x212A, 0x212D, 0x212F, 0x2139, 0x213C, 0x213F, 0x2145, 0x2149,
    0x214E, 0x214E, 0x2183, 0x2184, 0x2C00, 0x2CE4, 0x2CEB, 0x2CEE, 0x2CF2, 0x2CF3,
    0x2D00, 0x2D25, 0x2D27, 0x2D27, 0x2D2D, 0x2D2D, 0x2D30, 0x2D67, 0x2D6F, 0x2D6F,
    0x2D80, 0x2D96, 0x2DA0, 0x2DA6, 0x2DA8, 0x2DAE, 0x2DB0, 0x2DB6, 0x2DB8, 0x2DBE,
    0x2DC0, 0x2DC6, 0x2DC8, 0x2DCE, 0x2DD0, 0x2DD6, 0x2DD8, 0x2DDE, 0x2E2F, 0x2E2F,
    0x3005, 0x3006, 0x3031, 0x3035, 0x303B, 0x303C, 0x3041, 0x3096, 0x309D, 0x309F,
    0x30A1, 0x30FA, 0x30FC, 0x30FF, 0x3105, 0x312F, 0x3131, 0x318E, 0x31A0, 0x31BF,
    0x31F0, 0x31FF, 0x3400, 0x4DBF, 0x4E00, 0xA48C, 0xA4D0, 0xA4FD, 0xA500, 0xA60C,
    0xA610, 0xA61F, 0xA62A, 0xA62B, 0xA640, 0xA66E, 0xA67F, 0xA69D, 0xA6A0, 0xA6E5,
    0xA717, 0xA71F, 0xA722, 0xA788, 0xA78B, 0xA7DC, 0xA7F1, 0xA801, 0xA803, 0xA805,
    0xA807, 0xA80A, 0xA80C, 0xA822, 0xA840, 0xA873, 0xA882, 0xA8B3, 0xA8F2, 0xA8F7,
    0xA8FB, 0xA8FB, 0xA8FD, 0xA8FE, 0xA90A, 0xA925, 0xA930, 0xA946, 0xA960, 0xA97C,
    0xA984, 0xA9B2, 0xA9CF, 0xA9CF, 0xA9E0, 0xA9E4, 0xA9E6, 0xA9EF, 0xA9FA, 0xA9FE,
    0xAA00, 0xAA28, 0xAA40, 0xAA42, 0xAA44, 0xAA4B, 0xAA60, 0xAA76, 0xAA7A, 0xAA7A,
    0xAA7E, 0xAAAF, 0xAAB1, 0xAAB1, 0xAAB5, 0xAAB6, 0xAAB9, 0xAABD, 0xAAC0, 0xAAC0,
    0xAAC2, 0xAAC2, 0xAADB, 0xAADD, 0xAAE0, 0xAAEA, 0xAAF2, 0xAAF4, 0xAB01, 0xAB06,
    0xAB09, 0xAB0E, 0xAB11, 0xAB16, 0xAB20, 0xAB26, 0xAB28, 0xAB2E, 0xAB30, 0xAB5A,
    0xAB5C, 0xAB69, 0xAB70, 0xABE2, 0xAC00, 0xD7A3, 0xD7B0, 0xD7C6, 0xD7CB, 0xD7FB,
    0xF900, 0xFA6D, 0xFA70, 0xFAD9, 0xFB00, 0xFB06, 0xFB13, 0xFB17, 0xFB1D, 0xFB1D,
    0xFB1F, 0xFB28, 0xFB2A, 0xFB36, 0xFB38, 0xFB3C, 0xFB3E, 0xFB3E, 0xFB40, 0xFB41,
    0xFB43, 0xFB44, 0xFB46, 0xFBB1, 0xFBD3, 0xFD3D, 0xFD50, 0xFD8F, 0xFD92, 0xFDC7,
    0xFDF0, 0xFDFB, 0xFE70, 0xFE74, 0xFE76, 0xFEFC, 0xFF21, 0xFF3A, 0xFF41, 0xFF5A,
    0xFF66, 0xFFBE, 0xFFC2, 0xFFC7, 0xFFCA, 0xFFCF, 0xFFD2, 0xFFD7, 0xFFDA, 0xFFDC,
    0x10000, 0x1000B, 0x1000D, 0x10026, 0x10028, 0x1003A, 0x1003C, 0x1003D, 0x1003F, 0x1004D,
    0x10050, 0x1005D, 0x10080, 0x100FA, 0x10280, 0x1029C, 0x102A0, 0x102D0, 0x10300, 0x1031F,
    0x1032D, 0x10340, 0x10342, 0x10349, 0x10350, 0x10375, 0x10380, 0x1039D, 0x103A0, 0x103C3,
    0x103C8, 0x103CF, 0x10400, 0x1049D, 0x104B0, 0x104D3, 0x104D8, 0x104FB, 0x10500, 0x10527,
    0x10530, 0x10563, 0x10570, 0x1057A, 0x1057C, 0x1058A, 0x1058C, 0x10592, 0x10594, 0x10595,
    0x10597, 0x105A1, 0x105A3, 0x105B1, 0x105B3, 0x105B9, 0x105BB, 0x105BC, 0x105C0, 0x105F3,
    0x10600, 0x10736, 0x10740, 0x10755, 0x10760, 0x10767, 0x10780, 0x10785, 0x10787, 0x107B0,
    0x107B2, 0x107BA, 0x10800, 0x10805, 0x10808, 0x10808, 0x1080A, 0x10835, 0x10837, 0x10838,
    0x1083C, 0x1083C, 0x1083F, 0x10855, 0x10860, 0x10876, 0x10880, 0x1089E, 0x108E0, 0x108F2,
    0x108F4, 0x108F5, 0x10900, 0x10915, 0x10920, 0x10939, 0x10940, 0x10959, 0x10980, 0x109B7,
    0x109BE, 0x109BF, 0x10A00, 0x10A00, 0x10A10, 0x10A13, 0x10A15, 0x10A17, 0x10A19, 0x10A35,
    0x10A60, 0x10A7C, 0x10A80, 0x10A9C, 0x10AC0, 0x10AC7, 0x10AC9, 0x10AE4, 0x10B00, 0x10B35,
    0x10B40, 0x10B55, 0x10B60, 0x10B72, 0x10B80, 0x10B91, 0x10C00, 0x10C48, 0x10C80, 0x10CB2,
    0x10CC0, 0x10CF2, 0x10D00, 0x10D23, 0x10D4A, 0x10D65, 0x10D6F, 0x10D85, 0x10E80, 0x10EA9,
    0x10EB0, 0x10EB1, 0x10EC2, 0x10EC7, 0x10F00, 0x10F1C, 0x10F27, 0x10F27, 0x10F30, 0x10F45,
    0x10F70, 0x10F81, 0x10FB0, 0x10FC4, 0x10FE0, 0x10FF6, 0x11003, 0x11037, 0x11071, 0x11072,
    0x11075, 0x11075, 0x11083, 0x110AF, 0x110D0, 0x110E8, 0x11103, 0x11126, 0x11144, 0x11144,
    0x11147, 0x11147, 0x11150, 0x11172, 0x11176, 0x11176, 0x11183, 0x111B2, 0x111C1, 0x111C4,
    0x111DA, 0x111DA, 0x111DC, 0x111DC, 0x11200, 0x11211, 0x11213, 0x1122B, 0x1123F, 0x11240,
    0x11280, 0x11286, 0x11288, 0x11288, 0x1128A, 0x1128D, 0x1128F, 0x1129D, 0x1129F, 0x112A8,
    0x112B0, 0x112DE, 0x11305, 0x1130C, 0x1130F, 0x11310, 0x11313, 0x11328, 0x1132A, 0x11330,
    0x11332, 0x11333, 0x11335, 0x11339, 0x1133D, 0x1133D, 0x11350, 0x11350, 0x1135D, 0x11361,
    0x11380, 0x11389, 0x1138B, 0x1138B, 0x1138E, 0x1138E, 0x11390, 0x113B5, 0x113B7, 0x113B7,
    0x113D1, 0x113D1, 0x113D3, 0x113D3, 0x11400, 0x11434, 0x11447, 0x1144A, 0x1145F, 0x11461,
    0x11480, 0x114AF, 0x114C4, 0x114C5, 0x114C7, 0x114C7, 0x11580, 0x115AE, 0x115D8, 0x115DB,
    0x11600, 0x1162F, 0x11644, 0x11644, 0x11680, 0x116AA, 0x116B8, 0x116B8, 0x11700, 0x1171A,
    0x11740, 0x11746, 0x11800, 0x1182B, 0x118A0, 0x118DF, 0x118FF, 0x11906, 0x11909, 0x11909,
    0x1190C, 0x11913, 0x11915, 0x11916, 0x11918, 0x1192F, 0x1193F, 0x1193F, 0x11941, 0x11941,
    0x119A0, 0x119A7, 0x119AA, 0x119D0, 0x119E1, 0x119E1, 0x119E3, 0x119E3, 0x11A00, 0x11A00,
    0x11A0B, 0x11A32, 0x11A3A, 0x11A3A, 0x11A50, 0x11A50, 0x11A5C, 0x11A89, 0x11A9D, 0x11A9D,
    0x11AB0, 0x11AF8, 0x11BC0, 0x11BE0, 0x11C00, 0x11C08, 0x11C0A, 0x11C2E, 0x11C40, 0x11C40,
    0x11C72, 0x11C8F, 0x11D00, 0x11D06, 0x11D08, 0x11D09, 0x11D0B, 0x11D30, 0x11D46, 0x11D46,
    0x11D60, 0x11D65, 0x11D67, 0x11D68, 0x11D6A, 0x11D89, 0x11D98, 0x11D98, 0x11DB0, 0x11DDB,
    0x11EE0, 0x11EF2, 0x11F02, 0x11F02, 0x11F04, 0x11F10, 0x11F12, 0x11F33, 0x11FB0, 0x11FB0,
    0x12000, 0x12399, 0x12480, 0x12543, 0x12F90, 0x12FF0, 0x13000, 0x1342F, 0x13441, 0x13446,
    0x13460, 0x143FA, 0x14400, 0x14646, 0x16100, 0x1611D, 0x16800, 0x16A38, 0x16A40, 0x16A5E,
    0x16A70, 0x16ABE, 0x16AD0, 0x16AED, 0x16B00, 0x16B2F, 0x16B40, 0x16B43, 0x16B63, 0x16B77,
    0x16B7D, 0x16B8F, 0x16D40, 0x16D6C, 0x16E40, 0x16E7F, 0x16EA0, 0x16EB8, 0x16EBB, 0x16ED3,
    0x16F00, 0x16F4A, 0x16F50, 0x16F50, 0x16F93, 0x16F9F, 0x16FE0, 0x16FE1, 0x16FE3, 0x16FE3,
    0x16FF2, 0x16FF3, 0x17000, 0x18CD5, 0x18CFF, 0x18D1E, 0x18D80, 0x18DF2, 0x1AFF0, 0x1AFF3,
    0x1AFF5, 0x1AFFB, 0x1AFFD, 0x1AFFE, 0x1B000, 0x1B122, 0x1B132, 0x1B132, 0x1B150, 0x1B152,
    0x1B155, 0x1B155, 0x1B164, 0x1B167, 0x1B170, 0x1B2FB, 0x1BC00, 0x1BC6A, 0x1BC70, 0x1BC7C,
    0x1BC80, 0x1BC88, 0x1BC90, 0x1BC99, 0x1D400, 0x1D454, 0x1D456, 0x1D49C, 0x1D49E, 0x1D49F,
    0x1D4A2, 0x1D4A2, 0x1D4A5, 0x1D4A6, 0x1D4A9, 0x1D4AC, 0x1D4AE, 0x1D4B9, 0x1D4BB, 0x1D4BB,
    0x1D4BD, 0x1D4C3, 0x1D4C5, 0x1D505, 0x1D507, 0x1D50A, 0x1D50D, 0x1D514, 0x1D516, 0x1D51C,
    0x1D51E, 0x1D539, 0x1D53B, 0x1D53E, 0x1D540, 0x1D544, 0x1D546, 0x1D546, 0x1D54A, 0x1D550,
    0x1D552, 0x1D6A5, 0x1D6A8, 0x1D6C0, 0x1D6C2, 0x1D6DA, 0x1D6DC, 0x1D6FA, 0x1D6FC, 0x1D714,
    0x1D716, 0x1D734, 0x1D736, 0x1D74E, 0x1D750, 0x1D76E, 0x1D770, 0x1D788, 0x1D78A, 0x1D7A8,
    0x1D7AA, 0x1D7C2, 0x1D7C4, 0x1D7CB, 0x1DF00, 0x1DF1E, 0x1DF25, 0x1DF2A, 0x1E030, 0x1E06D,
    0x1E100, 0x1E12C, 0x1E137, 0x1E13D, 0x1E14E, 0x1E14E, 0x1E290, 0x1E2AD, 0x1E2C0, 0x1E2EB,
    0x1E4D0, 0x1E4EB, 0x1E5D0, 0x1E5ED, 0x1E5F0, 0x1E5F0, 0x1E6C0, 0x1E6DE, 0x1E6E0, 0x1E6E2,
    0x1E6E4, 0x1E6E5, 0x1E6E7, 0x1E6ED, 0x1E6F0, 0x1E6F4, 0x1E6FE, 0x1E6FF, 0x1E7E0, 0x1E7E6,
    0x1E7E8, 0x1E7EB, 0x1E7ED, 0x1E7EE, 0x1E7F0, 0x1E7FE, 0x1E800, 0x1E8C4, 0x1E900, 0x1E943,
    0x1E94B, 0x1E94B, 0x1EE00, 0x1EE03, 0x1EE05, 0x1EE1F, 0x1EE21, 0x1EE22, 0x1EE24, 0x1EE24,
    0x1EE27, 0x1EE27, 0x1EE29, 0x1EE32, 0x1EE34, 0x1EE37, 0x1EE39, 0x1EE39, 0x1EE3B, 0x1EE3B,
    0x1EE42, 0x1EE42, 0x1EE47, 0x1EE47, 0x1EE49, 0x1EE49, 0x1EE4B, 0x1EE4B, 0x1EE4D, 0x1EE4F,
    0x1EE51, 0x1EE52, 0x1EE54, 0x1EE54, 0x1EE57, 0x1EE57, 0x1EE59, 0x1EE59, 0x1EE5B, 0x1EE5B,
    0x1EE5D, 0x1EE5D, 0x1EE5F, 0x1EE5F, 0x1EE61, 0x1EE62, 0x1EE64, 0x1EE64, 0x1EE67, 0x1EE6A,
    0x1EE6C, 0x1EE72, 0x1EE74, 0x1EE77, 0x1EE79, 0x1EE7C, 0x1EE7E, 0x1EE7E, 0x1EE80, 0x1EE89,
    0x1EE8B, 0x1EE9B, 0x1EEA1, 0x1EEA3, 0x1EEA5, 0x1EEA9, 0x1EEAB, 0x1EEBB, 0x20000, 0x2A6DF,
    0x2A700, 0x2B81D, 0x2B820, 0x2CEAD, 0x2CEB0, 0x2EBE0, 0x2EBF0, 0x2EE5D, 0x2F800, 0x2FA1D,
    0x30000, 0x3134A, 0x31350, 0x33479,
];

#[cfg(test)]
mod tests {
    //! Every expected value below was produced by running the go1.27.3
    //! toolchain's vendored `golang.org/x/mod/module` (and `strconv`) on the
    //! inputs; the tables are Go's actual answers, not hand-written ones.

    use super::*;

    fn expect(result: Result<(), PathError>, want: &str, what: &str) {
        match result {
            Ok(()) => assert!(want.is_empty(), "{what}: got ok, want {want:?}"),
            Err(e) => assert_eq!(e.to_string(), want, "{what}"),
        }
    }

    fn malformed(kind: &str, path: &str, reason: &str) -> String {
        if reason.is_empty() {
            String::new()
        } else {
            format!("malformed {kind} path {}: {reason}", go_quote(path))
        }
    }

    #[test]
    fn quoting_matches_go() {
        for &(s, quoted, quoted_rune) in QUOTES {
            assert_eq!(go_quote(s), quoted, "Quote({s:?})");
            let first = s.chars().next().unwrap_or('\0');
            assert_eq!(go_quote_rune(first), quoted_rune, "QuoteRune({first:?})");
        }
    }

    #[test]
    fn path_checks_match_go() {
        for &(path, module, import, file) in PATHS {
            expect(
                check_path(path),
                &malformed("module", path, module),
                &format!("CheckPath({path:?})"),
            );
            expect(
                check_import_path(path),
                &malformed("import", path, import),
                &format!("CheckImportPath({path:?})"),
            );
            expect(
                check_file_path(path),
                &malformed("file", path, file),
                &format!("CheckFilePath({path:?})"),
            );
        }
    }

    #[test]
    fn split_path_version_matches_go() {
        for &(path, prefix, major, ok) in SPLITS {
            let want = ok.then_some((prefix, major));
            assert_eq!(split_path_version(path), want, "SplitPathVersion({path:?})");
        }
    }

    #[test]
    fn check_path_major_matches_go() {
        for &(version, path_major, want) in PATH_MAJORS {
            expect(
                check_path_major(version, path_major),
                want,
                &format!("CheckPathMajor({version:?}, {path_major:?})"),
            );
        }
    }

    #[test]
    fn check_matches_go() {
        for &(path, version, want) in CHECKS {
            expect(
                check(path, version),
                want,
                &format!("Check({path:?}, {version:?})"),
            );
        }
    }

    #[test]
    fn canonical_version_matches_go() {
        for &(version, want) in CANONICAL_VERSIONS {
            assert_eq!(
                canonical_version(version),
                want,
                "CanonicalVersion({version:?})"
            );
        }
    }

    #[test]
    fn letter_table_is_sorted_and_disjoint() {
        assert_eq!(LETTER_RANGES.len() % 2, 0);
        for pair in LETTER_RANGES.chunks(2) {
            assert!(pair[0] <= pair[1], "{pair:?}");
        }
        for w in LETTER_RANGES.windows(2).skip(1).step_by(2) {
            assert!(w[0] + 1 < w[1], "ranges touch or overlap at {w:?}");
        }
        assert!(is_go_letter('é') && is_go_letter('中') && is_go_letter('\u{1c5}'));
        assert!(!is_go_letter('\u{216b}') && !is_go_letter('\u{301}') && !is_go_letter('\u{660}'));
    }

    #[test]
    fn hostile_input_never_panics() {
        let alphabet: Vec<char> = "aZ09.-_~/!%+@:v\\ \0\n\u{e9}\u{301}\u{fffd}\u{10ffff}gopkg.in/"
            .chars()
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut inputs = vec![
            "a".repeat(8192),
            format!("x.y/{}", "z/".repeat(4095)),
            format!("gopkg.in/{}.v1", "a".repeat(8192)),
            format!("x.y/v{}", "9".repeat(8192)),
            "/".repeat(8192),
            ".".repeat(8192),
        ];
        for _ in 0..3000 {
            let len = (next() % 24) as usize;
            inputs.push(
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect(),
            );
        }
        for s in &inputs {
            let _ = check_path(s);
            let _ = check_import_path(s);
            let _ = check_file_path(s);
            if let Some((prefix, major)) = split_path_version(s) {
                assert_eq!(format!("{prefix}{major}"), *s);
            }
            let _ = check_path_major(s, s);
            let _ = check_path_major("v2.0.0", s);
            let _ = check(s, "v1.0.0");
            let _ = check("x.y/z", s);
            let _ = canonical_version(s);
        }
    }

    /// (path, reason from CheckPath, from CheckImportPath, from CheckFilePath); "" means
    /// valid. Go's message is `malformed <kind> path <%q of path>: <reason>`.
    #[rustfmt::skip]
    const PATHS: &[(&str, &str, &str, &str)] = &[
        ("", "empty string", "empty string", "empty string"),
        ("x", "missing dot in first path element", "", ""),
        ("x.y", "", "", ""),
        ("x.y/z", "", "", ""),
        ("x.y/z/w", "", "", ""),
        ("example.com", "", "", ""),
        ("example.com/", "trailing slash", "trailing slash", "trailing slash"),
        ("/example.com", "empty path element", "empty path element", "empty path element"),
        ("example.com//x", "double slash", "double slash", "double slash"),
        ("example.com/x/", "trailing slash", "trailing slash", "trailing slash"),
        ("-x.y/z", "leading dash", "leading dash", ""),
        ("x.y/-z", "", "", ""),
        ("x.y/z-", "", "", ""),
        ("-", "leading dash", "leading dash", ""),
        (".", "invalid path element \".\"", "invalid path element \".\"", "invalid path element \".\""),
        ("..", "invalid path element \"..\"", "invalid path element \"..\"", "invalid path element \"..\""),
        ("...", "invalid path element \"...\"", "invalid path element \"...\"", "invalid path element \"...\""),
        ("x.y/.", "invalid path element \".\"", "invalid path element \".\"", "invalid path element \".\""),
        ("x.y/..", "invalid path element \"..\"", "invalid path element \"..\"", "invalid path element \"..\""),
        ("x.y/...", "invalid path element \"...\"", "invalid path element \"...\"", "invalid path element \"...\""),
        ("x.y/z/../w", "invalid path element \"..\"", "invalid path element \"..\"", "invalid path element \"..\""),
        ("x.y/./z", "invalid path element \".\"", "invalid path element \".\"", "invalid path element \".\""),
        ("x./z", "trailing dot in path element", "trailing dot in path element", "trailing dot in path element"),
        (".x/z", "leading dot in path element", "", ""),
        ("x.y/.z", "leading dot in path element", "", ""),
        ("x.y/z.", "trailing dot in path element", "trailing dot in path element", "trailing dot in path element"),
        ("x.y/z..w", "", "", ""),
        ("x..y/z", "", "", ""),
        ("x.y/z.w", "", "", ""),
        ("x.y/z~", "", "", ""),
        ("x.y/~", "", "", ""),
        ("x.y/~1", "trailing tilde and digits in path element", "trailing tilde and digits in path element", ""),
        ("x.y/z~1", "trailing tilde and digits in path element", "trailing tilde and digits in path element", ""),
        ("x.y/z~12", "trailing tilde and digits in path element", "trailing tilde and digits in path element", ""),
        ("x.y/z~1.go", "trailing tilde and digits in path element", "trailing tilde and digits in path element", ""),
        ("x.y/z~1a", "", "", ""),
        ("x.y/z~a1", "", "", ""),
        ("x.y/z~1~", "", "", ""),
        ("x.y/z~0", "trailing tilde and digits in path element", "trailing tilde and digits in path element", ""),
        ("x.y/~z", "", "", ""),
        ("x_y.z/w", "invalid char '_' in first path element", "", ""),
        ("x~y.z/w", "invalid char '~' in first path element", "", ""),
        ("x.y.z/w", "", "", ""),
        ("X.y/z", "invalid char 'X' in first path element", "", ""),
        ("x.Y/z", "invalid char 'Y' in first path element", "", ""),
        ("x.y/Z", "", "", ""),
        ("x.y/ZZ/Top", "", "", ""),
        ("github.com/Azure/azure-sdk-for-go", "", "", ""),
        ("github.com/GoogleCloudPlatform/cloudsql-proxy", "", "", ""),
        ("github.com/Sirupsen/logrus", "", "", ""),
        ("rsc.io/QUOTE", "", "", ""),
        ("rsc.io/quote", "", "", ""),
        ("rsc.io/quote/v3", "", "", ""),
        ("example.com/v2", "", "", ""),
        ("example.com/a/v0", "invalid version", "", ""),
        ("example.com/a/v1", "invalid version", "", ""),
        ("example.com/a/v2", "", "", ""),
        ("example.com/a/v02", "invalid version", "", ""),
        ("example.com/a/v10", "", "", ""),
        ("example.com/a/v2.0", "invalid version", "", ""),
        ("example.com/a/v2.", "trailing dot in path element", "trailing dot in path element", "trailing dot in path element"),
        ("example.com/a/v", "", "", ""),
        ("example.com/a/vv2", "", "", ""),
        ("example.com/a/v2/b", "", "", ""),
        ("example.com/a/V2", "", "", ""),
        ("example.com/a/v1.2", "invalid version", "", ""),
        ("example.com/a/v00", "invalid version", "", ""),
        ("example.com/a/v9999999999", "", "", ""),
        ("example.com/v1", "invalid version", "", ""),
        ("example.com/a-v2", "", "", ""),
        ("example.com/a.v2", "", "", ""),
        ("example.com/2", "", "", ""),
        ("example.com/a/2", "", "", ""),
        ("example.com/a/.v2", "leading dot in path element", "", ""),
        ("v2", "missing dot in first path element", "", ""),
        ("x.y/v2", "", "", ""),
        ("x.y/v1", "invalid version", "", ""),
        ("/v2", "empty path element", "empty path element", "empty path element"),
        ("example.com/a/v2/v3", "", "", ""),
        ("gopkg.in/yaml", "invalid version", "", ""),
        ("gopkg.in/yaml.v0", "", "", ""),
        ("gopkg.in/yaml.v1", "", "", ""),
        ("gopkg.in/yaml.v2", "", "", ""),
        ("gopkg.in/yaml.v10", "", "", ""),
        ("gopkg.in/yaml.v00", "invalid version", "", ""),
        ("gopkg.in/yaml.v01", "invalid version", "", ""),
        ("gopkg.in/yaml.v2.1", "invalid version", "", ""),
        ("gopkg.in/yaml.v2-unstable", "", "", ""),
        ("gopkg.in/yaml.v0-unstable", "invalid version", "", ""),
        ("gopkg.in/yaml.v1-unstable", "", "", ""),
        ("gopkg.in/yaml-unstable", "invalid version", "", ""),
        ("gopkg.in/yaml.v", "invalid version", "", ""),
        ("gopkg.in/yaml/v2", "invalid version", "", ""),
        ("gopkg.in/v2", "invalid version", "", ""),
        ("gopkg.in/.v2", "leading dot in path element", "", ""),
        ("gopkg.in/user/pkg.v3", "", "", ""),
        ("gopkg.in/user/pkg", "invalid version", "", ""),
        ("gopkg.in/check.v1", "", "", ""),
        ("gopkg.in/Yaml.v2", "", "", ""),
        ("gopkg.in", "", "", ""),
        ("gopkg.in/", "trailing slash", "trailing slash", "trailing slash"),
        ("gopkg.inx/yaml", "", "", ""),
        ("gopkg.in/yaml.v2/sub", "invalid version", "", ""),
        ("gopkg.in/yaml.V2", "invalid version", "", ""),
        ("gopkg.in/yaml.v2-Unstable", "invalid version", "", ""),
        ("gopkg.in/a.v2-unstable-unstable", "invalid version", "", ""),
        ("x.y/con", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows"),
        ("x.y/CON", "\"CON\" disallowed as path element component on Windows", "\"CON\" disallowed as path element component on Windows", "\"CON\" disallowed as path element component on Windows"),
        ("x.y/Con", "\"Con\" disallowed as path element component on Windows", "\"Con\" disallowed as path element component on Windows", "\"Con\" disallowed as path element component on Windows"),
        ("x.y/con.txt", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows"),
        ("x.y/con.", "trailing dot in path element", "trailing dot in path element", "trailing dot in path element"),
        ("x.y/conx", "", "", ""),
        ("x.y/xcon", "", "", ""),
        ("x.y/prn", "\"prn\" disallowed as path element component on Windows", "\"prn\" disallowed as path element component on Windows", "\"prn\" disallowed as path element component on Windows"),
        ("x.y/aux", "\"aux\" disallowed as path element component on Windows", "\"aux\" disallowed as path element component on Windows", "\"aux\" disallowed as path element component on Windows"),
        ("x.y/nul", "\"nul\" disallowed as path element component on Windows", "\"nul\" disallowed as path element component on Windows", "\"nul\" disallowed as path element component on Windows"),
        ("x.y/nul.tar.gz", "\"nul\" disallowed as path element component on Windows", "\"nul\" disallowed as path element component on Windows", "\"nul\" disallowed as path element component on Windows"),
        ("x.y/com0", "", "", ""),
        ("x.y/com1", "\"com1\" disallowed as path element component on Windows", "\"com1\" disallowed as path element component on Windows", "\"com1\" disallowed as path element component on Windows"),
        ("x.y/com1.txt", "\"com1\" disallowed as path element component on Windows", "\"com1\" disallowed as path element component on Windows", "\"com1\" disallowed as path element component on Windows"),
        ("x.y/COM9", "\"COM9\" disallowed as path element component on Windows", "\"COM9\" disallowed as path element component on Windows", "\"COM9\" disallowed as path element component on Windows"),
        ("x.y/com10", "", "", ""),
        ("x.y/lpt1", "\"lpt1\" disallowed as path element component on Windows", "\"lpt1\" disallowed as path element component on Windows", "\"lpt1\" disallowed as path element component on Windows"),
        ("x.y/lpt9.foo", "\"lpt9\" disallowed as path element component on Windows", "\"lpt9\" disallowed as path element component on Windows", "\"lpt9\" disallowed as path element component on Windows"),
        ("x.y/lpt10", "", "", ""),
        ("con.y/z", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows"),
        ("x.y/con/z", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows", "\"con\" disallowed as path element component on Windows"),
        ("x.y/z/aux.go", "\"aux\" disallowed as path element component on Windows", "\"aux\" disallowed as path element component on Windows", "\"aux\" disallowed as path element component on Windows"),
        ("aux.y/z", "\"aux\" disallowed as path element component on Windows", "\"aux\" disallowed as path element component on Windows", "\"aux\" disallowed as path element component on Windows"),
        ("com1.example.com/x", "\"com1\" disallowed as path element component on Windows", "\"com1\" disallowed as path element component on Windows", "\"com1\" disallowed as path element component on Windows"),
        ("lpt1/x", "\"lpt1\" disallowed as path element component on Windows", "\"lpt1\" disallowed as path element component on Windows", "\"lpt1\" disallowed as path element component on Windows"),
        ("x.y/%41", "invalid char '%'", "invalid char '%'", ""),
        ("x.y/a%20b", "invalid char '%'", "invalid char '%'", ""),
        ("x.y/a+b", "invalid char '+'", "", ""),
        ("x.y/a!b", "invalid char '!'", "invalid char '!'", ""),
        ("x.y/!a", "invalid char '!'", "invalid char '!'", ""),
        ("x.y/a@v1", "invalid char '@'", "invalid char '@'", ""),
        ("x.y/a b", "invalid char ' '", "invalid char ' '", ""),
        ("x.y/a\\b", "invalid char '\\\\'", "invalid char '\\\\'", "invalid char '\\\\'"),
        ("x.y/a:b", "invalid char ':'", "invalid char ':'", "invalid char ':'"),
        ("x.y/a\0b", "invalid char '\\x00'", "invalid char '\\x00'", "invalid char '\\x00'"),
        ("x.y\0/z", "invalid char '\\x00'", "invalid char '\\x00'", "invalid char '\\x00'"),
        ("\0", "invalid char '\\x00'", "invalid char '\\x00'", "invalid char '\\x00'"),
        ("x.y/z\n", "invalid char '\\n'", "invalid char '\\n'", "invalid char '\\n'"),
        ("x.y/\u{e9}", "invalid char '\u{e9}'", "invalid char '\u{e9}'", ""),
        ("\u{e9}.y/z", "invalid char '\u{e9}'", "invalid char '\u{e9}'", ""),
        ("x.y/\u{4e2d}\u{6587}", "invalid char '\u{4e2d}'", "invalid char '\u{4e2d}'", ""),
        ("x.y/\u{216b}", "invalid char '\u{216b}'", "invalid char '\u{216b}'", "invalid char '\u{216b}'"),
        ("x.y/a\u{301}", "invalid char '\u{301}'", "invalid char '\u{301}'", "invalid char '\u{301}'"),
        ("x.y/\u{1f600}", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'"),
        ("localhost/x", "missing dot in first path element", "", ""),
        ("localhost", "missing dot in first path element", "", ""),
        ("127.0.0.1/x", "", "", ""),
        ("a.b.c.d.e/f/g/h", "", "", ""),
        ("1.2/x", "", "", ""),
        ("x-.y/z", "", "", ""),
        ("x.-y/z", "", "", ""),
        ("x.y-/z", "", "", ""),
        ("-x.y", "leading dash", "leading dash", ""),
        ("x.y/g++", "invalid char '+'", "", ""),
        ("x.y/c#", "invalid char '#'", "invalid char '#'", ""),
        ("x.y/a,b", "invalid char ','", "invalid char ','", ""),
        ("x.y/a=b", "invalid char '='", "invalid char '='", ""),
        ("x.y/a'b", "invalid char '\\''", "invalid char '\\''", "invalid char '\\''"),
        ("x.y/a\"b", "invalid char '\"'", "invalid char '\"'", "invalid char '\"'"),
        ("x.y/a*b", "invalid char '*'", "invalid char '*'", "invalid char '*'"),
        ("x.y/a?b", "invalid char '?'", "invalid char '?'", "invalid char '?'"),
        ("x.y/a<b", "invalid char '<'", "invalid char '<'", "invalid char '<'"),
        ("x.y/a|b", "invalid char '|'", "invalid char '|'", "invalid char '|'"),
        ("x.y/a`b", "invalid char '`'", "invalid char '`'", "invalid char '`'"),
        ("x.y/{a}", "invalid char '{'", "invalid char '{'", ""),
        ("x.y/[a]", "invalid char '['", "invalid char '['", ""),
        ("x.y/(a)", "invalid char '('", "invalid char '('", ""),
        ("x.y/a$b", "invalid char '$'", "invalid char '$'", ""),
        ("x.y/a^b", "invalid char '^'", "invalid char '^'", ""),
        ("x.y/a&b", "invalid char '&'", "invalid char '&'", ""),
        ("x.y/a;b", "invalid char ';'", "invalid char ';'", "invalid char ';'"),
        ("x.y/a#b", "invalid char '#'", "invalid char '#'", ""),
        ("x.y/a~b", "", "", ""),
        ("x.y/a_b", "", "", ""),
        ("x.y/_", "", "", ""),
        ("x.y/-", "", "", ""),
        ("x.y/a-", "", "", ""),
        ("x.y/+", "invalid char '+'", "", ""),
        ("x.y/@", "invalid char '@'", "invalid char '@'", ""),
        ("x.y/.git", "leading dot in path element", "", ""),
        ("x.y/.hidden/z", "leading dot in path element", "", ""),
        ("x.y/z/.hidden", "leading dot in path element", "", ""),
        ("a.b/c/d.e/f.", "trailing dot in path element", "trailing dot in path element", "trailing dot in path element"),
        ("xxxxxxxxxx.y/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "", "", ""),
        ("go.mod", "", "", ""),
        ("dir/go.mod", "missing dot in first path element", "", ""),
        ("dir/sub/file.go", "missing dot in first path element", "", ""),
        ("LICENSE", "missing dot in first path element", "", ""),
        ("vendor/x.y/z.go", "missing dot in first path element", "", ""),
        ("dir/file name.go", "invalid char ' '", "invalid char ' '", ""),
        ("dir/@", "invalid char '@'", "invalid char '@'", ""),
        ("dir/!x", "invalid char '!'", "invalid char '!'", ""),
        ("dir/%", "invalid char '%'", "invalid char '%'", ""),
        ("dir/a,b", "invalid char ','", "invalid char ','", ""),
        ("dir/(x)", "invalid char '('", "invalid char '('", ""),
        ("dir/x=y", "invalid char '='", "invalid char '='", ""),
        ("dir/[x]", "invalid char '['", "invalid char '['", ""),
        ("dir/{x}", "invalid char '{'", "invalid char '{'", ""),
        ("dir/^", "invalid char '^'", "invalid char '^'", ""),
        ("dir/&", "invalid char '&'", "invalid char '&'", ""),
        ("dir/$", "invalid char '$'", "invalid char '$'", ""),
        ("dir/#", "invalid char '#'", "invalid char '#'", ""),
        ("dir/\u{e9}t\u{e9}.txt", "invalid char '\u{e9}'", "invalid char '\u{e9}'", ""),
        ("dir/\u{3b1}\u{3b2}\u{3b3}", "invalid char '\u{3b1}'", "invalid char '\u{3b1}'", ""),
        ("dir/\u{216b}", "invalid char '\u{216b}'", "invalid char '\u{216b}'", "invalid char '\u{216b}'"),
        ("dir/a\u{301}", "invalid char '\u{301}'", "invalid char '\u{301}'", "invalid char '\u{301}'"),
        ("dir/\u{2b0}", "invalid char '\u{2b0}'", "invalid char '\u{2b0}'", ""),
        ("dir/\u{1c5}", "invalid char '\u{1c5}'", "invalid char '\u{1c5}'", ""),
        ("dir/\u{660}", "invalid char '\u{660}'", "invalid char '\u{660}'", "invalid char '\u{660}'"),
        ("dir/\u{345}", "invalid char '\u{345}'", "invalid char '\u{345}'", "invalid char '\u{345}'"),
        ("dir/\u{93e}", "invalid char '\u{93e}'", "invalid char '\u{93e}'", "invalid char '\u{93e}'"),
        ("dir/\u{10400}", "invalid char '\u{10400}'", "invalid char '\u{10400}'", ""),
        ("dir/\u{a0}", "invalid char '\\u00a0'", "invalid char '\\u00a0'", "invalid char '\\u00a0'"),
        ("dir/\u{fffd}", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'"),
        ("dir/\u{ad}", "invalid char '\\u00ad'", "invalid char '\\u00ad'", "invalid char '\\u00ad'"),
        ("-dir/x", "leading dash", "leading dash", ""),
        ("dir/-x", "missing dot in first path element", "", ""),
        ("dir/x~1", "trailing tilde and digits in path element", "trailing tilde and digits in path element", ""),
        ("dir/x~1.txt", "trailing tilde and digits in path element", "trailing tilde and digits in path element", ""),
        ("dir/.x", "leading dot in path element", "", ""),
        ("dir/x.", "trailing dot in path element", "trailing dot in path element", "trailing dot in path element"),
        ("dir/.", "invalid path element \".\"", "invalid path element \".\"", "invalid path element \".\""),
        ("dir/..", "invalid path element \"..\"", "invalid path element \"..\"", "invalid path element \"..\""),
        ("../x", "invalid path element \"..\"", "invalid path element \"..\"", "invalid path element \"..\""),
        ("./x", "invalid path element \".\"", "invalid path element \".\"", "invalid path element \".\""),
        ("dir//x", "double slash", "double slash", "double slash"),
        ("dir/", "trailing slash", "trailing slash", "trailing slash"),
        ("/dir", "empty path element", "empty path element", "empty path element"),
        ("x.y/z!w", "invalid char '!'", "invalid char '!'", ""),
        ("x!y.z/w", "invalid char '!'", "invalid char '!'", ""),
        ("dir/a!b", "invalid char '!'", "invalid char '!'", ""),
        ("x.y/z\"w", "invalid char '\"'", "invalid char '\"'", "invalid char '\"'"),
        ("x\"y.z/w", "invalid char '\"'", "invalid char '\"'", "invalid char '\"'"),
        ("dir/a\"b", "invalid char '\"'", "invalid char '\"'", "invalid char '\"'"),
        ("x.y/z#w", "invalid char '#'", "invalid char '#'", ""),
        ("x#y.z/w", "invalid char '#'", "invalid char '#'", ""),
        ("dir/a#b", "invalid char '#'", "invalid char '#'", ""),
        ("x.y/z$w", "invalid char '$'", "invalid char '$'", ""),
        ("x$y.z/w", "invalid char '$'", "invalid char '$'", ""),
        ("dir/a$b", "invalid char '$'", "invalid char '$'", ""),
        ("x.y/z%w", "invalid char '%'", "invalid char '%'", ""),
        ("x%y.z/w", "invalid char '%'", "invalid char '%'", ""),
        ("dir/a%b", "invalid char '%'", "invalid char '%'", ""),
        ("x.y/z&w", "invalid char '&'", "invalid char '&'", ""),
        ("x&y.z/w", "invalid char '&'", "invalid char '&'", ""),
        ("dir/a&b", "invalid char '&'", "invalid char '&'", ""),
        ("x.y/z'w", "invalid char '\\''", "invalid char '\\''", "invalid char '\\''"),
        ("x'y.z/w", "invalid char '\\''", "invalid char '\\''", "invalid char '\\''"),
        ("dir/a'b", "invalid char '\\''", "invalid char '\\''", "invalid char '\\''"),
        ("x.y/z(w", "invalid char '('", "invalid char '('", ""),
        ("x(y.z/w", "invalid char '('", "invalid char '('", ""),
        ("dir/a(b", "invalid char '('", "invalid char '('", ""),
        ("x.y/z)w", "invalid char ')'", "invalid char ')'", ""),
        ("x)y.z/w", "invalid char ')'", "invalid char ')'", ""),
        ("dir/a)b", "invalid char ')'", "invalid char ')'", ""),
        ("x.y/z*w", "invalid char '*'", "invalid char '*'", "invalid char '*'"),
        ("x*y.z/w", "invalid char '*'", "invalid char '*'", "invalid char '*'"),
        ("dir/a*b", "invalid char '*'", "invalid char '*'", "invalid char '*'"),
        ("x.y/z+w", "invalid char '+'", "", ""),
        ("x+y.z/w", "invalid char '+'", "", ""),
        ("dir/a+b", "invalid char '+'", "", ""),
        ("x.y/z,w", "invalid char ','", "invalid char ','", ""),
        ("x,y.z/w", "invalid char ','", "invalid char ','", ""),
        ("x.y/z-w", "", "", ""),
        ("x-y.z/w", "", "", ""),
        ("dir/a-b", "missing dot in first path element", "", ""),
        ("dir/a.b", "missing dot in first path element", "", ""),
        ("x/y.z/w", "missing dot in first path element", "", ""),
        ("dir/a/b", "missing dot in first path element", "", ""),
        ("x.y/z:w", "invalid char ':'", "invalid char ':'", "invalid char ':'"),
        ("x:y.z/w", "invalid char ':'", "invalid char ':'", "invalid char ':'"),
        ("dir/a:b", "invalid char ':'", "invalid char ':'", "invalid char ':'"),
        ("x.y/z;w", "invalid char ';'", "invalid char ';'", "invalid char ';'"),
        ("x;y.z/w", "invalid char ';'", "invalid char ';'", "invalid char ';'"),
        ("dir/a;b", "invalid char ';'", "invalid char ';'", "invalid char ';'"),
        ("x.y/z<w", "invalid char '<'", "invalid char '<'", "invalid char '<'"),
        ("x<y.z/w", "invalid char '<'", "invalid char '<'", "invalid char '<'"),
        ("dir/a<b", "invalid char '<'", "invalid char '<'", "invalid char '<'"),
        ("x.y/z=w", "invalid char '='", "invalid char '='", ""),
        ("x=y.z/w", "invalid char '='", "invalid char '='", ""),
        ("dir/a=b", "invalid char '='", "invalid char '='", ""),
        ("x.y/z>w", "invalid char '>'", "invalid char '>'", "invalid char '>'"),
        ("x>y.z/w", "invalid char '>'", "invalid char '>'", "invalid char '>'"),
        ("dir/a>b", "invalid char '>'", "invalid char '>'", "invalid char '>'"),
        ("x.y/z?w", "invalid char '?'", "invalid char '?'", "invalid char '?'"),
        ("x?y.z/w", "invalid char '?'", "invalid char '?'", "invalid char '?'"),
        ("dir/a?b", "invalid char '?'", "invalid char '?'", "invalid char '?'"),
        ("x.y/z@w", "invalid char '@'", "invalid char '@'", ""),
        ("x@y.z/w", "invalid char '@'", "invalid char '@'", ""),
        ("dir/a@b", "invalid char '@'", "invalid char '@'", ""),
        ("x.y/z[w", "invalid char '['", "invalid char '['", ""),
        ("x[y.z/w", "invalid char '['", "invalid char '['", ""),
        ("dir/a[b", "invalid char '['", "invalid char '['", ""),
        ("x.y/z\\w", "invalid char '\\\\'", "invalid char '\\\\'", "invalid char '\\\\'"),
        ("x\\y.z/w", "invalid char '\\\\'", "invalid char '\\\\'", "invalid char '\\\\'"),
        ("dir/a\\b", "invalid char '\\\\'", "invalid char '\\\\'", "invalid char '\\\\'"),
        ("x.y/z]w", "invalid char ']'", "invalid char ']'", ""),
        ("x]y.z/w", "invalid char ']'", "invalid char ']'", ""),
        ("dir/a]b", "invalid char ']'", "invalid char ']'", ""),
        ("x.y/z^w", "invalid char '^'", "invalid char '^'", ""),
        ("x^y.z/w", "invalid char '^'", "invalid char '^'", ""),
        ("dir/a^b", "invalid char '^'", "invalid char '^'", ""),
        ("x.y/z_w", "", "", ""),
        ("dir/a_b", "missing dot in first path element", "", ""),
        ("x.y/z`w", "invalid char '`'", "invalid char '`'", "invalid char '`'"),
        ("x`y.z/w", "invalid char '`'", "invalid char '`'", "invalid char '`'"),
        ("dir/a`b", "invalid char '`'", "invalid char '`'", "invalid char '`'"),
        ("x.y/z{w", "invalid char '{'", "invalid char '{'", ""),
        ("x{y.z/w", "invalid char '{'", "invalid char '{'", ""),
        ("dir/a{b", "invalid char '{'", "invalid char '{'", ""),
        ("x.y/z|w", "invalid char '|'", "invalid char '|'", "invalid char '|'"),
        ("x|y.z/w", "invalid char '|'", "invalid char '|'", "invalid char '|'"),
        ("dir/a|b", "invalid char '|'", "invalid char '|'", "invalid char '|'"),
        ("x.y/z}w", "invalid char '}'", "invalid char '}'", ""),
        ("x}y.z/w", "invalid char '}'", "invalid char '}'", ""),
        ("dir/a}b", "invalid char '}'", "invalid char '}'", ""),
        ("x.y/z~w", "", "", ""),
        ("dir/a~b", "missing dot in first path element", "", ""),
        ("x.y/z\0w", "invalid char '\\x00'", "invalid char '\\x00'", "invalid char '\\x00'"),
        ("x\0y.z/w", "invalid char '\\x00'", "invalid char '\\x00'", "invalid char '\\x00'"),
        ("dir/a\0b", "invalid char '\\x00'", "invalid char '\\x00'", "invalid char '\\x00'"),
        ("x.y/z\tw", "invalid char '\\t'", "invalid char '\\t'", "invalid char '\\t'"),
        ("x\ty.z/w", "invalid char '\\t'", "invalid char '\\t'", "invalid char '\\t'"),
        ("dir/a\tb", "invalid char '\\t'", "invalid char '\\t'", "invalid char '\\t'"),
        ("x.y/z\nw", "invalid char '\\n'", "invalid char '\\n'", "invalid char '\\n'"),
        ("x\ny.z/w", "invalid char '\\n'", "invalid char '\\n'", "invalid char '\\n'"),
        ("dir/a\nb", "invalid char '\\n'", "invalid char '\\n'", "invalid char '\\n'"),
        ("x.y/z\u{7f}w", "invalid char '\\x7f'", "invalid char '\\x7f'", "invalid char '\\x7f'"),
        ("x\u{7f}y.z/w", "invalid char '\\x7f'", "invalid char '\\x7f'", "invalid char '\\x7f'"),
        ("dir/a\u{7f}b", "invalid char '\\x7f'", "invalid char '\\x7f'", "invalid char '\\x7f'"),
        ("x.y/z w", "invalid char ' '", "invalid char ' '", ""),
        ("x y.z/w", "invalid char ' '", "invalid char ' '", ""),
        ("dir/a b", "invalid char ' '", "invalid char ' '", ""),
        ("x.y/z\u{e9}w", "invalid char '\u{e9}'", "invalid char '\u{e9}'", ""),
        ("x\u{e9}y.z/w", "invalid char '\u{e9}'", "invalid char '\u{e9}'", ""),
        ("dir/a\u{e9}b", "invalid char '\u{e9}'", "invalid char '\u{e9}'", ""),
        ("x.y/z\u{df}w", "invalid char '\u{df}'", "invalid char '\u{df}'", ""),
        ("x\u{df}y.z/w", "invalid char '\u{df}'", "invalid char '\u{df}'", ""),
        ("dir/a\u{df}b", "invalid char '\u{df}'", "invalid char '\u{df}'", ""),
        ("x.y/z\u{216b}w", "invalid char '\u{216b}'", "invalid char '\u{216b}'", "invalid char '\u{216b}'"),
        ("x\u{216b}y.z/w", "invalid char '\u{216b}'", "invalid char '\u{216b}'", "invalid char '\u{216b}'"),
        ("dir/a\u{216b}b", "invalid char '\u{216b}'", "invalid char '\u{216b}'", "invalid char '\u{216b}'"),
        ("x.y/z\u{301}w", "invalid char '\u{301}'", "invalid char '\u{301}'", "invalid char '\u{301}'"),
        ("x\u{301}y.z/w", "invalid char '\u{301}'", "invalid char '\u{301}'", "invalid char '\u{301}'"),
        ("dir/a\u{301}b", "invalid char '\u{301}'", "invalid char '\u{301}'", "invalid char '\u{301}'"),
        ("x.y/z\u{345}w", "invalid char '\u{345}'", "invalid char '\u{345}'", "invalid char '\u{345}'"),
        ("x\u{345}y.z/w", "invalid char '\u{345}'", "invalid char '\u{345}'", "invalid char '\u{345}'"),
        ("dir/a\u{345}b", "invalid char '\u{345}'", "invalid char '\u{345}'", "invalid char '\u{345}'"),
        ("x.y/z\u{1c5}w", "invalid char '\u{1c5}'", "invalid char '\u{1c5}'", ""),
        ("x\u{1c5}y.z/w", "invalid char '\u{1c5}'", "invalid char '\u{1c5}'", ""),
        ("dir/a\u{1c5}b", "invalid char '\u{1c5}'", "invalid char '\u{1c5}'", ""),
        ("x.y/z\u{2b0}w", "invalid char '\u{2b0}'", "invalid char '\u{2b0}'", ""),
        ("x\u{2b0}y.z/w", "invalid char '\u{2b0}'", "invalid char '\u{2b0}'", ""),
        ("dir/a\u{2b0}b", "invalid char '\u{2b0}'", "invalid char '\u{2b0}'", ""),
        ("x.y/z\u{4e2d}w", "invalid char '\u{4e2d}'", "invalid char '\u{4e2d}'", ""),
        ("x\u{4e2d}y.z/w", "invalid char '\u{4e2d}'", "invalid char '\u{4e2d}'", ""),
        ("dir/a\u{4e2d}b", "invalid char '\u{4e2d}'", "invalid char '\u{4e2d}'", ""),
        ("x.y/z\u{1f600}w", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'"),
        ("x\u{1f600}y.z/w", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'"),
        ("dir/a\u{1f600}b", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'", "invalid char '\u{1f600}'"),
        ("x.y/z\u{a0}w", "invalid char '\\u00a0'", "invalid char '\\u00a0'", "invalid char '\\u00a0'"),
        ("x\u{a0}y.z/w", "invalid char '\\u00a0'", "invalid char '\\u00a0'", "invalid char '\\u00a0'"),
        ("dir/a\u{a0}b", "invalid char '\\u00a0'", "invalid char '\\u00a0'", "invalid char '\\u00a0'"),
        ("x.y/z\u{fffd}w", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'"),
        ("x\u{fffd}y.z/w", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'"),
        ("dir/a\u{fffd}b", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'", "invalid char '\u{fffd}'"),
        ("x.y/z\u{212a}w", "invalid char '\u{212a}'", "invalid char '\u{212a}'", ""),
        ("x\u{212a}y.z/w", "invalid char '\u{212a}'", "invalid char '\u{212a}'", ""),
        ("dir/a\u{212a}b", "invalid char '\u{212a}'", "invalid char '\u{212a}'", ""),
        ("x.y/z\u{130}w", "invalid char '\u{130}'", "invalid char '\u{130}'", ""),
        ("x\u{130}y.z/w", "invalid char '\u{130}'", "invalid char '\u{130}'", ""),
        ("dir/a\u{130}b", "invalid char '\u{130}'", "invalid char '\u{130}'", ""),
        ("x.y/z\u{660}w", "invalid char '\u{660}'", "invalid char '\u{660}'", "invalid char '\u{660}'"),
        ("x\u{660}y.z/w", "invalid char '\u{660}'", "invalid char '\u{660}'", "invalid char '\u{660}'"),
        ("dir/a\u{660}b", "invalid char '\u{660}'", "invalid char '\u{660}'", "invalid char '\u{660}'"),
        ("x.y/z\u{93e}w", "invalid char '\u{93e}'", "invalid char '\u{93e}'", "invalid char '\u{93e}'"),
        ("x\u{93e}y.z/w", "invalid char '\u{93e}'", "invalid char '\u{93e}'", "invalid char '\u{93e}'"),
        ("dir/a\u{93e}b", "invalid char '\u{93e}'", "invalid char '\u{93e}'", "invalid char '\u{93e}'"),
        ("x.y/z\u{10400}w", "invalid char '\u{10400}'", "invalid char '\u{10400}'", ""),
        ("x\u{10400}y.z/w", "invalid char '\u{10400}'", "invalid char '\u{10400}'", ""),
        ("dir/a\u{10400}b", "invalid char '\u{10400}'", "invalid char '\u{10400}'", ""),
        ("x.y/z\u{ad}w", "invalid char '\\u00ad'", "invalid char '\\u00ad'", "invalid char '\\u00ad'"),
        ("x\u{ad}y.z/w", "invalid char '\\u00ad'", "invalid char '\\u00ad'", "invalid char '\\u00ad'"),
        ("dir/a\u{ad}b", "invalid char '\\u00ad'", "invalid char '\\u00ad'", "invalid char '\\u00ad'"),
        ("x.y/z\u{10ffff}w", "invalid char '\\U0010ffff'", "invalid char '\\U0010ffff'", "invalid char '\\U0010ffff'"),
        ("x\u{10ffff}y.z/w", "invalid char '\\U0010ffff'", "invalid char '\\U0010ffff'", "invalid char '\\U0010ffff'"),
        ("dir/a\u{10ffff}b", "invalid char '\\U0010ffff'", "invalid char '\\U0010ffff'", "invalid char '\\U0010ffff'"),
    ];
    /// (string, strconv.Quote of it, strconv.QuoteRune of its first rune).
    #[rustfmt::skip]
    const QUOTES: &[(&str, &str, &str)] = &[
        ("", "\"\"", "'\\x00'"),
        ("abc", "\"abc\"", "'a'"),
        ("a\"b", "\"a\\\"b\"", "'a'"),
        ("a\\b", "\"a\\\\b\"", "'a'"),
        ("'", "\"'\"", "'\\''"),
        ("\0", "\"\\x00\"", "'\\x00'"),
        ("\u{7}\u{8}\u{c}\n\r\t\u{b}", "\"\\a\\b\\f\\n\\r\\t\\v\"", "'\\a'"),
        ("\u{1f}", "\"\\x1f\"", "'\\x1f'"),
        ("\u{7f}", "\"\\x7f\"", "'\\x7f'"),
        (" ", "\" \"", "' '"),
        ("\u{e9}", "\"\u{e9}\"", "'\u{e9}'"),
        ("\u{4e2d}", "\"\u{4e2d}\"", "'\u{4e2d}'"),
        ("\u{1f600}", "\"\u{1f600}\"", "'\u{1f600}'"),
        ("\u{a0}", "\"\\u00a0\"", "'\\u00a0'"),
        ("\u{ad}", "\"\\u00ad\"", "'\\u00ad'"),
        ("\u{2028}", "\"\\u2028\"", "'\\u2028'"),
        ("\u{feff}", "\"\\ufeff\"", "'\\ufeff'"),
        ("\u{fffd}", "\"\u{fffd}\"", "'\u{fffd}'"),
        ("\u{10ffff}", "\"\\U0010ffff\"", "'\\U0010ffff'"),
        ("\u{e000}", "\"\\ue000\"", "'\\ue000'"),
        ("\u{301}", "\"\u{301}\"", "'\u{301}'"),
        ("\u{200b}", "\"\\u200b\"", "'\\u200b'"),
        ("\u{85}", "\"\\u0085\"", "'\\u0085'"),
        ("\u{3000}", "\"\\u3000\"", "'\\u3000'"),
        ("\u{ffff}", "\"\\uffff\"", "'\\uffff'"),
    ];
    /// (path, prefix, pathMajor, ok) from SplitPathVersion.
    #[rustfmt::skip]
    const SPLITS: &[(&str, &str, &str, bool)] = &[
        ("", "", "", true),
        ("x", "x", "", true),
        ("x.y", "x.y", "", true),
        ("-", "-", "", true),
        (".", ".", "", true),
        ("..", "..", "", true),
        ("...", "...", "", true),
        ("rsc.io/quote/v3", "rsc.io/quote", "/v3", true),
        ("example.com/v2", "example.com", "/v2", true),
        ("example.com/a/v0", "example.com/a/v0", "", false),
        ("example.com/a/v1", "example.com/a/v1", "", false),
        ("example.com/a/v2", "example.com/a", "/v2", true),
        ("example.com/a/v02", "example.com/a/v02", "", false),
        ("example.com/a/v10", "example.com/a", "/v10", true),
        ("example.com/a/v2.0", "example.com/a/v2.0", "", false),
        ("example.com/a/v2.", "example.com/a/v2.", "", false),
        ("example.com/a/v", "example.com/a/v", "", true),
        ("example.com/a/vv2", "example.com/a/vv2", "", true),
        ("example.com/a/v2/b", "example.com/a/v2/b", "", true),
        ("example.com/a/v1.2", "example.com/a/v1.2", "", false),
        ("example.com/a/v00", "example.com/a/v00", "", false),
        ("example.com/a/v9999999999", "example.com/a", "/v9999999999", true),
        ("example.com/v1", "example.com/v1", "", false),
        ("example.com/a.v2", "example.com/a.v2", "", true),
        ("example.com/a/.v2", "example.com/a/.v2", "", true),
        ("v2", "v2", "", true),
        ("x.y/v2", "x.y", "/v2", true),
        ("x.y/v1", "x.y/v1", "", false),
        ("/v2", "", "/v2", true),
        ("example.com/a/v2/v3", "example.com/a/v2", "/v3", true),
        ("gopkg.in/yaml", "gopkg.in/yaml", "", false),
        ("gopkg.in/yaml.v0", "gopkg.in/yaml", ".v0", true),
        ("gopkg.in/yaml.v1", "gopkg.in/yaml", ".v1", true),
        ("gopkg.in/yaml.v2", "gopkg.in/yaml", ".v2", true),
        ("gopkg.in/yaml.v10", "gopkg.in/yaml", ".v10", true),
        ("gopkg.in/yaml.v00", "gopkg.in/yaml.v00", "", false),
        ("gopkg.in/yaml.v01", "gopkg.in/yaml.v01", "", false),
        ("gopkg.in/yaml.v2.1", "gopkg.in/yaml.v2.1", "", false),
        ("gopkg.in/yaml.v2-unstable", "gopkg.in/yaml", ".v2-unstable", true),
        ("gopkg.in/yaml.v0-unstable", "gopkg.in/yaml.v0-unstable", "", false),
        ("gopkg.in/yaml.v1-unstable", "gopkg.in/yaml", ".v1-unstable", true),
        ("gopkg.in/yaml-unstable", "gopkg.in/yaml-unstable", "", false),
        ("gopkg.in/yaml.v", "gopkg.in/yaml.v", "", false),
        ("gopkg.in/yaml/v2", "gopkg.in/yaml/v2", "", false),
        ("gopkg.in/v2", "gopkg.in/v2", "", false),
        ("gopkg.in/.v2", "gopkg.in/", ".v2", true),
        ("gopkg.in/user/pkg.v3", "gopkg.in/user/pkg", ".v3", true),
        ("gopkg.in/user/pkg", "gopkg.in/user/pkg", "", false),
        ("gopkg.in/check.v1", "gopkg.in/check", ".v1", true),
        ("gopkg.in/Yaml.v2", "gopkg.in/Yaml", ".v2", true),
        ("gopkg.in", "gopkg.in", "", true),
        ("gopkg.in/", "gopkg.in/", "", false),
        ("gopkg.inx/yaml", "gopkg.inx/yaml", "", true),
        ("gopkg.in/yaml.v2/sub", "gopkg.in/yaml.v2/sub", "", false),
        ("gopkg.in/yaml.V2", "gopkg.in/yaml.V2", "", false),
        ("gopkg.in/yaml.v2-Unstable", "gopkg.in/yaml.v2-Unstable", "", false),
        ("gopkg.in/a.v2-unstable-unstable", "gopkg.in/a.v2-unstable-unstable", "", false),
        ("\0", "\0", "", true),
        ("./x", "./x", "", true),
    ];
    /// (version, pathMajor, CheckPathMajor error).
    #[rustfmt::skip]
    const PATH_MAJORS: &[(&str, &str, &str)] = &[
        ("v0.1.0", "", ""),
        ("v1.0.0", "", ""),
        ("v2.0.0", "", "version \"v2.0.0\" invalid: should be v0 or v1, not v2"),
        ("v2.3.4-pre", "", "version \"v2.3.4-pre\" invalid: should be v0 or v1, not v2"),
        ("v3.0.0", "", "version \"v3.0.0\" invalid: should be v0 or v1, not v3"),
        ("v2.0.0+incompatible", "", ""),
        ("v0.0.0-20191109021931-daa7c04131f5", "", ""),
        ("v1.0.0-20191109021931-daa7c04131f5", "", ""),
        ("bad", "", "version \"bad\" invalid: should be v0 or v1, not "),
        ("", "", "version \"\" invalid: should be v0 or v1, not "),
        ("v2", "", "version \"v2\" invalid: should be v0 or v1, not v2"),
        ("v0.0.0-", "", "version \"v0.0.0-\" invalid: should be v0 or v1, not "),
        ("v0.1.0", "/v2", "version \"v0.1.0\" invalid: should be v2, not v0"),
        ("v1.0.0", "/v2", "version \"v1.0.0\" invalid: should be v2, not v1"),
        ("v2.0.0", "/v2", ""),
        ("v2.3.4-pre", "/v2", ""),
        ("v3.0.0", "/v2", "version \"v3.0.0\" invalid: should be v2, not v3"),
        ("v2.0.0+incompatible", "/v2", ""),
        ("v0.0.0-20191109021931-daa7c04131f5", "/v2", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "/v2", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v1"),
        ("bad", "/v2", "version \"bad\" invalid: should be v2, not "),
        ("", "/v2", "version \"\" invalid: should be v2, not "),
        ("v2", "/v2", ""),
        ("v0.0.0-", "/v2", "version \"v0.0.0-\" invalid: should be v2, not "),
        ("v0.1.0", "/v3", "version \"v0.1.0\" invalid: should be v3, not v0"),
        ("v1.0.0", "/v3", "version \"v1.0.0\" invalid: should be v3, not v1"),
        ("v2.0.0", "/v3", "version \"v2.0.0\" invalid: should be v3, not v2"),
        ("v2.3.4-pre", "/v3", "version \"v2.3.4-pre\" invalid: should be v3, not v2"),
        ("v3.0.0", "/v3", ""),
        ("v2.0.0+incompatible", "/v3", "version \"v2.0.0+incompatible\" invalid: should be v3, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", "/v3", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be v3, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "/v3", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be v3, not v1"),
        ("bad", "/v3", "version \"bad\" invalid: should be v3, not "),
        ("", "/v3", "version \"\" invalid: should be v3, not "),
        ("v2", "/v3", "version \"v2\" invalid: should be v3, not v2"),
        ("v0.0.0-", "/v3", "version \"v0.0.0-\" invalid: should be v3, not "),
        ("v0.1.0", ".v0", ""),
        ("v1.0.0", ".v0", "version \"v1.0.0\" invalid: should be v0, not v1"),
        ("v2.0.0", ".v0", "version \"v2.0.0\" invalid: should be v0, not v2"),
        ("v2.3.4-pre", ".v0", "version \"v2.3.4-pre\" invalid: should be v0, not v2"),
        ("v3.0.0", ".v0", "version \"v3.0.0\" invalid: should be v0, not v3"),
        ("v2.0.0+incompatible", ".v0", "version \"v2.0.0+incompatible\" invalid: should be v0, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", ".v0", ""),
        ("v1.0.0-20191109021931-daa7c04131f5", ".v0", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be v0, not v1"),
        ("bad", ".v0", "version \"bad\" invalid: should be v0, not "),
        ("", ".v0", "version \"\" invalid: should be v0, not "),
        ("v2", ".v0", "version \"v2\" invalid: should be v0, not v2"),
        ("v0.0.0-", ".v0", "version \"v0.0.0-\" invalid: should be v0, not "),
        ("v0.1.0", ".v1", "version \"v0.1.0\" invalid: should be v1, not v0"),
        ("v1.0.0", ".v1", ""),
        ("v2.0.0", ".v1", "version \"v2.0.0\" invalid: should be v1, not v2"),
        ("v2.3.4-pre", ".v1", "version \"v2.3.4-pre\" invalid: should be v1, not v2"),
        ("v3.0.0", ".v1", "version \"v3.0.0\" invalid: should be v1, not v3"),
        ("v2.0.0+incompatible", ".v1", "version \"v2.0.0+incompatible\" invalid: should be v1, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", ".v1", ""),
        ("v1.0.0-20191109021931-daa7c04131f5", ".v1", ""),
        ("bad", ".v1", "version \"bad\" invalid: should be v1, not "),
        ("", ".v1", "version \"\" invalid: should be v1, not "),
        ("v2", ".v1", "version \"v2\" invalid: should be v1, not v2"),
        ("v0.0.0-", ".v1", ""),
        ("v0.1.0", ".v2", "version \"v0.1.0\" invalid: should be v2, not v0"),
        ("v1.0.0", ".v2", "version \"v1.0.0\" invalid: should be v2, not v1"),
        ("v2.0.0", ".v2", ""),
        ("v2.3.4-pre", ".v2", ""),
        ("v3.0.0", ".v2", "version \"v3.0.0\" invalid: should be v2, not v3"),
        ("v2.0.0+incompatible", ".v2", ""),
        ("v0.0.0-20191109021931-daa7c04131f5", ".v2", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", ".v2", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v1"),
        ("bad", ".v2", "version \"bad\" invalid: should be v2, not "),
        ("", ".v2", "version \"\" invalid: should be v2, not "),
        ("v2", ".v2", ""),
        ("v0.0.0-", ".v2", "version \"v0.0.0-\" invalid: should be v2, not "),
        ("v0.1.0", ".v1-unstable", "version \"v0.1.0\" invalid: should be v1, not v0"),
        ("v1.0.0", ".v1-unstable", ""),
        ("v2.0.0", ".v1-unstable", "version \"v2.0.0\" invalid: should be v1, not v2"),
        ("v2.3.4-pre", ".v1-unstable", "version \"v2.3.4-pre\" invalid: should be v1, not v2"),
        ("v3.0.0", ".v1-unstable", "version \"v3.0.0\" invalid: should be v1, not v3"),
        ("v2.0.0+incompatible", ".v1-unstable", "version \"v2.0.0+incompatible\" invalid: should be v1, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", ".v1-unstable", ""),
        ("v1.0.0-20191109021931-daa7c04131f5", ".v1-unstable", ""),
        ("bad", ".v1-unstable", "version \"bad\" invalid: should be v1, not "),
        ("", ".v1-unstable", "version \"\" invalid: should be v1, not "),
        ("v2", ".v1-unstable", "version \"v2\" invalid: should be v1, not v2"),
        ("v0.0.0-", ".v1-unstable", ""),
        ("v0.1.0", ".v2-unstable", "version \"v0.1.0\" invalid: should be v2, not v0"),
        ("v1.0.0", ".v2-unstable", "version \"v1.0.0\" invalid: should be v2, not v1"),
        ("v2.0.0", ".v2-unstable", ""),
        ("v2.3.4-pre", ".v2-unstable", ""),
        ("v3.0.0", ".v2-unstable", "version \"v3.0.0\" invalid: should be v2, not v3"),
        ("v2.0.0+incompatible", ".v2-unstable", ""),
        ("v0.0.0-20191109021931-daa7c04131f5", ".v2-unstable", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", ".v2-unstable", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v1"),
        ("bad", ".v2-unstable", "version \"bad\" invalid: should be v2, not "),
        ("", ".v2-unstable", "version \"\" invalid: should be v2, not "),
        ("v2", ".v2-unstable", ""),
        ("v0.0.0-", ".v2-unstable", "version \"v0.0.0-\" invalid: should be v2, not "),
        ("v0.1.0", "/v1", "version \"v0.1.0\" invalid: should be v1, not v0"),
        ("v1.0.0", "/v1", ""),
        ("v2.0.0", "/v1", "version \"v2.0.0\" invalid: should be v1, not v2"),
        ("v2.3.4-pre", "/v1", "version \"v2.3.4-pre\" invalid: should be v1, not v2"),
        ("v3.0.0", "/v1", "version \"v3.0.0\" invalid: should be v1, not v3"),
        ("v2.0.0+incompatible", "/v1", "version \"v2.0.0+incompatible\" invalid: should be v1, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", "/v1", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be v1, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "/v1", ""),
        ("bad", "/v1", "version \"bad\" invalid: should be v1, not "),
        ("", "/v1", "version \"\" invalid: should be v1, not "),
        ("v2", "/v1", "version \"v2\" invalid: should be v1, not v2"),
        ("v0.0.0-", "/v1", "version \"v0.0.0-\" invalid: should be v1, not "),
        ("v0.1.0", "v2", "version \"v0.1.0\" invalid: should be v2, not v0"),
        ("v1.0.0", "v2", "version \"v1.0.0\" invalid: should be v2, not v1"),
        ("v2.0.0", "v2", "version \"v2.0.0\" invalid: should be v2, not v2"),
        ("v2.3.4-pre", "v2", "version \"v2.3.4-pre\" invalid: should be v2, not v2"),
        ("v3.0.0", "v2", "version \"v3.0.0\" invalid: should be v2, not v3"),
        ("v2.0.0+incompatible", "v2", "version \"v2.0.0+incompatible\" invalid: should be v2, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", "v2", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "v2", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be v2, not v1"),
        ("bad", "v2", "version \"bad\" invalid: should be v2, not "),
        ("", "v2", "version \"\" invalid: should be v2, not "),
        ("v2", "v2", "version \"v2\" invalid: should be v2, not v2"),
        ("v0.0.0-", "v2", "version \"v0.0.0-\" invalid: should be v2, not "),
        ("v0.1.0", "x", "version \"v0.1.0\" invalid: should be x, not v0"),
        ("v1.0.0", "x", "version \"v1.0.0\" invalid: should be x, not v1"),
        ("v2.0.0", "x", "version \"v2.0.0\" invalid: should be x, not v2"),
        ("v2.3.4-pre", "x", "version \"v2.3.4-pre\" invalid: should be x, not v2"),
        ("v3.0.0", "x", "version \"v3.0.0\" invalid: should be x, not v3"),
        ("v2.0.0+incompatible", "x", "version \"v2.0.0+incompatible\" invalid: should be x, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", "x", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be x, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "x", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be x, not v1"),
        ("bad", "x", "version \"bad\" invalid: should be x, not "),
        ("", "x", "version \"\" invalid: should be x, not "),
        ("v2", "x", "version \"v2\" invalid: should be x, not v2"),
        ("v0.0.0-", "x", "version \"v0.0.0-\" invalid: should be x, not "),
        ("v0.1.0", "/v2-unstable", "version \"v0.1.0\" invalid: should be v2-unstable, not v0"),
        ("v1.0.0", "/v2-unstable", "version \"v1.0.0\" invalid: should be v2-unstable, not v1"),
        ("v2.0.0", "/v2-unstable", "version \"v2.0.0\" invalid: should be v2-unstable, not v2"),
        ("v2.3.4-pre", "/v2-unstable", "version \"v2.3.4-pre\" invalid: should be v2-unstable, not v2"),
        ("v3.0.0", "/v2-unstable", "version \"v3.0.0\" invalid: should be v2-unstable, not v3"),
        ("v2.0.0+incompatible", "/v2-unstable", "version \"v2.0.0+incompatible\" invalid: should be v2-unstable, not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", "/v2-unstable", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be v2-unstable, not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "/v2-unstable", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be v2-unstable, not v1"),
        ("bad", "/v2-unstable", "version \"bad\" invalid: should be v2-unstable, not "),
        ("", "/v2-unstable", "version \"\" invalid: should be v2-unstable, not "),
        ("v2", "/v2-unstable", "version \"v2\" invalid: should be v2-unstable, not v2"),
        ("v0.0.0-", "/v2-unstable", "version \"v0.0.0-\" invalid: should be v2-unstable, not "),
        ("v0.1.0", "/", "version \"v0.1.0\" invalid: should be , not v0"),
        ("v1.0.0", "/", "version \"v1.0.0\" invalid: should be , not v1"),
        ("v2.0.0", "/", "version \"v2.0.0\" invalid: should be , not v2"),
        ("v2.3.4-pre", "/", "version \"v2.3.4-pre\" invalid: should be , not v2"),
        ("v3.0.0", "/", "version \"v3.0.0\" invalid: should be , not v3"),
        ("v2.0.0+incompatible", "/", "version \"v2.0.0+incompatible\" invalid: should be , not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", "/", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be , not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", "/", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be , not v1"),
        ("bad", "/", ""),
        ("", "/", ""),
        ("v2", "/", "version \"v2\" invalid: should be , not v2"),
        ("v0.0.0-", "/", ""),
        ("v0.1.0", ".", "version \"v0.1.0\" invalid: should be , not v0"),
        ("v1.0.0", ".", "version \"v1.0.0\" invalid: should be , not v1"),
        ("v2.0.0", ".", "version \"v2.0.0\" invalid: should be , not v2"),
        ("v2.3.4-pre", ".", "version \"v2.3.4-pre\" invalid: should be , not v2"),
        ("v3.0.0", ".", "version \"v3.0.0\" invalid: should be , not v3"),
        ("v2.0.0+incompatible", ".", "version \"v2.0.0+incompatible\" invalid: should be , not v2"),
        ("v0.0.0-20191109021931-daa7c04131f5", ".", "version \"v0.0.0-20191109021931-daa7c04131f5\" invalid: should be , not v0"),
        ("v1.0.0-20191109021931-daa7c04131f5", ".", "version \"v1.0.0-20191109021931-daa7c04131f5\" invalid: should be , not v1"),
        ("bad", ".", ""),
        ("", ".", ""),
        ("v2", ".", "version \"v2\" invalid: should be , not v2"),
        ("v0.0.0-", ".", ""),
    ];
    /// (path, version, module.Check error).
    #[rustfmt::skip]
    const CHECKS: &[(&str, &str, &str)] = &[
        ("x.y/z", "v0.1.0", ""),
        ("x.y/z", "v1.0.0", ""),
        ("x.y/z", "v1.2.3-pre+meta", ""),
        ("x.y/z", "v1", ""),
        ("x.y/z", "v1.2", ""),
        ("x.y/z", "v2.0.0", "x.y/z@v2.0.0: invalid version: should be v0 or v1, not v2"),
        ("x.y/z", "v2.1.0-pre", "x.y/z@v2.1.0-pre: invalid version: should be v0 or v1, not v2"),
        ("x.y/z", "v2.0.0+incompatible", ""),
        ("x.y/z", "v3.0.0+incompatible", ""),
        ("x.y/z", "v1.0.0+incompatible", ""),
        ("x.y/z", "v2.0.0+meta", "x.y/z@v2.0.0+meta: invalid version: should be v0 or v1, not v2"),
        ("x.y/z", "v0.0.0-20191109021931-daa7c04131f5", ""),
        ("x.y/z", "v1.0.0-20191109021931-daa7c04131f5", ""),
        ("x.y/z", "v10.0.0", "x.y/z@v10.0.0: invalid version: should be v0 or v1, not v10"),
        ("x.y/z", "bad", "x.y/z@bad: invalid version: not a semantic version"),
        ("x.y/z", "", "x.y/z@: invalid version: not a semantic version"),
        ("x.y/z", "v01.0.0", "x.y/z@v01.0.0: invalid version: not a semantic version"),
        ("x.y/z", "master", "x.y/z@master: invalid version: not a semantic version"),
        ("x.y/z/v2", "v0.1.0", "x.y/z/v2@v0.1.0: invalid version: should be v2, not v0"),
        ("x.y/z/v2", "v1.0.0", "x.y/z/v2@v1.0.0: invalid version: should be v2, not v1"),
        ("x.y/z/v2", "v1.2.3-pre+meta", "x.y/z/v2@v1.2.3-pre+meta: invalid version: should be v2, not v1"),
        ("x.y/z/v2", "v1", "x.y/z/v2@v1: invalid version: should be v2, not v1"),
        ("x.y/z/v2", "v1.2", "x.y/z/v2@v1.2: invalid version: should be v2, not v1"),
        ("x.y/z/v2", "v2.0.0", ""),
        ("x.y/z/v2", "v2.1.0-pre", ""),
        ("x.y/z/v2", "v2.0.0+incompatible", ""),
        ("x.y/z/v2", "v3.0.0+incompatible", "x.y/z/v2@v3.0.0+incompatible: invalid version: should be v2, not v3"),
        ("x.y/z/v2", "v1.0.0+incompatible", "x.y/z/v2@v1.0.0+incompatible: invalid version: should be v2, not v1"),
        ("x.y/z/v2", "v2.0.0+meta", ""),
        ("x.y/z/v2", "v0.0.0-20191109021931-daa7c04131f5", "x.y/z/v2@v0.0.0-20191109021931-daa7c04131f5: invalid version: should be v2, not v0"),
        ("x.y/z/v2", "v1.0.0-20191109021931-daa7c04131f5", "x.y/z/v2@v1.0.0-20191109021931-daa7c04131f5: invalid version: should be v2, not v1"),
        ("x.y/z/v2", "v10.0.0", "x.y/z/v2@v10.0.0: invalid version: should be v2, not v10"),
        ("x.y/z/v2", "bad", "x.y/z/v2@bad: invalid version: not a semantic version"),
        ("x.y/z/v2", "", "x.y/z/v2@: invalid version: not a semantic version"),
        ("x.y/z/v2", "v01.0.0", "x.y/z/v2@v01.0.0: invalid version: not a semantic version"),
        ("x.y/z/v2", "master", "x.y/z/v2@master: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v1", "v0.1.0", "gopkg.in/yaml.v1@v0.1.0: invalid version: should be v1, not v0"),
        ("gopkg.in/yaml.v1", "v1.0.0", ""),
        ("gopkg.in/yaml.v1", "v1.2.3-pre+meta", ""),
        ("gopkg.in/yaml.v1", "v1", ""),
        ("gopkg.in/yaml.v1", "v1.2", ""),
        ("gopkg.in/yaml.v1", "v2.0.0", "gopkg.in/yaml.v1@v2.0.0: invalid version: should be v1, not v2"),
        ("gopkg.in/yaml.v1", "v2.1.0-pre", "gopkg.in/yaml.v1@v2.1.0-pre: invalid version: should be v1, not v2"),
        ("gopkg.in/yaml.v1", "v2.0.0+incompatible", "gopkg.in/yaml.v1@v2.0.0+incompatible: invalid version: should be v1, not v2"),
        ("gopkg.in/yaml.v1", "v3.0.0+incompatible", "gopkg.in/yaml.v1@v3.0.0+incompatible: invalid version: should be v1, not v3"),
        ("gopkg.in/yaml.v1", "v1.0.0+incompatible", ""),
        ("gopkg.in/yaml.v1", "v2.0.0+meta", "gopkg.in/yaml.v1@v2.0.0+meta: invalid version: should be v1, not v2"),
        ("gopkg.in/yaml.v1", "v0.0.0-20191109021931-daa7c04131f5", ""),
        ("gopkg.in/yaml.v1", "v1.0.0-20191109021931-daa7c04131f5", ""),
        ("gopkg.in/yaml.v1", "v10.0.0", "gopkg.in/yaml.v1@v10.0.0: invalid version: should be v1, not v10"),
        ("gopkg.in/yaml.v1", "bad", "gopkg.in/yaml.v1@bad: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v1", "", "gopkg.in/yaml.v1@: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v1", "v01.0.0", "gopkg.in/yaml.v1@v01.0.0: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v1", "master", "gopkg.in/yaml.v1@master: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2", "v0.1.0", "gopkg.in/yaml.v2@v0.1.0: invalid version: should be v2, not v0"),
        ("gopkg.in/yaml.v2", "v1.0.0", "gopkg.in/yaml.v2@v1.0.0: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2", "v1.2.3-pre+meta", "gopkg.in/yaml.v2@v1.2.3-pre+meta: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2", "v1", "gopkg.in/yaml.v2@v1: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2", "v1.2", "gopkg.in/yaml.v2@v1.2: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2", "v2.0.0", ""),
        ("gopkg.in/yaml.v2", "v2.1.0-pre", ""),
        ("gopkg.in/yaml.v2", "v2.0.0+incompatible", ""),
        ("gopkg.in/yaml.v2", "v3.0.0+incompatible", "gopkg.in/yaml.v2@v3.0.0+incompatible: invalid version: should be v2, not v3"),
        ("gopkg.in/yaml.v2", "v1.0.0+incompatible", "gopkg.in/yaml.v2@v1.0.0+incompatible: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2", "v2.0.0+meta", ""),
        ("gopkg.in/yaml.v2", "v0.0.0-20191109021931-daa7c04131f5", "gopkg.in/yaml.v2@v0.0.0-20191109021931-daa7c04131f5: invalid version: should be v2, not v0"),
        ("gopkg.in/yaml.v2", "v1.0.0-20191109021931-daa7c04131f5", "gopkg.in/yaml.v2@v1.0.0-20191109021931-daa7c04131f5: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2", "v10.0.0", "gopkg.in/yaml.v2@v10.0.0: invalid version: should be v2, not v10"),
        ("gopkg.in/yaml.v2", "bad", "gopkg.in/yaml.v2@bad: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2", "", "gopkg.in/yaml.v2@: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2", "v01.0.0", "gopkg.in/yaml.v2@v01.0.0: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2", "master", "gopkg.in/yaml.v2@master: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v0", "v0.1.0", ""),
        ("gopkg.in/yaml.v0", "v1.0.0", "gopkg.in/yaml.v0@v1.0.0: invalid version: should be v0, not v1"),
        ("gopkg.in/yaml.v0", "v1.2.3-pre+meta", "gopkg.in/yaml.v0@v1.2.3-pre+meta: invalid version: should be v0, not v1"),
        ("gopkg.in/yaml.v0", "v1", "gopkg.in/yaml.v0@v1: invalid version: should be v0, not v1"),
        ("gopkg.in/yaml.v0", "v1.2", "gopkg.in/yaml.v0@v1.2: invalid version: should be v0, not v1"),
        ("gopkg.in/yaml.v0", "v2.0.0", "gopkg.in/yaml.v0@v2.0.0: invalid version: should be v0, not v2"),
        ("gopkg.in/yaml.v0", "v2.1.0-pre", "gopkg.in/yaml.v0@v2.1.0-pre: invalid version: should be v0, not v2"),
        ("gopkg.in/yaml.v0", "v2.0.0+incompatible", "gopkg.in/yaml.v0@v2.0.0+incompatible: invalid version: should be v0, not v2"),
        ("gopkg.in/yaml.v0", "v3.0.0+incompatible", "gopkg.in/yaml.v0@v3.0.0+incompatible: invalid version: should be v0, not v3"),
        ("gopkg.in/yaml.v0", "v1.0.0+incompatible", "gopkg.in/yaml.v0@v1.0.0+incompatible: invalid version: should be v0, not v1"),
        ("gopkg.in/yaml.v0", "v2.0.0+meta", "gopkg.in/yaml.v0@v2.0.0+meta: invalid version: should be v0, not v2"),
        ("gopkg.in/yaml.v0", "v0.0.0-20191109021931-daa7c04131f5", ""),
        ("gopkg.in/yaml.v0", "v1.0.0-20191109021931-daa7c04131f5", "gopkg.in/yaml.v0@v1.0.0-20191109021931-daa7c04131f5: invalid version: should be v0, not v1"),
        ("gopkg.in/yaml.v0", "v10.0.0", "gopkg.in/yaml.v0@v10.0.0: invalid version: should be v0, not v10"),
        ("gopkg.in/yaml.v0", "bad", "gopkg.in/yaml.v0@bad: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v0", "", "gopkg.in/yaml.v0@: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v0", "v01.0.0", "gopkg.in/yaml.v0@v01.0.0: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v0", "master", "gopkg.in/yaml.v0@master: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2-unstable", "v0.1.0", "gopkg.in/yaml.v2-unstable@v0.1.0: invalid version: should be v2, not v0"),
        ("gopkg.in/yaml.v2-unstable", "v1.0.0", "gopkg.in/yaml.v2-unstable@v1.0.0: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2-unstable", "v1.2.3-pre+meta", "gopkg.in/yaml.v2-unstable@v1.2.3-pre+meta: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2-unstable", "v1", "gopkg.in/yaml.v2-unstable@v1: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2-unstable", "v1.2", "gopkg.in/yaml.v2-unstable@v1.2: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2-unstable", "v2.0.0", ""),
        ("gopkg.in/yaml.v2-unstable", "v2.1.0-pre", ""),
        ("gopkg.in/yaml.v2-unstable", "v2.0.0+incompatible", ""),
        ("gopkg.in/yaml.v2-unstable", "v3.0.0+incompatible", "gopkg.in/yaml.v2-unstable@v3.0.0+incompatible: invalid version: should be v2, not v3"),
        ("gopkg.in/yaml.v2-unstable", "v1.0.0+incompatible", "gopkg.in/yaml.v2-unstable@v1.0.0+incompatible: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2-unstable", "v2.0.0+meta", ""),
        ("gopkg.in/yaml.v2-unstable", "v0.0.0-20191109021931-daa7c04131f5", "gopkg.in/yaml.v2-unstable@v0.0.0-20191109021931-daa7c04131f5: invalid version: should be v2, not v0"),
        ("gopkg.in/yaml.v2-unstable", "v1.0.0-20191109021931-daa7c04131f5", "gopkg.in/yaml.v2-unstable@v1.0.0-20191109021931-daa7c04131f5: invalid version: should be v2, not v1"),
        ("gopkg.in/yaml.v2-unstable", "v10.0.0", "gopkg.in/yaml.v2-unstable@v10.0.0: invalid version: should be v2, not v10"),
        ("gopkg.in/yaml.v2-unstable", "bad", "gopkg.in/yaml.v2-unstable@bad: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2-unstable", "", "gopkg.in/yaml.v2-unstable@: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2-unstable", "v01.0.0", "gopkg.in/yaml.v2-unstable@v01.0.0: invalid version: not a semantic version"),
        ("gopkg.in/yaml.v2-unstable", "master", "gopkg.in/yaml.v2-unstable@master: invalid version: not a semantic version"),
        ("x.y/z/v1", "v0.1.0", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v1.0.0", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v1.2.3-pre+meta", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v1", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v1.2", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v2.0.0", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v2.1.0-pre", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v2.0.0+incompatible", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v3.0.0+incompatible", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v1.0.0+incompatible", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v2.0.0+meta", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v0.0.0-20191109021931-daa7c04131f5", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v1.0.0-20191109021931-daa7c04131f5", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v10.0.0", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "bad", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "v01.0.0", "malformed module path \"x.y/z/v1\": invalid version"),
        ("x.y/z/v1", "master", "malformed module path \"x.y/z/v1\": invalid version"),
        ("example.com/a/v10", "v0.1.0", "example.com/a/v10@v0.1.0: invalid version: should be v10, not v0"),
        ("example.com/a/v10", "v1.0.0", "example.com/a/v10@v1.0.0: invalid version: should be v10, not v1"),
        ("example.com/a/v10", "v1.2.3-pre+meta", "example.com/a/v10@v1.2.3-pre+meta: invalid version: should be v10, not v1"),
        ("example.com/a/v10", "v1", "example.com/a/v10@v1: invalid version: should be v10, not v1"),
        ("example.com/a/v10", "v1.2", "example.com/a/v10@v1.2: invalid version: should be v10, not v1"),
        ("example.com/a/v10", "v2.0.0", "example.com/a/v10@v2.0.0: invalid version: should be v10, not v2"),
        ("example.com/a/v10", "v2.1.0-pre", "example.com/a/v10@v2.1.0-pre: invalid version: should be v10, not v2"),
        ("example.com/a/v10", "v2.0.0+incompatible", "example.com/a/v10@v2.0.0+incompatible: invalid version: should be v10, not v2"),
        ("example.com/a/v10", "v3.0.0+incompatible", "example.com/a/v10@v3.0.0+incompatible: invalid version: should be v10, not v3"),
        ("example.com/a/v10", "v1.0.0+incompatible", "example.com/a/v10@v1.0.0+incompatible: invalid version: should be v10, not v1"),
        ("example.com/a/v10", "v2.0.0+meta", "example.com/a/v10@v2.0.0+meta: invalid version: should be v10, not v2"),
        ("example.com/a/v10", "v0.0.0-20191109021931-daa7c04131f5", "example.com/a/v10@v0.0.0-20191109021931-daa7c04131f5: invalid version: should be v10, not v0"),
        ("example.com/a/v10", "v1.0.0-20191109021931-daa7c04131f5", "example.com/a/v10@v1.0.0-20191109021931-daa7c04131f5: invalid version: should be v10, not v1"),
        ("example.com/a/v10", "v10.0.0", ""),
        ("example.com/a/v10", "bad", "example.com/a/v10@bad: invalid version: not a semantic version"),
        ("example.com/a/v10", "", "example.com/a/v10@: invalid version: not a semantic version"),
        ("example.com/a/v10", "v01.0.0", "example.com/a/v10@v01.0.0: invalid version: not a semantic version"),
        ("example.com/a/v10", "master", "example.com/a/v10@master: invalid version: not a semantic version"),
    ];
    /// (version, module.CanonicalVersion).
    #[rustfmt::skip]
    const CANONICAL_VERSIONS: &[(&str, &str)] = &[
        ("bad", ""),
        ("v1-alpha.beta.gamma", ""),
        ("v1-pre", ""),
        ("v1+meta", ""),
        ("v1-pre+meta", ""),
        ("v1.2-pre", ""),
        ("v1.2+meta", ""),
        ("v1.2-pre+meta", ""),
        ("v1.0.0-alpha", "v1.0.0-alpha"),
        ("v1.0.0-alpha.1", "v1.0.0-alpha.1"),
        ("v1.0.0-alpha.beta", "v1.0.0-alpha.beta"),
        ("v1.0.0-beta", "v1.0.0-beta"),
        ("v1.0.0-beta.2", "v1.0.0-beta.2"),
        ("v1.0.0-beta.11", "v1.0.0-beta.11"),
        ("v1.0.0-rc.1", "v1.0.0-rc.1"),
        ("v1", "v1.0.0"),
        ("v1.0", "v1.0.0"),
        ("v1.0.0", "v1.0.0"),
        ("v1.2", "v1.2.0"),
        ("v1.2.0", "v1.2.0"),
        ("v1.2.3-456", "v1.2.3-456"),
        ("v1.2.3-456.789", "v1.2.3-456.789"),
        ("v1.2.3-456-789", "v1.2.3-456-789"),
        ("v1.2.3-456a", "v1.2.3-456a"),
        ("v1.2.3-pre", "v1.2.3-pre"),
        ("v1.2.3-pre+meta", "v1.2.3-pre"),
        ("v1.2.3-pre.1", "v1.2.3-pre.1"),
        ("v1.2.3-zzz", "v1.2.3-zzz"),
        ("v1.2.3", "v1.2.3"),
        ("v1.2.3+meta", "v1.2.3"),
        ("v1.2.3+meta-pre", "v1.2.3"),
        ("v1.2.3+meta-pre.sha.256a", "v1.2.3"),
        ("", ""),
        ("v", ""),
        ("V1.2.3", ""),
        ("1.2.3", ""),
        ("v.1", ""),
        ("v1.", ""),
        ("v1..2", ""),
        ("v1.2.", ""),
        ("v1.2.3.4", ""),
        ("v01", ""),
        ("v1.02", ""),
        ("v1.2.03", ""),
        ("v0", "v0.0.0"),
        ("v0.0", "v0.0.0"),
        ("v0.0.0", "v0.0.0"),
        ("v00.0.0", ""),
        ("v1.2.3-", ""),
        ("v1.2.3+", ""),
        ("v1.2.3-.", ""),
        ("v1.2.3-a.", ""),
        ("v1.2.3-.a", ""),
        ("v1.2.3-a..b", ""),
        ("v1.2.3+a..b", ""),
        ("v1.2.3+a.", ""),
        ("v1.2.3-01", ""),
        ("v1.2.3-0", "v1.2.3-0"),
        ("v1.2.3-0a", "v1.2.3-0a"),
        ("v1.2.3-00a", "v1.2.3-00a"),
        ("v1.2.3-a.01", ""),
        ("v1.2.3-a.0", "v1.2.3-a.0"),
        ("v1.2.3+01", "v1.2.3"),
        ("v1.2.3+0.0", "v1.2.3"),
        ("v1.2.3-a_b", ""),
        ("v1.2.3 ", ""),
        (" v1.2.3", ""),
        ("v1.2.3\n", ""),
        ("v99999999999999999999.0.0", "v99999999999999999999.0.0"),
        ("v1.99999999999999999999.1", "v1.99999999999999999999.1"),
        ("v1.2.3-\u{e9}", ""),
        ("v1.2.3+incompatible", "v1.2.3+incompatible"),
        ("v2.0.0+incompatible", "v2.0.0+incompatible"),
        ("v2+incompatible", ""),
        ("v1.2.3-+", ""),
        ("v1.2.3--", "v1.2.3--"),
        ("v1.2.3---", "v1.2.3---"),
        ("v1.2.3-a-", "v1.2.3-a-"),
        ("v1.2.3-A.B", "v1.2.3-A.B"),
        ("v1.2.3+A-B", "v1.2.3"),
        ("v1.2.3-pre+", ""),
        ("v1.2.3-pre+meta+more", ""),
        ("v1.2.3+meta-pre+x", ""),
        ("v1.2\0", ""),
        ("v1.2.3-\0", ""),
        ("v1.10", "v1.10.0"),
        ("v1.10.0", "v1.10.0"),
        ("v1.9.0", "v1.9.0"),
        ("v10", "v10.0.0"),
        ("v2", "v2.0.0"),
        ("v1.2.3-rc.10", "v1.2.3-rc.10"),
        ("v1.2.3-rc.9", "v1.2.3-rc.9"),
        ("v1.2.3-1", "v1.2.3-1"),
        ("v1.2.3-a", "v1.2.3-a"),
        ("v1.2.3-A", "v1.2.3-A"),
        ("v1.2.3-alpha.-1", "v1.2.3-alpha.-1"),
        ("v1.2.3-x.7.z.92", "v1.2.3-x.7.z.92"),
        ("v1.0.0-0.3.7", "v1.0.0-0.3.7"),
        ("v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20191109021931-daa7c04131f5"),
        ("v1-", ""),
        ("v1.2-", ""),
        ("v1+", ""),
        ("v1.2+", ""),
    ];
}
