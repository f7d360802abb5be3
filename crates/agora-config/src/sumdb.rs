//! The value kinds of the checksum database settings: Athens' `SumDBs` (URLs of
//! which only the host counts) and agora's `GOSUMDB`-syntax entries.

use crate::spec::Kind;
use crate::value::quote;

/// Athens' `SumDBs`: https URLs, comma-separated in the environment, a list in a file.
/// Athens keeps only the host and reaches the database at `https://HOST`, so each entry
/// is normalised to that.
pub(crate) struct SumDbUrls;
impl Kind for SumDbUrls {
    type Value = Vec<String>;
    fn parse(s: &str) -> Result<Vec<String>, String> {
        athens_urls(s.split(',').map(str::trim).filter(|e| !e.is_empty()))
    }
    fn parse_toml(v: &toml::Value) -> Result<Vec<String>, String> {
        athens_urls(string_list(v)?)
    }
}

fn string_list(v: &toml::Value) -> Result<Vec<&str>, String> {
    let toml::Value::Array(items) = v else {
        return Err("expected a list of strings".to_owned());
    };
    items
        .iter()
        .map(toml::Value::as_str)
        .collect::<Option<Vec<&str>>>()
        .ok_or_else(|| "expected a list of strings".to_owned())
}

fn athens_urls<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let rest = item.strip_prefix("https://").ok_or_else(|| {
            format!(
                "checksum database URL {} must start with https:// (Athens reaches it over https)",
                quote(item)
            )
        })?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '@') {
            return Err(format!("checksum database URL {} has no host", quote(item)));
        }
        let url = format!("https://{host}");
        if !out.contains(&url) {
            out.push(url);
        }
    }
    Ok(out)
}

/// agora's checksum databases: `,`-separated `GOSUMDB` entries `NAME[+HASH+KEY] [URL]`.
/// Normalised to `NAME[+HASH+KEY] URL`: a missing URL is `https://NAME`, and the go
/// command's alias `sum.golang.google.cn` becomes `sum.golang.org https://sum.golang.google.cn`.
pub(crate) struct SumDbEntries;
impl Kind for SumDbEntries {
    type Value = Vec<String>;
    fn parse(s: &str) -> Result<Vec<String>, String> {
        gosumdb_entries(s.split(',').map(str::trim).filter(|e| !e.is_empty()))
    }
    fn parse_toml(v: &toml::Value) -> Result<Vec<String>, String> {
        match v {
            toml::Value::String(s) => Self::parse(s),
            other => gosumdb_entries(string_list(other)?),
        }
    }
}

fn gosumdb_entries<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in items {
        let fields: Vec<&str> = item.split_whitespace().collect();
        let (key, url) = match fields.as_slice() {
            [key] => (*key, None),
            [key, url] => (*key, Some(*url)),
            _ => {
                return Err(format!(
                    "checksum database {} is not NAME[+HASH+KEY] [URL]",
                    quote(item)
                ));
            }
        };
        if key == "off" {
            return Err("\"off\" is not a checksum database".to_owned());
        }
        let (key, url) = match (key, url) {
            ("sum.golang.google.cn", None) => {
                ("sum.golang.org", "https://sum.golang.google.cn".to_owned())
            }
            (key, Some(url)) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!(
                        "checksum database URL {} must start with https:// or http://",
                        quote(url)
                    ));
                }
                (key, url.trim_end_matches('/').to_owned())
            }
            (key, None) => {
                let name = key.split('+').next().unwrap_or_default();
                (key, format!("https://{name}"))
            }
        };
        let parts: Vec<&str> = key.splitn(3, '+').collect();
        let ok = match parts.as_slice() {
            [name] => !name.is_empty(),
            [name, hash, b64] => {
                !name.is_empty()
                    && hash.len() == 8
                    && hash.bytes().all(|b| b.is_ascii_hexdigit())
                    && !b64.is_empty()
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "checksum database key {} is not NAME or NAME+HASH+KEY",
                quote(key)
            ));
        }
        out.push(format!("{key} {url}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn athens_urls_keep_the_host() {
        assert_eq!(
            SumDbUrls::parse("https://sum.golang.org, https://sum.example.com/x/").unwrap(),
            ["https://sum.golang.org", "https://sum.example.com"]
        );
        assert!(SumDbUrls::parse("http://sum.golang.org").is_err());
        assert!(SumDbUrls::parse("https://").is_err());
        assert_eq!(SumDbUrls::parse("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn gosumdb_entries_keep_the_whole_url() {
        let k = "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6";
        assert_eq!(
            SumDbEntries::parse(&format!(
                "{k} http://127.0.0.1:1/mod/sumdb-direct/,sum.golang.org"
            ))
            .unwrap(),
            [
                format!("{k} http://127.0.0.1:1/mod/sumdb-direct"),
                "sum.golang.org https://sum.golang.org".to_owned()
            ]
        );
        assert_eq!(
            SumDbEntries::parse("sum.golang.google.cn").unwrap(),
            ["sum.golang.org https://sum.golang.google.cn"]
        );
        for bad in ["off", "a b c", "x+y", "x+0000zz67+abc", "x ftp://h"] {
            assert!(SumDbEntries::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
