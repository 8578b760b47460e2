public import TaskerServices

/// The API's action endpoints run on the operator actions of the core's decision machine:
/// `OperatorActions.perform(_:)` takes an `OperatorCommand` and answers an `OperatorOutcome`
/// already, and its batch form performs a selection in one transaction.
extension OperatorActions: TaskActionPerforming {}
