import Glibc
import RiftSupport
import Testing

@Suite("Running helper programs")
struct SubprocessTests {
    @Test("output, input and a failure's standard error are reported")
    func runToCompletion() throws {
        #expect(try Subprocess.run(["cat"], input: Array("secret\n".utf8)).text == "secret\n")
        #expect(try Subprocess.run(["sh", "-c", "echo $RIFT_TEST"], environment: ["RIFT_TEST": "x1"]).text == "x1\n")
        #expect {
            try Subprocess.run(["sh", "-c", "echo nope >&2; exit 3"])
        } throws: { error in
            guard let error = error as? SubprocessError else { return false }
            return error.kind == .exited(3) && error.standardError == "nope\n" && "\(error)".contains("nope")
        }
        #expect { try Subprocess.run(["rift-no-such-program"]) } throws: { ($0 as? SubprocessError)?.kind == .notFound }
    }

    @Test("a run that outlives its timeout is killed and reported", .timeLimit(.minutes(1)))
    func timeout() {
        let start = ContinuousClock.now
        #expect { try Subprocess.run(["sleep", "30"], timeout: .milliseconds(300)) } throws: {
            ($0 as? SubprocessError)?.kind == .timedOut
        }
        #expect(ContinuousClock.now - start < .seconds(15))
    }

    @Test("a supervised process stops on SIGTERM, or on SIGKILL when it ignores SIGTERM", .timeLimit(.minutes(1)))
    func supervisedProcess() throws {
        let polite = try SupervisedProcess(["sh", "-c", "echo started; exec sleep 30"])
        try waitForOutput("started\n", from: polite)
        #expect(polite.exitStatus == nil)
        #expect(polite.terminate(gracePeriod: .seconds(2)) == .signaled(SIGTERM))
        #expect(polite.recentOutput == "started\n")
        #expect(polite.terminate() == .signaled(SIGTERM), "terminating again reports the same end")

        let stubborn = try SupervisedProcess(["sh", "-c", "trap '' TERM; echo ready; exec sleep 30"])
        try waitForOutput("ready\n", from: stubborn)
        #expect(stubborn.terminate(gracePeriod: .milliseconds(300)) == .signaled(SIGKILL))

        let quick = try SupervisedProcess(["sh", "-c", "exit 4"])
        #expect(quick.waitForExit(timeout: .seconds(5)) == .exited(4))
    }

    @Test("a child inherits no descriptor beyond its standard streams, close-on-exec or not")
    func noInheritedDescriptors() throws {
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0, "pipe() without O_CLOEXEC, as Foundation's Process makes its socketpair")
        defer { ends.forEach { close($0) } }
        let listed = try Subprocess.run(["sh", "-c", "ls /proc/$$/fd"]).text.split(separator: "\n").map(String.init)
        for end in ends { #expect(!listed.contains("\(end)"), "descriptor \(end) reached the child: \(listed)") }
        #expect(listed.contains("0") && listed.contains("1") && listed.contains("2"))
    }

    /// Waits (at most 5 s) until the child has printed `text`, so signals arrive after its setup.
    private func waitForOutput(_ text: String, from process: SupervisedProcess) throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while process.recentOutput != text {
            try #require(ContinuousClock.now < deadline, "the child did not print \(text)")
            usleep(10_000)
        }
    }
}
