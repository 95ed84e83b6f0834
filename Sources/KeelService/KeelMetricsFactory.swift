public import Prometheus

extension PrometheusMetricsFactory {
    /// The factory every service bootstraps: histogram buckets that fit what Keel measures. Steps,
    /// waits and approvals last from milliseconds to hours, so their buckets span that range; the
    /// outbox's lag is measured in seconds, not the library's default of plain numbers up to 10 000.
    public static func keel(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets.map { .milliseconds(Int64($0 * 1000)) }
        factory.valueHistogramBuckets = [
            "keel_outbox_lag_seconds": [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
            ],
            "keel_approval_turnaround_seconds": durationBuckets,
        ]
        return factory
    }

    /// 5 ms to a day, in seconds.
    static let durationBuckets: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
        14400, 43200, 86400,
    ]
}
