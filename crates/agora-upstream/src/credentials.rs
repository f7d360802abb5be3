//! Credentials for private repositories fetched `direct`: a netrc file
//! (`upstream.netrc_path`, Athens `NETRCPath`) or a GitHub token.
//!
//! Nothing is ever written to a home directory (Athens overwrites
//! `~/.netrc`). The credentials reach their two consumers as the go command's
//! own do:
//!
//! * **discovery pages** (`?go-get=1`): basic auth from the netrc `machine`
//!   matching the URL, over **https only**: the go command's `GOAUTH=netrc`
//!   (`cmd/go/internal/auth`: `AddCredentials` refuses anything but https,
//!   and `loadCredential` matches `host[:port]` and its path prefixes);
//! * **git**: the go command leaves git to read `~/.netrc` through libcurl,
//!   which matches the machine by host name (any port, http and https alike)
//!   and sends the credentials after a 401. agora instead gives each git
//!   child an `http.<scheme>://<host>/.extraHeader` through
//!   `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`: in its
//!   environment, never on its command line or in a file, and only for the
//!   one repository's host.
//!
//! A netrc `default` entry is parsed but never used: the go command ignores
//! it, and git would send it to every host; agora sends credentials only to
//! hosts a `machine` line names.

use std::fmt;

use base64::Engine as _;

/// One `machine` (or `default`) entry of a netrc file.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct NetrcLine {
    /// The machine name; empty for the `default` entry.
    pub machine: String,
    /// The login; empty when the entry has none.
    pub login: String,
    /// The password, if the entry has one.
    pub password: Option<String>,
}

impl fmt::Debug for NetrcLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetrcLine")
            .field("machine", &self.machine)
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A parsed netrc file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Netrc {
    /// The `machine` entries, in file order.
    pub machines: Vec<NetrcLine>,
    /// The `default` entry, if any (never used; see the module docs).
    pub default: Option<NetrcLine>,
}

/// Parses a netrc file: whitespace-separated tokens, `machine <name>` and
/// `default` start an entry, `login`, `password` and `account` take a value
/// (a value may be on the next line), `macdef <name>` skips everything up to
/// the next empty line. There is no quoting, as in the go command's parser.
/// Unknown tokens are skipped.
pub fn parse_netrc(text: &str) -> Netrc {
    #[derive(PartialEq)]
    enum Want {
        Keyword,
        Machine,
        Login,
        Password,
        Skip,
        MacroName,
    }
    let mut netrc = Netrc::default();
    let mut current: Option<NetrcLine> = None;
    let mut want = Want::Keyword;
    let mut in_macro = false;
    let finish = |netrc: &mut Netrc, line: Option<NetrcLine>| {
        if let Some(line) = line {
            if line.machine.is_empty() {
                if netrc.default.is_none() {
                    netrc.default = Some(line);
                }
            } else {
                netrc.machines.push(line);
            }
        }
    };
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if in_macro {
            if line.trim().is_empty() {
                in_macro = false;
            }
            continue;
        }
        for token in line.split_whitespace() {
            match want {
                Want::Machine => {
                    current = Some(NetrcLine {
                        machine: token.to_owned(),
                        ..NetrcLine::default()
                    });
                    want = Want::Keyword;
                }
                Want::Login => {
                    if let Some(c) = current.as_mut() {
                        c.login = token.to_owned();
                    }
                    want = Want::Keyword;
                }
                Want::Password => {
                    if let Some(c) = current.as_mut() {
                        c.password = Some(token.to_owned());
                    }
                    want = Want::Keyword;
                }
                Want::Skip => want = Want::Keyword,
                Want::MacroName => {
                    // The macro body starts on the next line.
                    in_macro = true;
                    want = Want::Keyword;
                    break;
                }
                Want::Keyword => match token {
                    "machine" => {
                        finish(&mut netrc, current.take());
                        want = Want::Machine;
                    }
                    "default" => {
                        finish(&mut netrc, current.take());
                        current = Some(NetrcLine::default());
                    }
                    "login" => want = Want::Login,
                    "password" => want = Want::Password,
                    "account" => want = Want::Skip,
                    "macdef" => want = Want::MacroName,
                    _ => {}
                },
            }
        }
        if want == Want::MacroName {
            // `macdef` without a name on its line: the body still starts below.
            in_macro = true;
            want = Want::Keyword;
        }
    }
    finish(&mut netrc, current);
    netrc
}

