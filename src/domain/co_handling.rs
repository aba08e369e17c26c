//! 协办: a problem's co-handling departments as a pure state machine. The lead department
//! (牵头部门) carries the problem through `domain::lifecycle`; each co-handler (协办部门) has its
//! own small one beside it: it signs for its part (签收), files its opinion for the lead
//! (会办意见), or returns its part as not its remit. The lead responds for all once every
//! co-handler has given an opinion or returned.

use super::vocabulary::vocabulary;

vocabulary! {
    /// Where a co-handler stands (`problem_co_handlers.status`).
    pub enum CoStatus {
        /// Named at assignment; owes contact with the enterprise by its own deadline.
        Assigned = "assigned",
        /// Signed for (counts as contact); owes its opinion by the lead's due date.
        Accepted = "accepted",
        /// Its opinion is in, for the lead to use.
        Opined = "opined",
        /// Not its remit: out of the problem, the hub is told.
        Returned = "returned",
    }
}

impl CoStatus {
    /// Still owes the lead something: the lead cannot respond while any co-handler does.
    pub fn pending(self) -> bool {
        matches!(self, CoStatus::Assigned | CoStatus::Accepted)
    }

    /// Its words in ledgers, sheets and the console.
    pub fn label(self) -> &'static str {
        match self {
            CoStatus::Assigned => "待签收",
            CoStatus::Accepted => "已签收",
            CoStatus::Opined => "已提交会办意见",
            CoStatus::Returned => "已退回",
        }
    }
}

/// What a co-handling department may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoAction {
    Accept,
    /// File the opinion; from `assigned` it also counts as signing for it.
    Opine,
    Return,
}

impl CoAction {
    pub const ALL: [CoAction; 3] = [CoAction::Accept, CoAction::Opine, CoAction::Return];
}

/// The state `action` leads to from `from`, or `None` when it does not apply there (409).
/// An opinion, once filed, stands: the lead has used it.
pub fn co_transition(from: CoStatus, action: CoAction) -> Option<CoStatus> {
    use CoStatus::*;
    match (action, from) {
        (CoAction::Accept, Assigned) => Some(Accepted),
        (CoAction::Opine, Assigned | Accepted) => Some(Opined),
        (CoAction::Return, Assigned | Accepted) => Some(Returned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CoStatus::*;

    /// Each action from each state, in `CoStatus::ALL` order (assigned, accepted, opined,
    /// returned).
    fn allowed(action: CoAction) -> [Option<CoStatus>; 4] {
        match action {
            CoAction::Accept => [Some(Accepted), None, None, None],
            CoAction::Opine => [Some(Opined), Some(Opined), None, None],
            CoAction::Return => [Some(Returned), Some(Returned), None, None],
        }
    }

    #[test]
    fn every_state_and_action() {
        for action in CoAction::ALL {
            for (column, &from) in CoStatus::ALL.iter().enumerate() {
                assert_eq!(
                    co_transition(from, action),
                    allowed(action)[column],
                    "{action:?} from {from}"
                );
            }
        }
    }

    #[test]
    fn only_assigned_and_accepted_keep_the_lead_waiting() {
        let pending: Vec<CoStatus> = CoStatus::ALL.iter().copied().filter(|s| s.pending()).collect();
        assert_eq!(pending, [Assigned, Accepted]);
    }

    #[test]
    fn opined_and_returned_are_final() {
        for action in CoAction::ALL {
            assert_eq!(co_transition(Opined, action), None);
            assert_eq!(co_transition(Returned, action), None);
        }
    }
}
