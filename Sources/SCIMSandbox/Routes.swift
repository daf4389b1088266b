import HTTPTypes
public import Hummingbird
import NIOConcurrencyHelpers
import SCIMCore

/// The request context of a ``Sandbox``: what its middleware found out about a request, for the handlers after it.
public struct SandboxContext: RequestContext {
    /// Hummingbird's part of the context (logger, route parameters).
    public var coreContext: CoreRequestContextStorage
    /// The resource id of a `/Users/{id}` or `/Groups/{id}` path, percent-decoded (``ResourceIDMiddleware``).
    var resourceID = ""
    /// What the request's token may do (``AuthMiddleware``).
    var access = Access.none
    /// Set by a handler that changed the store, for the request log (shared with the middleware before it).
    let storeChanged = NIOLockedValueBox(false)

    /// A context for a request the server received.
    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
    }
}

extension Sandbox {
    /// The routes and the middleware around them.
    ///
    /// Every request goes through the rate limit (``RateLimitMiddleware``, when set), the request log, then fault
    /// injection, then ``SCIMAnswerMiddleware`` (errors and unknown paths as SCIM answers); a middleware for every
    /// request is added here, in one line, before the routes. A wrong method on a known path is 405 with `Allow`, and an unknown path 404, before authentication.
    func makeRouter() -> Router<SandboxContext> {
        let router = Router(context: SandboxContext.self)
        // A request over the rate limit is refused before anything sees it, the request log included.
        router.add(middleware: RateLimitMiddleware(requestsPerSecond: configuration.rateLimit))
        router.add(middleware: RequestLogMiddleware(sandbox: self))
        router.add(middleware: FaultMiddleware(sandbox: self))
        router.add(middleware: SCIMAnswerMiddleware())
        let api = router.group(RouterPath(basePath))
        for collection in ["Users", "Groups"] {
            Self.refuseOtherMethods(api, RouterPath(collection), allowed: [.get, .post])
            Self.refuseOtherMethods(api, RouterPath("\(collection)/:id"), allowed: [.get, .patch, .delete])
        }
        let authenticated = api.group().add(middleware: ResourceIDMiddleware())
            .add(middleware: AuthMiddleware(sandbox: self))

        // The Users API needs "Manage organization": only the admin token has it.
        let users = authenticated.group("Users").add(middleware: ManageOrganizationMiddleware())
        users.get { request, context in
            try self.answer(self.find(query: request.uri.query, location: self.userLocation(request)), context)
        }
        users.post { request, context in
            let body = try await self.readBody(request)
            return try self.answer(self.create(body: body, location: self.userLocation(request)), context)
        }
        users.get(":id") { request, context in
            try self.answer(self.get(id: context.resourceID, location: self.userLocation(request)), context)
        }
        users.patch(":id") { request, context in
            let body = try await self.readBody(request)
            return try self.answer(
                self.patch(id: context.resourceID, body: body, location: self.userLocation(request)), context)
        }
        users.delete(":id") { _, context in try self.answer(self.delete(id: context.resourceID), context) }

        // The Groups API answers per caller.
        let groups = authenticated.group("Groups")
        groups.get { request, context in
            try self.answer(
                self.findGroups(query: request.uri.query, caller: self.caller(context), links: self.links(request)),
                context)
        }
        groups.post { request, context in
            let body = try await self.readBody(request)
            return try self.answer(
                self.createGroup(body: body, caller: self.caller(context), links: self.links(request)), context)
        }
        groups.get(":id") { request, context in
            let excludeMembers = try Self.excludesMembers(request.uri.query)
            return try self.answer(
                self.getGroup(
                    id: context.resourceID, caller: self.caller(context), links: self.links(request),
                    excludeMembers: excludeMembers),
                context)
        }
        groups.patch(":id") { request, context in
            let body = try await self.readBody(request)
            return try self.answer(
                self.patchGroup(id: context.resourceID, body: body, caller: self.caller(context)), context)
        }
        groups.delete(":id") { _, context in
            try self.answer(self.deleteGroup(id: context.resourceID, caller: self.caller(context)), context)
        }
        return router
    }

