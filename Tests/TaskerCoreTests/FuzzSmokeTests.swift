import Foundation
import Testing
import TaskerFuzzing

/// A short, seeded run of the fuzzer in every test run (fuzz/README.md has the long one):
/// generated and mutated inputs through each decoder, checking that none breaks a property
/// and that the generator reaches both the accepting and the refusing paths.
@Suite struct FuzzSmokeTests {
    /// Inputs per decoder: sized for a debug build in CI (each YAML template goes through
    /// libyaml and two loads, each JSON body through Foundation's decoder).
    @Test(arguments: [
        (FuzzTarget.taskRequest, 3_000), (.stepDispatch, 3_000), (.stepResult, 3_000), (.stepResults, 2_000),
        (.templateYAML, 600), (.templateJSON, 600),
    ])
    func generatedInputsKeepEveryProperty(target: FuzzTarget, count: Int) {
        var source = InputSource(target: target, seed: 20_261_127)
        var accepted = 0
        var violations: [String] = []
        for _ in 0..<count {
            let input = source.next()
            do {
                if try target.run(input) == .accepted { accepted += 1 }
            } catch {
                if violations.count < 5 { violations.append("\(error): \(input.prefix(300).base64EncodedString())") }
            }
        }
        #expect(violations.isEmpty)
        #expect(accepted > count / 20, "the generator should produce valid inputs too")
        #expect(accepted < count - count / 20, "and invalid ones")
    }

    @Test(arguments: FuzzTarget.allCases)
    func validInputsAreAccepted(target: FuzzTarget) throws {
        var source = InputSource(target: target, seed: 7)
        for _ in 0..<20 {
            #expect(try target.run(source.valid()) == .accepted)
        }
    }
}
