/// A map that keeps a byte budget by evicting the least recently used entries: O(1) get, insert and
/// evict (a dictionary into a doubly linked list kept in an array, free slots reused).
///
/// Not thread-safe; the response cache holds it under a lock.
package struct LRUMap<Value> {
    private struct Slot {
        var key: String
        var value: Value?
        var cost: Int
        var prev: Int
        var next: Int
    }

    private var slots: [Slot] = []
    private var index: [String: Int] = [:]
    private var free: [Int] = []
    /// Most recently used; -1 when empty.
    private var head = -1
    /// Least recently used; -1 when empty.
    private var tail = -1
    package private(set) var totalCost = 0
    package let maxCost: Int

    package init(maxCost: Int) {
        self.maxCost = max(0, maxCost)
    }

    package var count: Int { index.count }

    /// The value, marked most recently used.
    package mutating func get(_ key: String) -> Value? {
        guard let i = index[key] else { return nil }
        moveToFront(i)
        return slots[i].value
    }

    /// Inserts or replaces, then evicts least recently used entries until within the budget.
    /// A value costing more than the whole budget is not kept. Returns the keys evicted.
    @discardableResult
    package mutating func set(_ key: String, _ value: Value, cost: Int) -> [String] {
        remove(key)
        guard cost <= maxCost else { return [] }
        let slot = Slot(key: key, value: value, cost: cost, prev: -1, next: head)
        let i: Int
        if let reused = free.popLast() {
            slots[reused] = slot
            i = reused
        } else {
            slots.append(slot)
            i = slots.count - 1
        }
        if head >= 0 { slots[head].prev = i }
        head = i
        if tail < 0 { tail = i }
        index[key] = i
        totalCost += cost
        var evicted: [String] = []
        while totalCost > maxCost, tail >= 0, tail != i {
            let victim = slots[tail].key
            remove(victim)
            evicted.append(victim)
        }
        return evicted
    }

    package mutating func remove(_ key: String) {
        guard let i = index.removeValue(forKey: key) else { return }
        unlink(i)
        totalCost -= slots[i].cost
        slots[i].value = nil
        free.append(i)
    }

    /// Removes every entry `shouldRemove` selects.
    package mutating func removeAll(where shouldRemove: (String, Value) -> Bool) {
        for (key, i) in index where shouldRemove(key, slots[i].value!) { remove(key) }
    }

    private mutating func unlink(_ i: Int) {
        let (p, n) = (slots[i].prev, slots[i].next)
        if p >= 0 { slots[p].next = n } else { head = n }
        if n >= 0 { slots[n].prev = p } else { tail = p }
        slots[i].prev = -1
        slots[i].next = -1
    }

    private mutating func moveToFront(_ i: Int) {
        guard head != i else { return }
        unlink(i)
        slots[i].next = head
        if head >= 0 { slots[head].prev = i }
        head = i
        if tail < 0 { tail = i }
    }
}
