import SCIMCore

/// RFC 7644 §3.5.2 PATCH, restricted to what ODM edits: userName, externalId, displayName, active and
/// emails. Unknown attributes are ignored; `id` and `meta` are read-only.
///
/// Operations are applied to a copy of the user, so a failing operation leaves the stored user untouched.
enum Patch {
    enum Op: String {
        case add, replace, remove
    }

    /// A parsed PATCH path: `displayName`, `emails.value`, `emails[type eq "work"].value`, with the core
    /// schema URN prefix removed.
    struct Path {
        /// The lower-cased attribute name.
        var attribute: String
        var filter: SCIMFilter?
        var subAttribute: String?
        var text: String
    }

    /// Applies every operation of a PatchOp body to a copy of `user` and returns the copy.
    static func apply(body: JSONValue, to user: SandboxUser) throws(SCIMFailure) -> SandboxUser {
        var result = user
        try forEachOperation(in: body, schema: SCIMSchema.user) { op, path, value throws(SCIMFailure) in
            try apply(op: op, path: path, value: value, to: &result)
        }
        return result
    }

    /// Checks a PatchOp body and calls `apply` for each operation in order, with its path parsed: the path-less
    /// form (`{"op":"add","value":{"displayName":…}}`) calls it once per member of the value, each name a path;
    /// the resource's core `schema` URN may prefix paths or wrap the members. Paths into other schemas are skipped.
    static func forEachOperation(
        in body: JSONValue, schema: String, _ apply: (Op, Path, JSONValue?) throws(SCIMFailure) -> Void
    ) throws(SCIMFailure) {
        guard let o = body.objectValue else { throw .invalidSyntax("The request body must be a JSON object") }
        try CreateInput.checkSchemas(o["schemas"], expected: SCIMSchema.patchOp)
        guard let opsValue = o["Operations"], !opsValue.isNull else {
            throw .invalidSyntax("The PatchOp body needs an 'Operations' array")
        }
        guard let ops = opsValue.arrayValue else { throw .invalidSyntax("'Operations' must be an array") }
        guard !ops.isEmpty else { throw .invalidSyntax("'Operations' must contain at least one operation") }
        for (index, operation) in ops.enumerated() {
            let number = index + 1
            guard let o = operation.objectValue else { throw .invalidSyntax("Operation \(number) must be an object") }
            guard let opName = o["op"]?.stringValue, let op = Op(rawValue: opName.lowercased()) else {
                throw .invalidSyntax("Operation \(number): 'op' must be \"add\", \"replace\" or \"remove\"")
            }
            let value = o["value"]
            switch o["path"] {
            case nil, .null?:
                guard op != .remove else { throw .noTarget("Operation \(number): 'remove' needs a 'path'") }
                guard let members = value?.objectValue else {
                    throw .invalidValue(
                        "Operation \(number): '\(op.rawValue)' without a 'path' needs an object 'value'")
                }
                try forEachMember(of: members, schema: schema) { path, value throws(SCIMFailure) in
                    try apply(op, path, value)
                }
            case .string(let text)?:
                guard let path = try parse(path: text, schema: schema) else { continue }
                try apply(op, path, value)
            case let other?:
                throw .invalidPath("Operation \(number): 'path' must be a string, not \(Validate.kind(other))")
            }
        }
    }

    /// The members of a path-less value: each name is a path; the core schema URN may wrap members.
    static func forEachMember(
        of members: JSONObject, schema: String, _ body: (Path, JSONValue) throws(SCIMFailure) -> Void
    ) throws(SCIMFailure) {
        for (key, value) in members {
            if key.lowercased() == schema.lowercased(), let inner = value.objectValue {
                try forEachMember(of: inner, schema: schema, body)
                continue
            }
            guard let path = try parse(path: key, schema: schema) else { continue }
            try body(path, value)
        }
    }

