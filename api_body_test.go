package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A body that could be read two ways is refused whole: nothing in it runs, and the error
// says which key, or what follows the value.
func TestAmbiguousBodiesAreRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		read := `{ customer(sourceCustomerId: \"C1\") { country } }`
		del := `mutation { deleteCustomer(sourceCustomerId: \"C1\") { deletedId } }`
		c2 := string(must(json.Marshal(customer("C2", "O1"))))
		if !strings.Contains(c2, `"country":"US"`) {
			t.Fatalf("the fixture has no country to duplicate: %s", c2)
		}
		ingest := `mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { userErrors { path } } }`
		cases := []struct{ name, body, want string }{
			{"query twice", `{"query": "` + read + `", "query": "` + del + `"}`, `the key "query" twice`},
			{"query in two cases", `{"query": "` + read + `", "Query": "` + del + `"}`, `the keys "query" and "Query"`},
			{"a second request after the first", `{"query": "` + read + `"} {"query": "` + del + `"}`, "more after its JSON value"},
			{"a key twice in an input object", `{"query": "` + ingest + `", "variables": {"c": [` +
				strings.Replace(c2, `"country":"US"`, `"country":"US","country":"CA"`, 1) + `]}}`, `the key "country" twice in variables.c[0]`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.postRaw(t, []byte(c.body))
				if r.status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].code() != "BAD_USER_INPUT" ||
					!strings.Contains(r.Errors[0].Message, c.want) || r.Data != nil {
					t.Errorf("got %d %s %+v, want 400 BAD_USER_INPUT saying %s", r.status, r.Data, r.Errors, c.want)
				}
			})
		}
		if n := e.customerCount(t); n != 1 {
			t.Errorf("stored customers: got %d, want 1 (C1 kept, C2 not written)", n)
		}
		// The same request, unambiguous, runs.
		if r := e.postRaw(t, []byte(`{"query": "`+read+`"}`+"\n")); r.status != 200 || !strings.Contains(string(r.Data), `"US"`) {
			t.Errorf("plain request: got %d %s %+v", r.status, r.Data, r.Errors)
		}
	})
}
