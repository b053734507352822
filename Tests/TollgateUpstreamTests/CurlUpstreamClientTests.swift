import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
@testable import TollgateUpstream

/// Runs a real Hummingbird server on 127.0.0.1, port 0, for the duration of `body`.
private func withUpstream(
    _ configure: (Router<BasicRequestContext>) -> Void, _ body: @Sendable (Int) async throws -> Void
) async throws {
    let router = Router()
    configure(router)
    let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { portContinuation.yield($0.localAddress!.port!) },
        logger: Logger(label: "upstream-test"))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService() }
        var ports = portStream.makeAsyncIterator()
        let port = await ports.next()!
        try await body(port)
        group.cancelAll()
    }
}

private let client = CurlUpstreamClient(logger: Logger(label: "curl-test"))

private func request(_ url: String, method: String = "GET", body: String? = nil, headers: [(name: String, value: String)] = [], firstByteMs: Int = 5000) -> UpstreamRequest {
    UpstreamRequest(
        url: url, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }, decodeContent: false,
        timeouts: UpstreamTimeouts(connectMs: 2000, firstByteMs: firstByteMs, idleMs: 2000))
}

@Suite("libcurl upstream client against a real HTTP server")
struct CurlUpstreamClientTests {
    @Test("a buffered POST sends headers and body and returns status, headers and body")
    func bufferedRoundTrip() async throws {
        try await withUpstream({ router in
            router.post("/echo") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: HTTPFields = [.contentType: "text/plain"]
                headers[HTTPField.Name("x-seen-auth")!] = request.headers[.authorization] ?? "none"
                headers[HTTPField.Name("X-Mixed-Case")!] = "Value Kept: as sent"
                return Response(status: .created, headers: headers, body: .init(byteBuffer: body))
            }
        }) { port in
            let answer = try await client.buffered(
                request("http://127.0.0.1:\(port)/echo", method: "POST", body: String(repeating: "x", count: 5000),
                        headers: [("authorization", "Bearer sk-1"), ("content-type", "text/plain")]))
            #expect(answer.head.status == 201)
            #expect(answer.head.headers.first { $0.name == "x-seen-auth" }?.value == "Bearer sk-1", "\(answer.head.headers)")
            #expect(answer.head.headers.first { $0.name == "x-mixed-case" }?.value == "Value Kept: as sent")
            #expect(answer.body.readableBytes == 5000)
            #expect(answer.timing.firstByteNanos != nil)
        }
    }

    @Test("status lines of HTTP/1.x and HTTP/2 give their code; malformed ones give 0")
    func statusLines() {
        func code(_ line: String) -> Int {
            Array(line.utf8).withUnsafeBytes { CurlTransfer.statusCode(ofStatusLine: $0) }
        }
        #expect(code("HTTP/1.1 200 OK") == 200)
        #expect(code("HTTP/1.1 429 Too Many Requests") == 429)
        #expect(code("HTTP/2 503") == 503)
        #expect(code("HTTP/1.0 100 Continue") == 100)
        #expect(code("HTTP/1.1 2000 Huge") == 0)
        #expect(code("HTTP/1.1 20 Short") == 0)
        #expect(code("HTTP/1.1") == 0)
        #expect(code("HTTP/1.1 abc") == 0)
    }

    @Test("a streamed body arrives chunk by chunk, not at the end")
    func streaming() async throws {
        try await withUpstream({ router in
            router.get("/sse") { _, _ -> Response in
                Response(status: .ok, headers: [.contentType: "text/event-stream"], body: .init { writer in
                    for i in 0..<4 {
                        try await writer.write(ByteBuffer(string: "data: \(i)\n\n"))
                        try await Task.sleep(for: .milliseconds(150))
                    }
                    try await writer.finish(nil)
                })
            }
        }) { port in
            let answer = try await client.streaming(request("http://127.0.0.1:\(port)/sse"))
            #expect(answer.head.status == 200)
            var arrivals: [ContinuousClock.Instant] = []
            var text = ""
            for try await chunk in answer.body {
                arrivals.append(.now)
                text += String(buffer: chunk)
            }
            #expect(text == "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n")
            #expect(arrivals.count >= 3)
            #expect(arrivals.last! - arrivals.first! > .milliseconds(300))
        }
    }

    @Test("a refused connection is `unavailable`")
    func refused() async throws {
        await #expect {
            _ = try await client.buffered(request("http://127.0.0.1:1/x"))
        } throws: { ($0 as? UpstreamError)?.kind == .unavailable }
    }

    @Test("an upstream that never answers hits the first-byte timeout")
    func firstByteTimeout() async throws {
        try await withUpstream({ router in
            router.get("/hang") { _, _ -> Response in
                try await Task.sleep(for: .seconds(5))
                return Response(status: .ok)
            }
        }) { port in
            let started = ContinuousClock.now
            await #expect {
                _ = try await client.buffered(request("http://127.0.0.1:\(port)/hang", firstByteMs: 300))
            } throws: { ($0 as? UpstreamError)?.kind == .timeout }
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test("a fired cancellation signal ends a transfer still waiting for its head, buffered or streaming")
    func cancelledBeforeHead() async throws {
        try await withUpstream({ router in
            router.get("/hang") { _, _ -> Response in
                try await Task.sleep(for: .seconds(5))
                return Response(status: .ok)
            }
        }) { port in
            for streaming in [false, true] {
                var hanging = request("http://127.0.0.1:\(port)/hang")
                let signal = CancellationSignal()
                hanging.cancellation = signal
                let started = ContinuousClock.now
                async let fire: Void = {
                    try? await Task.sleep(for: .milliseconds(200))
                    signal.fire()
                }()
                await #expect {
                    if streaming { _ = try await client.streaming(hanging) } else { _ = try await client.buffered(hanging) }
                } throws: { ($0 as? UpstreamError)?.kind == .cancelled }
                await fire
                #expect(ContinuousClock.now - started < .seconds(2))
            }
        }
    }

    @Test("a signal fired before the transfer starts cancels it at once")
    func cancelledBeforeStart() async throws {
        var req = request("http://127.0.0.1:1/x")
        let signal = CancellationSignal()
        signal.fire()
        req.cancellation = signal
        await #expect {
            _ = try await client.buffered(req)
        } throws: { [.cancelled, .unavailable].contains(($0 as? UpstreamError)?.kind) }
    }
}

@Suite("CancellationSignal")
struct CancellationSignalTests {
    final class Count: Sendable {
        let value = Mutex(0)
        func bump() { value.withLock { $0 += 1 } }
        var now: Int { value.withLock { $0 } }
    }

    @Test("fires its latest listener once; a listener set after firing runs at once")
    func fireOnce() {
        let signal = CancellationSignal()
        let (first, second, late) = (Count(), Count(), Count())
        signal.onFire { first.bump() }
        signal.onFire { second.bump() }
        #expect(!signal.isFired)
        signal.fire()
        signal.fire()
        #expect(signal.isFired)
        #expect(first.now == 0 && second.now == 1)
        signal.onFire { late.bump() }
        #expect(late.now == 1)
    }

    @Test("a cleared listener does not run")
    func cleared() {
        let signal = CancellationSignal()
        let count = Count()
        signal.onFire { count.bump() }
        signal.clearListener()
        signal.fire()
        #expect(count.now == 0)
    }
}
