@testable import RiftAgent
import Testing

@Suite("the agent follows a hub that pings more often than the agent does")
struct HubHeartbeatTests {
    @Test("a shorter hub interval is followed: a ping each interval, lost after three")
    func shorterIntervalFollowed() {
        #expect(HubHeartbeat.following(hubSeconds: 1) == HubHeartbeat(pingInterval: .seconds(1), pongTimeout: .seconds(3)))
        #expect(HubHeartbeat.following(hubSeconds: 5) == HubHeartbeat(pingInterval: .seconds(5), pongTimeout: .seconds(15)))
    }

    @Test("the hub's default interval and longer ones keep the agent's own heartbeat")
    func longerIntervalIgnored() {
        for seconds: Int64 in [20, 21, 60, 3_600] {
            #expect(HubHeartbeat.following(hubSeconds: seconds) == .agentDefault, "\(seconds) s")
        }
        #expect(HubHeartbeat.agentDefault == HubHeartbeat(pingInterval: .seconds(20), pongTimeout: .seconds(60)))
    }
}
