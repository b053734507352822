import Foundation
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// How Tollgate proves itself to a provider on requests made with a Tollgate key (SPEC §3, §14):
/// one credential per provider, built at startup from its configuration.
protocol ProviderCredential: Sendable {
    /// Adds the credential to `request`, whose client credential is already removed.
    func authorize(_ request: inout UpstreamRequest) async throws(RequestError)
}

/// A fixed API key in the provider's documented header (`Authorization: Bearer`, `x-api-key`,
/// `x-goog-api-key`, Azure's `api-key`).
struct APIKeyCredential: ProviderCredential {
    let header: (name: String, value: String)
    /// Client headers that belong to the client's own credential besides its token (a boto3
    /// signature's `x-amz-date` and `x-amz-security-token` before a Bedrock API key).
    var replacing: Set<String> = []

    func authorize(_ request: inout UpstreamRequest) async throws(RequestError) {
        if !replacing.isEmpty { request.headers.removeAll { replacing.contains($0.name) } }
        request.headers.append(header)
    }
}

/// AWS Signature V4 over the request exactly as it will be sent (Bedrock).
struct AWSSignatureCredential: ProviderCredential {
    let signer: AWSSigner
    let clock: @Sendable () -> Int64

    /// The configuration's form of the credential (`providers.bedrock.api_key`): JSON that
    /// `TOLLGATE_BEDROCK_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`, `_SESSION_TOKEN` and `_REGION` make.
    struct Settings: Codable, Equatable {
        var region: String
        var credentials: AWSSigner.Credentials

        /// Whether an `api_key` value is this JSON rather than a Bedrock API key (a bearer token).
        static func describes(_ apiKey: String) -> Bool { apiKey.trimmingSpaces().hasPrefix("{") }
    }

    init(settings json: String, clock: @escaping @Sendable () -> Int64) throws {
        let settings: Settings
        do {
            settings = try JSONDecoder().decode(Settings.self, from: Data(json.utf8))
        } catch {
            throw ConfigError("The Bedrock credentials are not {\"region\":…,\"credentials\":{\"access_key_id\":…,\"secret_access_key\":…}}: \(JSONErrorText.describe(error))")
        }
        signer = AWSSigner(credentials: settings.credentials, region: settings.region, service: "bedrock")
        self.clock = clock
    }

    func authorize(_ request: inout UpstreamRequest) async throws(RequestError) {
        request.headers.removeAll { AWSSigner.replacedHeaders.contains($0.name) }
        let body = request.body?.readableBytesView ?? ByteBuffer().readableBytesView
        request.headers += signer.sign(method: request.method, url: request.url, body: body, nowMs: clock())
    }
}

extension VertexAccessTokens: ProviderCredential {
    nonisolated func authorize(_ request: inout UpstreamRequest) async throws(RequestError) {
        request.headers.append(("authorization", "Bearer " + (try await token())))
    }
}

enum ProviderCredentials {
    /// The credential every provider in `providers` uses, by name: Vertex's service account,
    /// Bedrock's signing keys, or an API key in the format's header. Providers without one are
    /// left out (a Tollgate key is then refused with a message naming the setting).
    static func make(
        for providers: [Provider], upstream: any UpstreamClient, timeouts: UpstreamTimeouts, clock: @escaping @Sendable () -> Int64,
        logger: Logger
    ) throws -> [String: any ProviderCredential] {
        var credentials: [String: any ProviderCredential] = [:]
        for provider in providers {
            guard let apiKey = provider.apiKey else { continue }
            switch provider.format {
            case .vertex:
                credentials[provider.name] = try VertexAccessTokens(
                    credentials: apiKey, upstream: upstream, timeouts: timeouts, clock: clock, logger: logger)
            case .bedrock where AWSSignatureCredential.Settings.describes(apiKey):
                credentials[provider.name] = try AWSSignatureCredential(settings: apiKey, clock: clock)
            case .bedrock:
                credentials[provider.name] = APIKeyCredential(
                    header: provider.format.wire.credentialHeader(apiKey: apiKey), replacing: AWSSigner.replacedHeaders)
            default:
                credentials[provider.name] = APIKeyCredential(header: provider.format.wire.credentialHeader(apiKey: apiKey))
            }
        }
        return credentials
    }
}
