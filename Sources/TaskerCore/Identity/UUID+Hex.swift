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

    /// Parses the `8-4-4-4-12` hex form in either case, as `UUID(uuidString:)` does, without
    /// `sscanf`; `nil` for anything else.
    public init?(hexString text: String) {
        var text = text
        guard let parsed = text.withUTF8(UUID.parse) else { return nil }
        self.init(uuid: parsed)
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        guard text.count == 36 else { return nil }
        var id: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &id) { bytes in
            var index = 0
            for position in 0..<16 {
                if position == 4 || position == 6 || position == 8 || position == 10 {
                    guard text[index] == UInt8(ascii: "-") else { return false }
                    index += 1
                }
                guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return false }
                bytes[position] = high << 4 | low
                index += 2
            }
            return true
        }
        return valid ? id : nil
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
