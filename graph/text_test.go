package graph

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

const marker = "\uffff"

func TestMarkJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"plain é 😀 \ufffd"}`:   `{"a":"plain é 😀 \ufffd"}`, // untouched
		"{\"a\":\"x\xffy\"}":         `{"a":"x` + marker + `y"}`,
		"{\"a\":\"\xe2\x82\"}":       `{"a":"` + marker + marker + `"}`,
		"{\"a\":\"\xed\xa0\x80\"}":   `{"a":"` + marker + marker + marker + `"}`,
		`{"a":"\ud800"}`:             `{"a":"\uffff"}`,
		`{"a":"\uDC00x"}`:            `{"a":"\uffffx"}`,
		`{"a":"\ud800\u0041"}`:       `{"a":"\uffff\u0041"}`,
		`{"a":"\ud800\ud800\udc00"}`: `{"a":"\uffff\ud800\udc00"}`,
		`{"a":"\ud83d\ude00"}`:       `{"a":"\ud83d\ude00"}`,
		`{"a":"\\ud800"}`:            `{"a":"\\ud800"}`, // an escaped backslash, then text
		`{"a":"\\\ud800"}`:           `{"a":"\\\uffff"}`,
		`{"\ud800":1}`:               `{"\uffff":1}`,
		"{\"a\":\"\\\xff\"}":         "{\"a\":\"\\" + marker + "\"}",
		`{"a":"\ud8`:                 `{"a":"\ud8`,
	} {
		if got := string(markJSON([]byte(in))); got != want {
			t.Errorf("markJSON(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMarkDocument(t *testing.T) {
	for in, want := range map[string]string{
		`{ a(x: "\ud800") }`:               `{ a(x: "\uffff") }`,
		`{ a(x: "\ud83d\ude00\udc00") }`:   `{ a(x: "\ud83d\ude00\uffff") }`,
		`{ a(x: "\\ud800") }`:              `{ a(x: "\\ud800") }`,
		`{ a(x: """\ud800""") }`:           `{ a(x: """\ud800""") }`, // block strings have no escapes
		`{ a(x: """\""" \ud800""") }`:      `{ a(x: """\""" \ud800""") }`,
		"# \\ud800\n{ a(x: \"\\ud800\") }": "# \\ud800\n{ a(x: \"\\uffff\") }",
		`{ a(x: "\u{D800}") }`:             `{ a(x: "\u{D800}") }`, // refused by the lexer
	} {
		if got := markDocument(in); got != want {
			t.Errorf("markDocument(%q) = %q, want %q", in, got, want)
		}
	}
}

// unmark reads the marker as U+FFFD, which is what the decoders make of what it replaces.
func unmark(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, marker, "\ufffd")
	case []any:
		for i := range x {
			x[i] = unmark(x[i])
		}
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[strings.ReplaceAll(k, marker, "\ufffd")] = unmark(e)
		}
		return out
	}
	return v
}

// FuzzMarkJSON: the rewrite keeps valid JSON valid and invalid JSON invalid, changes nothing
// but what the decoder would have turned into U+FFFD (decoding both and reading the marker as
// U+FFFD gives the same value), leaves valid UTF-8 without unpaired surrogate escapes (it
// changes nothing the second time), and never grows a text more than three times.
func FuzzMarkJSON(f *testing.F) {
	for _, s := range []string{`{"query":"{ a }","variables":{"id":"\ud800","x":["\udc00\ud83d\ude00"]}}`,
		"{\"a\":\"\xff\xfe\xed\xa0\x80\"}", `{"a":"\\\\\ud800\\"}`, `"\ud800\ud800\udc00"`, `["\uD83D\uDE00", "\u00e9"]`, `{"a":"\ud8`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := markJSON(in)
		if !utf8.Valid(out) {
			t.Fatalf("markJSON(%q) = %q: not valid UTF-8", in, out)
		}
		if len(out) > 3*len(in) {
			t.Fatalf("markJSON(%q) grew to %d bytes", in, len(out))
		}
		if again := markJSON(out); string(again) != string(out) {
			t.Fatalf("markJSON is not idempotent on %q: %q, then %q", in, out, again)
		}
		var a, b any
		errA, errB := json.Unmarshal(in, &a), json.Unmarshal(out, &b)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("validity changed: %q (%v) became %q (%v)", in, errA, out, errB)
		}
		if errA == nil && !reflect.DeepEqual(unmark(a), unmark(b)) {
			t.Fatalf("markJSON(%q) = %q decodes to %#v, want %#v", in, out, unmark(b), unmark(a))
		}
	})
}

// FuzzMarkDocument: the rewrite keeps the document's tokens, changing string values only
// where the lexer would have written U+FFFD, and changes nothing the second time.
func FuzzMarkDocument(f *testing.F) {
	for _, s := range []string{`{ a(x: "\ud800", y: """\ud800""") # \ud800` + "\n" + `}`,
		`query { a(x: "\ud83d\ude00\udc00\\ud800") }`, `{ a(x: "\u{1F600}\uD800") }`, `"\ud8`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return // invalid bytes are rewritten with the JSON or query string that carried them
		}
		out := markDocument(in)
		if len(out) != len(in) {
			t.Fatalf("markDocument(%q) = %q changed the length", in, out)
		}
		if again := markDocument(out); again != out {
			t.Fatalf("markDocument is not idempotent on %q: %q, then %q", in, out, again)
		}
		lexA, lexB := lexer.New(&ast.Source{Input: in}), lexer.New(&ast.Source{Input: out})
		for range 10000 {
			ta, errA := lexA.ReadToken()
			tb, errB := lexB.ReadToken()
			if (errA == nil) != (errB == nil) {
				t.Fatalf("lexing changed: %q (%v) became %q (%v)", in, errA, out, errB)
			}
			if errA != nil || ta.Kind == lexer.EOF {
				return
			}
			va, vb := strings.ReplaceAll(ta.Value, marker, "\ufffd"), strings.ReplaceAll(tb.Value, marker, "\ufffd")
			if ta.Kind != tb.Kind || va != vb {
				t.Fatalf("markDocument(%q) = %q: token %v %q became %v %q", in, out, ta.Kind, ta.Value, tb.Kind, tb.Value)
			}
		}
	})
}
