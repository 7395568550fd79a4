extension CurlTransferQueue {
    /// A request handed over by a caller, waiting for the loop thread to start it.
    struct Submission {
        var id: UInt64
        var request: HTTPClientRequest
        var continuation: CheckedContinuation<HTTPClientResponse, any Error>
    }

    /// What the loop thread takes on each turn.
    struct Batch {
        var submissions: [Submission] = []
        /// Running transfers whose callers were cancelled.
        var cancellations: [UInt64] = []
        var isShutdown = false
    }

    /// The bookkeeping between callers and the loop thread, as a value so that every
    /// transition is one call under the lock and every side effect (resume, wake up) is an
    /// action the caller performs after releasing it.
    struct StateMachine {
        private enum Phase {
            /// The id exists; its request is not submitted yet.
            case allocated
            /// Cancelled before it was submitted: the submission fails at once.
            case cancelledEarly
            case queued
            /// Owned by the loop thread until it calls ``finish(_:)``.
            case running
        }

        private var nextID: UInt64 = 1  // 0 would be a null CURLOPT_PRIVATE
        private var phases: [UInt64: Phase] = [:]
        private var queued: [UInt64: Submission] = [:]
        private var order: [UInt64] = []
        private var cancellations: [UInt64] = []
        /// A wakeup was sent and the loop has not drained since; one is enough.
        private var wakeupPending = false
        private var isShutdown = false

        // MARK: - Callers

        mutating func allocate() -> UInt64 {
            let id = nextID
            nextID += 1
            phases[id] = .allocated
            return id
        }

        enum SubmitAction {
            case none
            case wakeLoop
            case fail(CheckedContinuation<HTTPClientResponse, any Error>, any Error)
        }

        mutating func submit(_ submission: Submission) -> SubmitAction {
            let id = submission.id
            if isShutdown {
                phases[id] = nil
                return .fail(submission.continuation, CurlError.shutdown)
            }
            if phases[id] == .cancelledEarly {
                phases[id] = nil
                return .fail(submission.continuation, CancellationError())
            }
            phases[id] = .queued
            queued[id] = submission
            order.append(id)
            return wakeIfNeeded() ? .wakeLoop : .none
        }

        enum CancelAction {
            case none
            case wakeLoop
            case fail(CheckedContinuation<HTTPClientResponse, any Error>)
        }

        mutating func cancel(_ id: UInt64) -> CancelAction {
            switch phases[id] {
            case nil, .cancelledEarly:
                return .none  // finished already, or cancelled twice
            case .allocated:
                phases[id] = .cancelledEarly
                return .none
            case .queued:
                phases[id] = nil
                guard let submission = queued.removeValue(forKey: id) else { return .none }
                return .fail(submission.continuation)  // `order` still names it; drain skips it
            case .running:
                cancellations.append(id)
                return wakeIfNeeded() ? .wakeLoop : .none
            }
        }

        /// Marks the client shut down and hands back the queued requests to fail.
        mutating func shutdown() -> [CheckedContinuation<HTTPClientResponse, any Error>]? {
            guard !isShutdown else { return nil }
            isShutdown = true
            let waiting = order.compactMap { queued[$0]?.continuation }
            for id in order { phases[id] = nil }
            queued = [:]
            order = []
            return waiting
        }

        // MARK: - Loop thread

        mutating func drain() -> Batch {
            wakeupPending = false
            var batch = Batch(cancellations: cancellations, isShutdown: isShutdown)
            cancellations = []
            batch.submissions.reserveCapacity(order.count)
            for id in order {
                guard let submission = queued.removeValue(forKey: id) else { continue }
                phases[id] = .running
                batch.submissions.append(submission)
            }
            order.removeAll(keepingCapacity: true)
            return batch
        }

        /// Forgets transfers whose outcome the loop is about to deliver, so that a late
        /// cancellation does nothing.
        mutating func finish(_ ids: [UInt64]) {
            for id in ids { phases[id] = nil }
        }

        private mutating func wakeIfNeeded() -> Bool {
            if wakeupPending { return false }
            wakeupPending = true
            return true
        }
    }
}
