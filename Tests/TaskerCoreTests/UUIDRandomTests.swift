import Foundation
import TaskerCore
import Testing

/// `UUID.random()`: version-4 ids from a buffer of the kernel's randomness.
@Suite struct UUIDRandomTests {
    @Test func idsAreVersion4WithTheRFCVariant() {
        for _ in 0..<1_000 {
            let id = UUID.random()
            #expect(id.uuid.6 >> 4 == 4)
            #expect(id.uuid.8 >> 6 == 0b10)
            // Foundation reads it back as the same id.
            #expect(UUID(uuidString: id.uuidString) == id)
        }
    }

    @Test func idsAreUniqueAcrossBufferRefillsAndThreads() async {
        // 40,000 ids: about 150 refills of the 4 KiB buffer, from 8 tasks at once.
        let batches = await withTaskGroup(of: [UUID].self) { group in
            for _ in 0..<8 { group.addTask { (0..<5_000).map { _ in UUID.random() } } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let ids = batches.flatMap { $0 }
        #expect(ids.count == 40_000)
        #expect(Set(ids).count == ids.count)
    }

    @Test func everyRandomBitVaries() {
        // Each of the 122 random bits is 1 in some ids and 0 in others (a stuck byte of the
        // buffer, or a bad offset, would show as a constant bit).
        var ones = [Int](repeating: 0, count: 128)
        let count = 2_000
        for _ in 0..<count {
            withUnsafeBytes(of: UUID.random().uuid) { bytes in
                for bit in 0..<128 where bytes[bit / 8] & (0x80 >> (bit % 8)) != 0 { ones[bit] += 1 }
            }
        }
        let fixed: Set<Int> = [48, 49, 50, 51, 64, 65]  // version 0100, variant 10
        for bit in 0..<128 where !fixed.contains(bit) {
            #expect(ones[bit] > count / 4 && ones[bit] < count * 3 / 4, "bit \(bit) set in \(ones[bit]) of \(count) ids")
        }
    }
}
