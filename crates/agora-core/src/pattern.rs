//! GOPRIVATE-style module path patterns: Go's `path.Match` shell globs and
//! `golang.org/x/mod/module.MatchPrefixPatterns`, which applies a
//! comma-separated list of them to leading elements of a module path.
//!
//! agora uses these to decide which modules are private (never sent to an
//! upstream proxy or the checksum database), so they must agree exactly
//! with the go command: a glob that matches differently here would leak a
//! private module path or break a public one.

/// A glob pattern that Go's `path.Match` rejects as malformed, such as an
/// unclosed `[` or a trailing `\`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct PatternError;

/// Reports whether `target` or one of its leading path prefixes matches a
/// glob of the comma-separated list `globs` (Go's
/// `module.MatchPrefixPatterns`, the rule for GOPRIVATE, GONOPROXY and
/// GONOSUMDB).
///
/// A glob with N slashes is matched against the first N+1 elements of
/// `target`, so `*.corp.example.com` matches
/// `git.corp.example.com/team/repo`. Empty and malformed globs are ignored,
/// and one trailing slash on a glob is dropped.
pub fn match_prefix_patterns(globs: &str, target: &str) -> bool {
    globs.split(',').any(|glob| {
        let glob = glob.strip_suffix('/').unwrap_or(glob);
        if glob.is_empty() {
            return false;
        }
        let mut slashes = glob.bytes().filter(|&b| b == b'/').count();
        let mut prefix = target;
        for (i, b) in target.bytes().enumerate() {
            if b == b'/' {
                if slashes == 0 {
                    prefix = &target[..i];
                    break;
                }
                slashes -= 1;
            }
        }
        // Fewer elements in the target than in the glob: it cannot match.
        slashes == 0 && path_match(glob, prefix) == Ok(true)
    })
}

/// Reports whether all of `name` matches the shell pattern `pattern` (Go's
/// `path.Match`).
///
/// `*` matches any run of non-`/` characters, `?` any single non-`/`
/// character, `[...]` a character class (`[^...]` negated, with `lo-hi`
/// ranges), and `\c` the character `c`. A malformed pattern is an error,
/// though, as in Go, one may go unnoticed when the match fails or
/// succeeds before the malformed part is reached.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, PatternError> {
    // Go works on bytes and decodes runes only where the pattern asks for a
    // character; a `*` may resume the match in the middle of a multi-byte
    // character, so matching must not assume char boundaries.
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star matches the rest of the name unless it has a '/'.
            return Ok(!name.contains(&b'/'));
        }
        // Try to match at the current position; the last chunk must also
        // use up the whole name, or the star may still find a better place.
        if let Some(t) = match_chunk(chunk, name)?
            && (t.is_empty() || !pattern.is_empty())
        {
            name = t;
            continue;
        }
        if star {
            // Skip 1, 2, ... bytes of the name, but never past a '/'.
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                if let Some(t) = match_chunk(chunk, &name[i + 1..])? {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        // No match, but a malformed rest of the pattern must still be reported.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Splits off the next segment of `pattern`: optional stars, then a run of
/// non-star terms (a `*` inside a character class does not end it).
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let stars = pattern.iter().take_while(|&&b| b == b'*').count();
    let pattern = &pattern[stars..];
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            // The escaped byte is skipped; a dangling '\' is matchChunk's error.
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => return (stars > 0, &pattern[..i], &pattern[i..]),
            _ => {}
        }
        i += 1;
    }
    (stars > 0, pattern, &[])
}

