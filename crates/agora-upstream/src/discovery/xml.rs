//! A port of the parts of Go's `encoding/xml` tokenizer (`RawToken`, not
//! strict) that decide which `go-import` tags the go command sees on a page
//! and where its scan fails.

/// The tokens the scan cares about. Names are local names: Go splits
/// `prefix:local` and the go command looks only at the local part.
pub(super) enum Token {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        empty: bool,
    },
    End(String),
    Other,
}

/// A port of the parts of Go's `encoding/xml` `Decoder.RawToken` with
/// `Strict = false` that decide which tags are seen and where the scan
/// fails: a page that Go's tokenizer rejects before any go-import tag must
/// be rejected here too, so the details (what may follow `<`, comments,
/// entities, UTF-8 checks) follow it byte for byte.
pub(super) struct Tokenizer<'a> {
    pub(super) s: &'a [u8],
    pub(super) pos: usize,
}

type XmlResult<T> = Result<T, String>;

impl Tokenizer<'_> {
    fn syntax_error(&self, msg: &str) -> String {
        let line = 1 + self.s[..self.pos].iter().filter(|&&b| b == b'\n').count();
        format!("XML syntax error on line {line}: {msg}")
    }

    fn getc(&mut self) -> Option<u8> {
        let b = *self.s.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn ungetc(&mut self) {
        self.pos -= 1;
    }

    fn mustgetc(&mut self) -> XmlResult<u8> {
        self.getc()
            .ok_or_else(|| self.syntax_error("unexpected EOF"))
    }

    fn space(&mut self) {
        while let Some(b) = self.getc() {
            if !matches!(b, b' ' | b'\r' | b'\n' | b'\t') {
                self.ungetc();
                return;
            }
        }
    }

    /// Go's `readName`: `Ok(None)` if no name starts here.
    fn read_name(&mut self) -> XmlResult<Option<Vec<u8>>> {
        let b = self.mustgetc()?;
        if b < 0x80 && !is_name_byte(b) {
            self.ungetc();
            return Ok(None);
        }
        let mut name = vec![b];
        loop {
            let b = self.mustgetc()?;
            if b < 0x80 && !is_name_byte(b) {
                self.ungetc();
                return Ok(Some(name));
            }
            name.push(b);
        }
    }

    /// Go's `name`: `Ok(None)` if no name starts here.
    fn name(&mut self) -> XmlResult<Option<String>> {
        let Some(raw) = self.read_name()? else {
            return Ok(None);
        };
        match std::str::from_utf8(&raw) {
            Ok(s) if is_xml_name(s) => Ok(Some(s.to_string())),
            _ => Err(self.syntax_error(&format!(
                "invalid XML name: {}",
                String::from_utf8_lossy(&raw)
            ))),
        }
    }

    /// Go's `nsname`, returning the local part; `Ok(None)` if there is no
    /// usable name (no name, or more than one colon).
    fn nsname(&mut self) -> XmlResult<Option<String>> {
        let Some(s) = self.name()? else {
            return Ok(None);
        };
        if s.matches(':').count() > 1 {
            return Ok(None);
        }
        Ok(Some(match s.split_once(':') {
            Some((space, local)) if !space.is_empty() && !local.is_empty() => local.to_string(),
            _ => s,
        }))
    }

    pub(super) fn raw_token(&mut self) -> XmlResult<Option<Token>> {
        let Some(b) = self.getc() else {
            return Ok(None);
        };
        if b != b'<' {
            self.ungetc();
            self.text(None, false)?;
            return Ok(Some(Token::Other));
        }
        match self.mustgetc()? {
            b'/' => {
                let Some(name) = self.nsname()? else {
                    return Err(self.syntax_error("expected element name after </"));
                };
                self.space();
                if self.mustgetc()? != b'>' {
                    return Err(
                        self.syntax_error(&format!("invalid characters between </{name} and >"))
                    );
                }
                Ok(Some(Token::End(name)))
            }
            b'?' => self.proc_inst().map(Some),
            b'!' => self.bang().map(Some),
            _ => {
                self.ungetc();
                self.start_element().map(Some)
            }
        }
    }

    /// `<?target ...?>`; an `<?xml?>` declaration may name a version or an
    /// encoding the go command refuses.
    fn proc_inst(&mut self) -> XmlResult<Token> {
        let Some(target) = self.name()? else {
            return Err(self.syntax_error("expected target name after <?"));
        };
        self.space();
        let start = self.pos;
        let mut b0 = 0u8;
        loop {
            let b = self.mustgetc()?;
            if b0 == b'?' && b == b'>' {
                break;
            }
            b0 = b;
        }
        if target == "xml" {
            let content = String::from_utf8_lossy(&self.s[start..self.pos - 2]).into_owned();
            let ver = proc_inst_param("version", &content);
            if !ver.is_empty() && ver != "1.0" {
                return Err(format!(
                    "xml: unsupported version {ver:?}; only version 1.0 is supported"
                ));
            }
            let enc = proc_inst_param("encoding", &content);
            // The go command's charset reader knows UTF-8 and ASCII only
            // (and passes ASCII through unchanged).
            if !enc.is_empty()
                && !enc.eq_ignore_ascii_case("utf-8")
                && !enc.eq_ignore_ascii_case("ascii")
            {
                return Err(format!(
                    "xml: opening charset {enc:?}: can't decode XML document using charset {enc:?}"
                ));
            }
        }
        Ok(Token::Other)
    }

    /// `<!--...-->`, `<![CDATA[...]]>` and `<!DIRECTIVE ...>`.
    fn bang(&mut self) -> XmlResult<Token> {
        match self.mustgetc()? {
            b'-' => {
                if self.mustgetc()? != b'-' {
                    return Err(self.syntax_error("invalid sequence <!- not part of <!--"));
                }
                let (mut b0, mut b1) = (0u8, 0u8);
                loop {
                    let b = self.mustgetc()?;
                    if b0 == b'-' && b1 == b'-' {
                        if b != b'>' {
                            return Err(self
                                .syntax_error("invalid sequence \"--\" not allowed in comments"));
                        }
                        return Ok(Token::Other);
                    }
                    (b0, b1) = (b1, b);
                }
            }
            b'[' => {
                for want in b"CDATA[" {
                    if self.mustgetc()? != *want {
                        return Err(self.syntax_error("invalid <![ sequence"));
                    }
                }
                self.text(None, true)?;
                Ok(Token::Other)
            }
            _ => {
                // A directive: runs to the first '>' outside quotes and
                // nested '<...>', with comments inside skipped.
                let mut inquote = 0u8;
                let mut depth = 0usize;
                let mut pending: Option<u8> = None;
                loop {
                    let b = match pending.take() {
                        Some(b) => b,
                        None => {
                            let b = self.mustgetc()?;
                            if inquote == 0 && b == b'>' && depth == 0 {
                                return Ok(Token::Other);
                            }
                            b
                        }
                    };
                    if b == inquote {
                        inquote = 0;
                    } else if inquote != 0 {
                    } else if b == b'\'' || b == b'"' {
                        inquote = b;
                    } else if b == b'>' {
                        depth = depth.saturating_sub(1);
                    } else if b == b'<' {
                        let mut is_comment = true;
                        for want in b"!--" {
                            let c = self.mustgetc()?;
                            if c != *want {
                                // Go handles this byte as if read in the
                                // loop, skipping the '>' exit check.
                                depth += 1;
                                pending = Some(c);
                                is_comment = false;
                                break;
                            }
                        }
                        if is_comment {
                            let (mut b0, mut b1) = (0u8, 0u8);
                            loop {
                                let c = self.mustgetc()?;
                                if b0 == b'-' && b1 == b'-' && c == b'>' {
                                    break;
                                }
                                (b0, b1) = (b1, c);
                            }
                        }
                    }
                }
            }
        }
    }

    fn start_element(&mut self) -> XmlResult<Token> {
        let Some(name) = self.nsname()? else {
            return Err(self.syntax_error("expected element name after <"));
        };
        let mut attrs = Vec::new();
        loop {
            self.space();
            let b = self.mustgetc()?;
            if b == b'/' {
                if self.mustgetc()? != b'>' {
                    return Err(self.syntax_error("expected /> in element"));
                }
                return Ok(Token::Start {
                    name,
                    attrs,
                    empty: true,
                });
            }
            if b == b'>' {
                return Ok(Token::Start {
                    name,
                    attrs,
                    empty: false,
                });
            }
            self.ungetc();
            let Some(key) = self.nsname()? else {
                return Err(self.syntax_error("expected attribute name in element"));
            };
            self.space();
            if self.mustgetc()? != b'=' {
                // Non-strict: a bare attribute's value is its name.
                self.ungetc();
                attrs.push((key.clone(), key));
                continue;
            }
            self.space();
            let value = self.attr_value()?;
            attrs.push((key, value));
        }
    }

    fn attr_value(&mut self) -> XmlResult<String> {
        let b = self.mustgetc()?;
        if b == b'"' || b == b'\'' {
            return self.text(Some(b), false);
        }
        // Non-strict: an unquoted value is a run of HTML name characters.
        self.ungetc();
        let mut value = String::new();
        loop {
            let b = self.mustgetc()?;
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-') {
                value.push(char::from(b));
            } else {
                self.ungetc();
                return Ok(value);
            }
        }
    }

    /// Go's `text`: character data up to `<` (or the closing quote, or
    /// `]]>` in CDATA), with the five XML entities and character references
    /// decoded, unknown entities kept as written, CR LF folded, and the
    /// result checked for UTF-8 and XML's character range.
    fn text(&mut self, quote: Option<u8>, cdata: bool) -> XmlResult<String> {
        let (mut b0, mut b1) = (0u8, 0u8);
        let mut buf: Vec<u8> = Vec::new();
        let mut trunc = 0;
        loop {
            let Some(b) = self.getc() else {
                if cdata {
                    return Err(self.syntax_error("unexpected EOF in CDATA section"));
                }
                break;
            };
            if quote.is_none() && b0 == b']' && b1 == b']' && b == b'>' {
                if cdata {
                    trunc = 2;
                    break;
                }
                return Err(self.syntax_error("unescaped ]]> not in CDATA section"));
            }
            if b == b'<' && !cdata {
                if quote.is_some() {
                    return Err(self.syntax_error("unescaped < inside quoted string"));
                }
                self.ungetc();
                break;
            }
            if quote == Some(b) {
                break;
            }
            if b == b'&' && !cdata {
                self.entity(&mut buf)?;
                (b0, b1) = (0, 0);
                continue;
            }
            if b == b'\r' {
                buf.push(b'\n');
            } else if b1 == b'\r' && b == b'\n' {
                // CR LF: the LF was already written for the CR.
            } else {
                buf.push(b);
            }
            (b0, b1) = (b1, b);
        }
        buf.truncate(buf.len() - trunc);
        let text = String::from_utf8(buf).map_err(|_| self.syntax_error("invalid UTF-8"))?;
        if let Some(c) = text.chars().find(|&c| !is_xml_char(c)) {
            return Err(self.syntax_error(&format!("illegal character code U+{:04X}", c as u32)));
        }
        Ok(text)
    }

    /// After `&`: writes the decoded entity, or (non-strict) the raw text.
    fn entity(&mut self, buf: &mut Vec<u8>) -> XmlResult<()> {
        let before = buf.len();
        buf.push(b'&');
        let mut b = self.mustgetc()?;
        let mut decoded: Option<String> = None;
        if b == b'#' {
            buf.push(b);
            b = self.mustgetc()?;
            let mut radix = 10;
            if b == b'x' {
                radix = 16;
                buf.push(b);
                b = self.mustgetc()?;
            }
            let start = buf.len();
            while b.is_ascii_digit() || (radix == 16 && b.is_ascii_hexdigit()) {
                buf.push(b);
                b = self.mustgetc()?;
            }
            if b != b';' {
                self.ungetc();
            } else {
                let digits = String::from_utf8_lossy(&buf[start..]).into_owned();
                buf.push(b';');
                if let Ok(n) = u64::from_str_radix(&digits, radix)
                    && n <= 0x10FFFF
                {
                    // Go's string(rune(n)) turns surrogates into U+FFFD.
                    let c = u32::try_from(n)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{FFFD}');
                    decoded = Some(c.to_string());
                }
            }
        } else {
            self.ungetc();
            if let Some(name) = self.read_name()? {
                buf.extend_from_slice(&name);
            }
            let b = self.mustgetc()?;
            if b != b';' {
                self.ungetc();
            } else {
                let name = String::from_utf8_lossy(&buf[before + 1..]).into_owned();
                buf.push(b';');
                if is_xml_name(&name) {
                    decoded = match name.as_str() {
                        "lt" => Some("<".into()),
                        "gt" => Some(">".into()),
                        "amp" => Some("&".into()),
                        "apos" => Some("'".into()),
                        "quot" => Some("\"".into()),
                        _ => None,
                    };
                }
            }
        }
        if let Some(text) = decoded {
            buf.truncate(before);
            buf.extend_from_slice(text.as_bytes());
        }
        Ok(())
    }
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-')
}

