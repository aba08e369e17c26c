//! The problem lifecycle (交办 → 办理 → 反馈 → 评价 → 销号) as a pure state machine: which
//! role may take which action, and from which state to which. Handlers decide *who the caller
//! is to this problem* (its region's dispatcher, its department, its enterprise's officer or
//! contact); this module decides what that allows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Triaged,
    Assigned,
    InProgress,
    Returned,
    Responded,
    Evaluated,
    /// Rated dissatisfied: back with the same department under new deadlines; the department
    /// handles it as if newly assigned.
    Reopened,
    Closed,
    Merged,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Triaged,
        Status::Assigned,
        Status::InProgress,
        Status::Returned,
        Status::Responded,
        Status::Evaluated,
        Status::Reopened,
        Status::Closed,
        Status::Merged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Triaged => "triaged",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Returned => "returned",
            Status::Responded => "responded",
            Status::Evaluated => "evaluated",
            Status::Reopened => "reopened",
            Status::Closed => "closed",
            Status::Merged => "merged",
        }
    }

    /// In the hub's queue, waiting for a dispatcher.
    pub fn in_queue(self) -> bool {
        matches!(self, Status::Submitted | Status::Returned)
    }

    /// With a department that owes the enterprise contact and a response: what deadlines and
    /// escalation apply to.
    pub fn with_department(self) -> bool {
        matches!(self, Status::Assigned | Status::InProgress | Status::Reopened)
    }

    /// Not finished: counts as open on dashboards and as a candidate for similar problems.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Merged)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// The enterprise's (or its officer's) verdict on a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::BasicallySatisfied => "basically_satisfied",
            Rating::Dissatisfied => "dissatisfied",
        }
    }
}

/// How a department answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 已解决
    Resolved,
    /// 政策障碍解释到位: cannot be done, and the enterprise was told why.
    Explained,
    /// 跟踪督办: needs longer than the deadline; tracked.
    LongTerm,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Explained => "explained",
            Outcome::LongTerm => "long_term",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Triage,
    Merge,
    Assign,
    Accept,
    Return,
    Respond,
    ResolveOnSite,
    Evaluate(Rating),
    /// 销号. `unrated_window_over`: the response is at least five working days old without a
    /// rating, which lets the hub close a `responded` problem nobody rated.
    Close {
        unrated_window_over: bool,
    },
    RequestExtension,
    DecideExtension,
}

impl Action {
    /// Every action, for exhaustive tests (each closing variant included).
    pub const ALL: [Action; 14] = [
        Action::Triage,
        Action::Merge,
        Action::Assign,
        Action::Accept,
        Action::Return,
        Action::Respond,
        Action::ResolveOnSite,
        Action::Evaluate(Rating::Satisfied),
        Action::Evaluate(Rating::BasicallySatisfied),
        Action::Evaluate(Rating::Dissatisfied),
        Action::Close {
            unrated_window_over: false,
        },
        Action::Close {
            unrated_window_over: true,
        },
        Action::RequestExtension,
        Action::DecideExtension,
    ];

    /// The roles that may take this action (on a problem that is theirs to act on).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::Triage
            | Action::Merge
            | Action::Assign
            | Action::Close { .. }
            | Action::DecideExtension => &[Role::Dispatcher],
            Action::Accept | Action::Return | Action::Respond | Action::RequestExtension => {
                &[Role::Department]
            }
            Action::ResolveOnSite => &[Role::Officer],
            Action::Evaluate(_) => &[Role::Enterprise, Role::Officer],
        }
    }

    /// The timeline event the action writes.
    pub fn event(self) -> &'static str {
        match self {
            Action::Triage => "triaged",
            Action::Merge => "merged",
            Action::Assign => "assigned",
            Action::Accept => "accepted",
            Action::Return => "returned",
            Action::Respond => "responded",
            Action::ResolveOnSite => "resolved_on_site",
            Action::Evaluate(_) => "evaluated",
            Action::Close { .. } => "closed",
            Action::RequestExtension => "extension_requested",
            Action::DecideExtension => "extension_decided",
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// None of the caller's roles toward this problem may take the action (403).
    Forbidden,
    /// The action does not apply in the problem's state (409 `problem.invalid_transition`).
    InvalidTransition,
}

