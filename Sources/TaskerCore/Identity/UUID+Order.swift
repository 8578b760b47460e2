public import Foundation

extension UUID {
    /// Whether `lhs` sorts before `rhs` in the order PostgreSQL gives `uuid` values: their 16
    /// bytes compared as unsigned numbers, most significant first (the order of their hex
    /// strings too). Deterministic orders in the core (lock order, effects) use it; it compares
    /// two integers instead of formatting two strings.
    @inlinable
    public static func precedes(_ lhs: UUID, _ rhs: UUID) -> Bool {
        lhs.orderKey < rhs.orderKey
    }

    /// A number spread evenly over ids (their last 8 bytes; random in v4 ids), for sharding work
    /// by id, the same in every process.
    public var laneKey: UInt64 { orderKey.1 }

    /// The 16 bytes as two big-endian halves.
    @usableFromInline
    var orderKey: (UInt64, UInt64) {
        withUnsafeBytes(of: uuid) { bytes in
            (UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)),
             UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }
}
