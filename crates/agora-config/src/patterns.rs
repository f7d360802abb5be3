//! Syntax checks for `GOPRIVATE`-style pattern lists.
//!
//! These mirror `path.Match`, which the go command uses for `GOPRIVATE`, `GONOPROXY`,
//! `GONOSUMDB` and `GOINSECURE`, so that a malformed pattern is an error at startup rather
//! than a pattern that silently never matches (and lets a private module reach a public
//! proxy). The `GOPROXY` list itself is parsed by `agora_core::goproxy`.

/// Checks a comma-separated list of module path patterns (`GOPRIVATE`, `GONOPROXY`,
/// `GONOSUMDB`, `GOINSECURE`). Empty elements are skipped as in Go; `""` means none.
/// Returns the trimmed string.
pub(crate) fn check_patterns(value: &str) -> Result<String, String> {
    for raw in value.split(',') {
        let pattern = raw.trim();
        if pattern.is_empty() {
            continue;
        }
        check_glob(pattern).map_err(|why| format!("pattern {pattern:?}: {why}"))?;
    }
    Ok(value.trim().to_owned())
}

/// Validates Go `path.Match` syntax: `*`, `?`, `\x` escapes and `[^a-z]` classes.
fn check_glob(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // The guard consumes the escaped character, so it is skipped when present.
            '\\' if chars.next().is_none() => {
                return Err("ends with a lone backslash".to_owned());
            }
            '[' => {
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                let mut ranges = 0usize;
                loop {
                    match chars.next() {
                        None => return Err("unterminated character class [".to_owned()),
                        Some(']') if ranges > 0 => break,
                        Some(c @ (']' | '-')) => {
                            return Err(format!("misplaced {c:?} in a character class"));
                        }
                        Some('\\') => {
                            if chars.next().is_none() {
                                return Err("unterminated character class [".to_owned());
                            }
                        }
                        Some(_) => {}
                    }
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next() {
                            None => return Err("unterminated character class [".to_owned()),
                            Some(']') | Some('-') => {
                                return Err("incomplete range in a character class".to_owned());
                            }
                            Some('\\') => {
                                if chars.next().is_none() {
                                    return Err("unterminated character class [".to_owned());
                                }
                            }
                            Some(_) => {}
                        }
                    }
                    ranges += 1;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        for ok in [
            "",
            "*.corp.example.com,rsc.io/private",
            "a/[^x]*",
            "a/[a-c\\]]",
            "x\\*",
            " , a ,",
        ] {
            assert!(check_patterns(ok).is_ok(), "{ok}: {:?}", check_patterns(ok));
        }
        for bad in ["a/[", "a/[]", "a/[-a]", "a/[a-]", "a\\", "ok,b[c"] {
            assert!(check_patterns(bad).is_err(), "{bad}");
        }
    }
}
