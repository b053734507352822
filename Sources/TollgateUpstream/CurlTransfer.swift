import CCurl
import NIOCore

/// One libcurl easy handle and everything its callbacks need.
///
/// Created and configured on the caller's thread, then handed to the driver thread through its
/// locked queue and confined there: libcurl's callbacks run inside `curl_multi_perform` on that
/// thread, and so do finishing and cancelling. That single hand-off is why `@unchecked Sendable` is safe.
final class CurlTransfer: @unchecked Sendable {
    /// Where the answer goes.
    enum Sink {
        case buffered(CheckedContinuation<BufferedResponse, any Error>)
        case streaming(
            head: CheckedContinuation<StreamingResponse, any Error>?,
            source: StreamingResponse.Body.Source?
        )
    }

    /// Largest buffered answer; bigger ones fail rather than exhaust memory.
    static let maxBufferedBytes = 256 << 20

    let id: UInt64
    let easy: UnsafeMutableRawPointer
    let handle: TransferHandle
    let request: UpstreamRequest
    var sink: Sink
    var body: StreamingResponse.Body?
    private var headerList: UnsafeMutablePointer<curl_slist>?

    let startedAt: UInt64
    var lastActivity: UInt64
    var firstByteAt: UInt64 = 0
    var status = 0
    var headers: [(name: String, value: String)] = []
    var headDelivered = false
    var buffer = ByteBuffer()
    /// The consumer asked us to stop; the next chunk pauses the transfer.
    var stopRequested = false
    var paused = false
    var finished = false

    init?(id: UInt64, request: UpstreamRequest, handle: TransferHandle, sink: Sink, now: UInt64) {
        guard let easy = curl_easy_init() else { return nil }
        self.id = id
        self.easy = easy
        self.request = request
        self.handle = handle
        self.sink = sink
        self.startedAt = now
        self.lastActivity = now
    }

    deinit {
        curl_easy_cleanup(easy)
        if let headerList { curl_slist_free_all(headerList) }
    }

