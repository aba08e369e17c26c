//! Closed vocabularies: the states, kinds and verdicts that travel as words on the wire and in
//! the database, and as enums everywhere in between.
//!
//! [`vocabulary!`] declares one: the enum, its wire and column spelling (`as_str`, `FromStr`,
//! `Display`, serde), `ALL` for exhaustive tests, and the derives that let diesel bind and load
//! it as a `TEXT` column (the column's `CHECK` constraint lists the same words; the conversions
//! themselves are in `db::vocabulary`). A word is spelled once, here.

/// Declares a closed vocabulary; see the module documentation.
///
/// ```ignore
/// vocabulary! {
///     /// How urgent a problem is.
///     pub enum Urgency {
///         Normal = "normal",
///         Urgent = "urgent",
///     }
/// }
/// ```
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $word)] $variant, )+
        }

        impl $name {
            /// Every word of the vocabulary, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word on the wire and in the column.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::vocabulary::UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $word => Ok($name::$variant), )+
                    _ => Err($crate::domain::vocabulary::UnknownWord {
                        vocabulary: stringify!($name),
                        word: s.to_owned(),
                    }),
                }
            }
        }
    };
}

pub(crate) use vocabulary;

/// A word that is not in the vocabulary it was read as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} “{word}”")]
pub struct UnknownWord {
    pub vocabulary: &'static str,
    pub word: String,
}

/// The words of `values`, as an SQL list for `IN (…)` in hand-written statements, e.g.
/// `('resolved', 'explained')`. The words are the vocabulary's own literals (lower-case ASCII
/// and underscores), so quoting them is safe.
pub fn sql_list<T: Copy>(values: &[T], word: impl Fn(T) -> &'static str) -> String {
    let words: Vec<String> = values
        .iter()
        .map(|v| {
            let w = word(*v);
            debug_assert!(w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            format!("'{w}'")
        })
        .collect();
    format!("({})", words.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    vocabulary! {
        /// A vocabulary for the macro's own tests.
        pub enum Weather {
            Sunny = "sunny",
            HeavyRain = "heavy_rain",
        }
    }

    #[test]
    fn words_round_trip_through_text_and_json() {
        for weather in Weather::ALL {
            assert_eq!(weather.as_str().parse::<Weather>(), Ok(*weather));
            assert_eq!(
                serde_json::to_value(weather).expect("json"),
                serde_json::json!(weather.as_str())
            );
        }
        assert_eq!(Weather::HeavyRain.to_string(), "heavy_rain");
    }

    #[test]
    fn an_unknown_word_names_its_vocabulary() {
        let err = "HeavyRain".parse::<Weather>().expect_err("unknown");
        assert_eq!(err.to_string(), "unknown Weather “HeavyRain”");
        assert!(serde_json::from_value::<Weather>(serde_json::json!("snow")).is_err());
    }

    #[test]
    fn sql_lists_quote_each_word() {
        assert_eq!(sql_list(Weather::ALL, Weather::as_str), "('sunny', 'heavy_rain')");
    }
}
