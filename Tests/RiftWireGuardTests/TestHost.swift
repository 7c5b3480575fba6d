import Glibc
import RiftProtocol
import RiftSupport
import Testing

/// What the host offers the tests that drive real interfaces, and small helpers for them.
enum TestHost {
    static let isRoot = geteuid() == 0
    static let missingTools = ["ip", "wg", "wireguard-go", "pgrep", "ping", "setpriv"].filter {
        Subprocess.executablePath(named: $0) == nil
    }
    static let hasTun = access("/dev/net/tun", R_OK | W_OK) == 0

    /// Whether wireguard-go devices can be created here.
    static let canRunWireGuardGo = isRoot && missingTools.isEmpty && hasTun
    static let wireGuardGoRequirement: Comment = """
        skipped: needs root (CAP_NET_ADMIN), /dev/net/tun and the programs ip, wg, wireguard-go, pgrep, ping and setpriv \
        (packages iproute2, wireguard-tools, wireguard-go, procps, iputils-ping, util-linux); CI has all of them
        """

    /// Whether the kernel can create WireGuard interfaces (probed by creating and deleting one).
    static let kernelHasWireGuard: Bool = {
        guard isRoot, missingTools.isEmpty else { return false }
        let name = randomName("rgk")
        guard attempt(["ip", "link", "add", "dev", name, "type", "wireguard"]) else { return false }
        _ = attempt(["ip", "link", "delete", "dev", name])
        return true
    }()
    static let kernelRequirement: Comment = "skipped: needs root and a kernel with WireGuard (this one has no wireguard module)"

    /// `prefix` followed by six random lowercase letters and digits.
    static func randomName(_ prefix: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + String((0..<6).map { _ in alphabet.randomElement()! })
    }

    /// Runs `command`; its standard output, or a thrown `SubprocessError` carrying standard error.
    @discardableResult
    static func run(_ command: [String], input: String = "", timeout: Duration = .seconds(10)) throws -> String {
        try Subprocess.run(command, input: Array(input.utf8), timeout: timeout).text
    }

    /// Whether `command` exits with status 0.
    static func attempt(_ command: [String], timeout: Duration = .seconds(10)) -> Bool {
        (try? Subprocess.run(command, timeout: timeout)) != nil
    }

    /// A fresh WireGuard key pair from `wg genkey` and `wg pubkey`.
    static func keyPair() throws -> (privateKey: String, publicKey: PublicKey) {
        let privateKey = try run(["wg", "genkey"]).filter { !$0.isWhitespace }
        let publicKey = try run(["wg", "pubkey"], input: privateKey + "\n").filter { !$0.isWhitespace }
        return (String(privateKey), try PublicKey(base64: String(publicKey)))
    }

    /// Whether a wireguard-go process for `interface` is running.
    static func wireGuardGoRuns(for interface: String) -> Bool {
        attempt(["pgrep", "-f", "wireguard-go -f \(interface)$"])
    }

    /// Whether the UAPI socket file of `interface` exists.
    static func socketExists(for interface: String) -> Bool {
        access("/var/run/wireguard/\(interface).sock", F_OK) == 0
    }
}
