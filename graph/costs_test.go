package graph

import (
	"encoding/json"
	"strings"
	"testing"
)

// jsonBudget never takes more than the JSON's length, so a key it refuses is surely too long.
func TestJSONBudgetIsALowerBound(t *testing.T) {
	for _, body := range []string{`null`, `1`, `"a"`, `"é\n"`, `[]`, `[1]`, `[1,2,"x"]`, `{}`, `{"a":1}`, `{"a":[{"b":"c"},null,true]}`, `[[],[[]],{}]`} {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		enc, _ := json.Marshal(v)
		if used := 1000 - jsonBudget(v, 1000); used > len(enc) {
			t.Errorf("%s: budget takes %d bytes, the JSON has %d", body, used, len(enc))
		}
	}
	if jsonBudget(make([]any, 300), 512) >= 0 {
		t.Error("300 nulls fit in 512 bytes")
	}
}
