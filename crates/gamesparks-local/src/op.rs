//! The operations the emulator serves, listed once: routing (`api`), fault injection (`faults`)
//! and the admin API's counters all name them from here.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ListGames,
    GetGame,
    ListStages,
    GetStage,
    ListSnapshots,
    GetSnapshot,
    CreateSnapshot,
    StartStageDeployment,
    GetStageDeployment,
    ListStageDeployments,
}

impl Op {
    /// Every operation, in model order.
    pub const ALL: [Op; 10] = [
        Op::ListGames,
        Op::GetGame,
        Op::ListStages,
        Op::GetStage,
        Op::ListSnapshots,
        Op::GetSnapshot,
        Op::CreateSnapshot,
        Op::StartStageDeployment,
        Op::GetStageDeployment,
        Op::ListStageDeployments,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Op::ListGames => "ListGames",
            Op::GetGame => "GetGame",
            Op::ListStages => "ListStages",
            Op::GetStage => "GetStage",
            Op::ListSnapshots => "ListSnapshots",
            Op::GetSnapshot => "GetSnapshot",
            Op::CreateSnapshot => "CreateSnapshot",
            Op::StartStageDeployment => "StartStageDeployment",
            Op::GetStageDeployment => "GetStageDeployment",
            Op::ListStageDeployments => "ListStageDeployments",
        }
    }

    /// Operations whose effect survives an error answered after the fact.
    pub fn mutating(self) -> bool {
        matches!(self, Op::CreateSnapshot | Op::StartStageDeployment)
    }
}

/// The operations' names, in model order (fault configuration keys, counters).
pub const OPERATIONS: [&str; 10] = {
    let mut names = [""; 10];
    let mut i = 0;
    while i < Op::ALL.len() {
        names[i] = Op::ALL[i].name();
        i += 1;
    }
    names
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_listed_once() {
        for (i, op) in Op::ALL.iter().enumerate() {
            // The match in `name` is exhaustive; this catches a variant missing from ALL.
            assert_eq!(OPERATIONS[i], op.name());
            assert_eq!(OPERATIONS.iter().filter(|n| **n == op.name()).count(), 1);
        }
    }
}
