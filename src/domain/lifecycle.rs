//! The problem lifecycle (交办 → 办理 → 反馈 → 评价 → 销号) as a pure state machine: which
//! role may take which action, and from which state to which. Handlers decide *who the caller
//! is to this problem* (its region's dispatcher, its department, its enterprise's officer or
//! contact); this module decides what that allows.

use super::role::Role;
use super::vocabulary::vocabulary;

vocabulary! {
    /// Where a problem is in its lifecycle (`problems.status`).
    pub enum Status {
        Submitted = "submitted",
        Triaged = "triaged",
        Assigned = "assigned",
        InProgress = "in_progress",
        Returned = "returned",
        Responded = "responded",
        Evaluated = "evaluated",
        /// Rated dissatisfied: back with the same department under new deadlines; the
        /// department handles it as if newly assigned.
        Reopened = "reopened",
        Closed = "closed",
        Merged = "merged",
    }
}

impl Status {
    /// In the hub's queue, waiting for a dispatcher.
    pub const IN_QUEUE: &'static [Status] = &[Status::Submitted, Status::Returned];

    /// With a department that owes the enterprise contact and a response: what deadlines and
    /// escalation apply to.
    pub const WITH_DEPARTMENT: &'static [Status] = &[Status::Assigned, Status::InProgress, Status::Reopened];

    /// Finished: closed (销号) or merged into another problem.
    pub const FINISHED: &'static [Status] = &[Status::Closed, Status::Merged];

    pub fn in_queue(self) -> bool {
        Self::IN_QUEUE.contains(&self)
    }

    pub fn with_department(self) -> bool {
        Self::WITH_DEPARTMENT.contains(&self)
    }

    /// Not finished: counts as open on dashboards and as a candidate for similar problems.
    pub fn is_open(self) -> bool {
        !Self::FINISHED.contains(&self)
    }

    /// Its words in ledgers and the console.
    pub fn label(self) -> &'static str {
        match self {
            Status::Submitted => "待分类",
            Status::Triaged => "已分类",
            Status::Assigned => "已交办",
            Status::InProgress => "办理中",
            Status::Returned => "已退回",
            Status::Responded => "已反馈",
            Status::Evaluated => "已评价",
            Status::Reopened => "重新办理",
            Status::Closed => "已销号",
            Status::Merged => "已合并",
        }
    }
}

vocabulary! {
    /// The enterprise's (or its officer's) verdict on a response (`problems.rating`).
    pub enum Rating {
        Satisfied = "satisfied",
        BasicallySatisfied = "basically_satisfied",
        Dissatisfied = "dissatisfied",
    }
}

impl Rating {
    /// The ratings that count as satisfied (满意率).
    pub const SATISFIED: &'static [Rating] = &[Rating::Satisfied, Rating::BasicallySatisfied];

    pub fn is_satisfied(self) -> bool {
        Self::SATISFIED.contains(&self)
    }

    /// Its words in ledgers and the console.
    pub fn label(self) -> &'static str {
        match self {
            Rating::Satisfied => "满意",
            Rating::BasicallySatisfied => "基本满意",
            Rating::Dissatisfied => "不满意",
        }
    }
}

vocabulary! {
    /// How a problem was answered (`problems.outcome`).
    pub enum Outcome {
        /// 已解决
        Resolved = "resolved",
        /// 政策障碍解释到位: cannot be done, and the enterprise was told why.
        Explained = "explained",
        /// 跟踪督办: needs longer than the deadline; tracked.
        LongTerm = "long_term",
        /// 现场解决: the officer settled it on the spot (never a department's answer).
        ResolvedOnSite = "resolved_on_site",
    }
}

