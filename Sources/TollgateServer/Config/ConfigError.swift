/// A setting that could not be used; the message names the setting and what to do.
package struct ConfigError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
