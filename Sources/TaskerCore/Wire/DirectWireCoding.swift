internal import Foundation

/// A wire message that builds its JSON value itself: the value its `Encodable` conformance
/// builds through ``JSONValueEncoder``, without the containers (the hot messages of the
/// pipeline; `DirectWireCodingTests` compares the two).
protocol DirectWireEncodable {
    /// The message as ``WireCoding/encode(_:)`` writes it, or `nil` when it holds a value JSON
    /// cannot carry (a non-finite number): the `Encodable` path then reports it.
    var wireValue: JSONValue? { get }
}

/// A wire message that reads itself from a parsed body: what its `Decodable` conformance reads
/// through ``JSONValueDecoder``, without the containers.
protocol DirectWireDecodable {
    /// `nil` for anything but a well-formed message (a missing key, a value of the wrong kind):
    /// the `Decodable` path then decodes it and says what is wrong.
    init?(wireMembers members: [String: JSONValue])
}

/// Reading the members of a message the way ``JSONValueDecoder`` does.
struct WireMembers {
    let members: [String: JSONValue]

    func string(_ key: String) -> String? { members[key]?.stringValue }

    func uuid(_ key: String) -> UUID? { string(key).flatMap(UUID.init(hexString:)) }

    func int(_ key: String) -> Int? {
        switch members[key] {
        case .int(let value): Int(exactly: value)
        case .double(let value): Int(exactly: value)
        default: nil
        }
    }

