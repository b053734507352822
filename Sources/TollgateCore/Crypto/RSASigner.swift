import COpenSSL
import Foundation

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signatures under a PEM private key, through OpenSSL: the
/// JWT a Google service account signs to get an access token (`VertexAccessTokens`).
package final class RSASigner: @unchecked Sendable {
    // @unchecked: the key is only read after init (each signature has its own EVP_MD_CTX), which
    // OpenSSL allows from any thread.
    private let key: OpaquePointer

    package struct KeyError: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// `pem`: a `-----BEGIN PRIVATE KEY-----` (PKCS #8) or `-----BEGIN RSA PRIVATE KEY-----` block.
    package init(pem: String) throws(KeyError) {
        let parsed: OpaquePointer? = Array(pem.utf8).withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let parsed else { throw KeyError(description: "the private key is not a PEM private key OpenSSL can read") }
        guard EVP_PKEY_get_base_id(parsed) == EVP_PKEY_RSA else {
            EVP_PKEY_free(parsed)
            throw KeyError(description: "the private key is not an RSA key (RS256 needs one)")
        }
        key = parsed
    }

    deinit { EVP_PKEY_free(key) }

    /// The RS256 signature of `message`.
    package func sign(_ message: [UInt8]) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1, "EVP_DigestSignInit failed")
        var length = 0
        precondition(EVP_DigestSign(context, nil, &length, message, message.count) == 1, "EVP_DigestSign (length) failed")
        var signature = [UInt8](repeating: 0, count: length)
        precondition(EVP_DigestSign(context, &signature, &length, message, message.count) == 1, "EVP_DigestSign failed")
        return Array(signature.prefix(length))
    }

    /// Base64url without padding (RFC 7515 §2), as JWTs write every part.
    package static func base64URL(_ bytes: some Collection<UInt8>) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.last == "=" { text.removeLast() }
        return text
    }
}
