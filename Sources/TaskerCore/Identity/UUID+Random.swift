public import Foundation
internal import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension UUID {
    /// A random (version 4) UUID, like `UUID()`, from the kernel's random source read 4 KiB at
    /// a time: `UUID()` asks the kernel on every call (~1.2 µs here; the pipeline makes several
    /// ids per step: message, event and new-task ids), this once per 256 ids.
    public static func random() -> UUID {
        RandomBytes.shared.uuid() ?? UUID()
    }
}

/// Bytes from `/dev/urandom` (the kernel's CSPRNG, as `getrandom`), buffered under a lock.
private final class RandomBytes: Sendable {
    static let shared = RandomBytes()

    private struct State {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        var offset = 4_096
    }

    private let state = Mutex(State())
    private let descriptor: Int32

    private init() {
        #if canImport(Glibc) || canImport(Darwin)
        descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        #else
        descriptor = -1
        #endif
    }

    /// Sixteen fresh bytes with the version-4 and RFC 4122 variant bits, or `nil` when the
    /// random source cannot be read (the caller falls back to `UUID()`).
    func uuid() -> UUID? {
        guard descriptor >= 0 else { return nil }
        let bytes: uuid_t? = state.withLock { state in
            if state.offset + 16 > state.buffer.count {
                guard refill(&state.buffer) else { return nil }
                state.offset = 0
            }
            defer { state.offset += 16 }
            return state.buffer.withUnsafeBytes { raw in
                raw.loadUnaligned(fromByteOffset: state.offset, as: uuid_t.self)
            }
        }
        guard var bytes else { return nil }
        bytes.6 = (bytes.6 & 0x0F) | 0x40
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return UUID(uuid: bytes)
    }

    private func refill(_ buffer: inout [UInt8]) -> Bool {
        #if canImport(Glibc) || canImport(Darwin)
        var filled = 0
        while filled < buffer.count {
            let count = buffer.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress! + filled, raw.count - filled)
            }
            if count > 0 {
                filled += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
        #else
        return false
        #endif
    }
}
