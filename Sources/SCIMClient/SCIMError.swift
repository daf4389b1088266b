import SCIMCore

/// An error from a SCIM request: an HTTP error status, a transport failure, or a response that is not
/// what the protocol promises.
///
/// Its description names the method and path: `404 Not Found: There are no users with the specified id
/// (GET /api/v1/scim/Users/u-42)`. Credentials never appear in it.
public struct SCIMError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: Sendable, Hashable {
        case http
        case transport
        case invalidResponse
        case invalidRequest
        case cancelled
    }

    let code: Code
    /// The HTTP status, for HTTP errors (and invalid responses that had one).
    public let status: Int?
    /// The SCIM `scimType` (`invalidFilter`, `mutability`, `uniqueness`, ...), when the server sent one.
    public let scimType: String?
    /// What went wrong, from the server's error body or from the client.
    public let detail: String
    /// The request method.
    public let method: String
    /// The request URL (never contains credentials).
    public let url: String
    /// For rate limiting and unavailability: the server's Retry-After, in seconds.
    public let retryAfterSeconds: Double?
    /// Whether the request may have been applied although it failed: an attempt reached the server and its
    /// answer was lost (the connection dropped after sending), so what the server did is unknown.
    public internal(set) var mayHaveApplied = false

    init(
        code: Code, status: Int? = nil, scimType: String? = nil, detail: String, method: String, url: String,
        retryAfterSeconds: Double? = nil
    ) {
        self.code = code
        self.status = status
        self.scimType = scimType
        self.detail = detail
        self.method = method
        self.url = url
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The server answered with an error status.
    public static func http(
        status: Int, scimType: String?, detail: String, method: String, url: String, retryAfterSeconds: Double? = nil
    ) -> SCIMError {
        SCIMError(
            code: .http, status: status, scimType: scimType, detail: detail, method: method, url: url,
            retryAfterSeconds: retryAfterSeconds)
    }

    /// The request never got an HTTP answer: refused, timed out, TLS, DNS, connection lost.
    public static func transport(_ detail: String, method: String, url: String) -> SCIMError {
        SCIMError(code: .transport, detail: detail, method: method, url: url)
    }

    /// The server answered, but not with what SCIM promises (not JSON, wrong shape).
    public static func invalidResponse(status: Int?, detail: String, method: String, url: String) -> SCIMError {
        SCIMError(code: .invalidResponse, status: status, detail: detail, method: method, url: url)
    }

    /// The request could not be built (bad host URL, bad id).
    public static func invalidRequest(_ detail: String, method: String, url: String) -> SCIMError {
        SCIMError(code: .invalidRequest, detail: detail, method: method, url: url)
    }

    /// The request was cancelled.
    public static func cancelled(method: String, url: String) -> SCIMError {
        SCIMError(code: .cancelled, detail: "cancelled", method: method, url: url)
    }

    /// Whether the server answered with an error status.
    public var isHTTPError: Bool { code == .http }
    /// Whether the request failed below HTTP (no answer).
    public var isTransportError: Bool { code == .transport }
    /// Whether the answer was not valid SCIM.
    public var isInvalidResponse: Bool { code == .invalidResponse }
    /// Whether the request was cancelled.
    public var isCancelled: Bool { code == .cancelled }
    /// Whether the request could not be built.
    public var isInvalidRequest: Bool { code == .invalidRequest }

    /// The path and query of ``url``, for messages.
    public var path: String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }

    /// `404 Not Found: detail (GET /path)`, or `cannot reach …: detail (GET /path)`.
    public var description: String {
        switch code {
        case .http:
            var s = "\(status ?? 0) \(HTTPStatusText.reason(status ?? 0))"
            if let scimType, !scimType.isEmpty { s += " [\(scimType)]" }
            return s + ": \(detail) (\(method) \(path))"
        case .transport:
            return "cannot reach the server: \(detail) (\(method) \(url))"
        case .invalidResponse:
            let st = status.map { "\($0) \(HTTPStatusText.reason($0)), " } ?? ""
            return "unexpected response (\(st)\(detail)) (\(method) \(path))"
        case .invalidRequest:
            return "invalid request: \(detail) (\(method) \(url))"
        case .cancelled:
            return "cancelled (\(method) \(path))"
        }
    }
}

/// Reason phrases for the statuses SCIM servers use.
public enum HTTPStatusText {
    /// The standard reason phrase for a status.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 412: return "Precondition Failed"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "HTTP \(status)"
        }
    }
}
