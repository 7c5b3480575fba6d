internal import CRiftWebSockets
import RiftSupport

/// The commands other threads hand to one lws service thread, and the wake-up that makes it take them.
///
/// Shared by the server's and the client's event loops. `submit` appends under a lock and, when the inbox was
/// empty, calls `lws_cancel_service` (the only lws call allowed off the service thread) under the same lock, so the
/// context cannot be destroyed meanwhile: `detach` clears the target under that lock before the context goes. A
/// non-empty inbox already has a wake-up pending, and the service thread takes everything at once (`takeAll`, from
/// its `LWS_CALLBACK_EVENT_WAIT_CANCELLED`), in submission order.
final class ServiceInbox<Command>: @unchecked Sendable {
    private struct State: @unchecked Sendable {
        var commands: [Command] = []
        /// False before `attach` when commands are not kept for later, and for good after `detach`.
        var acceptsCommands: Bool
        /// The `lws_context *` to pass to `lws_cancel_service`; nil before `attach` and after `detach`.
        var wakeTarget: OpaquePointer?
        /// Set by `detach`, for good.
        var detached = false
    }

    private let state: Locked<State>

    /// An inbox that, before `attach`, keeps commands for the thread (`acceptsCommandsBeforeAttach`) or drops them.
    init(acceptsCommandsBeforeAttach: Bool) {
        state = Locked(State(acceptsCommands: acceptsCommandsBeforeAttach))
    }

    /// Makes `context` the target of wake-ups; called before the service thread starts. Ignored after `detach`.
    func attach(to context: LWSContext) {
        state.withLock { state in
            guard !state.detached else { return }
            state.wakeTarget = context.pointer
            state.acceptsCommands = true
        }
    }

    /// Stops wake-ups and commands for good, dropping pending ones; called before the context is destroyed.
    func detach() {
        state.withLock { state in
            state.detached = true
            state.acceptsCommands = false
            state.wakeTarget = nil
            state.commands = []
        }
    }

    /// Queues `command` and wakes the service thread if it runs and has no wake-up pending. Returns false when the
    /// command was dropped (not attached yet and not keeping commands, or detached).
    @discardableResult
    func submit(_ command: Command) -> Bool {
        state.withLock { state in
            guard state.acceptsCommands else { return false }
            state.commands.append(command)
            if state.commands.count == 1, let context = state.wakeTarget {
                lws_cancel_service(context)
            }
            return true
        }
    }

    /// Every queued command, oldest first, leaving the inbox empty. Service thread only.
    func takeAll() -> [Command] {
        var commands: [Command] = []
        state.withLock { swap(&commands, &$0.commands) }
        return commands
    }
}
