/// A problem with an input file, pinned to the file and line where it was found.
///
/// Every reader in QoESim reports bad input this way, so a user always sees
/// `FILE:LINE: problem` and the command exits with status 1.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Path of the offending file, as given by the user.
    public let file: String
    /// 1-based line number; 0 when the problem concerns the file as a whole.
    public let line: Int
    /// What is wrong, in words, ideally with what to do about it.
    public let problem: String

    /// An error at `file`:`line` (line 0: the file as a whole) with `problem` in words.
    public init(file: String, line: Int, _ problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        line > 0 ? "\(file):\(line): \(problem)" : "\(file): \(problem)"
    }
}