/// XML's name rule. ASCII is exact; beyond ASCII, Unicode letters (and,
/// after the first character, letters and digits) stand in for the XML 1.0
/// tables Go uses, which differ only on characters no HTML tag uses.
fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let is_first = |c: char| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (!c.is_ascii() && c.is_alphabetic())
    };
    is_first(first)
        && chars.all(|c| {
            is_first(c)
                || c.is_ascii_digit()
                || c == '.'
                || c == '-'
                || (!c.is_ascii() && c.is_alphanumeric())
        })
}

fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x09 | 0x0A | 0x0D | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Go's `procInst`: the quoted value of `param=` in an `<?xml ...?>`
/// declaration, found as loosely as Go finds it.
fn proc_inst_param(param: &str, s: &str) -> String {
    let key = format!("{param}=");
    let (key, b) = (key.as_bytes(), s.as_bytes());
    let find = |hay: &[u8]| hay.windows(key.len()).position(|w| w == key);
    let mut i = 0;
    let mut sep = None;
    while i < b.len() {
        let sub = &b[i..];
        let Some(k) = find(sub) else {
            return String::new();
        };
        if key.len() + k >= sub.len() {
            return String::new();
        }
        i += key.len() + k + 1;
        let c = sub[key.len() + k];
        if c == b'\'' || c == b'"' {
            sep = Some(c);
            break;
        }
    }
    let Some(sep) = sep else {
        return String::new();
    };
    let rest = b.get(i..).unwrap_or_default();
    match rest.iter().position(|&c| c == sep) {
        Some(j) => String::from_utf8_lossy(&rest[..j]).into_owned(),
        None => String::new(),
    }
}
