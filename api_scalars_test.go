package main

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// scalarAnswer is an answer as sent: its status, and whether it has a data member at all.
type scalarAnswer struct {
	status  int
	hasData bool
	errors  []gqlError
	raw     string
}

// postAccepting posts a request with the given Accept header (none when empty).
func postAccepting(t *testing.T, e *env, accept, query string, vars any) scalarAnswer {
	t.Helper()
	req := must(http.NewRequest(http.MethodPost, e.url+"/query", strings.NewReader(jsonString(obj{"query": query, "variables": vars}))))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp := must(http.DefaultClient.Do(req))
	defer resp.Body.Close()
	raw := must(io.ReadAll(resp.Body))
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		t.Fatalf("answer is not a JSON object (%d): %s", resp.StatusCode, raw)
	}
	var errs []gqlError
	if m, ok := members["errors"]; ok {
		if err := json.Unmarshal(m, &errs); err != nil {
			t.Fatal(err)
		}
	}
	collectMessages(errs)
	_, hasData := members["data"]
	return scalarAnswer{status: resp.StatusCode, hasData: hasData, errors: errs, raw: string(raw)}
}

// requestError returns the one error of a, which must be a request error answered with the
// status the Accept header calls for (GraphQL over HTTP): 400 for
// application/graphql-response+json, else 200; and without data.
func (a scalarAnswer) requestError(t *testing.T, accept string) gqlError {
	t.Helper()
	wantStatus := http.StatusOK
	if accept == "application/graphql-response+json" {
		wantStatus = http.StatusBadRequest
	}
	if a.status != wantStatus || a.hasData || len(a.errors) != 1 {
		t.Fatalf("want %d, one error and no data; got %d %s", wantStatus, a.status, a.raw)
	}
	return a.errors[0]
}

// wantVariableError checks that a is a request error about the value at inputPath of the
// variable: no data, the status the Accept header calls for, GRAPHQL_VALIDATION_FAILED as for
// a bad enum value, the location in extensions and none in path, the message naming it.
func wantVariableError(t *testing.T, a scalarAnswer, accept, variable string, inputPath []any, message string) {
	t.Helper()
	e := a.requestError(t, accept)
	if e.code() != "GRAPHQL_VALIDATION_FAILED" || e.Path != nil {
		t.Errorf("want GRAPHQL_VALIDATION_FAILED without a path, got %s", a.raw)
	}
	if e.Extensions["variable"] != variable || !reflect.DeepEqual(e.Extensions["inputPath"], inputPath) {
		t.Errorf("want variable %q at %v in extensions, got %s", variable, inputPath, a.raw)
	}
	if !strings.Contains(e.Message, message) {
		t.Errorf("the message does not name %q: %s", message, a.raw)
	}
}

// wantLiteralError checks that a is a validation error at a location of the document.
func wantLiteralError(t *testing.T, a scalarAnswer, accept, message string) {
	t.Helper()
	if e := a.requestError(t, accept); e.code() != "GRAPHQL_VALIDATION_FAILED" || e.Path != nil || !strings.Contains(a.raw, `"locations":[{`) ||
		!strings.Contains(e.Message, message) {
		t.Errorf("want GRAPHQL_VALIDATION_FAILED at a location naming %q, without a path; got %s", message, a.raw)
	}
}

