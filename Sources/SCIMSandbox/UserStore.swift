import SCIMCore

/// The in-memory users: a dictionary by id, an index in creation order, and unique-key indexes; and the groups
/// (``groups``), kept here so that a change to a group and the users it names happen under one lock.
///
/// Users are never removed (ODM's delete only deactivates), so the order index only grows. It is a plain
/// value type; ``Sandbox`` guards it with a lock.
struct UserStore: Sendable {
    private(set) var byId: [String: SandboxUser] = [:]
    /// Ids in creation order (the stable order of list responses).
    private(set) var order: [String] = []
    /// Lower-cased userName → id (userName is unique case-insensitively).
    private var idByUserName: [String: String] = [:]
    /// externalId → id (externalId is case-exact, RFC 7643 §3.1).
    private var idByExternalId: [String: String] = [:]
    /// Resources built for filter evaluation, made on first use and dropped on change.
    private var resourceCache: [String: JSONValue] = [:]
    /// Ids of the active users in creation order, built on first use and dropped when a user is added or its
    /// `active` flag changes, so an unfiltered list page costs O(page) rather than a scan of every user.
    private var activeOrderCache: [String]?
    /// The last timestamp handed out, so every change gets a strictly later `lastModified`.
    private var lastTimestamp: Int64 = 0
    private var random: SplitMix64
    /// The groups.
    var groups = GroupTable()

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    var count: Int { order.count }

    /// A fresh timestamp in milliseconds, strictly after the previous one.
    mutating func timestamp(now: Int64) -> Int64 {
        lastTimestamp = max(now, lastTimestamp + 1)
        return lastTimestamp
    }

    /// A fresh, unused id.
    mutating func newId() -> String {
        while true {
            let id = random.uuid()
            if byId[id] == nil, groups.byId[id] == nil { return id }
        }
    }

    func user(id: String) -> SandboxUser? { byId[id] }

    func id(forUserName userName: String) -> String? { idByUserName[userName.lowercased()] }

    func id(forExternalId externalId: String) -> String? { idByExternalId[externalId] }

    /// Inserts a new user or replaces the one with the same id, keeping the indexes right.
    ///
    /// The caller has checked uniqueness.
    mutating func put(_ user: SandboxUser) {
        if let old = byId[user.id] {
            idByUserName[old.userName.lowercased()] = nil
            if let e = old.externalId { idByExternalId[e] = nil }
            resourceCache[user.id] = nil
            if old.active != user.active { activeOrderCache = nil }
        } else {
            order.append(user.id)
            activeOrderCache = nil
        }
        byId[user.id] = user
        idByUserName[user.userName.lowercased()] = user.id
        if let e = user.externalId { idByExternalId[e] = user.id }
    }

    /// Reserves room for `n` more users.
    mutating func reserve(_ n: Int) {
        byId.reserveCapacity(byId.count + n)
        order.reserveCapacity(order.count + n)
        idByUserName.reserveCapacity(idByUserName.count + n)
    }

    /// The ids of the active users in creation order (cached until a user is added or (de)activated).
    mutating func activeOrder() -> [String] {
        if let cached = activeOrderCache { return cached }
        let ids = order.filter { byId[$0]?.active == true }
        activeOrderCache = ids
        return ids
    }

    /// The resource of a user as a JSON value, for filter evaluation (cached).
    mutating func filterResource(id: String) -> JSONValue? {
        if let cached = resourceCache[id] { return cached }
        guard let user = byId[id] else { return nil }
        let value = JSONValue.object(user.resource())
        resourceCache[id] = value
        return value
    }
}

// MARK: - Seed data

