import Synchronization

/// A continuation that two parties race to resume: the first `resume` wins, later ones do
/// nothing. Swift's checked continuations trap on a second resume, so whoever may lose the race
/// (a client leaving vs. the answer arriving, a timer vs. a probe write) goes through this.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = Mutex(continuation) }

    func resume(_ value: Value) {
        continuation.withLock { c in defer { c = nil }; return c }?.resume(returning: value)
    }
}
