/// How swift-metrics labels become Prometheus metric names (docs/operations.md, "Metrics").
///
/// Labels are dot-separated (`tasker.finalizer.results`); Prometheus names use underscores,
/// counters end in `_total` and timers (histograms of durations, in seconds) in `_seconds`:
/// `tasker.finalizer.results` → `tasker_finalizer_results_total`,
/// `tasker.worker.step.duration` → `tasker_worker_step_duration_seconds`.
/// Recorders and gauges keep their name (`tasker.finalizer.batch_size` → `tasker_finalizer_batch_size`).
public enum PrometheusNaming {
    /// The kind of swift-metrics instrument a name is made for.
    public enum Kind: Sendable {
        case counter, timer, recorder
    }

    /// The Prometheus name of the swift-metrics `label` for an instrument of `kind`.
    public static func name(for label: String, kind: Kind) -> String {
        var name = String(label.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" ? $0 : "_" })
        switch kind {
        case .counter where !name.hasSuffix("_total"): name += "_total"
        case .timer where !name.hasSuffix("_seconds"): name += "_seconds"
        default: break
        }
        return name
    }

    /// A dimension name as a Prometheus label name.
    public static func labelName(_ dimension: String) -> String {
        String(dimension.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }
}
