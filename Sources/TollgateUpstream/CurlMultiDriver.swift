import CCurl
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Owns one libcurl multi handle and the one thread that drives it.
///
/// Callers queue commands under a lock and wake the thread with `curl_multi_wakeup`; the thread
/// alone touches the multi handle and the transfers in it. One thread carries thousands of
/// concurrent transfers: there is no thread per request and no blocking call on a caller's thread.
final class CurlMultiDriver: Sendable {
    enum Command: Sendable {
        case add(CurlTransfer)
        case resume(UInt64)
        case cancel(UInt64)
    }

    /// How often first-byte and idle limits are checked.
    private static let timeoutTickNanos: UInt64 = 50_000_000

    // The multi handle is thread-safe only for curl_multi_wakeup; everything else runs on `thread`.
    private nonisolated(unsafe) let multi: UnsafeMutableRawPointer
    private let queue = Mutex<(commands: [Command], stopping: Bool)>(([], false))
    private let stopped = Mutex<Bool>(false)
    private let nextID = Atomic<UInt64>(1)
    /// Transfers in the multi handle, as of the driver's last turn.
    let activeTransfers = Atomic<Int>(0)
    private let name: String
    private let logger: Logger

    init(name: String, logger: Logger) {
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: libcurl is unusable") }
        self.multi = multi
        self.name = name
        self.logger = logger
        // Reuse connections generously: many providers, many concurrent streams.
        tg_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 1024)
    }

    func makeTransferID() -> UInt64 { nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// Queues `command` for the driver thread and wakes it.
    func submit(_ command: Command) {
        let accepted = queue.withLock { state -> Bool in
            if state.stopping, case .add = command { return false }
            state.commands.append(command)
            return true
        }
        if !accepted, case .add(let transfer) = command {
            transfer.finish(error: UpstreamError(.unavailable, "Tollgate is shutting down."))
            return
        }
        curl_multi_wakeup(multi)
    }

    /// Starts the driver thread.
    func start() {
        let thread = DriverThread(driver: self)
        thread.start()
    }

    /// Asks the thread to finish once every transfer in it has ended, and waits for that.
    func stop() async {
        queue.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
        while !stopped.withLock({ $0 }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: Driver thread

    fileprivate func run() {
        pthread_setname_np(pthread_self(), name)
        var transfers: [UInt64: CurlTransfer] = [:]
        var lastTick = monotonicNanos()
        var running: Int32 = 0

        while true {
            let (commands, stopping) = queue.withLock { state in
                defer { state.commands.removeAll(keepingCapacity: true) }
                return (state.commands, state.stopping)
            }
            for command in commands {
                switch command {
                case .add(let transfer):
                    transfers[transfer.id] = transfer
                    let code = curl_multi_add_handle(multi, transfer.easy)
                    if code != CURLM_OK {
                        transfers[transfer.id] = nil
                        transfer.finish(error: UpstreamError(.unavailable, "libcurl refused the transfer (code \(code.rawValue))."))
                    }
                case .resume(let id):
                    guard let transfer = transfers[id] else { continue }
                    transfer.stopRequested = false
                    if transfer.paused {
                        transfer.paused = false
                        transfer.lastActivity = monotonicNanos()
                        curl_easy_pause(transfer.easy, CURLPAUSE_CONT)
                    }
                case .cancel(let id):
                    guard let transfer = transfers.removeValue(forKey: id) else { continue }
                    curl_multi_remove_handle(multi, transfer.easy)
                    transfer.finish(error: UpstreamError(.cancelled, "The client went away."))
                }
            }
            if stopping && transfers.isEmpty { break }

            curl_multi_perform(multi, &running)

            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let result = message.pointee.data.result
                var userdata: UnsafeMutableRawPointer? = nil
                tg_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &userdata)
                curl_multi_remove_handle(multi, easy)
                guard let userdata else { continue }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                transfers[transfer.id] = nil
                transfer.finish(error: Self.error(for: result, transfer: transfer))
            }

            let now = monotonicNanos()
            if now - lastTick >= Self.timeoutTickNanos {
                lastTick = now
                expireTimeouts(&transfers, now: now)
            }
            activeTransfers.store(transfers.count, ordering: .relaxed)
            let wait: Int32 = transfers.isEmpty ? 1000 : 50
            curl_multi_poll(multi, nil, 0, wait, nil)
        }
        curl_multi_cleanup(multi)
        stopped.withLock { $0 = true }
    }

    /// Ends transfers past their first-byte or idle limit (libcurl has no limits of that shape).
    private func expireTimeouts(_ transfers: inout [UInt64: CurlTransfer], now: UInt64) {
        var expired: [(CurlTransfer, String)] = []
        for transfer in transfers.values {
            let limits = transfer.request.timeouts
            if transfer.firstByteAt == 0 {
                if now - transfer.startedAt > UInt64(limits.firstByteMs) * 1_000_000 {
                    expired.append((transfer, "The provider sent nothing within \(Self.seconds(limits.firstByteMs)) (first-byte timeout)."))
                }
            } else if !transfer.paused, now - transfer.lastActivity > UInt64(limits.idleMs) * 1_000_000 {
                expired.append((transfer, "The provider went silent for \(Self.seconds(limits.idleMs)) (idle timeout)."))
            }
        }
        for (transfer, message) in expired {
            transfers[transfer.id] = nil
            curl_multi_remove_handle(multi, transfer.easy)
            transfer.finish(error: UpstreamError(.timeout, message))
        }
    }

    private static func seconds(_ ms: Int) -> String {
        ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }

    private static func error(for code: CURLcode, transfer: CurlTransfer) -> UpstreamError? {
        if code == CURLE_OK { return nil }
        let reason = String(cString: curl_easy_strerror(code))
        if code == CURLE_OPERATION_TIMEDOUT {
            return UpstreamError(.timeout, "The provider did not answer in time: \(reason).")
        }
        if transfer.headDelivered || transfer.firstByteAt != 0 {
            return UpstreamError(.dropped, "The provider's answer broke off: \(reason).")
        }
        return UpstreamError(.unavailable, "The provider could not be reached: \(reason).")
    }
}

/// The dedicated OS thread of one driver: libcurl's multi loop blocks in `curl_multi_poll`,
/// so it must not run on the Swift concurrency pool or a NIO event loop.
private final class DriverThread: Sendable {
    let driver: CurlMultiDriver
    init(driver: CurlMultiDriver) { self.driver = driver }

    func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<DriverThread>.fromOpaque(raw!).takeRetainedValue()
            me.driver.run()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create failed: \(result)")
        pthread_detach(thread)
    }
}
