package main

import (
	"fmt"
	"os"
	"testing"
)

// Test data in the publisher's JSON shape, as a client would send it.

type obj = map[string]any

// customer returns a valid customer of org with one account of its own holding one card.
func customer(id, org string) obj {
	return obj{
		"sourceCustomerId":      id,
		"organizationId":        org,
		"postalCode":            "78753",
		"country":               "US",
		"customerCreationDate":  "2017-01-01T08:00:00Z",
		"enrollmentStartDate":   "2023-01-01",
		"enrollmentOptInStatus": "ACTIVE",
		"alertOptInStatus":      []any{"ALL"},
		"targetingIndicator":    "TARGET",
		"accounts":              []any{account("A-"+id, []any{id}, card("A-"+id, id, "1234", "412345"))},
	}
}

func account(id string, holders []any, cards ...obj) obj {
	cs := []any{}
	for _, c := range cards {
		cs = append(cs, c)
	}
	return obj{
		"sourceAccountId":         id,
		"sourceCustomerIds":       holders,
		"primarySourceCustomerId": holders[0],
		"status":                  "OPEN",
		"type":                    "DDA",
		"sourcePortfolioId":       "P-1",
		"accountOpenDate":         "2018-05-12T20:30:00Z",
		"accountCloseDate":        nil,
		"cards":                   cs,
	}
}

func card(accountID, holder, last4, iin string) obj {
	return obj{
		"sourceAccountId":   accountID,
		"sourceCustomerId":  holder,
		"last4":             last4,
		"iin":               iin,
		"cardType":          "DEBIT",
		"status":            "OPEN",
		"networkIdentifier": 4,
		"openDate":          "2023-01-01T08:00:00Z",
		"closeDate":         nil,
	}
}

// with returns a copy of o with the given fields set (a nil value removes the field).
func with(o obj, kv ...any) obj {
	out := obj{}
	for k, v := range o {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// jointCustomer is a valid customer p+id of org whose only account, A-p+id, is shared with
// the holders p+joint and holds one card of p+id.
func jointCustomer(p, id, org string, joint ...string) obj {
	o := customer(p+id, org)
	holders := []any{p + id}
	for _, h := range joint {
		holders = append(holders, p+h)
	}
	o["accounts"] = []any{account("A-"+p+id, holders, card("A-"+p+id, p+id, "1234", "412345"))}
	return o
}

// many returns n customers C0000..C(n-1) of org, each with its account and card.
func many(n int, org string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = customer(fmt.Sprintf("C%04d", i), org)
	}
	return out
}

const ingestQuery = `mutation($customers: [CustomerInput!]!, $options: IngestOptions) {
  ingestCustomers(customers: $customers, options: $options) {
    summary {
      customers { created updated unchanged }
      accounts { created updated unchanged }
      cards { created updated unchanged deleted }
      skippedCustomers dryRun
    }
    userErrors { path code message }
    customers { sourceCustomerId updatedAt }
  }
}`

type counts struct{ Created, Updated, Unchanged int }

type ingestPayload struct {
	Summary struct {
		Customers, Accounts, Cards counts
		SkippedCustomers           int
		DryRun                     bool
	}
	UserErrors []struct{ Path, Code, Message string }
	Customers  []struct{ SourceCustomerID, UpdatedAt string }
}

// ingest sends customers through ingestCustomers and returns the payload.
func (e *env) ingest(t testing.TB, customers []any, options obj) ingestPayload {
	t.Helper()
	var out struct{ IngestCustomers ingestPayload }
	e.query(t, ingestQuery, obj{"customers": customers, "options": options}, &out)
	return out.IngestCustomers
}

// mustIngest ingests customers that must be valid.
func (e *env) mustIngest(t testing.TB, customers ...any) ingestPayload {
	t.Helper()
	p := e.ingest(t, customers, nil)
	if len(p.UserErrors) > 0 {
		t.Fatalf("ingest refused: %+v", p.UserErrors)
	}
	return p
}

// customerCount is the number of stored customers, read through the API.
func (e *env) customerCount(t *testing.T) int {
	t.Helper()
	var out struct{ Customers struct{ TotalCount int } }
	e.query(t, `{ customers { totalCount } }`, nil, &out)
	return out.Customers.TotalCount
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