// A value that a custom scalar (DateTime, IntOrString) or Int refuses is a request error, in
// the variables as a bad enum value is, and in the document as a validation error; nothing
// runs and nothing is written. A good value still works.
func TestScalarValuesAreRequestErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		const updateCustomer = `mutation($p: CustomerPatch!) { updateCustomer(sourceCustomerId: "C1", patch: $p) {
			customer { enrollmentStartDate } userErrors { path code } } }`
		const updateCard = `mutation($p: CardPatch!) { updateCard(sourceAccountId: "A-C1", sourceCustomerId: "C1", last4: "1234", patch: $p) {
			card { networkIdentifier } userErrors { path code } } }`
		const filter = `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`
		const rangeFilter = `query($r: DateTimeRange) { accounts(filter: {accountOpenDate: $r}) { totalCount } }`
		variables := []struct {
			name, query string
			vars        obj
			variable    string
			inputPath   []any
			message     string
		}{
			{"date without offset in a patch", updateCustomer, obj{"p": obj{"enrollmentStartDate": "2023-01-01T08:00:00"}},
				"p", []any{"enrollmentStartDate"}, "variable.p.enrollmentStartDate: \"2023-01-01T08:00:00\" is not a date-time"},
			{"number for a date in a patch", updateCustomer, obj{"p": obj{"customerCreationDate": 20230101}},
				"p", []any{"customerCreationDate"}, "variable.p.customerCreationDate: a DateTime is a string, got a number"},
			{"word for a network", updateCard, obj{"p": obj{"networkIdentifier": "four"}},
				"p", []any{"networkIdentifier"}, `variable.p.networkIdentifier: "four" is not a whole number`},
			{"fractional network", updateCard, obj{"p": obj{"networkIdentifier": 4.5}},
				"p", []any{"networkIdentifier"}, "variable.p.networkIdentifier: 4.5 is not a whole number"},
			{"date in a filter's range", filter, obj{"f": obj{"customerCreationDate": obj{"from": "2023-01-01", "to": "yesterday"}}},
				"f", []any{"customerCreationDate", "to"}, `variable.f.customerCreationDate.to: "yesterday" is not a date-time`},
			{"a DateTimeRange variable", rangeFilter, obj{"r": obj{"from": "2023-13-01"}},
				"r", []any{"from"}, `variable.r.from: "2023-13-01" is not a date-time`},
			{"an Int out of range", `query($n: Int) { customers(first: $n) { totalCount } }`, obj{"n": 1 << 40},
				"n", []any{}, "variable.n: 1.099511627776e+12 is out of range"},
			{"an Int in a list sent as a single value", `query($f: CardFilter) { cards(filter: $f) { totalCount } }`,
				obj{"f": obj{"networkIdentifiers": 1 << 40}}, "f", []any{"networkIdentifiers", 0.0}, "variable.f.networkIdentifiers[0]: "},
			{"a bad enum value, as before", updateCustomer, obj{"p": obj{"enrollmentOptInStatus": "SOMETIMES"}},
				"p", []any{"enrollmentOptInStatus"}, "variable.p.enrollmentOptInStatus: SOMETIMES is not a valid EnrollmentOptInStatus (one of ACTIVE, INACTIVE)"},
		}
		literals := []struct{ name, query, message string }{
			{"date without offset in a patch", `mutation { updateCustomer(sourceCustomerId: "C1", patch: {enrollmentStartDate: "2023-01-01T08:00:00"}) {
				userErrors { path } } }`, `Expected value of type "DateTime": "2023-01-01T08:00:00" is not a date-time`},
			{"number for a date", `mutation { updateCustomer(sourceCustomerId: "C1", patch: {customerCreationDate: 20230101}) { userErrors { path } } }`,
				`Expected value of type "DateTime": a DateTime is a string, got a number`},
			{"word for a network", `mutation { updateCard(sourceAccountId: "A-C1", sourceCustomerId: "C1", last4: "1234", patch: {networkIdentifier: "four"}) {
				userErrors { path } } }`, `Expected value of type "IntOrString": "four" is not a whole number`},
			{"date in a filter's range, in a fragment", `query { ...F } fragment F on Query {
				accounts(filter: {accountOpenDate: {from: "2023-01-01", to: "yesterday"}}) { totalCount } }`, `"yesterday" is not a date-time`},
		}
		for _, accept := range []string{"", "application/json", "application/graphql-response+json"} {
			for _, c := range variables {
				t.Run(c.name+" "+accept, func(t *testing.T) {
					var a scalarAnswer
					if n := e.countStatements(func() { a = postAccepting(t, e, accept, c.query, c.vars) }); n != 0 {
						t.Errorf("%d statements ran", n)
					}
					wantVariableError(t, a, accept, c.variable, c.inputPath, c.message)
				})
			}
			for _, c := range literals {
				t.Run("literal "+c.name+" "+accept, func(t *testing.T) {
					var a scalarAnswer
					if n := e.countStatements(func() { a = postAccepting(t, e, accept, c.query, nil) }); n != 0 {
						t.Errorf("%d statements ran", n)
					}
					wantLiteralError(t, a, accept, c.message)
				})
			}
		}

		// Good values still work, as variables and as literals.
		var out struct {
			UpdateCustomer struct {
				Customer   struct{ EnrollmentStartDate string }
				UserErrors []struct{ Path string }
			}
		}
		e.query(t, updateCustomer, obj{"p": obj{"enrollmentStartDate": "2023-01-01T08:00:00+02:00"}}, &out)
		if got := out.UpdateCustomer.Customer.EnrollmentStartDate; got != "2023-01-01T06:00:00Z" || len(out.UpdateCustomer.UserErrors) > 0 {
			t.Errorf("good date: got %+v", out.UpdateCustomer)
		}
		e.query(t, `mutation { updateCustomer(sourceCustomerId: "C1", patch: {enrollmentStartDate: "2023-02-01"}) {
			customer { enrollmentStartDate } userErrors { path } } }`, nil, &out)
		if got := out.UpdateCustomer.Customer.EnrollmentStartDate; got != "2023-02-01T00:00:00Z" {
			t.Errorf("good literal date: got %+v", out.UpdateCustomer)
		}
		var card struct {
			UpdateCard struct {
				Card       struct{ NetworkIdentifier int }
				UserErrors []struct{ Path string }
			}
		}
		e.query(t, updateCard, obj{"p": obj{"networkIdentifier": "4"}}, &card)
		if card.UpdateCard.Card.NetworkIdentifier != 4 || len(card.UpdateCard.UserErrors) > 0 {
			t.Errorf("good network as a string: got %+v", card.UpdateCard)
		}
		var count struct{ Customers struct{ TotalCount int } }
		e.query(t, filter, obj{"f": obj{"customerCreationDate": obj{"from": "2017-01-01T08:00:00Z", "to": "2017-01-02"}}}, &count)
		if count.Customers.TotalCount != 1 {
			t.Errorf("good filter range: got %+v", count)
		}
	})
}

