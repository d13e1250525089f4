package dlp

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"parley/internal/jid"
)

// Detector names of the non-built-in detectors, as incidents show them.
const (
	Keyword = "keyword"
	Regexp  = "regexp"
)

// Engine is a compiled set of policies. It is immutable: a change of
// policies compiles a new one (Filter swaps it atomically).
type Engine struct {
	policies []*compiled
	ac       *automaton
	acPat    []acPattern // per automaton pattern
	// builtin → indexes of the policies that use it
	uses            map[string][]int
	numbers, ibans  bool // card/SSN, IBAN active in some policy
	res             []policyRegexp
	hasKeywordOrKey bool
}

type acPattern struct {
	detector string // a token-shaped built-in, Keyword, or Regexp (a prefilter literal)
	regexps  []int  // Regexp: the regexps (indexes in res) that need it
	word     bool   // keyword: must start and end at word boundaries
	policies []int  // keyword: the policies listing it
}

type policyRegexp struct {
	policy int
	re     *regexp.Regexp
	always bool // no prefilter literal: run on every text
}

// Hit is one match of one policy's detector in a text, as byte offsets.
type Hit struct {
	Policy     int // index in the engine's policies (Engine.Policy)
	Detector   string
	Start, End int
}

// Compile builds an engine from policies; origin says where each came from
// (FromConfig, FromAPI), groups are [dlp.groups]. Names must be unique.
func Compile(policies []Policy, origin []string, groups map[string][]string) (*Engine, error) {
	if len(policies) > MaxPolicies {
		return nil, fmt.Errorf("dlp: %d policies, at most %d", len(policies), MaxPolicies)
	}
	e := &Engine{uses: map[string][]int{}}
	var errs []error
	seen := map[string]bool{}
	for i, p := range policies {
		o := FromConfig
		if i < len(origin) {
			o = origin[i]
		}
		c, err := compile(p, o, groups)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("dlp policy %q: the name is used twice", p.Name))
			continue
		}
		seen[p.Name] = true
		e.policies = append(e.policies, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var patterns []string
	keyword := map[string]int{} // folded keyword → automaton pattern
	for pi, c := range e.policies {
		for _, b := range c.Builtins {
			for _, d := range expand(b) {
				if !slices.Contains(e.uses[d], pi) {
					e.uses[d] = append(e.uses[d], pi)
				}
			}
		}
		for _, k := range c.Keywords {
			f := foldASCII(strings.TrimSpace(k))
			if at, ok := keyword[f]; ok {
				if !slices.Contains(e.acPat[at].policies, pi) {
					e.acPat[at].policies = append(e.acPat[at].policies, pi)
				}
				continue
			}
			keyword[f] = len(patterns)
			patterns = append(patterns, f)
			e.acPat = append(e.acPat, acPattern{detector: Keyword, word: true, policies: []int{pi}})
		}
		for _, r := range c.Regexps {
			lits := requiredLiterals(r)
			for _, l := range lits {
				at, ok := keyword["\x00re:"+l]
				if !ok {
					at = len(patterns)
					keyword["\x00re:"+l] = at
					patterns = append(patterns, l)
					e.acPat = append(e.acPat, acPattern{detector: Regexp})
				}
				e.acPat[at].regexps = append(e.acPat[at].regexps, len(e.res))
			}
			// compile checked the expression
			e.res = append(e.res, policyRegexp{policy: pi, re: regexp.MustCompile(r), always: lits == nil})
		}
	}
	for d := range e.uses {
		for _, t := range triggers[d] {
			patterns = append(patterns, t)
			e.acPat = append(e.acPat, acPattern{detector: d})
		}
	}
	e.numbers = len(e.uses[Card])+len(e.uses[SSN]) > 0
	e.ibans = len(e.uses[IBAN]) > 0
	e.hasKeywordOrKey = len(patterns) > 0
	e.ac = newAutomaton(patterns)
	return e, nil
}

// Policies returns the number of policies.
func (e *Engine) Policies() int { return len(e.policies) }

// Policy returns policy i and where it came from.
func (e *Engine) Policy(i int) (Policy, string) { return e.policies[i].Policy, e.policies[i].origin }

// InScope fills in (indexed by policy) which policies cover a stanza from
// sender to to (bare JIDs) and reports whether any does.
func (e *Engine) InScope(sender, to jid.JID, in []bool) ([]bool, bool) {
	in = in[:0]
	some := false
	for _, c := range e.policies {
		ok := c.applies(sender, to)
		in = append(in, ok)
		some = some || ok
	}
	return in, some
}

