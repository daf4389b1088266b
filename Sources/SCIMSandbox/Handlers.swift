import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import SCIMCore

/// What a token may do.
enum Access: Equatable {
    /// The admin token (or one derived from it).
    case admin
    /// The limited token.
    case limited
    /// One of ``SandboxConfiguration/userTokens``: the user's id.
    case user(String)
    case none
    /// A configured (or derived) token that has used up ``SandboxConfiguration/tokenLifetime``.
    case expired
}

extension Sandbox {
    static let genestackTokenHeader = HTTPField.Name("Genestack-API-Token")

    /// Which configured token, if any, the request carries; with a token lifetime, counts this use of it.
    func access(_ headers: HTTPFields) -> Access {
        var tokens: [Substring] = []
        for value in headers[values: .authorization] {
            let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                tokens.append(Substring(String(parts[1]).trimmingWhitespace()))
            }
        }
        if let name = Self.genestackTokenHeader {
            for value in headers[values: name] { tokens.append(Substring(value.trimmingWhitespace())) }
        }
        let admin = configuration.adminToken
        let limited = configuration.limitedToken
        func userToken() -> (token: Substring, access: Access)? {
            for token in tokens {
                if let id = configuration.userTokens[String(token)], !token.isEmpty { return (token, .user(id)) }
            }
            return nil
        }
        guard let lifetime = configuration.tokenLifetime else {
            if !admin.isEmpty, tokens.contains(where: { $0 == admin }) { return .admin }
            if !limited.isEmpty, tokens.contains(where: { $0 == limited }) { return .limited }
            return userToken()?.access ?? .none
        }
        let match: (token: Substring, access: Access)?
        if !admin.isEmpty, let token = tokens.first(where: { $0 == admin || Self.isDerived($0, from: admin) }) {
            match = (token, .admin)
        } else if !limited.isEmpty, let token = tokens.first(where: { $0 == limited }) {
            match = (token, .limited)
        } else {
            match = userToken()
        }
        guard let match else { return .none }
        let honoured = tokenUses.withLockedValue { uses in
            let used = uses[String(match.token), default: 0]
            guard used < lifetime else { return false }
            uses[String(match.token)] = used + 1
            return true
        }
        return honoured ? match.access : .expired
    }

    /// Whether `token` is `base`, a `.` and a suffix of 1–64 characters from `[A-Za-z0-9_-]`.
    static func isDerived(_ token: Substring, from base: String) -> Bool {
        guard token.utf8.starts(with: base.utf8) else { return false }
        let rest = token.utf8.dropFirst(base.utf8.count)
        guard rest.first == UInt8(ascii: "."), (2...65).contains(rest.count) else { return false }
        return rest.dropFirst().allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
                || c == UInt8(ascii: "-")
        }
    }

    /// Reads and parses a JSON body, checking its type and size.
    func readBody(_ request: Request) async throws(SCIMFailure) -> JSONValue {
        if let type = request.headers[.contentType] {
            let media = type.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingWhitespace() } ?? ""
            let lower = media.lowercased()
            guard lower == SandboxReply.scimJSON || lower == SandboxReply.plainJSON else {
                throw SCIMFailure(
                    status: 415, scimType: nil,
                    detail: "Unsupported Content-Type '\(type)': send application/scim+json or application/json")
            }
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: configuration.maxBodySize)
        } catch is NIOTooManyBytesError {
            throw SCIMFailure(
                status: 413, scimType: nil,
                detail: "The request body is larger than \(configuration.maxBodySize) bytes")
        } catch {
            throw .invalidSyntax("The request body could not be read")
        }
        guard buffer.readableBytes > 0 else { throw .invalidSyntax("The request body is empty") }
        do throws(JSONParseError) {
            return try JSONParser.parse(buffer.readableBytesView)
        } catch {
            throw .invalidSyntax("The request body is not valid JSON: \(error.description)")
        }
    }

    // MARK: Operations

    /// `POST /Users`: create, or update the user with the same userName (upsert).
    func create(body: JSONValue, location: String?) throws(SCIMFailure) -> SandboxReply {
        let input = try CreateInput(body: body)
        let now = Self.nowMilliseconds()
        let result: Result<SandboxUser, SCIMFailure> = store.withLockedValue { store in
            let existing = store.id(forUserName: input.userName).flatMap { store.user(id: $0) }
            if let externalId = input.externalId, let owner = store.id(forExternalId: externalId),
                owner != existing?.id
            {
                return .failure(.uniqueness("externalId '\(externalId)' already belongs to another user"))
            }
            var user: SandboxUser
            if let existing {
                user = existing
                user.userName = input.userName
                user.displayName = input.displayName
                user.active = input.active
                user.emails = input.emails
                if let externalId = input.externalId { user.externalId = externalId }
                if !user.sameContent(as: existing) { user.lastModified = store.timestamp(now: now) }
            } else {
                let stamp = store.timestamp(now: now)
                user = SandboxUser(
                    id: store.newId(), externalId: input.externalId, userName: input.userName,
                    displayName: input.displayName, active: input.active, emails: input.emails,
                    created: stamp, lastModified: stamp)
            }
            store.put(user)
            return .success(user)
        }
        let user = try result.get()
        var headers: [(HTTPField.Name, String)] = []
        if let location { headers.append((.location, location + user.id)) }
        return SandboxReply.scim(201, encode(user, location: location), headers: headers).changing()
    }

    /// `GET /Users/{id}`: active users only.
    func get(id: String, location: String?) throws(SCIMFailure) -> SandboxReply {
        guard let user = store.withLockedValue({ $0.user(id: id) }), user.active else { throw .noSuchUser }
        return .scim(200, encode(user, location: location))
    }

    /// `PATCH /Users/{id}`: applies every operation or none.
    func patch(id: String, body: JSONValue, location: String?) throws(SCIMFailure) -> SandboxReply {
        let now = Self.nowMilliseconds()
        let result: Result<(SandboxUser, Bool), SCIMFailure> = store.withLockedValue { store in
            guard let original = store.user(id: id) else { return .failure(.noSuchUser) }
            var user: SandboxUser
            do throws(SCIMFailure) {
                user = try Patch.apply(body: body, to: original)
            } catch {
                return .failure(error)
            }
            if user.sameContent(as: original) { return .success((original, false)) }
            if let owner = store.id(forUserName: user.userName), owner != id {
                return .failure(.uniqueness("userName '\(user.userName)' is already taken"))
            }
            if let externalId = user.externalId, let owner = store.id(forExternalId: externalId), owner != id {
                return .failure(.uniqueness("externalId '\(externalId)' already belongs to another user"))
            }
            user.lastModified = store.timestamp(now: now)
            store.put(user)
            return .success((user, true))
        }
        let (user, changed) = try result.get()
        return SandboxReply.scim(200, encode(user, location: location)).changing(changed)
    }

    /// `DELETE /Users/{id}`: deactivates an active user.
    func delete(id: String) throws(SCIMFailure) -> SandboxReply {
        let now = Self.nowMilliseconds()
        let found: Bool = store.withLockedValue { store in
            guard var user = store.user(id: id), user.active else { return false }
            user.active = false
            user.lastModified = store.timestamp(now: now)
            store.put(user)
            return true
        }
        guard found else { throw .noSuchUser }
        return SandboxReply.noContent.changing()
    }

    /// `GET /Users?filter=&startIndex=&count=`: active users, in creation order.
    func find(query: String?, location: String?) throws(SCIMFailure) -> SandboxReply {
        let (startIndex, count, filterText, _) = try pageQuery(query)
        var filter: SCIMFilter?
        if let filterText {
            filter = try Self.parseFilter(filterText)
            if let parsed = filter, let unsupported = FilterSupport.firstUnsupported(in: parsed) {
                if configuration.ignoreUnsupportedFilterClauses {
                    filter = FilterSupport.droppingUnsupported(parsed)
                } else {
                    throw .invalidFilter(
                        "Unsupported filter: \(unsupported) is not supported; this server supports only 'eq' and 'and'")
                }
            }
        }
        let (total, page): (Int, [SandboxUser]) = store.withLockedValue { store in
            var matching: [String]
            if let filter, let userName = FilterSupport.userNameEquality(filter) {
                matching = store.id(forUserName: userName).map { [$0] } ?? []
                matching = matching.filter { id in
                    store.user(id: id)?.active == true && store.filterResource(id: id).map(filter.matches) == true
                }
            } else if let filter {
                matching = []
                for id in store.order where store.user(id: id)?.active == true {
                    if let resource = store.filterResource(id: id), filter.matches(resource) { matching.append(id) }
                }
            } else {
                matching = store.activeOrder()
            }
            let from = min(startIndex - 1, matching.count)
            let to = min(from + count, matching.count)
            return (matching.count, matching[from..<to].compactMap { store.user(id: $0) })
        }
        var out: [UInt8] = []
        out.reserveCapacity(128 + page.count * 400)
        out.append(
            contentsOf: #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":"#.utf8)
        out.append(contentsOf: String(total).utf8)
        out.append(contentsOf: #","startIndex":"#.utf8)
        out.append(contentsOf: String(startIndex).utf8)
        out.append(contentsOf: #","itemsPerPage":"#.utf8)
        out.append(contentsOf: String(page.count).utf8)
        out.append(contentsOf: #","Resources":["#.utf8)
        for (i, user) in page.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            user.writeJSON(into: &out, location: location.map { $0 + user.id })
        }
        out.append(contentsOf: "]}".utf8)
        return .scim(200, out)
    }

    func encode(_ user: SandboxUser, location: String?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        user.writeJSON(into: &out, location: location.map { $0 + user.id })
        return out
    }

    /// The paging and filter parameters of a listing: `startIndex` at least 1, `count` within the page size, the
    /// filter unless blank, whether `excludedAttributes` names `members`. Other parameters (attributes, sortBy, ...)
    /// are ignored, as by ODM.
    func pageQuery(_ query: String?) throws(SCIMFailure) -> (
        startIndex: Int, count: Int, filter: String?, excludeMembers: Bool
    ) {
        var (startIndex, count, filter, excludeMembers) = (1, 100, String?.none, false)
        for (name, value) in try QueryString.parse(query ?? "") {
            switch name.lowercased() {
            case "startindex": startIndex = try Self.integer(value, name: "startIndex")
            case "count": count = try Self.integer(value, name: "count")
            // ODM reads `filter` by its exact name: `FILTER=` and `Filter=` are ignored like unknown parameters.
            case "filter" where name == "filter": filter = value
            case "excludedattributes": excludeMembers = Self.namesMembers(value)
            default: continue
            }
        }
        if filter?.trimmingWhitespace().isEmpty == true { filter = nil }
        return (max(1, startIndex), min(max(0, count), max(0, configuration.maxPageSize)), filter, excludeMembers)
    }

    /// A filter of a listing, or 400 `invalidFilter`.
    static func parseFilter(_ text: String) throws(SCIMFailure) -> SCIMFilter {
        do throws(FilterParseError) {
            return try FilterParser.parse(text)
        } catch {
            throw .invalidFilter("Invalid filter: \(error.description)")
        }
    }

    /// A decimal integer query parameter; out-of-range values are clamped rather than rejected.
    static func integer(_ text: String, name: String) throws(SCIMFailure) -> Int {
        let t = text.trimmingWhitespace()
        if let v = Int(t) { return v }
        let digits = t.hasPrefix("-") || t.hasPrefix("+") ? t.dropFirst() : Substring(t)
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return t.hasPrefix("-") ? Int.min / 2 : Int.max / 2
        }
        throw .invalidValue("Query parameter '\(name)' must be an integer, not '\(text)'")
    }
}

/// `application/x-www-form-urlencoded`-style query strings.
enum QueryString {
    /// The parameters in order; `+` is a space and `%XX` a byte. Invalid escapes or UTF-8 are 400.
    static func parse(_ query: String) throws(SCIMFailure) -> [(String, String)] {
        var out: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let rawName = pieces[0]
            let rawValue = pieces.count > 1 ? pieces[1] : ""
            guard let name = percentDecode(rawName, plusIsSpace: true),
                let value = percentDecode(rawValue, plusIsSpace: true)
            else {
                throw .invalidValue("The query string is malformed (bad percent-encoding): \(part)")
            }
            out.append((name, value))
        }
        return out
    }

    /// Percent-decodes text; `nil` for a bad escape or bytes that are not UTF-8.
    static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String? {
        let utf8 = Array(text.utf8)
        guard utf8.contains(UInt8(ascii: "%")) || (plusIsSpace && utf8.contains(UInt8(ascii: "+"))) else {
            return String(text)
        }
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let c = utf8[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < utf8.count, let hi = hexValue(utf8[i + 1]), let lo = hexValue(utf8[i + 2]) else {
                    return nil
                }
                bytes.append(hi << 4 | lo)
                i += 3
            } else if c == UInt8(ascii: "+"), plusIsSpace {
                bytes.append(0x20)
                i += 1
            } else {
                bytes.append(c)
                i += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
