import Foundation

/// How a live run knows that a port is served by its own container: it starts each
/// container with `qoesim-infer serve --nonce N` (N: the run id and the job's index), and
/// the server answers the line `hello` with `qoesim-infer N`. Another program on the
/// port, or another run's container, answers otherwise.
public enum ServeHandshake {
    /// What a port said.
    public enum Answer: Equatable, Sendable {
        /// Our container.
        case ours
        /// Something listens, but it is not our container (what it said, or why not).
        case other(String)
        /// Nothing accepts a connection yet.
        case nothing
    }

    /// Connects to 127.0.0.1:`port`, says `hello`, and compares the answer with `nonce`
    /// (waiting at most `timeout` seconds for it).
    public static func check(port: Int, nonce: String, timeout: Double = 2) -> Answer {
        let fd = connectLoopback(port)
        guard fd >= 0 else { return .nothing }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let hello = "hello\n"
        guard hello.withCString({ send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) == hello.utf8.count else {
            return .other("the connection closed before the greeting")
        }
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while !line.contains(10), line.count < 1024 {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return .other(line.isEmpty ? "no answer to hello within \(timeout) s" : String(decoding: line, as: UTF8.self)) }
            line.append(contentsOf: chunk[0..<n])
        }
        let answer = String(decoding: line.prefix { $0 != 10 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = "quit\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        return answer == "qoesim-infer \(nonce)" ? .ours : .other(String(answer.prefix(120)))
    }
}