/// One usable credential.
#[derive(Clone, PartialEq, Eq)]
struct Entry {
    machine: String,
    login: String,
    password: Option<String>,
    /// Only for https URLs (the GitHub token); netrc lines apply to http too,
    /// as libcurl applies them.
    https_only: bool,
}

/// The credentials `direct` uses; empty by default. `Debug` never shows a
/// password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    entries: Vec<Entry>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let machines: Vec<&str> = self.entries.iter().map(|e| e.machine.as_str()).collect();
        f.debug_struct("Credentials")
            .field("machines", &machines)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The `machine` entries of a netrc file (the `default` entry is not used).
    pub fn from_netrc(netrc: &Netrc) -> Self {
        Credentials {
            entries: netrc
                .machines
                .iter()
                .map(|l| Entry {
                    machine: l.machine.clone(),
                    login: l.login.clone(),
                    password: l.password.clone(),
                    https_only: false,
                })
                .collect(),
        }
    }

    /// A GitHub token: `x-access-token:<token>` for `https://github.com/`.
    pub fn github_token(token: &str) -> Self {
        Credentials {
            entries: vec![Entry {
                machine: "github.com".to_owned(),
                login: "x-access-token".to_owned(),
                password: Some(token.to_owned()),
                https_only: true,
            }],
        }
    }

    /// True when there are no credentials at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `Authorization` value the go command sends with a GET of `url`
    /// (`cmd/go/internal/auth.loadCredential` with `GOAUTH=netrc`): none
    /// unless the URL is https; the machine must equal `host[:port]`, or
    /// `host[:port]/path` for one of the URL's path prefixes; the entry must
    /// have a login and a password; the first such entry in the file wins.
    pub fn http_authorization(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix("https://")?;
        let mut prefix = rest.strip_suffix('/').unwrap_or(rest);
        loop {
            let found = self.entries.iter().find(|e| {
                e.machine == prefix
                    && !e.login.is_empty()
                    && e.password.as_deref().is_some_and(|p| !p.is_empty())
            });
            if let Some(e) = found {
                return Some(basic(&e.login, e.password.as_deref().unwrap_or_default()));
            }
            prefix = &prefix[..prefix.rfind('/')?];
        }
    }

    /// A netrc file for a go command run by the go fetcher for a module on
    /// `host`: only the `machine` lines the go command would use for that
    /// host's `https://host/...` pages (the machine is `host` or `host/path`,
    /// as `loadCredential` matches them; a module path has no port), with a
    /// login and a password. `None` when there are none. The GitHub token is
    /// not a netrc line and is never included.
    pub fn netrc_for_host(&self, host: &str) -> Option<String> {
        let mut text = String::new();
        for e in &self.entries {
            let matches = e
                .machine
                .strip_prefix(host)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            let password = e.password.as_deref().unwrap_or_default();
            if e.https_only || !matches || e.login.is_empty() || password.is_empty() {
                continue;
            }
            // netrc has no quoting; parsed tokens never hold whitespace.
            text.push_str(&format!(
                "machine {} login {} password {}\n",
                e.machine, e.login, password
            ));
        }
        (!text.is_empty()).then_some(text)
    }

    /// The environment that gives a git child the credentials for the
    /// repository at `repo_url`: one `http.<scheme>://<host>[:port]/.extraHeader`
    /// entry appended to the `GIT_CONFIG_COUNT` list already in agora's own
    /// environment, or nothing. Matching is libcurl's netrc rule (the host
    /// name, case-insensitively, any port, http or https; the first matching
    /// machine wins; a missing password is empty).
    pub fn git_env(&self, repo_url: &str) -> Vec<(String, String)> {
        let base = std::env::var("GIT_CONFIG_COUNT")
            .ok()
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0);
        self.git_env_after(repo_url, base)
    }

    fn git_env_after(&self, repo_url: &str, base: usize) -> Vec<(String, String)> {
        let Ok(url) = url::Url::parse(repo_url) else {
            return Vec::new();
        };
        let scheme = url.scheme();
        if scheme != "https" && scheme != "http" {
            return Vec::new();
        }
        let Some(host) = url.host_str() else {
            return Vec::new();
        };
        let Some(e) = self
            .entries
            .iter()
            .find(|e| e.machine.eq_ignore_ascii_case(host) && !(e.https_only && scheme != "https"))
        else {
            return Vec::new();
        };
        if e.login.is_empty() {
            return Vec::new();
        }
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let header = format!(
            "Authorization: {}",
            basic(&e.login, e.password.as_deref().unwrap_or_default())
        );
        vec![
            (
                format!("GIT_CONFIG_KEY_{base}"),
                format!("http.{scheme}://{authority}/.extraHeader"),
            ),
            (format!("GIT_CONFIG_VALUE_{base}"), header),
            ("GIT_CONFIG_COUNT".to_owned(), (base + 1).to_string()),
        ]
    }
}

