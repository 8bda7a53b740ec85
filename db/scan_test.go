package db

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The direct split of JSON string arrays must agree with json.Unmarshal wherever it answers.
func FuzzSplitJSONStrings(f *testing.F) {
	for _, s := range []string{`[]`, `["a"]`, `["C1","C2"]`, `["a","b",""]`, `["\u00e9"]`, `["a\"b"]`, `[ "a" ]`,
		`["a",]`, `["a""b"]`, `null`, `["é","日本"]`, "[\"\x01\"]", "[\"\xff\"]", `["a","b"`, `[","]`, `["a"],`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, ok := splitJSONStrings[string](text)
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatalf("split %q as %q, json.Unmarshal refuses it: %v", text, got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split %q as %q, json.Unmarshal as %q", text, got, want)
		}
	})
}

func TestSplitJSONStrings(t *testing.T) {
	for text, want := range map[string][]string{`[]`: {}, `["C1"]`: {"C1"}, `["C1","C2","C3"]`: {"C1", "C2", "C3"}} {
		got, ok := splitJSONStrings[string](text)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("splitJSONStrings(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
	for _, text := range []string{`["a\"b"]`, `[ "a"]`, `null`, `["a",]`} {
		if got, ok := splitJSONStrings[string](text); ok {
			t.Errorf("splitJSONStrings(%q) = %q; want it left to json.Unmarshal", text, got)
		}
	}
}
