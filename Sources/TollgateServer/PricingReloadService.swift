import Dispatch
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Reloads pricing on SIGHUP without dropping requests (SPEC §6).
struct PricingReloadService: Service {
    let pricing: PricingStore
    let logger: Logger

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let pricing = self.pricing
        let logger = self.logger
        source.setEventHandler {
            do {
                let table = try pricing.reload()
                logger.info("Pricing reloaded on SIGHUP", metadata: ["version": "\(table.version)", "models": "\(table.models.count)"])
            } catch {
                logger.error("Pricing not reloaded: \(error)")
            }
        }
        source.resume()
        try? await gracefulShutdown()
        source.cancel()
    }
}
