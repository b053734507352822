/// Takes finished requests' usage events. `record` is called on the request path, so an
/// implementation must return at once (queue the event) and never wait on storage.
package protocol UsageRecorder: Sendable {
    func record(_ event: UsageEvent)
}
