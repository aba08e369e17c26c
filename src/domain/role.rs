//! The roles of API.md; a user may hold several.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 驻企联络员
    Officer,
    /// 企业联系人
    Enterprise,
    /// 职能部门经办人
    Department,
    /// 派出单位管理员
    UnitAdmin,
    /// 驻企办调度员
    Dispatcher,
    /// 系统管理员
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Officer,
        Role::Enterprise,
        Role::Department,
        Role::UnitAdmin,
        Role::Dispatcher,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Enterprise => "enterprise",
            Role::Department => "department",
            Role::UnitAdmin => "unit_admin",
            Role::Dispatcher => "dispatcher",
            Role::Admin => "admin",
        }
    }

    /// Roles that act on behalf of a unit and so must belong to one.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::Officer | Role::Department | Role::UnitAdmin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("unknown role “{s}”"))
    }
}

/// Parses a `;`-separated role list (the import format), without duplicates, in a stable order.
pub fn parse_roles(list: &str) -> Result<Vec<Role>, String> {
    let mut roles = list
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect::<Result<Vec<Role>, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err("at least one role is required".to_owned());
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_lists_parse_sorted_and_deduplicated() {
        assert_eq!(
            parse_roles("admin;officer; officer"),
            Ok(vec![Role::Officer, Role::Admin])
        );
        assert!(parse_roles("").is_err());
        assert!(parse_roles("officer;boss").is_err());
    }

    #[test]
    fn every_role_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }
}
