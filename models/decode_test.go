package models

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A decoder keeps the values of fields that repeat (enum values, countries, organizations,
// portfolios, dates): customers decoded one after the other by one decoder are the customers
// fresh decoders make of each, whatever was kept before: the same value escaped or not, a date
// as a date and as a date-time, values too long to keep, and a customer that fails between
// others.
func TestInputDecoderKeepsRepeatedValues(t *testing.T) {
	ref := readReference(t)
	var doc struct{ Customers []json.RawMessage }
	if err := json.Unmarshal(ref, &doc); err != nil {
		t.Fatal(err)
	}
	first := string(doc.Customers[0])
	long := strings.Repeat("O", maxKeptLen+1)
	customers := []string{
		first,
		first,
		strings.Replace(first, `"country": "US"`, `"country": "U\u0053"`, 1),
		strings.Replace(first, `"organizationId": "`, `"organizationId": "`+long, 1),
		strings.Replace(first, `"organizationId": "`, `"organizationId": "`+long, 1),
		strings.Replace(first, `"customerCreationDate": "`, `"customerCreationDate": "x`, 1), // fails
		strings.Replace(first, `"customerCreationDate": "2017-01-01T08:00:00Z"`, `"customerCreationDate": "2017-01-01"`, 1),
		strings.Replace(first, `"customerCreationDate": "2017-01-01T08:00:00Z"`, `"customerCreationDate": "2017-01-01T06:00:00-02:00"`, 1),
		first,
	}
	if customers[6] == first || customers[7] == first || customers[2] == first || customers[3] == first {
		t.Fatalf("the reference example's first customer changed; its values here no longer match:\n%s", first)
	}
	kept := NewInputDecoder()
	for i, raw := range customers {
		got, gotOK := kept.Decode([]byte(raw))
		want, wantOK := NewInputDecoder().Decode([]byte(raw))
		if gotOK != wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("customer %d: %v %s, want %v %s", i, gotOK, dump(got), wantOK, dump(want))
		}
		if (i == 5) == gotOK {
			t.Errorf("customer %d decoded: %v", i, gotOK)
		}
	}
	if len(kept.texts) == 0 || len(kept.dates) == 0 {
		t.Errorf("nothing kept: %d texts, %d dates", len(kept.texts), len(kept.dates))
	}
	for s := range kept.texts {
		if len(s) > maxKeptLen {
			t.Errorf("kept a value of %d bytes", len(s))
		}
	}
	// However many distinct values come, at most maxKept of each are kept.
	for i := range maxKept + 10 {
		org := fmt.Sprintf(`"organizationId": "ORG-%d`, i)
		if _, ok := kept.Decode([]byte(strings.Replace(first, `"organizationId": "`, org, 1))); !ok {
			t.Fatalf("customer with %s does not decode", org)
		}
	}
	if len(kept.texts) > maxKept {
		t.Errorf("%d values kept, more than %d", len(kept.texts), maxKept)
	}
}

func dump(c *CustomerInput) string {
	b, _ := json.Marshal(c)
	return string(b)
}
