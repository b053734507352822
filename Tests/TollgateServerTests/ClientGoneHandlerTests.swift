import NIOCore
import NIOEmbedded
import Testing
import TollgateUpstream
@testable import TollgateServer

@Suite("Client-gone watch: a connection's close or half-close fires its request's signal")
struct ClientGoneHandlerTests {
    private func connection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ClientGoneHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("closing the connection fires the watched signal")
    func close() throws {
        let channel = try connection()
        let signal = CancellationSignal()
        ConnectionWatch.watch(channel, firing: signal)
        #expect(!signal.isFired)
        _ = try channel.finish()
        #expect(signal.isFired)
    }

    @Test("a half-close (input closed) fires it too")
    func halfClose() throws {
        let channel = try connection()
        let signal = CancellationSignal()
        ConnectionWatch.watch(channel, firing: signal)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(signal.isFired)
        _ = try channel.finish()
    }

    @Test("only the latest request on a keep-alive connection is watched; a request after the close fires at once")
    func latestAndLate() throws {
        let channel = try connection()
        let (first, second) = (CancellationSignal(), CancellationSignal())
        ConnectionWatch.watch(channel, firing: first)
        ConnectionWatch.watch(channel, firing: second)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(!first.isFired && second.isFired)
        let late = CancellationSignal()
        ConnectionWatch.watch(channel, firing: late)
        #expect(late.isFired)
        _ = try channel.finish()
        #expect(ConnectionWatch.table.withLock { $0[ObjectIdentifier(channel)] } == nil)
    }
}
