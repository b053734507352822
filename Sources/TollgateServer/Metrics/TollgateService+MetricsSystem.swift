import Metrics
import Prometheus

extension TollgateService {
    /// Points the process-wide swift-metrics system at `/metrics`, so libraries instrumented with
    /// swift-metrics report beside Tollgate's own series.
    ///
    /// `tollgate serve` calls it once; tests that build several Tollgates in one process do not,
    /// since swift-metrics can be bootstrapped only once.
    package func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry))
    }
}
