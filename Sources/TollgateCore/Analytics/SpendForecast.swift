/// Projects spend from a daily history (SPEC §9 `/admin/stats/forecast`): a linear trend plus a
/// weekly seasonal profile, fitted by least squares.
///
/// 1. Fit `y = a + b·t` to the daily values (t = day index).
/// 2. The seasonal index of each weekday is the mean residual of that weekday (they sum to ~0).
/// 3. Refit the trend on the deseasonalized values, so a weekly pattern does not bias the slope.
/// 4. Project each future day as `a + b·t + season[weekday]`, floored at 0, and sum.
///
/// The confidence figure is the fit's R² (share of the day-to-day variance the model explains,
/// 0–1); the low/high bounds are the sum ± 1.96 · residual σ · √days (independent daily errors).
package struct SpendForecast: Sendable, Equatable {
    package var intercept: Double
    /// Change per day.
    package var slope: Double
    /// Seasonal offset per weekday, indexed by `(firstWeekday + t) % 7`.
    package var seasonal: [Double]
    package var residualSigma: Double
    package var rSquared: Double
    package var historyDays: Int
    package var firstWeekday: Int

    /// Fits `values` (one per day, oldest first); `firstWeekday` is the weekday of the first (0–6).
    /// Nil with fewer than 7 days.
    package static func fit(_ values: [Double], firstWeekday: Int) -> SpendForecast? {
        let n = values.count
        guard n >= 7 else { return nil }
        let ts = (0..<n).map(Double.init)
        var (a, b) = line(ts, values)
        var sums = [Double](repeating: 0, count: 7)
        var counts = [Double](repeating: 0, count: 7)
        for t in 0..<n {
            let w = (firstWeekday + t) % 7
            sums[w] += values[t] - (a + b * ts[t])
            counts[w] += 1
        }
        var seasonal = (0..<7).map { counts[$0] > 0 ? sums[$0] / counts[$0] : 0 }
        let mean = seasonal.reduce(0, +) / 7
        seasonal = seasonal.map { $0 - mean }
        let deseasonalized = (0..<n).map { values[$0] - seasonal[(firstWeekday + $0) % 7] }
        (a, b) = line(ts, deseasonalized)
        let average = values.reduce(0, +) / Double(n)
        var residual = 0.0
        var total = 0.0
        for t in 0..<n {
            let fitted = a + b * ts[t] + seasonal[(firstWeekday + t) % 7]
            residual += (values[t] - fitted) * (values[t] - fitted)
            total += (values[t] - average) * (values[t] - average)
        }
        let sigma = (residual / Double(max(1, n - 2))).squareRoot()
        let r2 = total > 0 ? max(0, 1 - residual / total) : 1
        return SpendForecast(
            intercept: a, slope: b, seasonal: seasonal, residualSigma: sigma, rSquared: r2, historyDays: n,
            firstWeekday: firstWeekday)
    }

    /// Projected total over the `days` days after the history, and its ~95 % bounds.
    package func projection(days: Int) -> (total: Double, low: Double, high: Double) {
        var total = 0.0
        for k in 0..<days {
            let t = historyDays + k
            total += max(0, intercept + slope * Double(t) + seasonal[(firstWeekday + t) % 7])
        }
        let margin = 1.96 * residualSigma * Double(days).squareRoot()
        return (total, max(0, total - margin), total + margin)
    }

    private static func line(_ x: [Double], _ y: [Double]) -> (Double, Double) {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n
        let my = y.reduce(0, +) / n
        var sxy = 0.0
        var sxx = 0.0
        for i in x.indices {
            sxy += (x[i] - mx) * (y[i] - my)
            sxx += (x[i] - mx) * (x[i] - mx)
        }
        let slope = sxx > 0 ? sxy / sxx : 0
        return (my - slope * mx, slope)
    }
}
