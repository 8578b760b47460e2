import Foundation
import TaskerCore
import TaskerFuzzing

// tasker-fuzz: runs generated and mutated inputs through Tasker's decoders (fuzz/README.md).
//
//   swift run -c release tasker-fuzz --iterations 1000000 --seed 1
//   swift run -c release tasker-fuzz --replay fuzz/crashes/crash-1-4242.input --targets template-yaml

struct Options {
    var iterations = 100_000
    var seed: UInt64 = 1
    var targets = FuzzTarget.allCases
    var corpus = URL(fileURLWithPath: "fuzz/corpus")
    var crashes = URL(fileURLWithPath: "fuzz/crashes")
    var timeout = 10
    var replay: [String] = []
    var writeCorpus: URL?

    static let usage = """
        usage: tasker-fuzz [--iterations N] [--seed S] [--targets request,dispatch,result,template-yaml,template-json]
                           [--corpus DIR] [--crashes DIR] [--timeout SECONDS] [--replay FILE...] [--write-corpus DIR]
        """

    init(_ arguments: [String]) {
        var rest = arguments[...]
        func value() -> String {
            guard let next = rest.popFirst() else { Self.fail("missing value") }
            return next
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--iterations": iterations = Self.required(Int(value().replacingOccurrences(of: "_", with: "")), "bad --iterations")
            case "--seed": seed = Self.required(UInt64(value()), "bad --seed")
            case "--targets":
                targets = value().split(separator: ",").map { Self.required(FuzzTarget(rawValue: String($0)), "unknown target \($0)") }
            case "--corpus": corpus = URL(fileURLWithPath: value())
            case "--crashes": crashes = URL(fileURLWithPath: value())
            case "--timeout": timeout = Self.required(Int(value()), "bad --timeout")
            case "--replay":
                while let file = rest.first, !file.hasPrefix("--") { replay.append(file); rest.removeFirst() }
            case "--write-corpus": writeCorpus = URL(fileURLWithPath: value())
            case "--help", "-h":
                print(Self.usage)
                exit(0)
            default: Self.fail("unknown option \(argument)")
            }
        }
    }

    static func required<T>(_ value: T?, _ message: String) -> T {
        guard let value else { fail(message) }
        return value
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("tasker-fuzz: \(message)\n\(usage)\n".utf8))
        exit(2)
    }
}

/// Corpus files are named `<target>-<anything>`; the prefix says which decoder they feed.
func loadCorpus(_ directory: URL) -> [FuzzTarget: [Data]] {
    var corpus: [FuzzTarget: [Data]] = [:]
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    for name in names.sorted() {
        guard let target = FuzzTarget.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
            .first(where: { name.hasPrefix($0.rawValue + "-") }),
            let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
        else { continue }
        corpus[target, default: []].append(data)
    }
    return corpus
}

