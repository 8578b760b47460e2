import TaskerAMQP
import Testing

/// The topology replayed after a reconnect, without a broker.
@Suite("RecordedTopology (no broker)")
struct RecordedTopologyTests {
    @Test("declarations are recorded once, by name; re-declaring replaces")
    func declarations() {
        var topology = RecordedTopology()
        topology.declared(AMQPExchange(name: "tasks", kind: .topic))
        topology.declared(AMQPExchange(name: "dlx"))
        topology.declared(AMQPExchange(name: "tasks", kind: .direct))
        topology.declared(AMQPQueue(name: "work"))
        topology.declared(AMQPQueue(name: "work", type: .quorum))
        #expect(topology.exchanges.map(\.name) == ["dlx", "tasks"])
        #expect(topology.exchanges.last?.kind == .direct)
        #expect(topology.queues.map(\.type) == [.quorum])
    }

    @Test("server-named and exclusive queues are not replayed")
    func transientQueues() {
        var topology = RecordedTopology()
        topology.declared(AMQPQueue(name: ""))
        topology.declared(AMQPQueue(name: "mine", exclusive: true))
        #expect(topology.queues.isEmpty)
    }

    @Test("bindings keep their order without duplicates and go with their queue or exchange")
    func bindings() {
        var topology = RecordedTopology()
        let a = AMQPBinding(queue: "q1", exchange: "x1", routingKey: "a")
        let b = AMQPBinding(queue: "q2", exchange: "x1", routingKey: "b")
        let c = AMQPBinding(queue: "q2", exchange: "x2", routingKey: "c")
        for binding in [a, b, a, c] { topology.bound(binding) }
        #expect(topology.bindings == [a, b, c])
        topology.declared(AMQPQueue(name: "q2"))
        topology.deletedQueue("q2")
        #expect(topology.bindings == [a])
        #expect(topology.queues.isEmpty)
        topology.declared(AMQPExchange(name: "x1"))
        topology.deletedExchange("x1")
        #expect(topology.bindings.isEmpty)
        #expect(topology.exchanges.isEmpty)
    }
}
