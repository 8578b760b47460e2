public import TaskerServices

/// The API's action endpoints run on the operator actions of the core's decision machine:
/// `OperatorActions.perform(_:)` takes an `OperatorCommand` and answers an `OperatorOutcome`
/// already.
extension OperatorActions: TaskActionPerforming {}
