import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// `scimsh sandbox --rate-limit N`: a token bucket in front of every route, as an API gateway would put it.
///
/// The bucket holds a second's worth of requests (`N`, the burst an API gateway typically allows) and refills at
/// `N` a second. A request
/// that finds it empty is answered `429 Too Many Requests` with `Retry-After` (whole seconds until a token is
/// free, at least 1) and ODM's `{"error":{"message":…}}` body, and never reaches the sandbox. Without a limit
/// every request passes straight on.
public struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let bucket: TokenBucket?

    /// A limit of `requestsPerSecond` (`nil` or less than 1: no limit).
    public init(requestsPerSecond: Int?) {
        bucket = requestsPerSecond.flatMap { $0 >= 1 ? TokenBucket(rate: Double($0)) : nil }
    }

    /// Passes the request on, or answers 429 when the bucket is empty.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let bucket, let wait = bucket.take() else { return try await next(request, context) }
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.retryAfter] = String(max(1, Int(wait.rounded(.up))))
        let body =
            #"{"error":{"message":"Too many requests: the rate limit is "#
            + "\(Int(bucket.rate)) per second\"}}"
        return Response(
            status: .tooManyRequests, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// A token bucket: `rate` tokens a second, up to a second's worth (at least one) kept.
final class TokenBucket: Sendable {
    let rate: Double
    let capacity: Double
    private let state: NIOLockedValueBox<(tokens: Double, last: ContinuousClock.Instant)>

    init(rate: Double) {
        self.rate = rate
        capacity = max(1, rate)
        state = NIOLockedValueBox((max(1, rate), .now))
    }

    /// Takes a token: `nil` when there was one, else the seconds until there will be.
    func take() -> Double? {
        state.withLockedValue { s in
            let now = ContinuousClock.now
            let elapsed = now - s.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            s.tokens = min(capacity, s.tokens + seconds * rate)
            s.last = now
            guard s.tokens >= 1 else { return (1 - s.tokens) / rate }
            s.tokens -= 1
            return nil
        }
    }
}
