import SCIMSandbox

extension SandboxRequest {
    /// Whether this is a request to a discovery endpoint (RFC 7644 §4: `/ServiceProviderConfig`, `/ResourceTypes`,
    /// `/Schemas`). An interpreter asks the first of them once per server before its first server statement, to
    /// choose the dialect; the sandbox, like ODM, answers 404. Tests about other requests leave these out.
    public var isDiscovery: Bool {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        return ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"].contains { path.hasSuffix($0) }
    }
}

extension SandboxServer {
    /// The requests answered so far, without those to the discovery endpoints (see
    /// ``SandboxRequest/isDiscovery``).
    public func requestLogWithoutDiscovery() -> [SandboxRequest] { requestLog().filter { !$0.isDiscovery } }
}
