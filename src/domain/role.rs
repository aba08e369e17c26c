//! The roles of API.md; a user may hold several.

use super::vocabulary::vocabulary;

vocabulary! {
    /// A role a user holds (`users.roles`).
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        /// 驻企联络员
        Officer = "officer",
        /// 企业联系人
        Enterprise = "enterprise",
        /// 职能部门经办人
        Department = "department",
        /// 派出单位管理员
        UnitAdmin = "unit_admin",
        /// 驻企办调度员
        Dispatcher = "dispatcher",
        /// 系统管理员
        Admin = "admin",
    }
}

impl Role {
    /// Its words in the console.
    pub fn label(self) -> &'static str {
        match self {
            Role::Officer => "驻企联络员",
            Role::Enterprise => "企业联系人",
            Role::Department => "部门经办人",
            Role::UnitAdmin => "派出单位管理员",
            Role::Dispatcher => "驻企办调度员",
            Role::Admin => "系统管理员",
        }
    }

    /// Roles that act on behalf of a unit and so must belong to one.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::Officer | Role::Department | Role::UnitAdmin)
    }
}

/// Parses a `;`-separated role list (the import format), without duplicates, in a stable order.
pub fn parse_roles(list: &str) -> Result<Vec<Role>, String> {
    let mut roles = list
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|word| word.trim().parse().map_err(|_| format!("unknown role “{word}”")))
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
        for &role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }
}
