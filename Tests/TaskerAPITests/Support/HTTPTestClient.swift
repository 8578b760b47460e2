import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TaskerCore

/// One request and its answer.
struct HTTPExchange: Sendable {
    var method: String
    var path: String
    var status: Int
    var headers: [String: String]
    var body: Data

    /// The body as JSON (nil when it is not JSON).
    var json: JSONValue? { try? JSONValue.parse(body) }

    /// The error code of an error answer.
    var errorCode: String? { json?["error"]?.stringValue }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// Credentials for a request.
enum Credential: Sendable {
    case none
    case apiKey(String)
    case bearer(String)
    /// A raw Authorization header value.
    case authorization(String)
}

/// A real HTTP client (URLSession over loopback) for the API under test.
///
/// When `TASKER_API_EXCHANGES` names a file, every exchange is appended to it as one JSON line
/// (method, path, status, content type, body), for the OpenAPI conformance check
/// (`ops/check-openapi`).
struct HTTPTestClient: Sendable {
    let baseURL: URL
    let session: URLSession
    /// Whether exchanges go to `TASKER_API_EXCHANGES` (off for routes that are not the API's).
    let record: Bool

    init(port: Int, record: Bool = true) {
        self.record = record
        baseURL = URL(string: "http://127.0.0.1:\(port)")!
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.httpShouldSetCookies = false
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
    }

    func get(_ path: String, _ credential: Credential) async throws -> HTTPExchange {
        try await send("GET", path, credential)
    }

    func post(_ path: String, _ credential: Credential, json: JSONValue) async throws -> HTTPExchange {
        try await send("POST", path, credential, body: json.canonicalData())
    }

    func send(
        _ method: String, _ path: String, _ credential: Credential, body: Data? = nil, contentType: String = "application/json",
        headers extra: [String: String] = [:]
    ) async throws -> HTTPExchange {
        var request = URLRequest(url: URL(string: path, relativeTo: baseURL)!)
        request.httpMethod = method
        for (name, value) in extra { request.setValue(value, forHTTPHeaderField: name) }
        switch credential {
        case .none: break
        case .apiKey(let key): request.setValue(key, forHTTPHeaderField: "X-API-Key")
        case .bearer(let token): request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        case .authorization(let value): request.setValue(value, forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key] = value }
        }
        let exchange = HTTPExchange(
            method: method, path: String(path.split(separator: "?", maxSplits: 1).first ?? ""), status: http.statusCode,
            headers: headers, body: data)
        if record { ExchangeRecorder.shared.record(exchange) }
        return exchange
    }
}

/// Appends exchanges to the file `TASKER_API_EXCHANGES` names, if any.
final class ExchangeRecorder: Sendable {
    static let shared = ExchangeRecorder(path: ProcessInfo.processInfo.environment["TASKER_API_EXCHANGES"])

    private let handle: Mutex<FileHandle?>

    init(path: String?) {
        guard let path, !path.isEmpty else {
            handle = Mutex(nil)
            return
        }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let file = FileHandle(forWritingAtPath: path)
        _ = try? file?.seekToEnd()
        handle = Mutex(file)
    }

    func record(_ exchange: HTTPExchange) {
        let line: JSONValue = [
            "method": .string(exchange.method), "path": .string(exchange.path), "status": .int(Int64(exchange.status)),
            "content_type": .string(exchange.header("Content-Type") ?? ""),
            "body": exchange.json ?? .string(String(decoding: exchange.body.prefix(100_000), as: UTF8.self)),
        ]
        handle.withLock { file in
            file?.write(line.canonicalData() + Data("\n".utf8))
        }
    }
}

extension JSONValue {
    /// The array element at `index`, if this is an array that long.
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