    /// Answers every method but `allowed` on `path` with 405 and `Allow`.
    static func refuseOtherMethods(
        _ group: RouterGroup<SandboxContext>, _ path: RouterPath, allowed: [HTTPRequest.Method]
    ) {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        let all: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace, .connect]
        for method in all where !allowed.contains(method) {
            group.on(path, method: method) { request, _ -> Response in
                throw SCIMFailure(
                    status: 405, scimType: nil, detail: "Method \(request.method.rawValue) is not allowed here",
                    headers: [(.allow, allow)])
            }
        }
    }

    /// The reply as a response, noting for the request log whether it changed the store.
    func answer(_ reply: SandboxReply, _ context: SandboxContext) -> Response {
        if reply.changedStore { context.storeChanged.withLockedValue { $0 = true } }
        return Self.response(reply)
    }

    /// The prefix of a user's `meta.location`, from the request's authority.
    func userLocation(_ request: Request) -> String? {
        request.head.authority.map { "\(scheme)://\($0)\(basePath)/Users/" }
    }

    /// The URL prefixes of users and groups in a group's answers.
    func links(_ request: Request) -> GroupLinks {
        let origin = request.head.authority.map { "\(scheme)://\($0)" } ?? ""
        return GroupLinks(users: origin + basePath + "/Users/", groups: origin + basePath + "/Groups/")
    }

    /// The caller behind the request's token (``AuthMiddleware`` lets only those with one through).
    func caller(_ context: SandboxContext) throws(SCIMFailure) -> SandboxCaller {
        guard let caller = caller(for: context.access) else {
            throw SCIMFailure(status: 403, scimType: nil, detail: "The token speaks for no user")
        }
        return caller
    }

    /// The 404 for a path that is not one of the sandbox's.
    static func noSuchEndpoint(_ request: Request) -> SCIMFailure {
        SCIMFailure(status: 404, scimType: nil, detail: "No such endpoint: \(request.uri.path)")
    }
}

/// Logs every request with the status answered and whether it changed the store.
struct RequestLogMiddleware: RouterMiddleware {
    let sandbox: Sandbox

    func handle(
        _ request: Request, context: SandboxContext, next: (Request, SandboxContext) async throws -> Response
    ) async throws -> Response {
        let response = try await next(request, context)
        let method = request.method
        let entry = SandboxRequest(
            method: method.rawValue, uri: request.uri.string, status: response.status.code,
            isWrite: method == .post || method == .put || method == .patch || method == .delete,
            changedStore: context.storeChanged.withLockedValue { $0 })
        sandbox.log.withLockedValue { $0.append(entry) }
        return response
    }
}

/// The fault switches: latency, then an injected failure instead of an answer (before routing and authentication).
struct FaultMiddleware: RouterMiddleware {
    let sandbox: Sandbox

    func handle(
        _ request: Request, context: SandboxContext, next: (Request, SandboxContext) async throws -> Response
    ) async throws -> Response {
        let (latency, failure) = sandbox.faultState.withLockedValue { $0.nextRequest() }
        if latency > .zero { try? await Task.sleep(for: latency) }
        if let failure { return Sandbox.response(sandbox.injected(failure)) }
        return try await next(request, context)
    }
}

/// Turns a thrown ``SCIMFailure`` into its SCIM error answer, and the router's "not found" into a SCIM 404.
struct SCIMAnswerMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: SandboxContext, next: (Request, SandboxContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let failure as SCIMFailure {
            return Sandbox.response(.failure(failure))
        } catch let error as HTTPError where error.status == .notFound {
            return Sandbox.response(.failure(Sandbox.noSuchEndpoint(request)))
        }
    }
}

/// Percent-decodes the `{id}` of a path; one that does not decode to UTF-8 text is an unknown path (404).
struct ResourceIDMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: SandboxContext, next: (Request, SandboxContext) async throws -> Response
    ) async throws -> Response {
        guard let raw = context.parameters.get("id") else { return try await next(request, context) }
        guard let id = QueryString.percentDecode(Substring(raw), plusIsSpace: false), !id.isEmpty else {
            throw Sandbox.noSuchEndpoint(request)
        }
        var context = context
        context.resourceID = id
        return try await next(request, context)
    }
}

/// `Authorization: Bearer TOKEN` or `Genestack-API-Token: TOKEN`: a missing, unknown or expired token is 401.
struct AuthMiddleware: RouterMiddleware {
    let sandbox: Sandbox

    func handle(
        _ request: Request, context: SandboxContext, next: (Request, SandboxContext) async throws -> Response
    ) async throws -> Response {
        let access = sandbox.access(request.headers)
        switch access {
        case .none:
            return Sandbox.response(
                .plainError(
                    401,
                    "Authentication required: send a valid token as 'Authorization: Bearer TOKEN' "
                        + "or 'Genestack-API-Token: TOKEN'",
                    headers: [(.wwwAuthenticate, "Bearer")]))
        case .expired:
            let lifetime = sandbox.configuration.tokenLifetime ?? 0
            return Sandbox.response(
                .plainError(
                    401,
                    "Authentication failed: token expired (the sandbox honours each token for \(lifetime) "
                        + (lifetime == 1 ? "request)" : "requests)"),
                    headers: [
                        (.wwwAuthenticate, #"Bearer error="invalid_token", error_description="token expired""#)
                    ]))
        case .admin, .limited, .user:
            var context = context
            context.access = access
            return try await next(request, context)
        }
    }
}

/// The Users API needs the "Manage organization" permission: 403 for every token but the admin's.
struct ManageOrganizationMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: SandboxContext, next: (Request, SandboxContext) async throws -> Response
    ) async throws -> Response {
        guard context.access == .admin else {
            throw SCIMFailure(
                status: 403, scimType: nil,
                detail: "The token's user does not have the \"Manage organization\" permission")
        }
        return try await next(request, context)
    }
}
