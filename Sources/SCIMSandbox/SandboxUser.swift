import SCIMCore

/// An email of a stored user (ODM keeps exactly one).
struct SandboxEmail: Sendable, Equatable {
    var type: String?
    var value: String
    var primary: Bool?

    var json: JSONValue {
        var o = JSONObject()
        if let type { o["type"] = .string(type) }
        o["value"] = .string(value)
        if let primary { o["primary"] = .bool(primary) }
        return .object(o)
    }
}

/// A stored user: only the attributes ODM keeps (unknown attributes of a request are not stored).
struct SandboxUser: Sendable {
    var id: String
    var externalId: String?
    var userName: String
    var displayName: String
    var active: Bool
    var emails: [SandboxEmail]
    /// Milliseconds since 1970, UTC.
    var created: Int64
    /// Milliseconds since 1970, UTC.
    var lastModified: Int64

    /// Whether the editable attributes are the same (timestamps are not compared).
    func sameContent(as other: SandboxUser) -> Bool {
        externalId == other.externalId && userName == other.userName && displayName == other.displayName
            && active == other.active && emails == other.emails
    }

    /// The user as a SCIM resource, member order as ODM sends it.
    func resource(location: String? = nil) -> JSONObject {
        var meta = JSONObject()
        meta["resourceType"] = "User"
        meta["created"] = .string(ISO8601.format(milliseconds: created))
        meta["lastModified"] = .string(ISO8601.format(milliseconds: lastModified))
        if let location { meta["location"] = .string(location) }
        var o = JSONObject()
        o["schemas"] = [.string(SCIMSchema.user)]
        o["id"] = .string(id)
        if let externalId { o["externalId"] = .string(externalId) }
        o["userName"] = .string(userName)
        o["displayName"] = .string(displayName)
        o["active"] = .bool(active)
        o["emails"] = .array(emails.map(\.json))
        o["meta"] = .object(meta)
        return o
    }

    /// Appends the resource as compact JSON, written directly (the hot path of `GET /Users/{id}`).
    func writeJSON(into out: inout [UInt8], location: String?) {
        out.append(contentsOf: #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"#.utf8)
        JSONEncoderFast.writeString(id, into: &out)
        if let externalId {
            out.append(contentsOf: #","externalId":"#.utf8)
            JSONEncoderFast.writeString(externalId, into: &out)
        }
        out.append(contentsOf: #","userName":"#.utf8)
        JSONEncoderFast.writeString(userName, into: &out)
        out.append(contentsOf: #","displayName":"#.utf8)
        JSONEncoderFast.writeString(displayName, into: &out)
        out.append(contentsOf: active ? #","active":true,"emails":["#.utf8 : #","active":false,"emails":["#.utf8)
        for (i, email) in emails.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            if let type = email.type {
                out.append(contentsOf: #""type":"#.utf8)
                JSONEncoderFast.writeString(type, into: &out)
                out.append(UInt8(ascii: ","))
            }
            out.append(contentsOf: #""value":"#.utf8)
            JSONEncoderFast.writeString(email.value, into: &out)
            if let primary = email.primary {
                out.append(contentsOf: primary ? #","primary":true"#.utf8 : #","primary":false"#.utf8)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"meta":{"resourceType":"User","created":""#.utf8)
        ISO8601.write(milliseconds: created, into: &out)
        out.append(contentsOf: #"","lastModified":""#.utf8)
        ISO8601.write(milliseconds: lastModified, into: &out)
        out.append(UInt8(ascii: "\""))
        if let location {
            out.append(contentsOf: #","location":"#.utf8)
            JSONEncoderFast.writeString(location, into: &out)
        }
        out.append(contentsOf: "}}".utf8)
    }
}

/// ISO 8601 UTC timestamps with milliseconds (`2024-01-15T09:30:00.000Z`), without Foundation formatters.
enum ISO8601 {
    static func format(milliseconds: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        write(milliseconds: milliseconds, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func write(milliseconds ms: Int64, into out: inout [UInt8]) {
        let millis = Int(((ms % 1000) + 1000) % 1000)
        let seconds = (ms - Int64(millis)) / 1000
        var days = seconds / 86_400
        var secOfDay = seconds % 86_400
        if secOfDay < 0 {
            secOfDay += 86_400
            days -= 1
        }
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func digits(_ v: Int64, _ width: Int) {
            var buf = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var v = v < 0 ? -v : v
            var i = width - 1
            while i >= 0 {
                buf[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                i -= 1
            }
            out.append(contentsOf: buf)
        }
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secOfDay / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secOfDay / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secOfDay % 60, 2)
        out.append(UInt8(ascii: "."))
        digits(Int64(millis), 3)
        out.append(UInt8(ascii: "Z"))
    }
}

/// SplitMix64: a small, fast, seedable generator (deterministic fault injection and ids).
struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A random UUID, version 4 layout, lower-case.
    mutating func uuid() -> String {
        let a = next()
        let b = next()
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        var nibbles: [Int] = []
        nibbles.reserveCapacity(32)
        for i in 0..<16 { nibbles.append(Int((a >> (60 - 4 * UInt64(i))) & 0xF)) }
        for i in 0..<16 { nibbles.append(Int((b >> (60 - 4 * UInt64(i))) & 0xF)) }
        nibbles[12] = 4
        nibbles[16] = 8 | (nibbles[16] & 0x3)
        for (i, n) in nibbles.enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            out.append(hex[n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
