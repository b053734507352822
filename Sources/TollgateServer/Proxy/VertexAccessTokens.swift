import Foundation
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// The OAuth access token Tollgate sends to Vertex AI for requests made with Tollgate keys (SPEC
/// §14), from a Google service account (`TOLLGATE_VERTEX_CREDENTIALS`): a JWT signed RS256 with
/// the account's key (OpenSSL) is exchanged at the account's `token_uri` (Google's OAuth 2.0
/// JWT-bearer grant, RFC 7523), through libcurl like every upstream call.
///
/// The token is kept until 5 minutes (or half its lifetime, if shorter) before it expires. One refresh runs at a time: requests that
/// arrive meanwhile wait for it rather than each asking Google (no thundering herd), and a failed
/// refresh is answered from memory for 5 seconds before the next try, so an outage of the token
/// endpoint is not hammered by every request. Neither the token nor the signed assertion is
/// logged.
actor VertexAccessTokens {
    /// The fields of a service-account key file Tollgate reads.
    struct ServiceAccount: Decodable {
        var type: String?
        var clientEmail: String
        var privateKey: String
        var privateKeyID: String?
        var tokenURI: String?

        enum CodingKeys: String, CodingKey {
            case type, clientEmail = "client_email", privateKey = "private_key", privateKeyID = "private_key_id", tokenURI = "token_uri"
        }
    }

    static let scope = "https://www.googleapis.com/auth/cloud-platform"
    static let defaultTokenURI = "https://oauth2.googleapis.com/token"
    /// A token is renewed this long before it expires (at most half its lifetime).
    static let renewBeforeMs: Int64 = 300_000
    /// After a failed refresh, requests get its error for this long before the next try.
    static let failureHoldMs: Int64 = 5_000

    private let account: ServiceAccount
    private let tokenURI: String
    private let signer: RSASigner
    private let upstream: any UpstreamClient
    private let timeouts: UpstreamTimeouts
    private let clock: @Sendable () -> Int64
    private let logger: Logger

    private var current: (token: String, renewAtMs: Int64)?
    private var refreshing: Task<(token: String, renewAtMs: Int64), any Error>?
    private var failure: (error: RequestError, atMs: Int64)?
    /// Token requests sent to the token endpoint (for tests and logs).
    private(set) var exchanges = 0

    /// Reads the key file's JSON; throws `ConfigError` naming what is missing or wrong.
    init(
        credentials json: String, upstream: any UpstreamClient, timeouts: UpstreamTimeouts, clock: @escaping @Sendable () -> Int64,
        logger: Logger
    ) throws {
        let account: ServiceAccount
        do {
            account = try JSONDecoder().decode(ServiceAccount.self, from: Data(json.utf8))
        } catch {
            throw ConfigError("TOLLGATE_VERTEX_CREDENTIALS is not a Google service-account key (JSON with client_email and private_key): \(JSONErrorText.describe(error))")
        }
        if let type = account.type, type != "service_account" {
            throw ConfigError("TOLLGATE_VERTEX_CREDENTIALS is a '\(type)' credential; Tollgate needs a service-account key (type service_account).")
        }
        do {
            signer = try RSASigner(pem: account.privateKey)
        } catch {
            throw ConfigError("TOLLGATE_VERTEX_CREDENTIALS: private_key is unusable: \(error)")
        }
        let uri = account.tokenURI ?? Self.defaultTokenURI
        guard uri.hasPrefix("https://") || uri.hasPrefix("http://") else {
            throw ConfigError("TOLLGATE_VERTEX_CREDENTIALS: token_uri must be an http(s) URL, got '\(uri)'.")
        }
        self.account = account
        self.tokenURI = uri
        self.upstream = upstream
        self.timeouts = timeouts
        self.clock = clock
        self.logger = logger
    }

    /// A token valid for at least a few more minutes; refreshes it when needed.
    func token() async throws(RequestError) -> String {
        let now = clock()
        if let current, now < current.renewAtMs { return current.token }
        if let failure, now - failure.atMs < Self.failureHoldMs { throw failure.error }
        let task: Task<(token: String, renewAtMs: Int64), any Error>
        if let refreshing {
            task = refreshing
        } else {
            task = Task { try await self.exchange() }
            refreshing = task
        }
        do {
            let fresh = try await task.value
            if refreshing == task { refreshing = nil }
            current = fresh
            failure = nil
            return fresh.token
        } catch {
            if refreshing == task { refreshing = nil }
            let refusal = (error as? RequestError)
                ?? RequestError(.upstreamUnavailable, "Tollgate could not get a Vertex AI access token: \(error)")
            failure = (refusal, clock())
            throw refusal
        }
    }

    /// The signed JWT assertion for `now` (seconds).
    nonisolated func assertion(nowSeconds: Int64) -> String {
        var header = #"{"alg":"RS256","typ":"JWT""#
        if let id = account.privateKeyID { header += #","kid":"# + JSONText.quoted(id) }
        header += "}"
        let claims = #"{"iss":\#(JSONText.quoted(account.clientEmail)),"scope":\#(JSONText.quoted(Self.scope)),"aud":\#(JSONText.quoted(tokenURI)),"iat":\#(nowSeconds),"exp":\#(nowSeconds + 3600)}"#
        let signingInput = RSASigner.base64URL(Array(header.utf8)) + "." + RSASigner.base64URL(Array(claims.utf8))
        return signingInput + "." + RSASigner.base64URL(signer.sign(Array(signingInput.utf8)))
    }

    private struct TokenAnswer: Decodable {
        var accessToken: String
        var expiresIn: Int64?
        enum CodingKeys: String, CodingKey { case accessToken = "access_token", expiresIn = "expires_in" }
    }

    private struct TokenError: Decodable {
        var error: String?
        var errorDescription: String?
        enum CodingKeys: String, CodingKey { case error, errorDescription = "error_description" }
    }

    private func exchange() async throws -> (token: String, renewAtMs: Int64) {
        exchanges += 1
        let started = clock()
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion(nowSeconds: started / 1000)
        let request = UpstreamRequest(
            url: tokenURI, method: "POST", headers: [("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json")],
            body: ByteBuffer(string: form), decodeContent: true, timeouts: timeouts)
        let answer: BufferedResponse
        do {
            answer = try await upstream.buffered(request)
        } catch let error as UpstreamError {
            logger.warning("Vertex AI token endpoint unreachable", metadata: ["token_uri": "\(tokenURI)", "error": "\(error.message)"])
            throw RequestError(
                error.kind == .timeout ? .upstreamTimeout : .upstreamUnavailable,
                "Tollgate could not get a Vertex AI access token from \(tokenURI): \(error.message)")
        }
        let body = Data(answer.body.readableBytesView)
        guard answer.head.status == 200, let token = try? JSONDecoder().decode(TokenAnswer.self, from: body), !token.accessToken.isEmpty else {
            let reason = (try? JSONDecoder().decode(TokenError.self, from: body)).map { [$0.error, $0.errorDescription].compactMap { $0 }.joined(separator: ": ") }
            let detail = reason.flatMap { $0.isEmpty ? nil : $0 } ?? "HTTP \(answer.head.status)"
            logger.warning("Vertex AI token request refused", metadata: ["token_uri": "\(tokenURI)", "status": "\(answer.head.status)", "reason": "\(detail)"])
            throw RequestError(
                .upstreamUnavailable,
                "Google refused Tollgate's service account \(account.clientEmail) an access token (\(detail)); check TOLLGATE_VERTEX_CREDENTIALS.")
        }
        let lifetimeMs = max(60, token.expiresIn ?? 3600) * 1000
        logger.debug("Vertex AI access token obtained", metadata: ["expires_in_s": "\(lifetimeMs / 1000)"])
        return (token.accessToken, started + lifetimeMs - min(Self.renewBeforeMs, lifetimeMs / 2))
    }
}
