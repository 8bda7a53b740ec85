package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// requestBodies are bodies the one-pass decoder takes, and bodies it must leave to
// encoding/json.
var requestBodies = []string{
	`{"query":"{ viewer { role } }"}`,
	`{"query":"query($id: String!) {\n  customer(sourceCustomerId: $id) { sourceCustomerId }\n}","variables":{"id":"C1"}}`,
	`{"query":"q","operationName":"Op","variables":{"n":12345678901234567890,"f":1.5e3,"l":[1,"a",null,true],"o":{"k":{}}},"extensions":{"persistedQuery":{"version":1}}}`,
	`{"query":null,"operationName":null,"variables":null,"extensions":null,"documentId":null}`,
	`{"documentId":"sha256:abc","variables":{}}`,
	` { "query" : "\"\\\/\b\f\n\r\t" } `,
	`{}`,
	`{"query":"é ü 世界 🙂"}`,
	`{"query":"\u00e9"}`,              // \u escapes: encoding/json's
	`{"query":"\ud800"}`,              // a lone surrogate
	`{"Query":"{ viewer { role } }"}`, // another case: encoding/json matches it
	`{"query":"a","query":"b"}`,
	`{"query":"a","unknown":1}`,
	`{"query":1}`,
	`{"variables":[]}`,
	`{"variables":"x"}`,
	`{"variables":{"a":1,"a":2}}`,
	`[]`,
	`"query"`,
	``,
	`{"query":"a"`,
	`{"query":"a"} {}`,
	"{\"query\":\"\xff\"}",
	`{"variables":{"s":"\ud83d\ude00","bad":"\udc00"}}`,
}

func TestDecodeSimpleMatchesEncodingJSON(t *testing.T) {
	simple := 0
	for _, body := range requestBodies {
		if checkDecodeSimple(t, []byte(body)) {
			simple++
		}
	}
	if simple < 8 {
		t.Errorf("only %d bodies took the one-pass decoder", simple)
	}
}

func FuzzDecodeSimple(f *testing.F) {
	for _, body := range requestBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecodeSimple(t, body) })
}

// checkDecodeSimple fails when the one-pass decoder takes body and decodes it otherwise than
// encoding/json does, and reports whether it took it.
func checkDecodeSimple(t *testing.T, body []byte) bool {
	t.Helper()
	var got requestParams
	if !got.decodeSimple(body) {
		if !reflect.DeepEqual(got, requestParams{}) {
			t.Errorf("%q: refused but decoded %+v", body, got)
		}
		return false
	}
	var want requestParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Errorf("%q: decoded %+v, encoding/json refuses it: %v", body, got, err)
		return true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q: decoded\n%#v\nencoding/json:\n%#v", body, got, want)
	}
	return true
}

// The document cache gives each quoted string its own text, stays within its bounds and
// leaves long strings out.
func TestTextCache(t *testing.T) {
	c := textCache{max: 4, maxLen: 16}
	for round := 0; round < 3; round++ {
		for i := 0; i < 10; i++ {
			raw := []byte(fmt.Sprintf(`"q\n%d"`, i))
			var s string
			if !c.unquote(raw, &s) || s != fmt.Sprintf("q\n%d", i) {
				t.Fatalf("unquote(%s) = %q", raw, s)
			}
			if len(c.m) > c.max {
				t.Fatalf("%d strings kept, at most %d", len(c.m), c.max)
			}
		}
	}
	var s string
	long := []byte(`"` + strings.Repeat("x", 20) + `"`)
	if !c.unquote(long, &s) || s != strings.Repeat("x", 20) {
		t.Fatalf("unquote of a long string = %q", s)
	}
	if _, kept := c.m[string(long)]; kept {
		t.Error("a string longer than maxLen was kept")
	}
	if c.unquote([]byte(`"bad\x"`), &s) {
		t.Error("an invalid escape was unquoted")
	}
}