// A value a scalar refuses among the customers of ingestCustomers fails the request like a
// bad enum value there, on both ways of decoding them (directly, which leaves such a list to
// the GraphQL layer, and through gqlgen): a request error at the customer's index, nothing
// written. Rule problems stay user errors (TestIngestRejectsBadInputWithPaths).
func TestIngestScalarValuesAreRequestErrors(t *testing.T) {
	for _, generated := range []bool{false, true} {
		name := "direct"
		if generated {
			name = "generated"
		}
		t.Run(name, func(t *testing.T) {
			forEachStoreWith(t, func(c *config) { c.generatedIngest = generated }, func(t *testing.T, e *env) {
				bad := func(field string, v any) []any {
					return []any{customer("C1", "O1"), with(customer("C2", "O1"), field, v)}
				}
				networkWord := customer("C2", "O1")
				networkWord["accounts"].([]any)[0].(obj)["cards"] = []any{with(card("A-C2", "C2", "1234", "412345"), "networkIdentifier", "four")}
				cases := []struct {
					name      string
					customers any
					inputPath []any
					message   string
				}{
					{"date without offset", bad("enrollmentStartDate", "2023-01-01T08:00:00"), []any{1.0, "enrollmentStartDate"},
						"variable.customers[1].enrollmentStartDate: "},
					{"network word", []any{customer("C1", "O1"), networkWord}, []any{1.0, "accounts", 0.0, "cards", 0.0, "networkIdentifier"},
						"variable.customers[1].accounts[0].cards[0].networkIdentifier: "},
					{"bad enum value", bad("enrollmentOptInStatus", "SOMETIMES"), []any{1.0, "enrollmentOptInStatus"},
						"variable.customers[1].enrollmentOptInStatus: "},
					{"one customer for the list", with(customer("C2", "O1"), "customerCreationDate", "2023-01-01T08:00:00"),
						[]any{0.0, "customerCreationDate"}, "variable.customers[0].customerCreationDate: "},
				}
				for _, c := range cases {
					for _, accept := range []string{"", "application/graphql-response+json"} {
						a := postAccepting(t, e, accept, ingestQuery, obj{"customers": c.customers})
						wantVariableError(t, a, accept, "customers", c.inputPath, c.message)
					}
				}
				if n := e.customerCount(t); n != 0 {
					t.Errorf("%d customers written", n)
				}
				e.mustIngest(t, customer("C1", "O1"), with(customer("C2", "O1"), "enrollmentStartDate", "2023-01-01T08:00:00-05:00"))
			})
		})
	}
}