    /// Parses a PATCH path, removing the resource's core `schema` URN; `nil` for a path into a schema extension
    /// this server does not know (ignored).
    static func parse(path raw: String, schema: String = SCIMSchema.user) throws(SCIMFailure) -> Path? {
        var text = Substring(raw.trimmingWhitespace())
        guard !text.isEmpty else { throw .invalidPath("The path is empty") }
        if text.lowercased().hasPrefix("urn:") {
            let prefix = schema.lowercased() + ":"
            guard text.lowercased().hasPrefix(prefix) else { return nil }
            text = text.dropFirst(prefix.count)
        }
        var filter: SCIMFilter?
        var name: Substring
        var rest: Substring
        if let open = text.firstIndex(of: "[") {
            guard let close = text.lastIndex(of: "]"), close > open else {
                throw .invalidPath("Invalid path '\(raw)': missing ']'")
            }
            name = text[..<open]
            let inner = String(text[text.index(after: open)..<close])
            do {
                filter = try FilterParser.parse(inner)
            } catch {
                throw .invalidPath("Invalid value filter in path '\(raw)': \(error.description)")
            }
            rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == "." else { throw .invalidPath("Invalid path '\(raw)'") }
                rest = rest.dropFirst()
                guard !rest.isEmpty else { throw .invalidPath("Invalid path '\(raw)'") }
            }
        } else if let dot = text.firstIndex(of: ".") {
            name = text[..<dot]
            rest = text[text.index(after: dot)...]
            guard !rest.isEmpty else { throw .invalidPath("Invalid path '\(raw)'") }
        } else {
            name = text
            rest = ""
        }
        func isNameCharacter(_ c: Character) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-" || c == "$")
        }
        guard let first = name.first, first.isASCII, first.isLetter || first == "$",
            name.allSatisfy(isNameCharacter), rest.allSatisfy(isNameCharacter)
        else { throw .invalidPath("Invalid path '\(raw)'") }
        return Path(
            attribute: name.lowercased(), filter: filter, subAttribute: rest.isEmpty ? nil : rest.lowercased(),
            text: raw)
    }

    static func apply(op: Op, path: Path, value: JSONValue?, to user: inout SandboxUser) throws(SCIMFailure) {
        let simple = path.filter == nil && path.subAttribute == nil
        func requireSimple(_ name: String) throws(SCIMFailure) {
            guard simple else { throw .invalidPath("Attribute '\(name)' has no sub-attributes ('\(path.text)')") }
        }
        func requireValue() throws(SCIMFailure) -> JSONValue {
            guard let value else { throw .invalidValue("'\(op.rawValue)' of '\(path.text)' needs a 'value'") }
            return value
        }
        switch path.attribute {
        case "id":
            if op != .remove, simple, let v = value, v.stringValue == user.id { return }
            throw .mutability("Attribute 'id' is read-only")
        case "meta":
            throw .mutability("Attribute 'meta' is read-only")
        case "schemas":
            return
        case "username":
            try requireSimple("userName")
            if op == .remove { throw .invalidValue("Attribute 'userName' is required and cannot be removed") }
            user.userName = try Validate.requiredString(try requireValue(), name: "userName")
        case "displayname":
            try requireSimple("displayName")
            if op == .remove { throw .invalidValue("Attribute 'displayName' is required and cannot be removed") }
            user.displayName = try Validate.requiredString(try requireValue(), name: "displayName")
        case "active":
            try requireSimple("active")
            if op == .remove { throw .invalidValue("Attribute 'active' is required and cannot be removed") }
            user.active = try Validate.bool(try requireValue(), name: "active")
        case "externalid":
            try requireSimple("externalId")
            if op == .remove {
                user.externalId = nil
            } else {
                user.externalId = try Validate.optionalString(try requireValue(), name: "externalId")
            }
        case "emails":
            try applyEmails(op: op, path: path, value: value, to: &user)
        default:
            return  // Unknown attributes are ignored, as ODM does.
        }
    }

    static func applyEmails(op: Op, path: Path, value: JSONValue?, to user: inout SandboxUser) throws(SCIMFailure) {
        var emails = user.emails
        var targets = Array(emails.indices)
        if let filter = path.filter {
            targets = emails.indices.filter { filter.matches(emails[$0].json) }
            guard !targets.isEmpty else { throw .noTarget("No email matches '\(path.text)'") }
        }
        if op == .remove {
            if let sub = path.subAttribute {
                switch sub {
                case "value": throw .invalidValue("Attribute 'emails.value' is required and cannot be removed")
                case "type": for i in targets { emails[i].type = nil }
                case "primary": for i in targets { emails[i].primary = nil }
                default: return
                }
            } else {
                let removed = Set(targets)
                emails = emails.indices.filter { !removed.contains($0) }.map { emails[$0] }
            }
            try Validate.count(emails)
            user.emails = emails
            return
        }
        guard let value else { throw .invalidValue("'\(op.rawValue)' of '\(path.text)' needs a 'value'") }
        if let sub = path.subAttribute {
            for i in targets {
                switch sub {
                case "value": emails[i].value = try Validate.emailAddress(value)
                case "type": emails[i].type = try Validate.optionalString(value, name: "emails.type")
                case "primary":
                    emails[i].primary = value.isNull ? nil : try Validate.bool(value, name: "emails.primary")
                default: return
                }
            }
        } else if path.filter != nil {
            let replacement = try Validate.email(value)
            for i in targets { emails[i] = replacement }
        } else if op == .replace {
            emails = try Validate.emails(value)
        } else {
            let added: [SandboxEmail]
            if let items = value.arrayValue {
                var list: [SandboxEmail] = []
                for item in items { list.append(try Validate.email(item)) }
                added = list
            } else {
                added = [try Validate.email(value)]
            }
            for email in added {
                let lower = email.value.lowercased()
                if let i = emails.firstIndex(where: { $0.value.lowercased() == lower }) {
                    emails[i] = email
                } else {
                    emails.append(email)
                }
            }
        }
        try Validate.count(emails)
        user.emails = emails
    }
}
