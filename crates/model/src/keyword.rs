//! Closed vocabularies that travel as lower-case words — region levels, lineage kinds,
//! indicator kinds, units, qualifiers, number locales. This module owns the one macro that
//! gives each of them the same `ALL`, `as_str`, `Display` and `FromStr`, and the one error that
//! reports an unknown word together with every word that would have been accepted.

use thiserror::Error;

/// A word that names none of the values of a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {what} {found:?}; use one of: {}", .accepted.join(", "))]
pub struct ParseKeywordError {
    /// What was being read, e.g. `"unit"`.
    pub what: &'static str,
    /// The text exactly as given.
    pub found: String,
    /// Every accepted word, in declaration order.
    pub accepted: &'static [&'static str],
}

/// Declares a fieldless enum whose values are written as fixed words.
///
/// Reading is case-insensitive and ignores surrounding whitespace, because a word can only
/// ever mean one value and CSV cells often carry stray spaces. `empty = Variant` makes blank
/// text read as that value (an empty optional column meaning "the default").
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal $(, empty = $empty:ident)?) {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($word),+].len()] = [$(Self::$variant),+];

            /// The word of every value, in declaration order (what `FromStr` accepts).
            pub const NAMES: &'static [&'static str] = &[$($word),+];

            /// The canonical lower-case word for this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $word, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::keyword::ParseKeywordError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let word = text.trim();
                $( if word.is_empty() { return Ok(Self::$empty); } )?
                Self::ALL
                    .into_iter()
                    .find(|value| value.as_str().eq_ignore_ascii_case(word))
                    .ok_or_else(|| $crate::keyword::ParseKeywordError {
                        what: $what,
                        found: text.to_owned(),
                        accepted: Self::NAMES,
                    })
            }
        }
    };
}

pub(crate) use keyword_enum;

#[cfg(test)]
mod tests {
    keyword_enum! {
        /// A vocabulary used only to test the macro.
        pub enum Colour("colour", empty = Red) {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    keyword_enum! {
        /// A vocabulary without a default for blank text.
        pub enum Shape("shape") {
            Round = "round",
        }
    }

    #[test]
    fn words_round_trip_through_display_and_from_str() {
        for colour in Colour::ALL {
            assert_eq!(colour.to_string().parse::<Colour>(), Ok(colour));
        }
        assert_eq!(Colour::NAMES, ["red", "dark_blue"]);
    }

    #[test]
    fn reading_ignores_case_and_surrounding_space() {
        assert_eq!(" Dark_BLUE ".parse::<Colour>(), Ok(Colour::DarkBlue));
    }

    #[test]
    fn blank_text_reads_as_the_declared_default_only() {
        assert_eq!("".parse::<Colour>(), Ok(Colour::Red));
        assert_eq!("  ".parse::<Colour>(), Ok(Colour::Red));
        assert!("".parse::<Shape>().is_err());
    }

    #[test]
    fn unknown_word_error_lists_accepted_words() {
        let error = "green".parse::<Colour>().unwrap_err();
        assert_eq!(error.what, "colour");
        assert_eq!(error.found, "green");
        assert_eq!(
            error.to_string(),
            r#"unknown colour "green"; use one of: red, dark_blue"#
        );
    }
}
