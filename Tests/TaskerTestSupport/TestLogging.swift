internal import Foundation
package import Logging

/// The logger every test suite uses. Quiet by default (`warning`); `TEST_LOG_LEVEL=debug swift test`
/// (or `LOG_LEVEL`) shows the debug logs of the code under test.
package let testLogger: Logger = {
    var logger = Logger(label: "tasker.tests")
    let environment = ProcessInfo.processInfo.environment
    logger.logLevel = (environment["TEST_LOG_LEVEL"] ?? environment["LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()