    func double(_ key: String) -> Double? {
        switch members[key] {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    func date(_ key: String) -> Date? {
        guard let value = members[key] else { return nil }
        return try? WireCoding.date(from: value, at: [])
    }

    /// An optional member: `.some(nil)` when absent or `null`, `nil` when present but unreadable.
    func optional<Value>(_ key: String, _ read: (String) -> Value?) -> Value?? {
        guard let value = members[key], value != .null else { return .some(nil) }
        return read(key).map { .some($0) } ?? nil
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Sets `key` when `value` is not `nil` (what `encodeIfPresent` does).
    mutating func setIfPresent(_ key: String, _ value: JSONValue?) {
        if let value { self[key] = value }
    }
}

extension JSONValue {
    /// A wire number: `nil` when not finite.
    static func wireNumber(_ value: Double) -> JSONValue? { value.isFinite ? .double(value) : nil }

    static func wireDate(_ date: Date) -> JSONValue { .string(WireTimestamp.string(from: date)) }

    static func wireID(_ id: UUID) -> JSONValue { .string(id.uppercaseHexString) }
}

extension StepResultMessage: DirectWireEncodable, DirectWireDecodable {
    var wireValue: JSONValue? {
        var members: [String: JSONValue] = [
            "schema_version": .int(Int64(schemaVersion)), "event": .string(kind.rawValue), "task_id": .wireID(taskID),
            "step_id": .wireID(stepID), "step_name": .string(stepName), "attempt": .int(Int64(attempt)),
            "worker_id": .string(workerID), "occurred_at": .wireDate(occurredAt),
        ]
        members.setIfPresent("started_at", startedAt.map(JSONValue.wireDate))
        members.setIfPresent("results", results)
        if let durationMs {
            guard let number = JSONValue.wireNumber(durationMs) else { return nil }
            members["duration_ms"] = number
        }
        members.setIfPresent("error_message", errorMessage.map(JSONValue.string))
        members.setIfPresent("error_kind", errorKind.map { .string($0.rawValue) })
        members.setIfPresent("error_class", errorClass.map(JSONValue.string))
        if let retryAfterSeconds {
            guard let number = JSONValue.wireNumber(retryAfterSeconds) else { return nil }
            members["retry_after_seconds"] = number
        }
        return .object(members)
    }

    init?(wireMembers members: [String: JSONValue]) {
        let read = WireMembers(members: members)
        guard let schemaVersion = read.int("schema_version"), let kind = read.string("event"), let taskID = read.uuid("task_id"),
            let stepID = read.uuid("step_id"), let stepName = read.string("step_name"), let attempt = read.int("attempt"),
            let workerID = read.string("worker_id"), let occurredAt = read.date("occurred_at"),
            let startedAt = read.optional("started_at", read.date), let durationMs = read.optional("duration_ms", read.double),
            let errorMessage = read.optional("error_message", read.string),
            let errorKind = read.optional("error_kind", { read.string($0).flatMap(FailureKind.init(rawValue:)) }),
            let errorClass = read.optional("error_class", read.string),
            let retryAfterSeconds = read.optional("retry_after_seconds", read.double)
        else { return nil }
        // `"results": null` reads as no results (JSONValue's nil literal is `.null`: spelled out).
        var results = members["results"]
        if case .some(.null) = results { results = Optional<JSONValue>.none }
        self.init(
            kind: Kind(rawValue: kind), taskID: taskID, stepID: stepID, stepName: stepName, attempt: attempt, workerID: workerID,
            occurredAt: occurredAt, startedAt: startedAt, results: results,
            durationMs: durationMs, errorMessage: errorMessage, errorKind: errorKind, errorClass: errorClass,
            retryAfterSeconds: retryAfterSeconds)
        self.schemaVersion = schemaVersion
    }
}

extension StepDispatch: DirectWireEncodable, DirectWireDecodable {
    var wireValue: JSONValue? {
        guard let timeout = JSONValue.wireNumber(timeoutSeconds) else { return nil }
        return .object([
            "schema_version": .int(Int64(schemaVersion)), "task_id": .wireID(taskID), "step_id": .wireID(stepID),
            "step_name": .string(stepName), "handler": .string(handler), "namespace": .string(namespace),
            "template_name": .string(templateName), "template_version": .string(templateVersion), "attempt": .int(Int64(attempt)),
            "max_attempts": .int(Int64(maxAttempts)), "context": context, "parent_results": .object(parentResults),
            "handler_config": handlerConfig, "timeout_seconds": timeout, "deadline": .wireDate(deadline),
            "dispatched_at": .wireDate(dispatchedAt),
        ])
    }

    init?(wireMembers members: [String: JSONValue]) {
        let read = WireMembers(members: members)
        guard let schemaVersion = read.int("schema_version"), let taskID = read.uuid("task_id"), let stepID = read.uuid("step_id"),
            let stepName = read.string("step_name"), let handler = read.string("handler"), let namespace = read.string("namespace"),
            let templateName = read.string("template_name"), let templateVersion = read.string("template_version"),
            let attempt = read.int("attempt"), let maxAttempts = read.int("max_attempts"),
            let context = members["context"], let parentResults = members["parent_results"]?.objectValue,
            let handlerConfig = members["handler_config"], let timeoutSeconds = read.double("timeout_seconds"),
            let deadline = read.date("deadline"), let dispatchedAt = read.date("dispatched_at")
        else { return nil }
        self.init(
            taskID: taskID, stepID: stepID, stepName: stepName, handler: handler, namespace: namespace, templateName: templateName,
            templateVersion: templateVersion, attempt: attempt, maxAttempts: maxAttempts, context: context,
            parentResults: parentResults, handlerConfig: handlerConfig, timeoutSeconds: timeoutSeconds, deadline: deadline,
            dispatchedAt: dispatchedAt)
        self.schemaVersion = schemaVersion
    }
}

extension LifecycleEvent: DirectWireEncodable {
    var wireValue: JSONValue? {
        var members: [String: JSONValue] = [
            "event": .string(event.rawValue), "event_id": .wireID(eventID), "occurred_at": .wireDate(occurredAt),
            "task_id": taskID.map(JSONValue.wireID) ?? .null,
        ]
        members.setIfPresent("step_id", stepID.map(JSONValue.wireID))
        members.setIfPresent("step_name", stepName.map(JSONValue.string))
        members.setIfPresent("attempt", attempt.map { .int(Int64($0)) })
        members.setIfPresent("max_attempts", maxAttempts.map { .int(Int64($0)) })
        if let durationMs {
            guard let number = JSONValue.wireNumber(durationMs) else { return nil }
            members["duration_ms"] = number
        }
        members.setIfPresent("results", results)
        members.setIfPresent("error_message", errorMessage.map(JSONValue.string))
        members.setIfPresent("error_kind", errorKind.map { .string($0.rawValue) })
        members.setIfPresent("error_class", errorClass.map(JSONValue.string))
        members.setIfPresent("details", details.map(JSONValue.object))
        return .object(members)
    }
}
