//! GB/T 2260 administrative division codes: six digits, province ⊃ city ⊃ county.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(input: &str) -> Option<Self> {
        let code = input.trim();
        let bytes = code.as_bytes();
        let valid = bytes.len() == 6 && bytes.iter().all(u8::is_ascii_digit) && bytes[0] != b'0';
        valid.then(|| Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The materialised path of a region: its parent's path followed by its own code. A region's
/// subtree is every region whose path starts with its own.
pub fn child_path(parent_path: Option<&str>, code: &RegionCode) -> String {
    format!("{}{}/", parent_path.unwrap_or(""), code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digit_codes_parse() {
        assert_eq!(
            RegionCode::parse(" 430200 ")
                .map(RegionCode::into_string)
                .as_deref(),
            Some("430200")
        );
        for bad in ["43020", "4302000", "43020a", "030200", ""] {
            assert!(RegionCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn paths_nest() {
        let city = RegionCode::parse("430200").expect("valid");
        let county = RegionCode::parse("430211").expect("valid");
        let city_path = child_path(Some("430000/"), &city);
        assert_eq!(city_path, "430000/430200/");
        assert!(child_path(Some(&city_path), &county).starts_with(&city_path));
    }
}
