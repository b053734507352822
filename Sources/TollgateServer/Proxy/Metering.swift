import NIOCore
import TollgateCore

/// Reads usage and cost from answers (filled in by the metering stage).
enum Metering {
    struct Result {
        var model: String?
        var costHeader: String
    }

    static func buffered(_ body: ByteBuffer, exchange: Exchange) -> Result? { nil }
}
