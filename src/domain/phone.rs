//! Mainland mobile numbers, the key an officer binds WeChat with.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts what people type: spaces, dashes and a +86/0086 prefix are dropped.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits);
        let bytes = digits.as_bytes();
        let valid = bytes.len() == 11
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1])
            && bytes.iter().all(u8::is_ascii_digit);
        valid.then(|| Self(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_forms_normalise_to_eleven_digits() {
        for typed in ["13800138000", "+86 138-0013-8000", "0086 13800138000"] {
            assert_eq!(
                Phone::parse(typed).map(Phone::into_string).as_deref(),
                Some("13800138000")
            );
        }
    }

    #[test]
    fn landlines_and_short_numbers_are_refused() {
        for bad in ["", "0731-28888888", "1380013800", "12800138000", "1380013800a"] {
            assert_eq!(Phone::parse(bad), None, "{bad}");
        }
    }
}
