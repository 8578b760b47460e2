// Placeholder: the AMQP transport is being built (issue 3).
internal import CRabbitMQ

/// The version of the linked librabbitmq.
public func librabbitmqVersion() -> String { String(cString: amqp_version()) }