extension UserStore {
    /// Adds the seed users: RFC 7643's Barbara Jensen and a few colleagues of a research organisation, two of
    /// them deactivated. Ids and timestamps are fixed so that runs are repeatable.
    mutating func addSeedUsers() {
        struct Seed {
            let id: String
            let externalId: String?
            let userName: String
            let displayName: String
            let email: String
            let active: Bool
            let created: Int64
            let lastModified: Int64
        }
        // 2010-01-23T04:56:22Z and 2011-05-13T04:42:34Z are the timestamps of RFC 7643's example.
        let seeds = [
            Seed(
                id: SeedIds.bjensen, externalId: "701984", userName: "bjensen",
                displayName: "Barbara Jensen", email: "bjensen@example.com", active: true,
                created: 1_264_222_582_000, lastModified: 1_305_261_754_000),
            Seed(
                id: SeedIds.aliceMartin, externalId: "EMP-1002", userName: "alice.martin",
                displayName: "Alice Martin", email: "alice.martin@example.org", active: true,
                created: 1_705_309_200_000, lastModified: 1_705_309_200_000),
            Seed(
                id: SeedIds.rkumar, externalId: "EMP-1003", userName: "rkumar",
                displayName: "Rahul Kumar", email: "rahul.kumar@example.org", active: true,
                created: 1_705_395_600_000, lastModified: 1_709_283_600_000),
            Seed(
                id: SeedIds.mgarcia, externalId: "EMP-1004", userName: "mgarcia",
                displayName: "María García", email: "maria.garcia@example.org", active: true,
                created: 1_706_000_400_000, lastModified: 1_706_000_400_000),
            Seed(
                id: SeedIds.tnguyen, externalId: nil, userName: "tnguyen",
                displayName: "Thanh Nguyen", email: "thanh.nguyen@example.org", active: true,
                created: 1_707_210_000_000, lastModified: 1_707_210_000_000),
            Seed(
                id: SeedIds.okoval, externalId: "EMP-0871", userName: "okoval",
                displayName: "Olena Koval", email: "olena.koval@example.org", active: false,
                created: 1_672_653_600_000, lastModified: 1_717_664_400_000),
            Seed(
                id: "e7f9a1b3-4d6e-4f8a-b1c3-7d9e1f3a6e06", externalId: "EMP-0655", userName: "pwhite",
                displayName: "Peter White", email: "peter.white@example.org", active: false,
                created: 1_654_077_600_000, lastModified: 1_698_832_800_000),
            Seed(
                id: SeedIds.svcPipeline, externalId: nil, userName: "svc-pipeline",
                displayName: "Data Pipeline (service account)", email: "pipeline-bot@example.org", active: true,
                created: 1_710_406_800_000, lastModified: 1_710_406_800_000),
        ]
        reserve(seeds.count)
        for s in seeds {
            put(
                SandboxUser(
                    id: s.id, externalId: s.externalId, userName: s.userName, displayName: s.displayName,
                    active: s.active, emails: [SandboxEmail(type: "work", value: s.email, primary: true)],
                    created: s.created, lastModified: s.lastModified))
        }
    }

    /// Adds `n` active users `user00001` ... (at least five digits, more when `n` needs them), with ids
    /// `00000000-0000-4000-8000-000000000001` ..., all created at `timestamp`.
    mutating func addGeneratedUsers(_ n: Int, timestamp: Int64) {
        guard n > 0 else { return }
        let width = max(5, String(n).count)
        reserve(n)
        // Digits are written into reused byte buffers: this runs 100,000 times at start-up.
        var name = Array("user".utf8) + [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var id = Array("00000000-0000-4000-8000-000000000000".utf8)
        for i in 1...n {
            var v = i
            var position = 0
            while v > 0 {
                let digit = UInt8(ascii: "0") + UInt8(v % 10)
                name[name.count - 1 - position] = digit
                id[id.count - 1 - position] = digit
                v /= 10
                position += 1
            }
            let userName = String(decoding: name, as: UTF8.self)
            let user = SandboxUser(
                id: String(decoding: id, as: UTF8.self), externalId: nil, userName: userName,
                displayName: "Generated User \(i)", active: true,
                emails: [SandboxEmail(type: "work", value: userName + "@example.net", primary: true)],
                created: timestamp, lastModified: timestamp)
            // The names are new and already lower-case, so the general `put` checks can be skipped.
            order.append(user.id)
            idByUserName[userName] = user.id
            byId[user.id] = user
        }
    }
}
