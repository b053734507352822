import Synchronization

/// A one-shot "stop": the proxy fires it when a request's client goes away, and whatever the
/// request is waiting on at that moment (a provider transfer, a coalesced cache entry) listens
/// for it and gives up at once instead of at its next write or timeout.
///
/// One listener at a time: each stage replaces the previous stage's. A listener set after the
/// signal fired runs at once, so a client that left before a stage began is never missed.
package final class CancellationSignal: Sendable {
    private enum State {
        case armed((@Sendable () -> Void)?)
        case fired
    }

    private let state = Mutex<State>(.armed(nil))

    package init() {}

    /// Whether the signal has fired.
    package var isFired: Bool {
        state.withLock { if case .fired = $0 { true } else { false } }
    }

    /// Runs `listener` when the signal fires, or now if it has; replaces the previous listener.
    package func onFire(_ listener: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            guard case .armed = state else { return true }
            state = .armed(listener)
            return false
        }
        if runNow { listener() }
    }

    /// Drops the current listener (its work ended).
    package func clearListener() {
        state.withLock { if case .armed = $0 { $0 = .armed(nil) } }
    }

    /// Fires once; later calls do nothing.
    package func fire() {
        let listener = state.withLock { state -> (@Sendable () -> Void)? in
            guard case .armed(let listener) = state else { return nil }
            state = .fired
            return listener
        }
        listener?()
    }
}
