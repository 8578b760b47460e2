internal import Foundation
internal import Synchronization

/// A signed-in browser: who (the principal its API key authenticated as) and its CSRF token.
struct DashboardSession: Sendable {
    let id: String
    let principal: Principal
    /// Every POST form carries it; a POST without it is refused.
    let csrfToken: String
    let expires: Date
}

/// The dashboard's sessions, in memory: opaque random ids (256 bits) that are worth nothing
/// after a restart (everyone signs in again). The API key itself is not kept.
final class DashboardSessions: Sendable {
    private let sessions = Mutex<[String: DashboardSession]>([:])
    /// How long a session lasts after sign-in.
    let lifetime: TimeInterval

    init(lifetime: TimeInterval = 8 * 3600) {
        self.lifetime = lifetime
    }

    /// A new session for `principal`.
    func create(for principal: Principal, now: Date = Date()) -> DashboardSession {
        let session = DashboardSession(id: Self.randomToken(), principal: principal, csrfToken: Self.randomToken(), expires: now + lifetime)
        sessions.withLock { all in
            all = all.filter { $0.value.expires > now }
            all[session.id] = session
        }
        return session
    }

    /// The live session with this id.
    func find(_ id: String, now: Date = Date()) -> DashboardSession? {
        sessions.withLock { all in
            guard let session = all[id] else { return nil }
            guard session.expires > now else {
                all[id] = nil
                return nil
            }
            return session
        }
    }

    func delete(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// 32 random bytes, hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
