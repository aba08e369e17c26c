//! The three kinds of unit: 派出单位 (dispatching), 职能部门 (department), 驻企办 (hub).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Dispatching,
    Department,
    Hub,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Dispatching => "dispatching",
            UnitKind::Department => "department",
            UnitKind::Hub => "hub",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "dispatching" => Some(UnitKind::Dispatching),
            "department" => Some(UnitKind::Department),
            "hub" => Some(UnitKind::Hub),
            _ => None,
        }
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
