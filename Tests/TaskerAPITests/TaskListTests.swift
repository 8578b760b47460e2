import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

extension APITests {
    @Suite struct TaskListing {
        @Test func filtersAndPagesNewestFirst() async throws {
            // No pipeline: the tasks stay in_progress, so states are predictable.
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                let client = api.client
                let reader = Credential.apiKey(api.keys.reader)
                let ns = api.namespace
                var ids: [String] = []
                for index in 0..<7 {
                    ids.append(try await api.submitted("linear", context: ["even_number": .int(Int64(2 * (index + 1)))]))
                }
                let keyed = try await api.submitted("keyed", context: ["even_number": 2], extra: ["idempotency_key": "k-1"])
                let all = ids + [keyed]

                // Pages of 3 over the namespace: every task once, newest first.
                var seen: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let page = try await client.get("/v1/tasks?namespace=\(ns)&limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), reader)
                    #expect(page.status == 200)
                    let tasks = page.json?["tasks"]?.arrayValue ?? []
                    #expect(tasks.count <= 3)
                    seen += tasks.compactMap { $0["task_id"]?.stringValue }
                    cursor = page.json?["next_cursor"]?.stringValue
                    pages += 1
                } while cursor != nil
                #expect(pages == 3)
                #expect(seen == Array(all.reversed()))

                // Filters.
                func listed(_ query: String) async throws -> [String] {
                    let exchange = try await client.get("/v1/tasks?namespace=\(ns)&\(query)", reader)
                    #expect(exchange.status == 200, "\(query): \(exchange.status)")
                    return exchange.json?["tasks"]?.arrayValue?.compactMap { $0["task_id"]?.stringValue } ?? []
                }
                #expect(try await listed("name=keyed") == [keyed])
                #expect(try await listed("name=linear").count == 7)
                #expect(try await listed("state=in_progress").count == 8)
                #expect(try await listed("state=complete,error").isEmpty)
                #expect(try await listed("state=complete&state=in_progress").count == 8)
                let keyedTask = try #require(try await client.get("/v1/tasks/\(keyed)", reader).json)
                let hash = try #require(keyedTask["identity_hash"]?.stringValue)
                #expect(try await listed("identity_hash=\(hash)") == [keyed])
                #expect(try await listed("name=keyed&idempotency_key=k-1") == [keyed])
                #expect(try await listed("name=keyed&idempotency_key=k-2").isEmpty)

                let third = try #require(try await client.get("/v1/tasks/\(ids[2])", reader).json?["created_at"]?.stringValue)
                #expect(Set(try await listed("created_after=\(third)")) == Set(Array(all[2...])))
                #expect(Set(try await listed("created_before=\(third)")) == Set(Array(ids[..<2])))
                #expect(try await listed("updated_after=2999-01-01T00:00:00Z").isEmpty)
                #expect(try await listed("updated_before=2999-01-01T00:00:00.000Z").count == 8)

                // Malformed queries: 400, naming what is wrong.
                for query in [
                    "colour=red", "state=finished", "limit=0", "limit=201", "limit=x", "cursor=nonsense",
                    "created_after=yesterday", "idempotency_key=k-1&namespace=", "namespace=a&namespace=b",
                ] {
                    let exchange = try await client.get("/v1/tasks?\(query)", reader)
                    #expect(exchange.status == 400, "\(query) gave \(exchange.status)")
                    #expect(exchange.errorCode == "bad_request")
                }
            }
        }
    }
}
