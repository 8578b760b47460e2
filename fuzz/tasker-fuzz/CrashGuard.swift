#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Keeps a copy of the input being run so that a crash (a trap, a stack overflow) or a hang
/// leaves it in a file: the signal handler and the watchdog write it with `write(2)` only.
enum CrashGuard {
    /// Room for the largest input kept on a crash; longer inputs are kept truncated.
    static let capacity = 32 << 20
    nonisolated(unsafe) static var buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    nonisolated(unsafe) static var length = 0
    /// `crash-<seed>-<pid>` and `hang-<seed>-<pid>` in the crashes folder, as C strings.
    nonisolated(unsafe) static var crashPath: UnsafeMutablePointer<CChar>? = nil
    nonisolated(unsafe) static var hangPath: UnsafeMutablePointer<CChar>? = nil
    /// Bumped before each input; the watchdog reads it.
    static let runs = Atomic<Int>(0)

    static func install(crashes: URL, seed: UInt64) {
        try? FileManager.default.createDirectory(at: crashes, withIntermediateDirectories: true)
        let pid = getpid()
        crashPath = strdup(crashes.appendingPathComponent("crash-\(seed)-\(pid).input").path)
        hangPath = strdup(crashes.appendingPathComponent("hang-\(seed)-\(pid).input").path)
        // An alternate stack, so a stack overflow can still be reported.
        let altSize = 256 << 10
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: altSize, alignment: 16)
        stack.ss_size = altSize
        stack.ss_flags = 0
        sigaltstack(&stack, nil)
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = crashHandler
            #else
            action.__sigaction_u.__sa_handler = crashHandler
            #endif
            action.sa_flags = Int32(SA_ONSTACK) | Int32(bitPattern: UInt32(SA_RESETHAND))
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    /// Records `input` as the one being run.
    static func enter(_ input: Data) {
        let count = min(input.count, capacity)
        input.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { buffer.copyMemory(from: base, byteCount: count) }
        }
        length = count
        runs.add(1, ordering: .relaxed)
    }

    static func writeInput(to path: UnsafeMutablePointer<CChar>?) {
        guard let path else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        var written = 0
        while written < length {
            let result = write(fd, buffer + written, length - written)
            if result <= 0 { break }
            written += result
        }
        close(fd)
    }

    /// Starts a thread that writes the input and exits when one input runs longer than `seconds`.
    static func startWatchdog(seconds: Int) {
        let thread = Thread {
            var last = -1
            var stuck = 0
            while true {
                sleep(1)
                let now = runs.load(ordering: .relaxed)
                if now == last {
                    stuck += 1
                    if stuck >= seconds {
                        writeInput(to: hangPath)
                        let message = "tasker-fuzz: one input ran for over \(seconds) s; kept in \(String(cString: hangPath!))\n"
                        FileHandle.standardError.write(Data(message.utf8))
                        _exit(3)
                    }
                } else {
                    stuck = 0
                    last = now
                }
            }
        }
        thread.start()
    }
}

/// Writes the current input next to the crash and lets the signal take its course.
private func crashHandler(_ signal: Int32) {
    CrashGuard.writeInput(to: CrashGuard.crashPath)
    let note: StaticString = "tasker-fuzz: crashed; the input is in the crashes folder\n"
    _ = write(2, note.utf8Start, note.utf8CodeUnitCount)
    raise(signal)
}
