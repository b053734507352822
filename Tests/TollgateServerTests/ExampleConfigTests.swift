import Foundation
import Testing
@testable import TollgateServer

@Suite("deploy/tollgate.example.yaml")
struct ExampleConfigTests {
    @Test("the documented example loads and equals the defaults")
    func exampleLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy/tollgate.example.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let fromFile = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: text)
        let defaults = try ConfigLoader.merge(flags: .init(), environment: [:], yaml: nil)
        #expect(fromFile.listen == defaults.listen)
        #expect(fromFile.timeouts == defaults.timeouts)
        #expect(fromFile.cacheMaxBytes == defaults.cacheMaxBytes)
        #expect(fromFile.providers == defaults.providers)
        #expect(fromFile.limits == defaults.limits)
        #expect(fromFile.keyUnmeteredPaths == defaults.keyUnmeteredPaths)
        #expect(fromFile.admin == defaults.admin)
    }
}