/// The state `action` leads to from `from`, when taken by someone acting in one of `acting`
/// (the caller's roles that relate to this problem). The role is checked before the state, so
/// a caller who may never take the action learns nothing about where the problem stands.
pub fn transition(from: Status, action: Action, acting: &[Role]) -> Result<Status, Refusal> {
    if !action.roles().iter().any(|role| acting.contains(role)) {
        return Err(Refusal::Forbidden);
    }
    use Status::*;
    let to = match (action, from) {
        (Action::Triage, Submitted | Returned) => Triaged,
        (Action::Merge, Submitted | Returned | Triaged) => Merged,
        (Action::Assign, Triaged) => Assigned,
        (Action::Accept, Assigned | Reopened) => InProgress,
        (Action::Return, Assigned | InProgress | Reopened) => Returned,
        (Action::Respond, InProgress) => Responded,
        (Action::ResolveOnSite, Submitted) => Closed,
        (Action::Evaluate(Rating::Dissatisfied), Responded) => Reopened,
        (Action::Evaluate(_), Responded) => Evaluated,
        (Action::Close { .. }, Evaluated) => Closed,
        (
            Action::Close {
                unrated_window_over: true,
            },
            Responded,
        ) => Closed,
        (Action::RequestExtension | Action::DecideExtension, Assigned | InProgress | Reopened) => from,
        _ => return Err(Refusal::InvalidTransition),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    const R: Result<Status, Refusal> = Err(Refusal::InvalidTransition);
    const F: Result<Status, Refusal> = Err(Refusal::Forbidden);

    /// What each role may do from each state. The row is the action; the columns are the
    /// states in `Status::ALL` order:
    /// submitted, triaged, assigned, in_progress, returned, responded, evaluated, reopened,
    /// closed, merged.
    fn allowed(action: Action) -> [Result<Status, Refusal>; 10] {
        match action {
            Action::Triage => [Ok(Triaged), R, R, R, Ok(Triaged), R, R, R, R, R],
            Action::Merge => [Ok(Merged), Ok(Merged), R, R, Ok(Merged), R, R, R, R, R],
            Action::Assign => [R, Ok(Assigned), R, R, R, R, R, R, R, R],
            Action::Accept => [R, R, Ok(InProgress), R, R, R, R, Ok(InProgress), R, R],
            Action::Return => [R, R, Ok(Returned), Ok(Returned), R, R, R, Ok(Returned), R, R],
            Action::Respond => [R, R, R, Ok(Responded), R, R, R, R, R, R],
            Action::ResolveOnSite => [Ok(Closed), R, R, R, R, R, R, R, R, R],
            Action::Evaluate(Rating::Dissatisfied) => [R, R, R, R, R, Ok(Reopened), R, R, R, R],
            Action::Evaluate(_) => [R, R, R, R, R, Ok(Evaluated), R, R, R, R],
            Action::Close {
                unrated_window_over: false,
            } => [R, R, R, R, R, R, Ok(Closed), R, R, R],
            Action::Close {
                unrated_window_over: true,
            } => [R, R, R, R, R, Ok(Closed), Ok(Closed), R, R, R],
            Action::RequestExtension | Action::DecideExtension => {
                [R, R, Ok(Assigned), Ok(InProgress), R, R, R, Ok(Reopened), R, R]
            }
        }
    }

    /// Who may take each action at all.
    fn permitted(action: Action, role: Role) -> bool {
        match action {
            Action::Triage
            | Action::Merge
            | Action::Assign
            | Action::Close { .. }
            | Action::DecideExtension => role == Role::Dispatcher,
            Action::Accept | Action::Return | Action::Respond | Action::RequestExtension => {
                role == Role::Department
            }
            Action::ResolveOnSite => role == Role::Officer,
            Action::Evaluate(_) => matches!(role, Role::Enterprise | Role::Officer),
        }
    }

    #[test]
    fn every_state_action_and_role() {
        let mut checked = 0;
        for action in Action::ALL {
            let row = allowed(action);
            for (column, from) in Status::ALL.into_iter().enumerate() {
                for role in Role::ALL {
                    let expected = if permitted(action, role) { row[column] } else { F };
                    assert_eq!(
                        transition(from, action, &[role]),
                        expected,
                        "{action:?} from {from} as {role}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 14 * 10 * 6);
    }

    #[test]
    fn any_one_related_role_suffices_and_none_is_forbidden() {
        assert_eq!(
            transition(
                Responded,
                Action::Evaluate(Rating::Satisfied),
                &[Role::Department, Role::Officer]
            ),
            Ok(Evaluated)
        );
        assert_eq!(transition(Submitted, Action::Triage, &[]), F);
    }

    #[test]
    fn closed_and_merged_are_final() {
        for action in Action::ALL {
            for from in [Closed, Merged] {
                assert!(
                    transition(from, action, action.roles()).is_err(),
                    "{action:?} from {from}"
                );
            }
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert!("done".parse::<Status>().is_err());
    }
}
