/// The PEM files a `WebSocketServer` serves `wss://` with.
///
/// Both files are read once, when the server starts; `start()` fails with a clear reason when
/// either cannot be read or they do not match.
public struct TLSFiles: Sendable, Hashable {
    /// The server certificate, followed by any intermediate certificates (PEM).
    public var certificatePath: String
    /// The private key of the certificate (PEM, unencrypted). Never logged.
    public var privateKeyPath: String

    /// Names the certificate chain and private key files.
    public init(certificatePath: String, privateKeyPath: String) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }
}
