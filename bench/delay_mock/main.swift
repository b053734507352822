// A mock OpenAI upstream that answers every request after a fixed delay, for the "thousands of
// concurrent slow answers" scenario of bench/concurrency.sh (issue 16): an LLM takes tens of
// milliseconds or more per answer, so a proxy must hold thousands of open transfers at once.
// nginx cannot delay an answer without a third-party module, hence this small SwiftNIO server:
// the delay is a timer on the event loop, so one thread holds any number of waiting requests.
//
// With `--events N` it streams instead (the long-stream scenario of bench/long_streams.sh): the
// head after the delay, then N OpenAI chat chunks as server-sent events `--interval-ms` apart, a
// usage chunk and `[DONE]`. `GET /stats` answers how many events and whole streams it sent, so
// the benchmark can divide the proxy's CPU by the events it relayed.
//
// Usage: DelayMock --port N [--delay-ms 50] [--threads 1] [--events 0] [--interval-ms 20]
import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else { return fallback }
    return value
}
let port = option("--port", 0)
let delay = TimeAmount.milliseconds(Int64(option("--delay-ms", 50)))
let events = option("--events", 0)
let interval = TimeAmount.milliseconds(Int64(option("--interval-ms", 20)))
let eventsSent = Mutex((events: 0, streams: 0))
let chunk = "data: " + #"{"id":"chatcmpl-delay","object":"chat.completion.chunk","created":1732200000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}"# + "\n\n"
let finalChunks = "data: " + #"{"id":"chatcmpl-delay","object":"chat.completion.chunk","created":1732200000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
    + "data: " + #"{"id":"chatcmpl-delay","object":"chat.completion.chunk","created":1732200000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":\#(events),"total_tokens":\#(events + 12)}}"# + "\n\ndata: [DONE]\n\n"
let body = #"{"id":"chatcmpl-delay","object":"chat.completion","created":1732200000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}"#

final class DelayedAnswer: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var statsRequest = false

    /// The stream's head, then one event per `interval` until `remaining` is 0; stops if the
    /// client went away.
    static func stream(_ context: ChannelHandlerContext, remaining: Int) {
        guard context.channel.isActive else { return }
        if remaining == events {
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/event-stream")
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        }
        guard remaining > 0 else {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(string: finalChunks)))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            eventsSent.withLock { $0.streams += 1 }
            return
        }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(string: chunk)))), promise: nil)
        eventsSent.withLock { $0.events += 1 }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: interval) { stream(loopBound.value, remaining: remaining - 1) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let head) = part, head.uri == "/stats" {
            let (sent, streams) = eventsSent.withLock { ($0.events, $0.streams) }
            let text = #"{"events":\#(sent),"streams":\#(streams)}"#
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: String(text.utf8.count))
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            statsRequest = true
            return
        }
        guard case .end = part else { return }
        if statsRequest {
            statsRequest = false
            return
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        if events > 0 {
            context.eventLoop.scheduleTask(in: delay) { Self.stream(loopBound.value, remaining: events) }
            return
        }
        context.eventLoop.scheduleTask(in: delay) {
            let context = loopBound.value
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.utf8.count))
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        }
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: option("--threads", 1))
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(DelayedAnswer())
        }
    }
    .bind(host: "127.0.0.1", port: port).wait()
print("listening on \(channel.localAddress?.port ?? port)")
try channel.closeFuture.wait()
