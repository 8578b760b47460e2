internal import Foundation

/// A position in a listing ordered by `(created_at, id)`: the last row a page returned.
///
/// Listings are newest first; the next page has the rows strictly before the cursor. The time
/// is kept in whole microseconds (PostgreSQL's precision), so no row is skipped or repeated.
/// Its text form (``token``) is opaque to clients: base64url of `micros:rank:id`.
public struct KeysetCursor: Sendable, Hashable {
    /// `created_at` in microseconds since 1970.
    public var micros: Int64
    /// Orders rows of equal time from different tables (0: tasks and task transitions, 1: step
    /// transitions).
    public var rank: Int
    /// The row's id: a UUID for tasks, a transition's bigint id as decimal text otherwise.
    public var id: String

    public init(micros: Int64, rank: Int = 0, id: String) {
        self.micros = micros
        self.rank = rank
        self.id = id
    }

    /// The opaque text form handed to clients.
    public var token: String {
        Data("\(micros):\(rank):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a token made by ``token``; `nil` when it is not one.
    public init?(token: String) {
        guard token.count <= 200 else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let micros = Int64(parts[0]), let rank = Int(parts[1]), !parts[2].isEmpty else { return nil }
        self.init(micros: micros, rank: rank, id: String(parts[2]))
    }

    /// The id as a task UUID, for task listings.
    var uuid: UUID? { UUID(uuidString: id) }
}
