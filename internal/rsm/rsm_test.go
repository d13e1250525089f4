package rsm_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

func parse(t *testing.T, inner string, lim rsm.Limits) (rsm.Request, error) {
	t.Helper()
	el, err := xmlstream.Parse([]byte("<set xmlns='"+rsm.NS+"'>"+inner+"</set>"), xmlstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return rsm.Parse(el, lim)
}

func TestParse(t *testing.T) {
	for i, tc := range []struct {
		inner string
		want  rsm.Request
	}{
		0: {"", rsm.None},
		1: {"<max>10</max>", rsm.Request{Max: 10, Index: -1}},                             // §2.1
		2: {"<max>10</max><after>a</after>", rsm.Request{Max: 10, After: "a", Index: -1}}, // §2.2
		3: {"<max>10</max><before>b</before>", rsm.Request{Max: 10, Before: "b", Index: -1}},
		4: {"<max>10</max><before/>", rsm.Request{Max: 10, Last: true, Index: -1}}, // §2.5
		5: {"<max>10</max><index>30</index>", rsm.Request{Max: 10, Index: 30}},     // §2.4
		6: {"<max>0</max>", rsm.Request{Max: 0, Index: -1}},                        // §2.6: count only
		7: {"<max>1000</max>", rsm.Request{Max: 100, Index: -1}},                   // capped at the limit
		8: {"<max> 5 </max><after> a </after>", rsm.Request{Max: 5, After: "a", Index: -1}},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := parse(t, tc.inner, rsm.Limits{})
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if r, err := rsm.Parse(nil, rsm.Limits{}); err != nil || r != rsm.None {
		t.Fatalf("nil set: %+v %v", r, err)
	}
}

func TestParseRejects(t *testing.T) {
	for i, tc := range []struct{ inner, text string }{
		0: {"<max>-1</max>", "<max/> must be"},
		1: {"<max>ten</max>", "<max/> must be"},
		2: {"<max/>", "<max/> must be"},
		3: {"<index>-3</index>", "<index/> must be"},
		4: {"<after/>", "empty <after/>"},
		5: {"<after>a</after><before>b</before>", "more than one"},
		6: {"<index>1</index><before/>", "more than one"},
		7: {"<after>" + strings.Repeat("a", 9) + "</after>", "longer than 8 bytes"},
		8: {"<before>" + strings.Repeat("a", 9) + "</before>", "longer than 8 bytes"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			_, err := parse(t, tc.inner, rsm.Limits{ID: 8})
			if !errors.Is(err, stanza.ErrBadRequest) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want bad-request with %q", err, tc.text)
			}
		})
	}
	el, _ := xmlstream.Parse([]byte("<set xmlns='urn:other'/>"), xmlstream.Limits{})
	if _, err := rsm.Parse(el, rsm.Limits{}); !errors.Is(err, stanza.ErrBadRequest) {
		t.Fatalf("foreign set: %v", err)
	}
}

func TestReply(t *testing.T) {
	for i, tc := range []struct {
		r    rsm.Reply
		want string
	}{
		0: {rsm.Reply{First: "a", FirstIndex: 0, Last: "c", Count: 800},
			"<set xmlns='" + rsm.NS + "'><first index='0'>a</first><last>c</last><count>800</count></set>"},
		1: {rsm.Reply{First: "a", FirstIndex: -1, Last: "a", Count: -1},
			"<set xmlns='" + rsm.NS + "'><first>a</first><last>a</last></set>"},
		2: {rsm.Reply{FirstIndex: -1, Count: 0}, "<set xmlns='" + rsm.NS + "'><count>0</count></set>"},
	} {
		if got := tc.r.Element().String(); got != tc.want {
			t.Errorf("%d: got %s, want %s", i, got, tc.want)
		}
	}
}

func TestPage(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	req := func(inner string) rsm.Request {
		r, err := parse(t, inner, rsm.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i, tc := range []struct {
		inner string
		page  []string
		rep   rsm.Reply
	}{
		0: {"", []string{"a", "b"}, rsm.Reply{First: "a", FirstIndex: 0, Last: "b", Count: 5}},
		1: {"<max>2</max><after>b</after>", []string{"c", "d"}, rsm.Reply{First: "c", FirstIndex: 2, Last: "d", Count: 5}},
		2: {"<max>2</max><after>e</after>", []string{}, rsm.Reply{FirstIndex: -1, Count: 5}},
		3: {"<max>2</max><before/>", []string{"d", "e"}, rsm.Reply{First: "d", FirstIndex: 3, Last: "e", Count: 5}},
		4: {"<max>2</max><before>d</before>", []string{"b", "c"}, rsm.Reply{First: "b", FirstIndex: 1, Last: "c", Count: 5}},
		5: {"<max>3</max><before>b</before>", []string{"a"}, rsm.Reply{First: "a", FirstIndex: 0, Last: "a", Count: 5}},
		6: {"<max>2</max><index>4</index>", []string{"e"}, rsm.Reply{First: "e", FirstIndex: 4, Last: "e", Count: 5}},
		7: {"<max>0</max>", []string{}, rsm.Reply{FirstIndex: -1, Count: 5}},
		8: {"<index>9</index>", []string{}, rsm.Reply{FirstIndex: -1, Count: 5}},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			page, rep, err := rsm.Page(all, req(tc.inner), 2, id)
			if err != nil || !reflect.DeepEqual(append([]string{}, page...), tc.page) || rep != tc.rep {
				t.Fatalf("got %q %+v %v; want %q %+v", page, rep, err, tc.page, tc.rep)
			}
		})
	}
	if _, _, err := rsm.Page(all, req("<after>zz</after>"), 2, id); !errors.Is(err, stanza.ErrItemNotFound) {
		t.Fatalf("unknown after: %v", err)
	}
}
