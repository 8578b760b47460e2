import Foundation
import Testing
import TaskerAPI
import TaskerCore
import TaskerTestSupport
import Yams

extension APITests {
    @Suite struct Templates {
        @Test func listsAndShowsTemplatesWithTheirDAG() async throws {
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                let client = api.client
                let key = Credential.apiKey(api.keys.templates)
                let list = try await client.get("/v1/templates?namespace=\(api.namespace)", key)
                #expect(list.status == 200)
                let names = list.json?["templates"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                #expect(names == ["api_integration", "diamond", "keyed", "linear", "mixed_dag", "tree"])
                #expect(try await client.get("/v1/templates?namespace=\(api.namespace)&name=diamond", key).json?["templates"]?.arrayValue?.count == 1)

                let diamond = try #require(try await client.get("/v1/templates/\(api.namespace)/diamond", key).json)
                #expect(diamond["version"] == "1.0.0")
                #expect(diamond["versions"] == ["1.0.0"])
                #expect(diamond["roots"] == ["start"])
                #expect(diamond["leaves"] == ["end"])
                #expect(diamond["edges"]?.arrayValue?.count == 4)
                #expect(diamond["steps"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["start", "branch_b", "branch_c", "end"])
                #expect(diamond["context_schema"]?["required"] == ["even_number"])
                #expect(diamond["mermaid"]?.stringValue == """
                    flowchart TD
                        s0["start"]
                        s1["branch_b"]
                        s2["branch_c"]
                        s3["end"]
                        s0 --> s1
                        s0 --> s2
                        s1 --> s3
                        s2 --> s3
                    """)
                #expect(try await client.get("/v1/templates/\(api.namespace)/diamond?version=1.0.0", key).status == 200)
                #expect(try await client.get("/v1/templates/\(api.namespace)/diamond?version=9.9.9", key).status == 404)
                #expect(try await client.get("/v1/templates/\(api.namespace)/diamond?version=latest", key).status == 400)
                #expect(try await client.get("/v1/templates/\(api.namespace)/nothing", key).status == 404)
                #expect(try await client.get("/v1/templates?colour=red", key).status == 400)
            }
        }
    }

    @Suite struct HealthAndDocument {
        @Test func healthAnswersAndTheDocumentMatchesTheRouter() async throws {
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                let live = try await api.client.get("/health/live", .none)
                #expect(live.json == ["status": "ok"])
                let ready = try await api.client.get("/health/ready", .none)
                #expect(ready.json == ["status": "ready", "database": true, "broker": true])
                #expect(try await api.client.get("/health", .none).json == ready.json)

                // The served document is the one in the repository.
                let served = try await api.client.get("/openapi.yaml", .none)
                #expect(served.header("Content-Type")?.hasPrefix("application/yaml") == true)
                let file = packageRoot.appendingPathComponent("Sources/TaskerAPI/Resources/openapi.yaml")
                #expect(served.body == (try Data(contentsOf: file)))

                // Every route the router has is in the document, and every operation of the document is a route.
                let document = try #require(try Yams.load(yaml: String(decoding: served.body, as: UTF8.self)) as? [String: Any])
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
                let documented = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
                let routed = Set(api.router())
                #expect(routed.subtracting(documented).isEmpty, "routes missing from the document: \(routed.subtracting(documented).sorted())")
                #expect(documented.subtracting(routed).isEmpty, "documented operations without a route: \(documented.subtracting(routed).sorted())")
            }
        }
    }
}
