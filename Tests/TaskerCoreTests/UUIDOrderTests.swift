import Foundation
import Testing
import TaskerCore

@Suite struct UUIDOrderTests {
    /// `UUID.precedes` is the order of the hex strings (and of PostgreSQL's `uuid`), byte by byte.
    @Test func precedesOrdersLikeTheHexStrings() {
        var generator = SystemRandomNumberGenerator()
        var ids = (0..<2_000).map { _ in UUID() }
        // Ids that differ only in one byte, high or low, so each half and each byte position is exercised.
        let base = UUID().uuid
        for offset in [0, 7, 8, 15] {
            for value: UInt8 in [0, 1, 0x7F, 0x80, 0xFF] {
                var bytes = base
                withUnsafeMutableBytes(of: &bytes) { $0[offset] = value }
                ids.append(UUID(uuid: bytes))
            }
        }
        ids.shuffle(using: &generator)
        #expect(ids.sorted(by: UUID.precedes) == ids.sorted { $0.uuidString < $1.uuidString })
        #expect(!UUID.precedes(ids[0], ids[0]))
    }
}