// Scan appends to hits every match in text of the policies marked in
// in (from InScope), in one pass over the text.
func (e *Engine) Scan(text string, in []bool, hits []Hit) []Hit {
	add := func(policies []int, det string, start, end int) {
		for _, p := range policies {
			if in[p] {
				hits = append(hits, Hit{Policy: p, Detector: det, Start: start, End: end})
			}
		}
	}
	var groups [][2]int
	var stack [32][2]int
	groups = stack[:0]
	flush := func(end int) {
		g := groups
		if len(g) > 0 && g[0][0] > 0 && isWord(text[g[0][0]-1]) {
			g = g[1:] // glued to a word on the left: not a number of its own
		}
		if len(g) > 0 && end < len(text) && isWord(text[end]) {
			g = g[:len(g)-1]
		}
		if len(g) > 0 {
			numberRun(text, g, len(e.uses[Card]) > 0, len(e.uses[SSN]) > 0, func(det string, s, t int) {
				add(e.uses[det], det, s, t)
			})
		}
		groups = groups[:0]
	}
	var seen [64]bool // regexps whose prefilter literal occurred (the first 64)
	var seenMore map[int]bool
	state := int32(0)
	gStart := -1
	for i := 0; i < len(text); i++ {
		c := text[i]
		if e.hasKeywordOrKey {
			if state = e.ac.step(state, c); e.ac.hasOut[state] {
				e.acOut(text, state, i+1, add, &seen, &seenMore)
			}
		}
		if e.numbers {
			if isDigit(c) {
				if gStart < 0 {
					gStart = i
				}
			} else if gStart >= 0 {
				groups = append(groups, [2]int{gStart, i})
				gStart = -1
				if !((c == ' ' || c == '-') && i+1 < len(text) && isDigit(text[i+1])) || len(groups) == cap(stack) {
					flush(i)
				}
			}
		}
		if e.ibans && c >= 'A' && c <= 'Z' && i+3 < len(text) && text[i+1] >= 'A' && text[i+1] <= 'Z' &&
			isDigit(text[i+2]) && isDigit(text[i+3]) {
			if end, ok := ibanAt(text, i); ok {
				add(e.uses[IBAN], IBAN, i, end)
			}
		}
	}
	if gStart >= 0 {
		groups = append(groups, [2]int{gStart, len(text)})
	}
	if len(groups) > 0 {
		flush(len(text))
	}
	for i, r := range e.res {
		if !in[r.policy] || !(r.always || i < len(seen) && seen[i] || seenMore[i]) {
			continue
		}
		for _, m := range r.re.FindAllStringIndex(text, 1000) {
			if m[1] > m[0] {
				hits = append(hits, Hit{Policy: r.policy, Detector: Regexp, Start: m[0], End: m[1]})
			}
		}
	}
	return hits
}

// foldASCII lowers ASCII letters only, as the automaton does.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}

// acOut handles the automaton patterns ending at end in state: keyword
// and built-in hits are added, regexps whose literal occurred are marked.
func (e *Engine) acOut(text string, state int32, end int, add func([]int, string, int, int), seen *[64]bool, seenMore *map[int]bool) {
	for _, p := range e.ac.out[state] {
		if e.acPat[p].detector != Regexp {
			e.acHit(text, int(p), end, add)
			continue
		}
		for _, r := range e.acPat[p].regexps {
			if r < len(seen) {
				seen[r] = true
				continue
			}
			if *seenMore == nil {
				*seenMore = map[int]bool{}
			}
			(*seenMore)[r] = true
		}
	}
}

// acHit handles automaton pattern p ending at end.
func (e *Engine) acHit(text string, p, end int, add func([]int, string, int, int)) {
	pat := e.acPat[p]
	start := end - e.ac.lens[p]
	if pat.detector == Keyword {
		if start > 0 && isWord(text[start]) && isWord(text[start-1]) ||
			end < len(text) && isWord(text[end-1]) && isWord(text[end]) {
			return
		}
		add(pat.policies, Keyword, start, end)
		return
	}
	if stop, ok := tokenAt(pat.detector, text, start); ok {
		add(e.uses[pat.detector], pat.detector, start, stop)
	}
}

// Verdict is the outcome for one stanza: the strongest action of the
// policies that matched, and every hit.
type Verdict struct {
	Action string // "" when nothing matched
	Hits   []Hit
}

// Decide returns the strongest action among hits.
func (e *Engine) Decide(hits []Hit) string {
	rank := -1
	for _, h := range hits {
		rank = max(rank, e.policies[h.Policy].rank)
	}
	return [...]string{"", Flag, Redact, Block}[rank+1]
}

// Redact returns text with every hit of a redacting policy replaced by its
// policy's replacement; overlapping hits are replaced once.
func (e *Engine) Redact(text string, hits []Hit) string {
	var spans []Hit
	for _, h := range hits {
		if e.policies[h.Policy].Action == Redact {
			spans = append(spans, h)
		}
	}
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b Hit) int { return a.Start - b.Start })
	var b strings.Builder
	at := 0
	for _, h := range spans {
		if h.End <= at {
			continue
		}
		if h.Start > at {
			b.WriteString(text[at:h.Start])
		}
		if h.Start >= at {
			b.WriteString(e.policies[h.Policy].Replacement)
		}
		at = h.End
	}
	b.WriteString(text[at:])
	return b.String()
}