impl Outcome {
    /// Its words in ledgers and messages.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Resolved => "已解决",
            Outcome::Explained => "已解释说明",
            Outcome::LongTerm => "长期推进",
            Outcome::ResolvedOnSite => "现场答复",
        }
    }

    /// The outcomes that count as solved (办结) on dashboards, rankings and ledgers: resolved,
    /// explained (a barrier the enterprise was told about), or settled on site.
    pub const SOLVED: &'static [Outcome] = &[Outcome::Resolved, Outcome::Explained, Outcome::ResolvedOnSite];

    pub fn is_solved(self) -> bool {
        Self::SOLVED.contains(&self)
    }
}

vocabulary! {
    /// How a department may answer (`respond`): every outcome but the officer's on-site one.
    pub enum ResponseOutcome {
        Resolved = "resolved",
        Explained = "explained",
        LongTerm = "long_term",
    }
}

impl From<ResponseOutcome> for Outcome {
    fn from(outcome: ResponseOutcome) -> Self {
        match outcome {
            ResponseOutcome::Resolved => Outcome::Resolved,
            ResponseOutcome::Explained => Outcome::Explained,
            ResponseOutcome::LongTerm => Outcome::LongTerm,
        }
    }
}

vocabulary! {
    /// The kinds of timeline event (`problem_events.event_type`); the spec's `ProblemEvent`
    /// table says who writes each and what its `details` hold.
    pub enum EventKind {
        Submitted = "submitted",
        Triaged = "triaged",
        Merged = "merged",
        MergedIn = "merged_in",
        Assigned = "assigned",
        Accepted = "accepted",
        Returned = "returned",
        Responded = "responded",
        ResolvedOnSite = "resolved_on_site",
        Evaluated = "evaluated",
        Reopened = "reopened",
        Closed = "closed",
        ExtensionRequested = "extension_requested",
        ExtensionApproved = "extension_approved",
        ExtensionRefused = "extension_refused",
        Escalated = "escalated",
        /// A co-handling department signed for its part (`details.department_id`).
        CoAccepted = "co_accepted",
        /// A co-handling department's opinion for the lead (会办意见; the note).
        CoOpinion = "co_opinion",
        /// A co-handling department returned its part (the note is the reason).
        CoReturned = "co_returned",
    }
}

vocabulary! {
    /// Where a department's request for more time stands (`problem_extensions.status`).
    pub enum ExtensionStatus {
        Pending = "pending",
        Approved = "approved",
        Refused = "refused",
    }
}

vocabulary! {
    /// Who wrote a timeline event: a role, or the server itself (the escalation job).
    pub enum ActorRole {
        Officer = "officer",
        Enterprise = "enterprise",
        Department = "department",
        UnitAdmin = "unit_admin",
        Dispatcher = "dispatcher",
        Admin = "admin",
        System = "system",
    }
}

impl From<Role> for ActorRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Officer => ActorRole::Officer,
            Role::Enterprise => ActorRole::Enterprise,
            Role::Department => ActorRole::Department,
            Role::UnitAdmin => ActorRole::UnitAdmin,
            Role::Dispatcher => ActorRole::Dispatcher,
            Role::Admin => ActorRole::Admin,
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

    /// The timeline event the action writes (a decision on an extension writes
    /// `extension_approved` or `extension_refused`, which its effect says).
    pub fn event(self) -> EventKind {
        match self {
            Action::Triage => EventKind::Triaged,
            Action::Merge => EventKind::Merged,
            Action::Assign => EventKind::Assigned,
            Action::Accept => EventKind::Accepted,
            Action::Return => EventKind::Returned,
            Action::Respond => EventKind::Responded,
            Action::ResolveOnSite => EventKind::ResolvedOnSite,
            Action::Evaluate(_) => EventKind::Evaluated,
            Action::Close { .. } => EventKind::Closed,
            Action::RequestExtension => EventKind::ExtensionRequested,
            Action::DecideExtension => EventKind::ExtensionApproved,
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
            for (column, from) in Status::ALL.iter().copied().enumerate() {
                for &role in Role::ALL {
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
        for &status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert!("done".parse::<Status>().is_err());
    }
}
