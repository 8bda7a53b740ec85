package models

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func readReference(t testing.TB) []byte {
	b, err := os.ReadFile("../testdata/reference-example.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeBatch reads {"customers": [...]} into inputs the way the GraphQL layer hands them to
// the validator; networkIdentifier may be a number or a numeric string.
func decodeBatch(doc []byte) ([]*CustomerInput, error) {
	var raw struct{ Customers []map[string]any }
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, err
	}
	for _, c := range raw.Customers {
		accounts, _ := c["accounts"].([]any)
		for _, a := range accounts {
			am, _ := a.(map[string]any)
			cards, _ := am["cards"].([]any)
			for _, k := range cards {
				km, _ := k.(map[string]any)
				if v, ok := km["networkIdentifier"]; ok && v != nil {
					n, err := UnmarshalIntOrString(v)
					if err != nil {
						return nil, err
					}
					km["networkIdentifier"] = n
				}
			}
		}
	}
	b, err := json.Marshal(raw.Customers)
	if err != nil {
		return nil, err
	}
	var out []*CustomerInput
	return out, json.Unmarshal(b, &out)
}

// FuzzValidateCustomers feeds arbitrary batches to the validator: it never panics, it marks a
// customer invalid exactly when a problem lies under its path, every problem has a code and a
// message, and the rows of the valid customers can always be built. The seed corpus (the
// reference example and variations of it, plus testdata/fuzz) runs in every `go test`.
func FuzzValidateCustomers(f *testing.F) {
	ref := string(readReference(f))
	f.Add(ref)
	for _, r := range []struct{ from, to string }{
		{`"last4": "2345"`, `"last4": "23a5"`},
		{`"country": "US"`, `"country": "zz"`},
		{`"status": "OPEN",
                    "type"`, `"status": "CLOSED",
                    "type"`},
		{`"alertOptInStatus": ["ALL"]`, `"alertOptInStatus": ["ALL", "NEW", "NEW"]`},
		{`"alertOptInStatus": ["ALL"]`, `"alertOptInStatus": []`},
		{`"networkIdentifier": "3"`, `"networkIdentifier": 9`},
		{`"iin": "123456"`, `"iin": "412345"`},
		{`"sourceCustomerIds": [`, `"sourceCustomerIds": ["x", "x", `},
		{`"accounts": [`, `"accounts": [null, `},
		{`"cards": [`, `"cards": [null, `},
		{`"primarySourceCustomerId": "afa2r21-25f9-4501-b9db-e78afa73c0e3"`, `"primarySourceCustomerId": null`},
	} {
		f.Add(strings.Replace(ref, r.from, r.to, 1))
	}
	// The same customer twice, and a joint account under a second holder.
	var doc struct{ Customers []json.RawMessage }
	if err := json.Unmarshal([]byte(ref), &doc); err != nil {
		f.Fatal(err)
	}
	c := string(doc.Customers[0])
	f.Add(`{"customers":[` + c + `,` + c + `]}`)
	second := strings.NewReplacer(`"sourceCustomerId": "afa2r21-25f9-4501-b9db-e78afa73c0e3",
            "sourceParentCustomerId"`, `"sourceCustomerId": "2e052a88-6ae1-4b78-8d96-f3a037402567",
            "sourceParentCustomerId"`, `"sourceCustomerId": "afa2r21-25f9-4501-b9db-e78afa73c0e3",
                            "last4"`, `"sourceCustomerId": "2e052a88-6ae1-4b78-8d96-f3a037402567",
                            "last4"`).Replace(c)
	f.Add(`{"customers":[` + c + `,` + second + `]}`)
	f.Add(`{"customers":[` + c + `,` + strings.Replace(second, `"type": "DDA"`, `"type": "SAV"`, 1) + `]}`)
	f.Add(`{"customers":[{}]}`)
	f.Add(`{"customers":[null]}`)

	f.Fuzz(func(t *testing.T, doc string) {
		in, err := decodeBatch([]byte(doc))
		if err != nil {
			return // not the schema's types: refused before validation
		}
		problems, invalid := ValidateCustomers(in)
		if len(invalid) != len(in) {
			t.Fatalf("invalid has %d entries for %d customers", len(invalid), len(in))
		}
		under := make([]bool, len(in))
		for _, p := range problems {
			if p.Code == "" || p.Message == "" || !p.Code.IsValid() {
				t.Fatalf("problem without code or message: %+v", p)
			}
			i := -1
			rest, ok := strings.CutPrefix(p.Path, "customers[")
			if ok {
				for j, r := range rest {
					if r == ']' {
						i = atoi(rest[:j])
						break
					}
				}
			}
			if i < 0 || i >= len(in) {
				t.Fatalf("problem outside the batch: %+v", p)
			}
			under[i] = true
		}
		for i := range in {
			if under[i] != invalid[i] {
				t.Fatalf("customers[%d]: invalid=%v but problems under it=%v: %+v", i, invalid[i], under[i], problems)
			}
		}
		rows := BuildRows(in, func(i int) bool { return !invalid[i] })
		valid := 0
		for _, bad := range invalid {
			if !bad {
				valid++
			}
		}
		if len(rows.Customers) != valid {
			t.Fatalf("rows: %d customers, want %d", len(rows.Customers), valid)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' || n > 1<<20 {
			return -1
		}
		n = n*10 + int(r-'0')
	}
	return n
}
