//! The one declaration of a setting ([`Spec`]), and the [`settings_group!`] macro that
//! turns a list of declarations into a typed settings struct plus the table that loading,
//! precedence, validation, `config show` and the docs check read.
//!
//! A setting's value type is given by a [`Kind`]: how a string (an environment variable,
//! or a string in a file) and a TOML value become the typed value. Layers hold values
//! type-erased ([`Val`]); the generated `resolve` takes each back out with the same
//! kind, so the types always agree.

use std::any::Any;
use std::fmt;

use crate::resolve::Resolver;
use crate::show::Render;

/// How one setting's values are parsed.
pub(crate) trait Kind: 'static {
    /// What a layer holds for the setting. For settings where empty means "none" this is
    /// an `Option`, so an empty environment variable can unset a file's value.
    type Value: Clone + PartialEq + fmt::Debug + Render + Send + Sync + 'static;
    /// Values are never printed: not in errors, not in `config show`.
    const SECRET: bool = false;
    /// Parses a string: an environment variable, or a string in a file.
    fn parse(s: &str) -> Result<Self::Value, String>;
    /// Parses a value from a TOML file. Most settings are strings there too.
    fn parse_toml(v: &toml::Value) -> Result<Self::Value, String> {
        match v {
            toml::Value::String(s) => Self::parse(s),
            _ => Err("expected a string".to_owned()),
        }
    }
}

/// A parsed value whose type only its [`Spec`] knows.
pub(crate) trait AnyValue: Any + fmt::Debug + Send + Sync {
    /// Equal to `other` (which has the same type when both come from one spec).
    fn same(&self, other: &dyn AnyValue) -> bool;
    /// The value as `config show` prints it (secrets redacted).
    fn render(&self) -> String;
    fn clone_box(&self) -> Val;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: Clone + PartialEq + fmt::Debug + Render + Send + Sync + 'static> AnyValue for T {
    fn same(&self, other: &dyn AnyValue) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
    fn render(&self) -> String {
        Render::render(self)
    }
    fn clone_box(&self) -> Val {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A type-erased setting value.
pub(crate) type Val = Box<dyn AnyValue>;

/// Everything about one setting. Declared once, in `settings.rs`, through
/// [`settings_group!`]; every other part of the crate reads it from there.
#[derive(Clone, Copy)]
pub(crate) struct Spec {
    /// agora's dotted key, as in agora's file and `config show`: `upstream.timeout`.
    pub key: &'static str,
    /// agora's environment variable, `AGORA_*`.
    pub env: &'static str,
    /// Athens' key (dotted TOML path, Athens' spelling), or `""` when Athens has none.
    pub athens: &'static str,
    /// The other environment variables that set it, with Athens' meaning: `ATHENS_*`
    /// names, and names Athens reads from its libraries (`AWS_REGION`). Their quirks (an
    /// empty value counting as unset, `PORT` ranking below the others) live in
    /// `athens.rs`.
    pub athens_env: &'static [&'static str],
    /// agora's default, written as in the environment; for optional settings `""`.
    pub default: &'static str,
    /// A default computed from the environment or from settings resolved before this
    /// one (`tmp_dir` is `<data_dir>/tmp`); replaces `default`.
    pub default_from: Option<fn(&Resolver) -> String>,
    /// Athens' default, applied when the config file is in Athens format.
    pub athens_default: Option<&'static str>,
    /// The field is not optional: an unset value, or one set to empty, is an error when
    /// `default` gives none either (only storage backends have such settings).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the docs check"))]
    pub required: bool,
    /// Never printed.
    pub secret: bool,
    /// What the setting means (the field's doc comment).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the docs check"))]
    pub doc: &'static str,
    pub parse: fn(&str) -> Result<Val, String>,
    pub parse_toml: fn(&toml::Value) -> Result<Val, String>,
}

fn parse_erased<K: Kind>(s: &str) -> Result<Val, String> {
    K::parse(s).map(|v| Box::new(v) as Val)
}

fn parse_toml_erased<K: Kind>(v: &toml::Value) -> Result<Val, String> {
    K::parse_toml(v).map(|v| Box::new(v) as Val)
}

impl Spec {
    /// A declaration of kind `K` with everything else empty, for `..Spec::of::<K>()`.
    pub(crate) const fn of<K: Kind>() -> Spec {
        Spec {
            key: "",
            env: "",
            athens: "",
            athens_env: &[],
            default: "",
            default_from: None,
            athens_default: None,
            required: false,
            secret: K::SECRET,
            doc: "",
            parse: parse_erased::<K>,
            parse_toml: parse_toml_erased::<K>,
        }
    }

    /// Every name that sets this setting, for "must be set" messages:
    /// `storage.s3.bucket, AGORA_S3_BUCKET, Athens' Storage.S3.Bucket or
    /// ATHENS_S3_BUCKET_NAME`.
    pub(crate) fn names(&self) -> String {
        let mut names = vec![self.key.to_owned(), self.env.to_owned()];
        if !self.athens.is_empty() {
            names.push(format!("Athens' {}", self.athens));
        }
        names.extend(self.athens_env.iter().map(|n| (*n).to_owned()));
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec").field("key", &self.key).finish()
    }
}

/// Declares a settings struct whose every field is one setting. Each field reads
///
/// ```text
/// /// Doc comment: what the setting means.
/// pub name: FieldType as KindType = [required] { key: "...", env: "AGORA_...", ... },
/// ```
///
/// where the braces hold the [`Spec`] fields other than the parsers (which come from
/// `KindType`). `FieldType` is `KindType::Value`, or for `required` settings the type
/// inside its `Option`. The macro emits the struct, `SPECS` (the declarations, in field
/// order) and `resolve`, which takes each field from the merged layers.
macro_rules! settings_group {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident : $fty:ty as $kind:ty = $($required:ident)? { $($spec:tt)* }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $fty,
            )*
        }

        impl $name {
            /// The declarations of this struct's fields, in field order.
            pub(crate) const SPECS: [$crate::spec::Spec; [$(stringify!($field)),*].len()] = [
                $(
                    $crate::spec::Spec {
                        doc: concat!($($doc, "\n"),*),
                        required: settings_group!(@required $($required)?),
                        $($spec)*
                        ..$crate::spec::Spec::of::<$kind>()
                    },
                )*
            ];

            /// Takes every field from the merged layers, recording where each came from.
            pub(crate) fn resolve(
                r: &mut $crate::resolve::Resolver,
            ) -> Result<Self, $crate::error::ConfigError> {
                let [$($field),*] = &Self::SPECS;
                Ok(Self {
                    $(
                        $field: settings_group!(@take r, $field, $kind $(, $required)?),
                    )*
                })
            }
        }
    };
    (@required) => { false };
    (@required required) => { true };
    (@take $r:ident, $spec:ident, $kind:ty) => { $r.value::<$kind>($spec)? };
    (@take $r:ident, $spec:ident, $kind:ty, required) => { $r.required::<$kind, _>($spec)? };
}

pub(crate) use settings_group;
