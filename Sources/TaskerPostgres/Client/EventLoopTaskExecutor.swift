internal import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// A transaction's code prefers the event loop of its connection
/// (``Database/withTransaction(_:)``): a statement's answer is read on that loop, and the code
/// that waits for it resumes on the same thread instead of waking a thread of the concurrency
/// pool, which on this kind of machine (a VM whose idle cores sleep) costs a few tenths of a
/// millisecond per statement. The code between statements is short (decisions and
/// encoding, no blocking calls), so the loop's other connections are not held up.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
