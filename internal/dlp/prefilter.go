package dlp

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Regular expressions are the slow detector (Go's RE2 engine has no DFA
// for them): each is run only when the automaton saw one of the literals
// any of its matches must contain, as RE2's and Hyperscan's prefilters do.
// INV-\d{6} runs only on texts holding "inv-"; an expression without such
// a literal runs on every text (the documentation says so).

// literals is what a subexpression says about the strings it matches:
// exact means every match is one of set; otherwise every match contains
// one of set. A nil set says nothing.
type literals struct {
	exact bool
	set   []string
}

const maxLiterals = 64

// requiredLiterals returns literals (ASCII-folded) of which every match of
// re contains one, or nil when there are none worth looking for.
func requiredLiterals(re string) []string {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return nil
	}
	l := litsOf(r.Simplify())
	if score(l.set) < 1 {
		return nil
	}
	out := make([]string, 0, len(l.set))
	for _, s := range l.set {
		out = append(out, foldASCII(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func score(set []string) int {
	if set == nil {
		return -1
	}
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

func exact(set ...string) literals { return literals{exact: true, set: set} }

func litsOf(r *syntax.Regexp) literals {
	switch r.Op {
	case syntax.OpLiteral:
		if r.Flags&syntax.FoldCase != 0 {
			for _, c := range r.Rune {
				if c >= utf8.RuneSelf {
					return literals{} // Unicode folding: the automaton folds ASCII only
				}
			}
		}
		return exact(string(r.Rune))
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exact("")
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(r.Rune); i += 2 {
			for c := r.Rune[i]; c <= r.Rune[i+1]; c++ {
				if len(set) == 8 {
					return literals{}
				}
				set = append(set, string(c))
			}
		}
		return exact(set...)
	case syntax.OpCapture:
		return litsOf(r.Sub[0])
	case syntax.OpPlus:
		return literals{set: litsOf(r.Sub[0]).set}
	case syntax.OpRepeat:
		if r.Min >= 1 {
			return literals{set: litsOf(r.Sub[0]).set}
		}
		return literals{}
	case syntax.OpAlternate:
		out := literals{exact: true}
		for _, s := range r.Sub {
			l := litsOf(s)
			if l.set == nil || len(out.set)+len(l.set) > maxLiterals {
				return literals{}
			}
			out.exact = out.exact && l.exact
			out.set = append(out.set, l.set...)
		}
		return out
	case syntax.OpConcat:
		return concat(r.Sub)
	}
	return literals{}
}

// concat joins runs of exact children by their cross product and keeps,
// of the parts, the set whose shortest literal is longest.
func concat(subs []*syntax.Regexp) literals {
	cur := []string{""}
	allExact := true
	var best []string
	keep := func(set []string) {
		if score(set) > score(best) {
			best = set
		}
	}
	for _, s := range subs {
		l := litsOf(s)
		if l.exact && len(cur)*len(l.set) <= maxLiterals {
			var next []string
			for _, a := range cur {
				for _, b := range l.set {
					next = append(next, a+b)
				}
			}
			cur = next
			continue
		}
		allExact = false
		keep(cur)
		keep(l.set)
		cur = []string{""}
	}
	if allExact {
		return exact(cur...)
	}
	keep(cur)
	if best != nil && strings.Join(best, "") == "" {
		best = nil
	}
	return literals{set: best}
}
