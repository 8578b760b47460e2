/// Comparison whose duration does not depend on where two byte strings differ, for secrets.
enum ConstantTime {
    /// Whether `a` and `b` are equal; looks at every byte of both whatever they hold (only the
    /// lengths, which are not secret here, decide early).
    static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
