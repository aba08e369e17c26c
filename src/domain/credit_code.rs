//! 统一社会信用代码 (GB 32100-2015): the 18-character identifier of every Chinese enterprise.
//!
//! Layout: registration authority (1), organisation type (1), administrative division (6),
//! organisation code (9, itself ending in a GB 11714 check character) and a final check
//! character. Both check characters are verified, which catches almost every typo.

use std::fmt;

use serde::{Serialize, Serializer};

/// The 31 characters the standard allows, in value order (no I, O, S, V, Z).
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("统一社会信用代码应为18位，实际为{0}位")]
    Length(usize),
    #[error("第{position}位字符“{found}”不是允许的字符")]
    Character { position: usize, found: char },
    #[error("第3-8位应为行政区划代码（6位数字）")]
    Division,
    #[error("组织机构代码校验位错误：应为“{expected}”")]
    OrganisationCheck { expected: char },
    #[error("校验位错误：应为“{expected}”")]
    Check { expected: char },
}

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The final (18th) check character for the first 17 characters.
pub fn check_char(first17: &[u8]) -> Option<char> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize] as char)
}

/// The GB 11714 check character of an 8-character organisation code body.
pub fn organisation_check_char(body: &[u8]) -> Option<char> {
    let mut sum = 0;
    for (c, w) in body.iter().zip(ORG_WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

impl CreditCode {
    /// Accepts surrounding spaces and lower case (as typed on phones), rejects everything else.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let code = input.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if code.chars().count() != 18 {
            return Err(CreditCodeError::Length(code.chars().count()));
        }
        if let Some((i, &c)) = bytes.iter().enumerate().find(|(_, &c)| value_of(c).is_none()) {
            return Err(CreditCodeError::Character {
                position: i + 1,
                found: c as char,
            });
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::Division);
        }
        let org_expected = organisation_check_char(&bytes[8..16]).ok_or(CreditCodeError::Division)?;
        if bytes[16] as char != org_expected {
            return Err(CreditCodeError::OrganisationCheck {
                expected: org_expected,
            });
        }
        let expected = check_char(&bytes[..17]).ok_or(CreditCodeError::Division)?;
        if bytes[17] as char != expected {
            return Err(CreditCodeError::Check { expected });
        }
        Ok(Self(code))
    }

    /// Builds a valid code from its parts by computing both check characters (demo data,
    /// tests). `org_body` is the 8-character organisation code without its check character.
    pub fn from_parts(authority_and_type: &str, division: &str, org_body: &str) -> Option<Self> {
        let mut code = format!("{authority_and_type}{division}{org_body}");
        code.push(organisation_check_char(org_body.as_bytes())?);
        code.push(check_char(code.as_bytes())?);
        Self::parse(&code).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_pass() {
        for code in ["9144030071526726XG", "914403001922038216"] {
            assert_eq!(
                CreditCode::parse(code).map(|c| c.to_string()),
                Ok(code.to_owned())
            );
        }
    }

    #[test]
    fn lower_case_and_spaces_are_normalised() {
        assert_eq!(
            CreditCode::parse(" 9144030071526726xg ").map(|c| c.to_string()),
            Ok("9144030071526726XG".to_owned())
        );
    }

    #[test]
    fn a_changed_check_character_is_caught() {
        assert_eq!(
            CreditCode::parse("9144030071526726XA"),
            Err(CreditCodeError::Check { expected: 'G' })
        );
    }

    #[test]
    fn a_changed_organisation_code_is_caught() {
        assert!(matches!(
            CreditCode::parse("9144030071526727XG"),
            Err(CreditCodeError::OrganisationCheck { .. })
        ));
    }

    #[test]
    fn wrong_length_and_forbidden_letters_are_reported() {
        assert_eq!(CreditCode::parse("91440300"), Err(CreditCodeError::Length(8)));
        assert_eq!(
            CreditCode::parse("9I440300715267260G"),
            Err(CreditCodeError::Character {
                position: 2,
                found: 'I'
            })
        );
        assert_eq!(
            CreditCode::parse("91AB0300715267260G"),
            Err(CreditCodeError::Division)
        );
    }

    #[test]
    fn codes_built_from_parts_are_valid() {
        let code = CreditCode::from_parts("91", "430200", "MA4L0001").expect("valid");
        assert!(CreditCode::parse(code.as_str()).is_ok());
        assert!(code.as_str().starts_with("91430200MA4L0001"));
    }
}
