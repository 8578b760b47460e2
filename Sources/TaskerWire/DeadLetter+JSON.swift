internal import Foundation
package import TaskerCore

extension DeadLetter {
    /// The message as JSON (`tasker dlq --json`, the HTTP API): id, type, reason, source queue,
    /// deaths and size; with `body`, the body inline (as JSON when it is JSON, else as text).
    package func json(body: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "message_id": .string(messageID), "type": type.map(JSONValue.string) ?? .null,
            "reason": .string(reason), "source_queue": .string(sourceQueue), "deaths": .int(Int64(deaths)),
            "bytes": .int(Int64(self.body.count)),
        ]
        if body {
            object["body"] = (try? JSONValue.parse(Data(self.body), maxDepth: .messageNestingDepth)) ?? .string(preview(limit: 1 << 20))
        }
        return .object(object)
    }
}
