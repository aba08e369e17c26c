//! The three kinds of unit: 派出单位 (dispatching), 职能部门 (department), 驻企办 (hub).

use super::vocabulary::vocabulary;

vocabulary! {
    /// What a unit is (`units.kind`).
    pub enum UnitKind {
        Dispatching = "dispatching",
        Department = "department",
        Hub = "hub",
    }
}

impl UnitKind {
    /// Reads a kind as an import file or a form gives it (surrounding blanks allowed).
    pub fn parse(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_ones_are_refused() {
        for kind in [UnitKind::Dispatching, UnitKind::Department, UnitKind::Hub] {
            assert_eq!(UnitKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(UnitKind::parse("company"), None);
    }
}
