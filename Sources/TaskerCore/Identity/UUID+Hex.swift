public import Foundation

extension UUID {
    /// The same text as `uuidString` (upper-case hex, `8-4-4-4-12`), formatted without
    /// `snprintf`: wire messages carry several ids each.
    public var uppercaseHexString: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var out = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[out] = UInt8(ascii: "-")
                        out += 1
                    }
                    buffer[out] = UUID.hexDigits[Int(byte >> 4)]
                    buffer[out + 1] = UUID.hexDigits[Int(byte & 0x0F)]
                    out += 2
                }
                return out
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}
