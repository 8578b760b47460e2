public import Foundation

/// The coordinator's answer to a task request that had `reply_to` set.
public struct TaskRequestReply: Sendable, Hashable, Codable {
    public struct Status: WireName {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let created = Status(rawValue: "created")
        public static let duplicate = Status(rawValue: "duplicate")
        public static let rejected = Status(rawValue: "rejected")
    }

    public var schemaVersion: Int
    public var status: Status
    public var taskID: UUID?
    public var errors: [String]

    public init(status: Status, taskID: UUID?, errors: [String] = []) {
        self.schemaVersion = WireCoding.schemaVersion
        self.status = status
        self.taskID = taskID
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case status
        case taskID = "task_id"
        case errors
    }
}