    /// Sets every option; `userdata` is this transfer, unretained (the driver keeps it alive).
    func configure(userdata: UnsafeMutableRawPointer) {
        tg_easy_setopt_string(easy, CURLOPT_URL, request.url)
        tg_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        tg_easy_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        tg_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        tg_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        tg_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        tg_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        tg_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.timeouts.connectMs)
        tg_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        if request.decodeContent {
            // "" = every encoding this libcurl can decode; the client then receives plain bytes.
            tg_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "")
        }

        var list: UnsafeMutablePointer<curl_slist>? = nil
        var sawAccept = false
        var sawContentType = false
        for (name, value) in request.headers {
            if request.decodeContent && name == "accept-encoding" { continue }
            if name == "accept" { sawAccept = true }
            if name == "content-type" { sawContentType = true }
            list = curl_slist_append(list, "\(name): \(value)")
        }
        // libcurl adds headers of its own unless told not to; the provider should see the client's.
        list = curl_slist_append(list, "Expect:")
        if !sawAccept { list = curl_slist_append(list, "Accept:") }
        if !sawContentType { list = curl_slist_append(list, "Content-Type:") }
        headerList = list
        tg_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)

        switch request.method {
        case "GET": tg_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case "HEAD": tg_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        case "POST": break
        default: tg_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body, request.method != "GET", request.method != "HEAD" {
            tg_easy_setopt_long(easy, CURLOPT_POST, 1)
            if request.method != "POST" { tg_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method) }
            tg_easy_setopt_int64(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.readableBytes))
            body.withUnsafeReadableBytes { bytes in
                // COPYPOSTFIELDS: libcurl keeps its own copy, so the ByteBuffer may go away.
                _ = tg_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
        }

        tg_easy_setopt_datacb(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        tg_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, userdata)
        tg_easy_setopt_datacb(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        tg_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata)
        tg_easy_setopt_pointer(easy, CURLOPT_PRIVATE, userdata)
    }

    // MARK: Callbacks (driver thread)

    func onHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let now = monotonicNanos()
        if firstByteAt == 0 {
            firstByteAt = now
            handle.firstByteNanos.store(now - startedAt, ordering: .relaxed)
        }
        lastActivity = now
        // Byte-level on purpose: this runs for every header line of every answer on the one
        // driver thread, and `Character` scanning (grapheme breaking) made it a tenth of that
        // thread's time.
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end == 0 {
            // End of a header block; 1xx blocks are followed by the real one.
            if status >= 200 { deliverHead() }
            return
        }
        let line = UnsafeRawBufferPointer(rebasing: bytes[..<end])
        if line.starts(with: "HTTP/".utf8) {
            status = Self.statusCode(ofStatusLine: line)
            headers.removeAll(keepingCapacity: true)
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        var valueStart = colon + 1
        while valueStart < end, line[valueStart] == UInt8(ascii: " ") || line[valueStart] == UInt8(ascii: "\t") {
            valueStart += 1
        }
        let name = String(unsafeUninitializedCapacity: colon) { name in
            for index in 0..<colon {
                let byte = line[index]
                name[index] = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte  // ASCII lowercase
            }
            return colon
        }
        headers.append((name, String(decoding: line[valueStart...], as: UTF8.self)))
    }

    /// The three-digit code of `HTTP/1.1 200 OK` or `HTTP/2 200`; 0 when there is none.
    static func statusCode(ofStatusLine line: UnsafeRawBufferPointer) -> Int {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { return 0 }
        var code = 0
        var digits = 0
        for byte in line[(space + 1)...] {
            guard byte &- UInt8(ascii: "0") < 10 else { break }
            code = code * 10 + Int(byte &- UInt8(ascii: "0"))
            digits += 1
            guard digits <= 3 else { return 0 }
        }
        return digits == 3 ? code : 0
    }

    /// Returns the number of bytes taken, or libcurl's pause code.
    func onBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        lastActivity = monotonicNanos()
        if !headDelivered { deliverHead() }
        switch sink {
        case .buffered:
            if buffer.readableBytes + bytes.count > Self.maxBufferedBytes { return 0 }
            buffer.writeBytes(bytes)
            return bytes.count
        case .streaming(_, let source):
            guard let source else { return 0 }
            if stopRequested {
                paused = true
                return tg_writefunc_pause()
            }
            switch source.yield(ByteBuffer(bytes: bytes)) {
            case .produceMore: break
            case .stopProducing: stopRequested = true
            case .dropped: return 0  // the consumer is gone: abort
            }
            return bytes.count
        }
    }

    private func deliverHead() {
        guard !headDelivered else { return }
        headDelivered = true
        guard case .streaming(let continuation?, let source) = sink, let body else { return }
        sink = .streaming(head: nil, source: source)
        continuation.resume(returning: StreamingResponse(head: UpstreamHead(status: status, headers: headers), body: body, handle: handle))
    }

    /// Ends the transfer once: delivers the answer or the error to whoever waits.
    func finish(error: UpstreamError?) {
        guard !finished else { return }
        finished = true
        // libcurl may call a transfer complete when the provider closed the connection inside
        // its header block: that is a broken answer, not an empty 200.
        let error = error ?? (headDelivered ? nil : UpstreamError(.unavailable, "The provider closed the connection before its answer's headers ended."))
        handle.totalNanos.store(monotonicNanos() - startedAt, ordering: .relaxed)
        switch sink {
        case .buffered(let continuation):
            if let error {
                continuation.resume(throwing: error)
            } else {
                let timing = handle.timing
                continuation.resume(returning: BufferedResponse(head: UpstreamHead(status: status, headers: headers), body: buffer, timing: timing))
            }
        case .streaming(let continuation, let source):
            if let continuation {
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    deliverHead()
                }
            }
            if let error { source?.finish(error) } else { source?.finish() }
            sink = .streaming(head: nil, source: nil)
        }
    }
}

// libcurl calls these C functions with the transfer as userdata; they cannot capture context.
private let curlHeaderCallback: tg_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.onHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

private let curlWriteCallback: tg_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.onBody(UnsafeRawBufferPointer(start: data, count: size * count))
}