struct Tally {
    var inputs = 0
    var accepted = 0
    var bytes = 0
    var seconds = 0.0
    var slowest = 0.0
    var reasons: [String: Int] = [:]
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
CrashGuard.install(crashes: options.crashes, seed: options.seed)
CrashGuard.startWatchdog(seconds: options.timeout)

var violations = 0
@MainActor func check(_ target: FuzzTarget, _ input: Data, tally: inout Tally) {
    CrashGuard.enter(input)
    let start = DispatchTime.now().uptimeNanoseconds
    do {
        switch try target.run(input) {
        case .accepted: tally.accepted += 1
        case .rejected(let reason): tally.reasons[reason, default: 0] += 1
        }
    } catch {
        violations += 1
        let file = options.crashes.appendingPathComponent("violation-\(target.rawValue)-\(options.seed)-\(violations).input")
        try? input.write(to: file)
        print("PROPERTY VIOLATED: \(error) (input kept in \(file.path))")
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    tally.inputs += 1
    tally.bytes += input.count
    tally.seconds += elapsed
    tally.slowest = max(tally.slowest, elapsed)
}

if let directory = options.writeCorpus {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for target in FuzzTarget.allCases {
        var source = InputSource(target: target, seed: options.seed)
        let ext = target == .templateYAML ? "yaml" : "json"
        for index in 0..<options.iterations {
            try source.valid().write(to: directory.appendingPathComponent("\(target.rawValue)-generated-\(index).\(ext)"))
        }
    }
    exit(0)
}

if ProcessInfo.processInfo.environment["TASKER_FUZZ_CHECK_VALID"] != nil {
    // Every generated "valid" input must be accepted: prints the ones that are not.
    for target in options.targets {
        var source = InputSource(target: target, seed: options.seed)
        for _ in 0..<options.iterations {
            let input = source.valid()
            if case .rejected(let reason) = (try? target.run(input)) ?? .accepted {
                print("\(target.rawValue) refused a valid input (\(reason)):\n\(String(decoding: input, as: UTF8.self))\n")
            }
        }
    }
    exit(0)
}

if !options.replay.isEmpty {
    for file in options.replay {
        guard let input = FileManager.default.contents(atPath: file) else { Options.fail("cannot read \(file)") }
        for target in options.targets {
            var tally = Tally()
            check(target, input, tally: &tally)
            print("\(file) \(target.rawValue): \(tally.accepted == 1 ? "accepted" : "rejected: \(tally.reasons.keys.first ?? "")") in \(String(format: "%.3f", tally.seconds)) s")
        }
    }
    exit(violations == 0 ? 0 : 1)
}

let corpus = loadCorpus(options.corpus)
var tallies: [FuzzTarget: Tally] = [:]
let wallStart = Date()

// The corpus first, as it is.
for target in options.targets {
    for input in corpus[target] ?? [] { check(target, input, tally: &tallies[target, default: Tally()]) }
}
// Then generated inputs, round-robin over the targets, each from its own seeded source.
var sources = options.targets.map { InputSource(target: $0, seed: options.seed, corpus: corpus[$0] ?? []) }
let perTarget = options.iterations / options.targets.count
let reportEvery = max(1, perTarget / 10)
for round in 0..<perTarget {
    for index in sources.indices {
        let input = sources[index].next()
        check(sources[index].target, input, tally: &tallies[sources[index].target, default: Tally()])
    }
    if (round + 1) % reportEvery == 0 {
        let done = (round + 1) * sources.count
        let elapsed = Date().timeIntervalSince(wallStart)
        FileHandle.standardOutput.write(Data("… \(done) inputs, \(Int(elapsed)) s, \(Int(Double(done) / elapsed)) inputs/s\n".utf8))
    }
}

let wall = Date().timeIntervalSince(wallStart)
print("")
print("tasker-fuzz seed \(options.seed): \(tallies.values.map(\.inputs).reduce(0, +)) inputs in \(String(format: "%.1f", wall)) s, \(violations) property violations, no crash, no hang")
print("target          inputs   accepted  rejected  distinct-reasons  MB      seconds  inputs/s  slowest-ms")
for target in options.targets {
    let tally = tallies[target] ?? Tally()
    let line = [
        target.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0),
        String(tally.inputs).leftPad(8), String(tally.accepted).leftPad(9), String(tally.inputs - tally.accepted).leftPad(9),
        String(tally.reasons.count).leftPad(17), String(format: "%7.1f", Double(tally.bytes) / 1e6),
        String(format: "%8.1f", tally.seconds), String(Int(Double(tally.inputs) / max(tally.seconds, 1e-9))).leftPad(9),
        String(format: "%11.1f", tally.slowest * 1000),
    ]
    print(line.joined(separator: " "))
}
if ProcessInfo.processInfo.environment["TASKER_FUZZ_REASONS"] != nil {
    for target in options.targets {
        print("\n\(target.rawValue) rejection reasons:")
        for (reason, count) in (tallies[target]?.reasons ?? [:]).sorted(by: { $0.value > $1.value }).prefix(25) {
            print(String(count).leftPad(8) + "  " + reason)
        }
    }
}
try? FileManager.default.removeItem(atPath: String(cString: CrashGuard.crashPath!))
exit(violations == 0 ? 0 : 1)

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