/// Matches a star-free chunk against the start of `s`, returning the rest of
/// `s` on success. After a mismatch it keeps parsing the chunk so that a
/// malformed pattern is reported the same way whatever the input.
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<Option<&'a [u8]>, PatternError> {
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        failed = failed || s.is_empty();
        match c {
            b'[' => {
                let mut r = 0;
                if !failed {
                    let (rune, n) = decode_rune(s);
                    r = rune;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if let Some(rest) = chunk.strip_prefix(b"-") {
                        (hi, chunk) = get_esc(rest)?;
                    }
                    matched = matched || (lo <= r && r <= hi);
                    ranges += 1;
                }
                failed = failed || matched == negated;
            }
            b'?' => {
                if !failed {
                    failed = s.first() == Some(&b'/');
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                let literal = if c == b'\\' {
                    chunk = &chunk[1..];
                    *chunk.first().ok_or(PatternError)?
                } else {
                    c
                };
                if !failed {
                    failed = s.first() != Some(&literal);
                    s = s.get(1..).unwrap_or_default();
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok((!failed).then_some(s))
}

/// Reads one possibly escaped character of a character class, which must
/// be followed by more of the class.
fn get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), PatternError> {
    let chunk = match chunk.first() {
        None | Some(b'-' | b']') => return Err(PatternError),
        Some(b'\\') => &chunk[1..],
        Some(_) => chunk,
    };
    if chunk.is_empty() {
        return Err(PatternError);
    }
    let (r, n) = decode_rune(chunk);
    if r == RUNE_ERROR && n == 1 {
        return Err(PatternError);
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(PatternError);
    }
    Ok((r, rest))
}

/// Go's `utf8.RuneError`, what an undecodable byte reads as.
const RUNE_ERROR: u32 = 0xfffd;

/// Decodes the first character of `b` as Go's `utf8.DecodeRune` does:
/// an invalid or truncated sequence yields `(RUNE_ERROR, 1)` and empty
/// input `(RUNE_ERROR, 0)`.
fn decode_rune(b: &[u8]) -> (u32, usize) {
    let Some(&lead) = b.first() else {
        return (RUNE_ERROR, 0);
    };
    let len = match lead {
        0x00..=0x7f => return (u32::from(lead), 1),
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    // from_utf8 rejects overlong forms and surrogates, as Go's decoder does.
    match b.get(..len).map(std::str::from_utf8) {
        Some(Ok(s)) => (s.chars().next().map_or(RUNE_ERROR, u32::from), len),
        _ => (RUNE_ERROR, 1),
    }
}

#[cfg(test)]
mod tests {
    //! The expected values were produced by running the go1.27.3 toolchain's
    //! `path.Match` and vendored `golang.org/x/mod/module` on these inputs.

    use super::*;

    #[test]
    fn path_match_matches_go() {
        for &(pattern, name, matched, bad) in MATCHES {
            let want = if bad { Err(PatternError) } else { Ok(matched) };
            assert_eq!(
                path_match(pattern, name),
                want,
                "Match({pattern:?}, {name:?})"
            );
        }
    }

    #[test]
    fn prefix_patterns_match_go() {
        for &(globs, target, want) in PREFIXES {
            assert_eq!(
                match_prefix_patterns(globs, target),
                want,
                "MatchPrefixPatterns({globs:?}, {target:?})"
            );
        }
    }

    #[test]
    fn decode_rune_follows_go() {
        assert_eq!(decode_rune(b""), (RUNE_ERROR, 0));
        assert_eq!(decode_rune(b"a"), (u32::from('a'), 1));
        assert_eq!(decode_rune("é".as_bytes()), (0xe9, 2));
        assert_eq!(decode_rune(&"é".as_bytes()[1..]), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(&"é".as_bytes()[..1]), (RUNE_ERROR, 1));
        assert_eq!(decode_rune("😀".as_bytes()), (0x1f600, 4));
        assert_eq!(decode_rune(b"\xc0\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xed\xa0\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xff"), (RUNE_ERROR, 1));
    }

    #[test]
    fn hostile_input_never_panics() {
        let pieces = [
            "*", "?", "[", "]", "^", "-", "\\", "/", "a", "é", "😀", ",", "\0",
        ];
        let mut state = 0x1234_5678_9abc_def1_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut random = || -> String {
            let len = (next() % 12) as usize;
            (0..len)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect()
        };
        for _ in 0..5000 {
            let (pattern, name) = (random(), random());
            let _ = path_match(&pattern, &name);
            let _ = match_prefix_patterns(&pattern, &name);
        }
        let long = "*a".repeat(4096);
        let _ = path_match(&long, &"a".repeat(8192));
        let _ = match_prefix_patterns(&",".repeat(8192), &"/".repeat(8192));
    }

    /// (pattern, name, path.Match result, whether it returned ErrBadPattern). The first
    /// rows are Go's own path.Match test table.
    #[rustfmt::skip]
    const MATCHES: &[(&str, &str, bool, bool)] = &[
        ("abc", "abc", true, false),
        ("*", "abc", true, false),
        ("*c", "abc", true, false),
        ("a*", "a", true, false),
        ("a*", "abc", true, false),
        ("a*", "ab/c", false, false),
        ("a*/b", "abc/b", true, false),
        ("a*/b", "a/c/b", false, false),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", true, false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false),
        ("a*b?c*x", "abxbbxdbxebxczzx", true, false),
        ("a*b?c*x", "abxbbxdbxebxczzy", false, false),
        ("ab[c]", "abc", true, false),
        ("ab[b-d]", "abc", true, false),
        ("ab[e-g]", "abc", false, false),
        ("ab[^c]", "abc", false, false),
        ("ab[^b-d]", "abc", false, false),
        ("ab[^e-g]", "abc", true, false),
        ("a\\*b", "a*b", true, false),
        ("a\\*b", "ab", false, false),
        ("a?b", "a\u{263a}b", true, false),
        ("a[^a]b", "a\u{263a}b", true, false),
        ("a???b", "a\u{263a}b", false, false),
        ("a[^a][^a][^a]b", "a\u{263a}b", false, false),
        ("[a-\u{3b6}]*", "\u{3b1}", true, false),
        ("*[a-\u{3b6}]", "A", false, false),
        ("a?b", "a/b", false, false),
        ("a*b", "a/b", false, false),
        ("[\\]a]", "]", true, false),
        ("[\\-]", "-", true, false),
        ("[x\\-]", "x", true, false),
        ("[x\\-]", "-", true, false),
        ("[x\\-]", "z", false, false),
        ("[\\-x]", "x", true, false),
        ("[\\-x]", "-", true, false),
        ("[\\-x]", "a", false, false),
        ("[]a]", "]", false, true),
        ("[-]", "-", false, true),
        ("[x-]", "x", false, true),
        ("[x-]", "-", false, true),
        ("[x-]", "z", false, true),
        ("[-x]", "x", false, true),
        ("[-x]", "-", false, true),
        ("[-x]", "a", false, true),
        ("\\", "a", false, true),
        ("[a-b-c]", "a", false, true),
        ("[", "a", false, true),
        ("[^", "a", false, true),
        ("[^bc", "a", false, true),
        ("a[", "a", false, true),
        ("a[", "ab", false, true),
        ("a[", "x", false, true),
        ("a/b[", "x", false, true),
        ("*x", "xxx", true, false),
        ("", "", true, false),
        ("", "a", false, false),
        ("a", "", false, false),
        ("*", "", true, false),
        ("**", "abc", true, false),
        ("*/*", "a/b", true, false),
        ("*/*", "a/b/c", false, false),
        ("?", "", false, false),
        ("??", "a", false, false),
        ("[", "", false, true),
        ("a*[", "abc", false, true),
        ("*[", "abc", false, true),
        ("*\\", "abc", false, true),
        ("a\\", "a", false, true),
        ("\\a", "a", true, false),
        ("\\\\", "\\", true, false),
        ("[\\", "a", false, true),
        ("[a\\", "a", false, true),
        ("[a-\\", "a", false, true),
        ("[a-z", "a", false, true),
        ("[]", "a", false, true),
        ("[^]", "a", false, true),
        ("[^]a]", "b", false, true),
        ("[a-]", "a", false, true),
        ("[*]", "*", true, false),
        ("[*]x", "*x", true, false),
        ("a[*]*", "a*bc", true, false),
        ("*[*]", "ab*", true, false),
        ("[?]", "?", true, false),
        ("[?]", "a", false, false),
        ("[z-a]", "m", false, false),
        ("[a-a]", "a", true, false),
        ("[^a-z]", "A", true, false),
        ("[\u{e9}]", "\u{e9}", true, false),
        ("[^\u{e9}]", "\u{e9}", false, false),
        ("?", "\u{e9}", true, false),
        ("*\u{e9}", "\u{e9}\u{e9}", true, false),
        ("*?", "\u{e9}", true, false),
        ("*x", "\u{e9}x", true, false),
        ("*[^a]x", "\u{e9}x", true, false),
        ("*?x", "\u{e9}x", true, false),
        ("a*b*c", "a/b/c", false, false),
        ("*.go", "x.go", true, false),
        ("*.go", "dir/x.go", false, false),
        ("*/*.go", "dir/x.go", true, false),
        ("x[", "y", false, true),
        ("x[a-", "y", false, true),
        ("*x*", "abc", false, false),
        ("*x[", "abc", false, true),
        ("*x\\", "abc", false, true),
        ("a*b", "ab", true, false),
        ("a*b", "axxb", true, false),
        ("a*b", "axxbxx", false, false),
        ("a*b*", "axxbxx", true, false),
        ("[\u{4e00}-\u{9fff}]*", "\u{4e2d}\u{6587}", true, false),
        ("[^/]", "/", false, false),
        ("[/]", "/", true, false),
        ("\\/", "/", true, false),
        ("a?", "a\u{1f600}", true, false),
        ("a[\u{1f600}]", "a\u{1f600}", true, false),
        ("a*?", "a", false, false),
        ("*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false),
        ("[\0-\u{7f}]", "\0", true, false),
        ("\0", "\0", true, false),
        ("*\n", "a\n", true, false),
    ];
    /// (globs, target, MatchPrefixPatterns(globs, target)).
    #[rustfmt::skip]
    const PREFIXES: &[(&str, &str, bool)] = &[
        ("*/quote", "rsc.io/quote", true),
        ("*/quo", "rsc.io/quote", false),
        ("*/quo??", "rsc.io/quote", true),
        ("*/quo*", "rsc.io/quote", true),
        ("*quo*", "rsc.io/quote", false),
        ("rsc.io", "rsc.io/quote", true),
        ("*.io", "rsc.io/quote", true),
        ("rsc.io/", "rsc.io/quote", true),
        ("rsc", "rsc.io/quote", false),
        ("rsc*", "rsc.io/quote", true),
        ("rsc.io", "rsc.io/quote/v3", true),
        ("*/quote", "rsc.io/quote/v3", true),
        ("*/quote/", "rsc.io/quote/v3", true),
        ("*/quote/*", "rsc.io/quote/v3", true),
        ("*/quote/*/", "rsc.io/quote/v3", true),
        ("*/v3", "rsc.io/quote/v3", false),
        ("*/*/v3", "rsc.io/quote/v3", true),
        ("*/*/*", "rsc.io/quote/v3", true),
        ("*/*/*/", "rsc.io/quote/v3", true),
        ("*/*/*", "rsc.io/quote", false),
        ("*/*/*/", "rsc.io/quote", false),
        ("*/*/*,,", "rsc.io/quote", false),
        ("*/*/*,,*/quote", "rsc.io/quote", true),
        (",,*/quote", "rsc.io/quote", true),
        ("", "rsc.io/quote", false),
        (",", "rsc.io/quote", false),
        ("/", "rsc.io/quote", false),
        ("//", "rsc.io/quote", false),
        ("*", "rsc.io/quote", true),
        ("*", "rsc.io", true),
        ("*", "", true),
        ("", "", false),
        ("rsc.io", "rsc.io", true),
        ("rsc.io/quote", "rsc.io", false),
        ("[", "rsc.io/quote", false),
        ("[,rsc.io", "rsc.io/quote", true),
        ("rsc.io,[", "x.y/z", false),
        ("\\", "rsc.io", false),
        ("rsc.i[o", "rsc.io", false),
        ("rsc.i[o-p]", "rsc.io/x", true),
        ("rsc.i[^o]", "rsc.io/x", false),
        ("RSC.io", "rsc.io/x", false),
        ("rsc.io", "RSC.io/x", false),
        ("github.com/org/*", "github.com/org/repo/sub", true),
        ("github.com/org/*", "github.com/org", false),
        ("github.com/org", "github.com/org-other/repo", false),
        ("github.com/org", "github.com/orgx", false),
        ("*.corp.example.com", "git.corp.example.com/team/repo", true),
        ("*.corp.example.com", "corp.example.com/team/repo", false),
        ("corp.example.com,*.corp.example.com", "corp.example.com/x", true),
        ("rsc.io/quote", "rsc.io/quote/", true),
        ("rsc.io/quote/", "rsc.io/quote/", true),
        ("rsc.io//quote", "rsc.io//quote", true),
        ("*/", "rsc.io", true),
        ("a/b/c/d", "a/b/c", false),
        (" rsc.io", "rsc.io/quote", false),
        ("rsc.io ", "rsc.io/quote", false),
        ("r?c.io", "rsc.io/x", true),
        ("?", "/", false),
        ("*", "/x", true),
        ("\u{e9}*", "\u{e9}t\u{e9}/x", true),
        ("?", "\u{e9}", true),
    ];
}
