import Synchronization

/// A clock the test moves by hand (Unix milliseconds).
final class TestClock: Sendable {
    private let now: Mutex<Int64>

    init(_ iso: (year: Int64, month: Int64, day: Int64, hour: Int64)) {
        now = Mutex(Self.ms(iso))
    }

    static func ms(_ t: (year: Int64, month: Int64, day: Int64, hour: Int64)) -> Int64 {
        (days(t.year, t.month, t.day) * 24 + t.hour) * 3_600_000
    }

    /// Days since 1970-01-01, computed independently of the code under test (month table).
    static func days(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        var total: Int64 = 0
        for y in 1970..<year { total += isLeap(y) ? 366 : 365 }
        let lengths: [Int64] = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        for m in 0..<Int(month - 1) { total += lengths[m] }
        return total + day - 1
    }

    static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    var read: @Sendable () -> Int64 { { [self] in now.withLock { $0 } } }

    func advance(ms: Int64) { now.withLock { $0 += ms } }
    func set(_ t: (year: Int64, month: Int64, day: Int64, hour: Int64)) { now.withLock { $0 = Self.ms(t) } }
}
