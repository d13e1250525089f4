package dlp

// automaton is an Aho-Corasick automaton over ASCII-folded bytes: one pass
// over a text finds every occurrence of every pattern (keywords, the
// built-ins' trigger prefixes, the regexps' prefilter literals), whatever
// their number. Bytes that occur in no pattern share one class, so a row
// of the transition table has one entry per distinct pattern byte (plus
// one), and the table of a site's policies stays in cache.
type automaton struct {
	class  [256]uint8 // byte → column; 0 is every byte no pattern has
	width  int        // columns
	next   []int32    // state*width + class → state
	hasOut []bool     // per state: some pattern ends here
	out    [][]int32  // per state: the patterns ending there (with those of its suffix links)
	lens   []int      // per pattern: its length in bytes
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// step returns the state after byte c.
func (a *automaton) step(s int32, c byte) int32 {
	return a.next[int(s)*a.width+int(a.class[c])]
}

// newAutomaton builds the automaton of patterns (matched ASCII
// case-insensitively); pattern i is reported as i.
func newAutomaton(patterns []string) *automaton {
	a := &automaton{width: 1}
	for _, p := range patterns {
		for k := 0; k < len(p); k++ {
			c := lower(p[k])
			if a.class[c] == 0 && a.width < 256 {
				a.class[c] = uint8(a.width)
				a.width++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	// The trie, in a sparse form first.
	trie := []map[uint8]int32{{}}
	a.out = [][]int32{nil}
	for i, p := range patterns {
		s := int32(0)
		for k := 0; k < len(p); k++ {
			c := a.class[lower(p[k])]
			t, ok := trie[s][c]
			if !ok {
				trie = append(trie, map[uint8]int32{})
				a.out = append(a.out, nil)
				t = int32(len(trie) - 1)
				trie[s][c] = t
			}
			s = t
		}
		a.out[s] = append(a.out[s], int32(i))
		a.lens = append(a.lens, len(p))
	}
	// Breadth-first: fail links, then the goto function completed into a
	// full transition table (no fail link is followed while scanning).
	a.next = make([]int32, len(trie)*a.width)
	fail := make([]int32, len(trie))
	var queue []int32
	for c, t := range trie[0] {
		a.next[int(c)] = t
		queue = append(queue, t)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[fail[s]]...)
		for c := 0; c < a.width; c++ {
			t, ok := trie[s][uint8(c)]
			if !ok {
				a.next[int(s)*a.width+c] = a.next[int(fail[s])*a.width+c]
				continue
			}
			a.next[int(s)*a.width+c] = t
			fail[t] = a.next[int(fail[s])*a.width+c]
			queue = append(queue, t)
		}
	}
	a.hasOut = make([]bool, len(trie))
	for s := range a.out {
		a.hasOut[s] = len(a.out[s]) > 0
	}
	return a
}
