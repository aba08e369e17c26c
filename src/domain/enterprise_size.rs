//! 企业规模: the size class of an enterprise (大型、中型、小型、微型, as the statistics bureau
//! classes them), which a policy may be meant for.

use super::vocabulary::vocabulary;

vocabulary! {
    /// 企业规模.
    pub enum EnterpriseSize {
        Large = "large",
        Medium = "medium",
        Small = "small",
        Micro = "micro",
    }
}

impl EnterpriseSize {
    /// Its name in rosters and ledgers.
    pub fn label(self) -> &'static str {
        match self {
            EnterpriseSize::Large => "大型",
            EnterpriseSize::Medium => "中型",
            EnterpriseSize::Small => "小型",
            EnterpriseSize::Micro => "微型",
        }
    }

    /// The size a roster cell names: the word (`small`) or its Chinese name, with or without
    /// 企业 (`小型`, `小型企业`).
    pub fn from_cell(cell: &str) -> Option<Self> {
        let cell = cell.trim();
        let cell = cell.strip_suffix("企业").unwrap_or(cell);
        Self::ALL
            .iter()
            .copied()
            .find(|size| size.as_str().eq_ignore_ascii_case(cell) || size.label() == cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_names_a_size_in_either_language() {
        assert_eq!(EnterpriseSize::from_cell("small"), Some(EnterpriseSize::Small));
        assert_eq!(EnterpriseSize::from_cell(" Large "), Some(EnterpriseSize::Large));
        assert_eq!(EnterpriseSize::from_cell("微型企业"), Some(EnterpriseSize::Micro));
        assert_eq!(EnterpriseSize::from_cell("中型"), Some(EnterpriseSize::Medium));
        assert_eq!(EnterpriseSize::from_cell("巨型"), None);
    }
}
