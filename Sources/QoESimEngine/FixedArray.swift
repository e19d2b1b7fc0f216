/// A fixed-size, non-copyable array for simulation state that is indexed on every event.
///
/// It owns one buffer, allocated at `init` and freed when the value goes away; it never
/// grows. Because nobody else can hold a reference to the buffer, element access needs
/// no copy-on-write uniqueness check and no reference counting, which `Array` pays on
/// every mutation through a stored property. Indices are still bounds-checked.
public struct FixedArray<Element>: ~Copyable {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    /// Number of elements.
    public let count: Int

    /// An array of `count` copies of `value`.
    public init(repeating value: Element, count: Int) {
        precondition(count >= 0)
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: value, count: count)
    }

    /// An array holding `elements`.
    public init(_ elements: some Collection<Element>) {
        count = elements.count
        base = .allocate(capacity: max(count, 1))
        var i = 0
        for e in elements {
            (base + i).initialize(to: e)
            i += 1
        }
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Valid indices, `0 ..< count`.
    @inlinable public var indices: Range<Int> { 0..<count }

    /// The element at `i` (a precondition checks that `i` is in ``indices``).
    @inlinable public subscript(i: Int) -> Element {
        unsafeAddress {
            precondition(i >= 0 && i < count, "FixedArray index \(i) outside 0..<\(count)")
            return UnsafePointer(base + i)
        }
        unsafeMutableAddress {
            precondition(i >= 0 && i < count, "FixedArray index \(i) outside 0..<\(count)")
            return base + i
        }
    }

    /// Elements `range` as a buffer. It points into this array: use it only while the
    /// array lives and those elements are not written.
    @inlinable public func buffer(_ range: Range<Int>) -> UnsafeBufferPointer<Element> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "FixedArray range \(range) outside 0..<\(count)")
        return UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Whether any element satisfies `predicate`.
    @inlinable public func contains(where predicate: (Element) throws -> Bool) rethrows -> Bool {
        for i in 0..<count where try predicate(base[i]) { return true }
        return false
    }
}

extension FixedArray: @unchecked Sendable where Element: Sendable {}
