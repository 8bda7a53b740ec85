package db

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"
)

// marshalledCursor is a cursor as json.Marshal writes it, which encodeCursor must equal.
func marshalledCursor(order string, key ...string) string {
	b, _ := json.Marshal(cursor{Order: order, Key: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestEncodeCursorIsJSONMarshal(t *testing.T) {
	keys := [][]string{
		{"000198135422"},
		{"ACC-1", "000198135422", "1234"},
		{"2024-01-02T03:04:05.123456789Z", "000198135422"},
		{""},
		{},
		{`a"b`}, {`a\b`}, {"a<b"}, {"a>b"}, {"a&b"}, {"tab\t"}, {"\x7f"},
		{"é"}, {"\u2028"}, {"\xff"}, {"ok", "\x01"},
	}
	for _, k := range keys {
		for _, order := range []string{"card", "id", "creation_date", `o"rder`} {
			got, want := encodeCursor(order, k...), marshalledCursor(order, k...)
			if got != want {
				t.Errorf("encodeCursor(%q, %q) = %s, json.Marshal's is %s", order, k, got, want)
			}
			back, err := decodeCursor(got, order, len(k))
			if order == `o"rder` || slices.ContainsFunc(k, func(s string) bool { return s == "\xff" || s == "\x01" || s == "tab\t" }) {
				continue // decodeCursor refuses text a key cannot hold
			}
			if err != nil || !slices.Equal(back, k) {
				t.Errorf("decodeCursor(encodeCursor(%q, %q)) = %q, %v", order, k, back, err)
			}
		}
	}
}

func FuzzEncodeCursorIsJSONMarshal(f *testing.F) {
	f.Add("card", "ACC-1", "000198135422", "1234")
	f.Add("id", "a<b", "\u2028", "\xff")
	f.Fuzz(func(t *testing.T, order, a, b, c string) {
		if got, want := encodeCursor(order, a, b, c), marshalledCursor(order, a, b, c); got != want {
			t.Errorf("encodeCursor(%q, %q, %q, %q) = %s, json.Marshal's is %s", order, a, b, c, got, want)
		}
	})
}
