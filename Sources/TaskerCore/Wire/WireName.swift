/// A name on the wire (event name, result kind, reply status): a string with named constants.
///
/// Encoded as the bare string (the standard library's `RawRepresentable` coding), so new
/// names can be added without breaking readers that pass unknown ones through.
public protocol WireName: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible where RawValue == String {}

extension WireName {
    public var description: String { rawValue }
}