fn basic(login: &str, password: &str) -> String {
    let raw = format!("{login}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(machine: &str, login: &str, password: Option<&str>) -> NetrcLine {
        NetrcLine {
            machine: machine.into(),
            login: login.into(),
            password: password.map(Into::into),
        }
    }

    #[test]
    fn netrc_parsing_table() {
        let cases: &[(&str, &str, Vec<NetrcLine>, Option<NetrcLine>)] = &[
            ("empty", "", vec![], None),
            (
                "one line",
                "machine a.example login u password p",
                vec![line("a.example", "u", Some("p"))],
                None,
            ),
            (
                "entry over several lines, tabs, CRLF",
                "machine a.example\r\n\tlogin u\r\n\tpassword p\r\n",
                vec![line("a.example", "u", Some("p"))],
                None,
            ),
            (
                "several machines, file order kept",
                "machine a login u1 password p1\nmachine b login u2 password p2 machine c login u3",
                vec![
                    line("a", "u1", Some("p1")),
                    line("b", "u2", Some("p2")),
                    line("c", "u3", None),
                ],
                None,
            ),
            (
                "value on the next line",
                "machine a login\nu password\np",
                vec![line("a", "u", Some("p"))],
                None,
            ),
            (
                "account is skipped with its value",
                "machine a login u account acct password p",
                vec![line("a", "u", Some("p"))],
                None,
            ),
            (
                "default entry",
                "machine a login u password p\ndefault login anon password guest",
                vec![line("a", "u", Some("p"))],
                Some(line("", "anon", Some("guest"))),
            ),
            (
                "macdef skipped up to the empty line",
                "macdef init\ncd /pub\nmachine evil login x password y\n\nmachine a login u password p",
                vec![line("a", "u", Some("p"))],
                None,
            ),
            (
                "macdef ends an entry's line; the entry continues after the macro",
                "machine a login u macdef m\nput x\n\npassword p",
                vec![line("a", "u", Some("p"))],
                None,
            ),
            (
                "macro body whitespace-only line ends it",
                "macdef m\nbody\n   \nmachine a login u password p",
                vec![line("a", "u", Some("p"))],
                None,
            ),
            (
                "unknown tokens ignored",
                "port 21 machine a login u password p",
                vec![line("a", "u", Some("p"))],
                None,
            ),
            (
                "password with punctuation",
                "machine a login u password p@ss:w\"rd#1",
                vec![line("a", "u", Some("p@ss:w\"rd#1"))],
                None,
            ),
            (
                "machine with a port",
                "machine a.example:8443 login u password p",
                vec![line("a.example:8443", "u", Some("p"))],
                None,
            ),
        ];
        for (name, text, machines, default) in cases {
            let got = parse_netrc(text);
            assert_eq!(&got.machines, machines, "{name}");
            assert_eq!(&got.default, default, "{name}");
        }
    }

    fn creds(text: &str) -> Credentials {
        Credentials::from_netrc(&parse_netrc(text))
    }

    #[test]
    fn discovery_credentials_follow_the_go_command() {
        let c = creds(
            "machine private.example login u password p\n\
             machine private.example login second password q\n\
             machine ports.example:8443 login v password w\n\
             machine paths.example/team login t password x\n\
             machine nopass.example login n\n",
        );
        let up = "Basic dTpw"; // u:p
        for (url, want) in [
            ("https://private.example/a/b?go-get=1", Some(up)),
            ("https://private.example/?go-get=1", Some(up)),
            ("https://private.example", Some(up)),
            // Never over plain http.
            ("http://private.example/a?go-get=1", None),
            // The machine is host[:port], compared exactly.
            ("https://PRIVATE.example/a?go-get=1", None),
            ("https://private.example:8443/a?go-get=1", None),
            ("https://ports.example/a?go-get=1", None),
            ("https://ports.example:8443/a?go-get=1", Some("Basic djp3")),
            // Path prefixes, as loadCredential walks them.
            (
                "https://paths.example/team/repo?go-get=1",
                Some("Basic dDp4"),
            ),
            ("https://paths.example/other?go-get=1", None),
            // The go command needs a password.
            ("https://nopass.example/a?go-get=1", None),
            ("https://other.example/a?go-get=1", None),
        ] {
            assert_eq!(c.http_authorization(url).as_deref(), want, "{url}");
        }
        // default is never used.
        let d = creds("default login anon password guest");
        assert_eq!(d.http_authorization("https://any.example/x"), None);
        assert!(d.git_env_after("https://any.example/x", 0).is_empty());
    }

    #[test]
    fn git_credentials_follow_libcurl_netrc() {
        let c = creds(
            "machine Private.Example login u password p\n\
             machine nopass.example login n\n",
        );
        assert_eq!(
            c.git_env_after("https://private.example/team/repo.git", 0),
            vec![
                (
                    "GIT_CONFIG_KEY_0".to_owned(),
                    "http.https://private.example/.extraHeader".to_owned()
                ),
                (
                    "GIT_CONFIG_VALUE_0".to_owned(),
                    "Authorization: Basic dTpw".to_owned()
                ),
                ("GIT_CONFIG_COUNT".to_owned(), "1".to_owned()),
            ]
        );
        // Plain http too (GOINSECURE), any port, after the operator's entries.
        assert_eq!(
            c.git_env_after("http://private.example:8080/repo", 2),
            vec![
                (
                    "GIT_CONFIG_KEY_2".to_owned(),
                    "http.http://private.example:8080/.extraHeader".to_owned()
                ),
                (
                    "GIT_CONFIG_VALUE_2".to_owned(),
                    "Authorization: Basic dTpw".to_owned()
                ),
                ("GIT_CONFIG_COUNT".to_owned(), "3".to_owned()),
            ]
        );
        // A login without a password is sent with an empty one, as curl does.
        assert_eq!(
            c.git_env_after("https://nopass.example/r", 0)[1].1,
            "Authorization: Basic bjo="
        );
        for url in [
            "https://other.example/r",
            "ssh://git@private.example/r",
            "git+ssh://private.example/r",
            "not a url",
        ] {
            assert!(c.git_env_after(url, 0).is_empty(), "{url}");
        }
    }

    #[test]
    fn the_go_fetcher_gets_only_the_module_hosts_machines() {
        let c = creds(
            "machine go.corp.test login u password p\n\
             machine go.corp.test/team login t password q\n\
             machine go.corp.test.evil.test login e password x\n\
             machine go.corp.testing login e password x\n\
             machine git.corp.test login g password r\n\
             machine go.corp.test:8443 login e password x\n\
             machine nopass.test login n\n\
             default login d password dd\n",
        );
        assert_eq!(
            c.netrc_for_host("go.corp.test").as_deref(),
            Some(
                "machine go.corp.test login u password p\n\
                 machine go.corp.test/team login t password q\n"
            )
        );
        assert_eq!(c.netrc_for_host("other.test"), None);
        assert_eq!(c.netrc_for_host("nopass.test"), None);
        assert_eq!(
            Credentials::github_token("tok").netrc_for_host("github.com"),
            None
        );
    }

    #[test]
    fn github_token() {
        let c = Credentials::github_token("ghp_abc");
        let env = c.git_env_after("https://github.com/org/private", 0);
        assert_eq!(env[0].1, "http.https://github.com/.extraHeader");
        assert_eq!(
            env[1].1,
            format!(
                "Authorization: Basic {}",
                base64::engine::general_purpose::STANDARD.encode("x-access-token:ghp_abc")
            )
        );
        assert!(
            c.git_env_after("http://github.com/org/private", 0)
                .is_empty()
        );
        assert!(
            c.git_env_after("https://gitlab.com/org/private", 0)
                .is_empty()
        );
    }

    #[test]
    fn debug_never_shows_passwords() {
        let c = creds("machine a login u password hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        let n = parse_netrc("machine a login u password hunter2");
        assert!(!format!("{n:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credentials::github_token("ghp_s3cret")).contains("s3cret"));
    }
}
