import Testing
@testable import TaskerAMQP

@Test func linksLibrabbitmq() { #expect(librabbitmqVersion().hasPrefix("0.")) }
