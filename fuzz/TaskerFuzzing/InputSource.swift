public import Foundation

/// Produces the inputs for one target: valid inputs, corpus files, and mutations of both.
///
/// Mix per input: 10 % valid as generated, 35 % structure-aware mutation (a JSON value
/// swapped for a hostile one, or YAML lines changed), 35 % byte-level mutation of a seed,
/// 10 % deep nesting around the limits, 0.1 % an input at a size limit, 5 % random bytes.
public struct InputSource: Sendable {
    public let target: FuzzTarget
    /// Seeds from the corpus; generated seeds are added as the run goes.
    private var seeds: [Data]
    private var random: FuzzRandom

    public init(target: FuzzTarget, seed: UInt64, corpus: [Data] = []) {
        self.target = target
        self.random = FuzzRandom(seed: seed ^ UInt64(truncatingIfNeeded: target.rawValue.hashValueStable))
        self.seeds = corpus
        for _ in 0..<16 { seeds.append(valid()) }
    }

    /// A valid input, freshly generated.
    public mutating func valid() -> Data {
        switch target {
        case .taskRequest: return ValidInputs.taskRequest(&random)
        case .stepDispatch: return ValidInputs.stepDispatch(&random)
        case .stepResult: return ValidInputs.stepResult(&random)
        case .stepResults: return ValidInputs.stepResults(&random)
        case .templateYAML: return Data(ValidInputs.templateYAML(&random).utf8)
        case .templateJSON: return ValidInputs.templateJSON(&random)
        }
    }

    private var tokens: [String] { target == .templateYAML ? Mutator.yamlTokens : Mutator.jsonTokens }

    /// The next input.
    public mutating func next() -> Data {
        // Keep the seed pool fresh without letting it grow.
        if random.chance(0.01) {
            let fresh = valid()
            if seeds.count < 256 { seeds.append(fresh) } else { seeds[random.int(0..<seeds.count)] = fresh }
        }
        let seed = random.pick(seeds)
        switch random.int(0..<100) {
        case 0..<10:
            return random.chance(0.5) ? seed : valid()
        case 10..<45:
            if target == .templateYAML {
                return Data(Mutator.mutateYAML(String(decoding: seed, as: UTF8.self), random: &random).utf8)
            }
            var mutated = Mutator.mutateJSON(seed, random: &random)
            if random.chance(0.3) { mutated = Mutator.mutateBytes(mutated, other: random.pick(seeds), tokens: tokens, random: &random) }
            return mutated
        case 45..<80:
            return Mutator.mutateBytes(seed, other: random.pick(seeds), tokens: tokens, random: &random)
        case 80..<90:
            return deep()
        case 90..<95:
            // Inputs at the size limits are slow to build and parse: one in a thousand.
            if random.chance(0.02) { return large() }
            return Mutator.mutateBytes(seed, other: random.pick(seeds), tokens: tokens, random: &random)
        default:
            return Data((0..<random.size(max: 512)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
    }

    /// Nesting around the depth limits, alone or in the place of a value of a valid input.
    private mutating func deep() -> Data {
        let depth = Mutator.interestingDepth(&random)
        let text = Mutator.deepJSON(depth: depth, random: &random)
        switch target {
        case .templateYAML:
            let places = ["handler_config", "context_schema", "description", "defaults"]
            let key = random.pick(places)
            if key == "handler_config" {
                return Data("name: deep\nsteps:\n  - name: a\n    handler: h\n    handler_config: \(text)\n".utf8)
            }
            return Data("name: deep\n\(key): \(text)\nsteps: [{name: a, handler: h}]\n".utf8)
        case .templateJSON:
            return Data(#"{"name":"deep","steps":[{"name":"a","handler":"h","handler_config":\#(text)}]}"#.utf8)
        default:
            if random.chance(0.2) { return Data(text.utf8) }
            return Mutator.mutateJSON(random.pick(seeds), random: &random)
        }
    }

    /// An input near its size limit: just under or just over, or with many steps.
    private mutating func large() -> Data {
        switch target {
        case .templateYAML, .templateJSON:
            let steps = random.pick([10, 999, 1_000, 1_001, 2_000])
            if random.chance(0.5) {
                let chain = (0..<steps).map { "  - {name: s\($0), handler: h\($0 == 0 ? "" : ", depends_on: [s\($0 - 1)]")}" }
                return Data(("name: big\nsteps:\n" + chain.joined(separator: "\n") + "\n").utf8)
            }
            let limit = 1 << 20
            let padding = String(repeating: "x", count: random.pick([limit - 100, limit, limit + 10]))
            return Data("name: big\ndescription: \(padding)\nsteps: [{name: a, handler: h}]\n".utf8)
        default:
            let limit = target == .stepDispatch ? 16 << 20 : 1 << 20
            let size = random.chance(0.9) ? random.int(limit - 64...limit + 64) : random.int(1...limit)
            let base = target == .taskRequest ? #"{"namespace":"a","name":"b","context":{"s":""# : #"{"context":{"s":""#
            let filler = String(repeating: random.pick(["a", "é", "\\n", " "]), count: max(0, (size - base.utf8.count - 4) / 2))
            return Data((base + filler + "\"}}").utf8)
        }
    }
}

extension String {
    /// A hash that does not change between runs (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01B3
        }
        return hash
    }
}
