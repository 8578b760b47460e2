internal import Foundation
internal import TaskerCore

extension CreateTasksStatement {
    /// A new step's first move, out of `pending`, decided by the machine before the step exists:
    /// the creation stores the step in `state`, with the audit row `pending → state`.
    struct FirstMove: Hashable {
        var state: StepState
        var deadline: Date?
        var metadata: JSONValue
    }

    /// Takes from a decided batch's writes the first moves of the steps this statement
    /// creates, so the creation stores them as decided (migration 0023) and the write call
    /// does not update what was just inserted.
    ///
    /// Only a step whose one audit row in the batch leaves `pending`, and whose row carries
    /// nothing but its new state and deadline, is taken; anything else stays with the write call,
    /// which runs after the creation in the same statement.
    mutating func takeFirstMoves(
        rows: inout [StepResultLedger.StepRow], transitions: inout [StepResultLedger.Transition],
        unfinishedParents: [UUID: Int]
    ) {
        let created = Set(plans.flatMap { $0.steps.map(\.id) })
        let audit = Dictionary(grouping: transitions.filter { created.contains($0.stepID) }, by: \.stepID)
        let rowCounts = Dictionary(rows.map { ($0.id, 1) }, uniquingKeysWith: +)
        var taken: Set<UUID> = []
        for row in rows where rowCounts[row.id] == 1 && unfinishedParents[row.id] == nil {
            guard let moves = audit[row.id], moves.count == 1, let move = moves.first, move.from == .pending, move.to == row.state,
                  row.attempts == 0, row.results == nil, row.lastError == nil, row.nextRetryAt == nil
            else { continue }
            firstMoves[row.id] = FirstMove(state: row.state, deadline: row.deadline, metadata: move.metadata)
            taken.insert(row.id)
        }
        guard !taken.isEmpty else { return }
        rows.removeAll { taken.contains($0.id) }
        transitions.removeAll { taken.contains($0.stepID) }
    }
}
