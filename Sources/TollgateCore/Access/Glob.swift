/// Shell-style model patterns for key allow-lists (SPEC §3): `*` any run of characters, `?` one
/// character, everything else literal. `gpt-4o*` allows `gpt-4o` and `gpt-4o-mini`.
package enum Glob {
    package static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        // Iterative match with one backtrack point: linear for patterns without nested stars.
        var pi = 0, ti = 0
        var star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Whether any pattern matches; an empty list allows every model.
    package static func allows(_ patterns: [String], _ text: String) -> Bool {
        patterns.isEmpty || patterns.contains { matches($0, text) }
    }
}
