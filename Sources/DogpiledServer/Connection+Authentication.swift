import MemcacheProtocol

/// `-Y`: requests of a connection that has not authenticated yet.
extension Connection {
    /// Decodes and answers the authentication request at the head of the input. nil: the batch
    /// goes on; else why it stops.
    func executeAuthentication() -> ConnectionStateMachine.BatchEnd? {
        let buffer = input.readableBytes
        switch AuthenticationParser.parse(buffer) {
        case .needMoreData(let total):
            if machine.inputEnded { return .needInput }
            if total > 0, !input.reserve(total: total) {
                // Within the base buffer's 16 KB plus a line: only the server-wide budget refuses.
                machine.credentialsOverran()
                return .stateChanged
            }
            return .needInput
        case .close:
            machine.credentialsOverran()
            return .stateChanged
        case .unauthenticated(let consumed):
            machine.refused(.unauthenticated)
            input.consume(consumed)
        case .badTermination(let consumed):
            machine.refused(.badTermination)
            input.consume(consumed)
        case .badTokenFormat(let consumed):
            machine.refused(.badTokenFormat)
            input.consume(consumed)
        case .credentials(let user, let password, let consumed):
            statistics.add(.authCmds)
            let accepted = state.authenticator?.check(
                user: UnsafeRawBufferPointer(rebasing: buffer[user]),
                password: UnsafeRawBufferPointer(rebasing: buffer[password])) ?? false
            if accepted {
                machine.authenticated()
                output.append("STORED\r\n")
            } else {
                statistics.add(.authErrors)
                machine.refused(.failure)
            }
            input.consume(consumed)
        }
        return nil
    }

    /// Queues the one reply memcached would send for the unauthenticated requests of the batch.
    func queueHeldReply() {
        if let reply = machine.takeHeldReply() { output.append(reply.line) }
    }
}
