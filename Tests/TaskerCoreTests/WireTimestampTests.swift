import Foundation
import Testing
import TaskerCore

@Suite struct WireTimestampTests {
    @Test func writesMicrosecondsInUTC() {
        #expect(WireTimestamp.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(WireTimestamp.string(from: Date(timeIntervalSince1970: 1_796_067_312.123456)) == "2026-11-30T19:35:12.123456Z")
        #expect(WireTimestamp.string(from: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000000Z")
        #expect(WireTimestamp.string(from: Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500000Z")
    }

    @Test func agreesWithFoundationToTheMillisecondAndRoundTripsToTheMicrosecond() throws {
        var random = SystemRandomNumberGenerator()
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for _ in 0..<2_000 {
            // Years 1583 to 9999 (Foundation switches to the Julian calendar before the Gregorian
            // reform; ISO 8601 and this formatter stay Gregorian), to the microsecond.
            let micros = Int64.random(in: -12_212_553_600_000_000...253_402_300_799_999_999, using: &random)
            let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            let text = WireTimestamp.string(from: date)
            #expect(String(text.prefix(19)) == String(date.formatted(style).prefix(19)), "\(text)")
            let decoded = try WireCoding.decoder().decode([Date].self, from: Data("[\"\(text)\"]".utf8))[0]
            // Within a microsecond (a Date holds far-off times a little less precisely).
            #expect(abs(decoded.timeIntervalSince(date)) < 0.000_001 + abs(date.timeIntervalSince1970) * 1e-15, "\(text)")
        }
    }

    @Test func readsItsOwnFormWithoutFoundationAndLeavesOtherFormsToIt() throws {
        var random = SystemRandomNumberGenerator()
        let foundation = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for _ in 0..<2_000 {
            let micros = Int64.random(in: -12_212_553_600_000_000...253_402_300_799_999_999, using: &random)
            let text = WireTimestamp.string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
            let fast = try #require(WireTimestamp.date(from: text), "\(text)")
            let slow = try foundation.parse(text)
            #expect(abs(fast.timeIntervalSince(slow)) < 0.000_001 + abs(slow.timeIntervalSince1970) * 1e-15, "\(text)")
        }
        #expect(WireTimestamp.date(from: "2026-11-30T19:35:12Z") == Date(timeIntervalSince1970: 1_796_067_312))
        #expect(WireTimestamp.date(from: "2000-02-29T00:00:00.5Z") == Date(timeIntervalSince1970: 951_782_400.5))
        for other in [
            "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-30T24:00:00Z", "2026-11-30 19:35:12Z",
            "2026-11-30T19:35:12+01:00", "2026-11-30T19:35:12.Z", "1500-01-01T00:00:00Z", "2026-11-30T19:35:12",
        ] {
            #expect(WireTimestamp.date(from: other) == nil, "\(other)")
        }
        // Forms only Foundation reads still decode on the wire.
        let offset = try WireCoding.decode(StepCancellationProbe.self, from: Data(#"{"at":"2026-11-30T20:35:12+01:00"}"#.utf8))
        #expect(offset.at == Date(timeIntervalSince1970: 1_796_067_312))
    }
}

private struct StepCancellationProbe: Decodable {
    var at: Date
}
