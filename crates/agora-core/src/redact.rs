//! Hiding credentials in text that is shown: logs, error messages, `config show`.

/// `text` with the password of every `scheme://user:password@host` in it replaced by
/// `xxxxx`, as the go command's `url.Redacted` shows proxy URLs, and a lone user name
/// (often a token) too: a GOPROXY such as `https://user:token@proxy.corp` is the
/// operator's secret and must not reach clients' error messages or the log.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":xxxxx");
                    }
                    // A user name alone is often a token (`https://TOKEN@host`).
                    None => out.push_str("xxxxx"),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_urls;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_urls("https://user:s3cret@proxy.corp/a/@v/list: 500"),
            "https://user:xxxxx@proxy.corp/a/@v/list: 500"
        );
        assert_eq!(
            redact_urls("a http://u:p@h:8080 and https://t:tok@x.test?q=1 end"),
            "a http://u:xxxxx@h:8080 and https://t:xxxxx@x.test?q=1 end"
        );
        // A user name alone is often a token: it goes too.
        assert_eq!(redact_urls("https://tok@h/p"), "https://xxxxx@h/p");
        assert_eq!(redact_urls("https://h/p@q"), "https://h/p@q");
        assert_eq!(redact_urls("no urls here"), "no urls here");
    }
}
