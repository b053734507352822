import Foundation
import TollgateCore

/// CPU per request of what Tollgate adds to call a provider with its own credential (issue 15's
/// floor: at most 20 µs): AWS Signature V4 over Bedrock requests of typical sizes, and the Vertex
/// AI service account's RS256 assertion (made once per token, about hourly; shown per exchange).
/// Each figure is process CPU time over many runs, after a warm-up; the baseline is a SHA-256 of
/// the same body, which any signature over it must pay.
///
/// Usage: SigningBench [--iterations N] [--size BYTES] [--pem PATH]   (bench/signing.sh builds, makes a key, runs)

func cpuNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Microseconds of CPU per call of `body`, over `iterations` calls after a tenth as many to warm up.
func measure(_ iterations: Int, _ body: () -> Int) -> Double {
    var sink = 0
    for _ in 0..<max(1, iterations / 10) { sink &+= body() }
    let start = cpuNanos()
    for _ in 0..<iterations { sink &+= body() }
    let elapsed = cpuNanos() - start
    if sink == 42 { print("") }  // keeps the work observable
    return Double(elapsed) / Double(iterations) / 1000
}

var iterations = 20_000
var pemPath: String?
var sizes = [1 << 10, 16 << 10, 256 << 10]
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--iterations": iterations = arguments.next().flatMap(Int.init) ?? iterations
    case "--pem": pemPath = arguments.next()
    case "--size": sizes = arguments.next().flatMap(Int.init).map { [$0] } ?? sizes
    default:
        print("unknown argument \(argument); usage: SigningBench [--iterations N] [--size BYTES] [--pem PATH]")
        exit(2)
    }
}

let signer = AWSSigner(
    credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "FQoGZXIvYXdzEXAMPLE"),
    region: "us-east-1", service: "bedrock")
let url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"
let nowMs = Int64(Date().timeIntervalSince1970 * 1000)

print("what                                   µs CPU/op   baseline SHA-256   added")
for size in sizes {
    let body = [UInt8](repeating: UInt8(ascii: "a"), count: size)
    let sign = measure(iterations) { signer.sign(method: "POST", url: url, body: body, nowMs: nowMs).count }
    let hash = measure(iterations) { Digest.sha256(body).count }
    let label = "SigV4, \(size >> 10) KiB body".padding(toLength: 38, withPad: " ", startingAt: 0)
    print("\(label) \(String(format: "%9.2f", sign))   \(String(format: "%16.2f", hash))   \(String(format: "%5.2f", sign - hash))")
}
if let pemPath, let pem = try? String(contentsOfFile: pemPath, encoding: .utf8) {
    let rsa = try RSASigner(pem: pem)
    let input = Array(#"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ0b2xsZ2F0ZSJ9"#.utf8)
    let assertion = measure(max(100, iterations / 50)) { rsa.sign(input).count }
    print("RS256 assertion (once per token)".padding(toLength: 38, withPad: " ", startingAt: 0) + " \(String(format: "%9.2f", assertion))")
}
