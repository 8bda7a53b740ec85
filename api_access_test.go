package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portfolio-graph/portfolio-graph/auth"
	"github.com/portfolio-graph/portfolio-graph/models"
)

const testSecret = "test-secret-of-at-least-32-characters"

func withAuth(c *config) {
	c.auth = auth.Config{Secret: testSecret, Issuer: "issuer", Audience: "portfolio-graph"}
}

func token(t testing.TB, role string, orgs ...string) string {
	t.Helper()
	return must(auth.Mint(auth.Config{Secret: testSecret, Issuer: "issuer", Audience: "portfolio-graph"}, "test-"+role, role, orgs, time.Hour))
}

// twoOrgs ingests, as an admin: OA's customers A1 (parent of A2 and of B2) and A2, OB's B1
// and B2; a joint account J held by A1 and B1 with a card for each; own accounts of each.
func twoOrgs(t testing.TB, e *env) {
	e.token = token(t, "admin")
	a1, b1 := customer("A1", "OA"), customer("B1", "OB")
	j := account("J", []any{"A1", "B1"}, card("J", "A1", "1111", "412345"), card("J", "B1", "2222", "412345"))
	a1["accounts"] = append(a1["accounts"].([]any), j)
	b1["accounts"] = append(b1["accounts"].([]any), j)
	e.mustIngest(t, a1, with(customer("A2", "OA"), "sourceParentCustomerId", "A1"), b1, with(customer("B2", "OB"), "sourceParentCustomerId", "A1"))
}

// A reader of one organization sees exactly what REFERENCE.md "Access" allows, on every path.
func TestReaderSeesOnlyItsOrganization(t *testing.T) {
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		twoOrgs(t, e)
		e.token = token(t, "reader", "OA")
		ids := func(raw []struct{ SourceCustomerID string }) string {
			var s []string
			for _, r := range raw {
				s = append(s, r.SourceCustomerID)
			}
			return strings.Join(s, ",")
		}
		var out struct {
			Customers struct {
				TotalCount int
				Nodes      []struct{ SourceCustomerID string }
			}
			Foreign struct {
				Nodes []struct{ SourceCustomerID string }
			}
			B1 *struct{ SourceCustomerID string }
			A1 struct {
				Children struct {
					Nodes []struct{ SourceCustomerID string }
				}
				Accounts []struct{ SourceAccountID string }
			}
			J struct {
				SourceCustomerIds []string
				Holders           []struct{ SourceCustomerID string }
				Cards             []struct {
					Last4    string
					Customer *struct{ SourceCustomerID string }
				}
			}
			BO    *struct{ SourceAccountID string }
			Cards struct {
				TotalCount int
				Nodes      []struct{ SourceAccountID, Last4 string }
			}
			Accounts struct {
				Nodes []struct{ SourceAccountID string }
			}
			ForeignCard *struct{ Last4 string }
			Stats       struct {
				Customers, Accounts, Cards int
				CustomersByOrganization    []struct {
					Key   string
					Count int
				}
			}
			Viewer struct {
				Role            string
				OrganizationIds []string
			}
		}
		e.query(t, `{
			customers { totalCount nodes { sourceCustomerId } }
			foreign: customers(filter: {organizationIds: ["OB"]}) { nodes { sourceCustomerId } }
			b1: customer(sourceCustomerId: "B1") { sourceCustomerId }
			a1: customer(sourceCustomerId: "A1") { children { nodes { sourceCustomerId } } accounts { sourceAccountId } }
			j: account(sourceAccountId: "J") { sourceCustomerIds holders { sourceCustomerId } cards { last4 customer { sourceCustomerId } } }
			bo: account(sourceAccountId: "A-B1") { sourceAccountId }
			cards { totalCount nodes { sourceAccountId last4 } }
			accounts { nodes { sourceAccountId } }
			foreignCard: card(sourceAccountId: "A-B1", sourceCustomerId: "B1", last4: "1234") { last4 }
			stats: portfolioStats { customers accounts cards customersByOrganization { key count } }
			viewer { role organizationIds }
		}`, nil, &out)
		if got := ids(out.Customers.Nodes); got != "A1,A2" || out.Customers.TotalCount != 2 {
			t.Errorf("customers: got %s (total %d), want A1,A2", got, out.Customers.TotalCount)
		}
		if len(out.Foreign.Nodes) != 0 || out.B1 != nil || out.BO != nil || out.ForeignCard != nil {
			t.Errorf("foreign data visible: %+v %+v %+v %+v", out.Foreign, out.B1, out.BO, out.ForeignCard)
		}
		if got := ids(out.A1.Children.Nodes); got != "A2" {
			t.Errorf("children: got %s, want A2 only (B2 is OB's)", got)
		}
		if len(out.A1.Accounts) != 2 {
			t.Errorf("A1's accounts: got %+v", out.A1.Accounts)
		}
		if strings.Join(out.J.SourceCustomerIds, ",") != "A1,B1" || ids(out.J.Holders) != "A1" || len(out.J.Cards) != 2 {
			t.Errorf("joint account: got %+v, want both ids listed, holder A1 only, both cards", out.J)
		}
		for _, c := range out.J.Cards {
			if (c.Last4 == "2222") != (c.Customer == nil) {
				t.Errorf("card %s: holder %+v; B1's card must show no customer", c.Last4, c.Customer)
			}
		}
		if out.Cards.TotalCount != 4 || len(out.Cards.Nodes) != 4 {
			t.Errorf("cards: got %+v, want the own cards of A1 and A2 and both cards of J", out.Cards)
		}
		if len(out.Accounts.Nodes) != 3 {
			t.Errorf("accounts: got %+v, want A-A1, A-A2, J", out.Accounts.Nodes)
		}
		if out.Stats.Customers != 2 || out.Stats.Accounts != 3 || out.Stats.Cards != 4 || len(out.Stats.CustomersByOrganization) != 1 {
			t.Errorf("stats: got %+v", out.Stats)
		}
		if out.Viewer.Role != "READER" || strings.Join(out.Viewer.OrganizationIds, ",") != "OA" {
			t.Errorf("viewer: got %+v", out.Viewer)
		}

		// node and nodes resolve only visible ids.
		var nodes struct {
			Node  *struct{ ID string }
			Nodes []*struct{ ID string }
		}
		e.query(t, `query($b: ID!, $a: ID!, $c: ID!) { node(id: $b) { id } nodes(ids: [$a, $b, $c]) { id } }`,
			obj{"b": models.CustomerNodeID("B1"), "a": models.CustomerNodeID("A1"), "c": models.AccountNodeID("A-B1")}, &nodes)
		if nodes.Node != nil || len(nodes.Nodes) != 3 || nodes.Nodes[0] == nil || nodes.Nodes[1] != nil || nodes.Nodes[2] != nil {
			t.Errorf("node/nodes: got %+v", nodes)
		}
	})
}

// The other organization's reader sees the mirror image: B2's parent A1 stays hidden, and the
// joint account shows B1 as its only holder.
func TestReaderOfTheOtherOrganization(t *testing.T) {
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		twoOrgs(t, e)
		e.token = token(t, "reader", "OB")
		var out struct {
			Customers struct {
				Nodes []struct{ SourceCustomerID string }
			}
			B2 struct {
				SourceParentCustomerID string
				Parent                 *struct{ SourceCustomerID string }
			}
			J struct {
				PrimarySourceCustomerID string
				PrimaryCustomer         *struct{ SourceCustomerID string }
				Holders                 []struct{ SourceCustomerID string }
			}
			A1    *struct{ SourceCustomerID string }
			Stats struct{ Customers, Accounts, Cards int }
		}
		e.query(t, `{ customers { nodes { sourceCustomerId } }
			b2: customer(sourceCustomerId: "B2") { sourceParentCustomerId parent { sourceCustomerId } }
			j: account(sourceAccountId: "J") { primarySourceCustomerId primaryCustomer { sourceCustomerId } holders { sourceCustomerId } }
			a1: customer(sourceCustomerId: "A1") { sourceCustomerId }
			stats: portfolioStats { customers accounts cards } }`, nil, &out)
		if len(out.Customers.Nodes) != 2 || out.Customers.Nodes[0].SourceCustomerID != "B1" || out.A1 != nil {
			t.Errorf("customers: got %+v, A1 %+v", out.Customers.Nodes, out.A1)
		}
		if out.B2.SourceParentCustomerID != "A1" || out.B2.Parent != nil {
			t.Errorf("B2: got %+v, want the parent id but no parent object", out.B2)
		}
		if out.J.PrimarySourceCustomerID != "A1" || out.J.PrimaryCustomer != nil || len(out.J.Holders) != 1 || out.J.Holders[0].SourceCustomerID != "B1" {
			t.Errorf("J: got %+v", out.J)
		}
		if out.Stats.Customers != 2 || out.Stats.Accounts != 3 || out.Stats.Cards != 4 {
			t.Errorf("stats: got %+v", out.Stats)
		}
	})
}

// Readers may not write; writers may write only inside their organizations.
func TestRolesAndForbiddenWrites(t *testing.T) {
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		twoOrgs(t, e)
		e.token = token(t, "reader", "OA")
		errs := e.errorsOf(t, ingestQuery, obj{"customers": []any{customer("A9", "OA")}})
		if errs[0].code() != "FORBIDDEN" {
			t.Errorf("reader mutating: got %+v", errs)
		}

		e.token = token(t, "writer", "OA")
		p := e.ingest(t, []any{customer("A9", "OA"), customer("B9", "OB"), with(customer("B1", "OA"), "accounts", []any{account("A-B1", []any{"B1"})})}, nil)
		assertUserErrorSet(t, p.UserErrors, []userErr{
			{Path: "customers[1].organizationId", Code: "FORBIDDEN"},
			{Path: "customers[2].sourceCustomerId", Code: "FORBIDDEN"},
		})
		if n := e.customerCount(t); n != 2 {
			t.Errorf("a rejected batch wrote: %d customers visible, want 2", n)
		}
		p = e.ingest(t, []any{customer("A9", "OA"), customer("B9", "OB")}, obj{"skipInvalid": true})
		if p.Summary.Customers != (counts{1, 0, 0}) || p.Summary.SkippedCustomers != 1 {
			t.Errorf("skipInvalid: got %+v", p.Summary)
		}

		// Mutation payloads follow the same rules: the joint account's OB holder stays hidden.
		a1 := customer("A1", "OA")
		a1["accounts"] = append(a1["accounts"].([]any), account("J", []any{"A1", "B1"}, card("J", "A1", "1111", "412345"), card("J", "B1", "2222", "412345")))
		var pay struct {
			IngestCustomers struct {
				UserErrors []userErr
				Customers  []struct {
					Accounts []struct {
						SourceAccountID string
						Holders         []struct{ SourceCustomerID string }
						Cards           []struct {
							Customer *struct{ SourceCustomerID string }
						}
					}
				}
			}
		}
		e.query(t, `mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { userErrors { path code message }
			customers { accounts { sourceAccountId holders { sourceCustomerId } cards { customer { sourceCustomerId } } } } } }`, obj{"c": []any{a1}}, &pay)
		if len(pay.IngestCustomers.UserErrors) > 0 || len(pay.IngestCustomers.Customers) != 1 {
			t.Fatalf("re-ingest A1: %+v", pay.IngestCustomers)
		}
		for _, a := range pay.IngestCustomers.Customers[0].Accounts {
			for _, h := range a.Holders {
				if h.SourceCustomerID != "A1" {
					t.Errorf("payload shows holder %s of %s", h.SourceCustomerID, a.SourceAccountID)
				}
			}
			for _, c := range a.Cards {
				if c.Customer != nil && c.Customer.SourceCustomerID != "A1" {
					t.Errorf("payload shows cardholder %s", c.Customer.SourceCustomerID)
				}
			}
		}

		var upd struct {
			UpdateCustomer struct {
				Customer   *struct{ OrganizationID string }
				UserErrors []userErr
			}
		}
		const q = `mutation($id: String!, $p: CustomerPatch!) { updateCustomer(sourceCustomerId: $id, patch: $p) { customer { organizationId } userErrors { path code message } } }`
		e.query(t, q, obj{"id": "A1", "p": obj{"organizationId": "OB"}}, &upd)
		assertUserErrors(t, upd.UpdateCustomer.UserErrors, []userErr{{Path: "patch.organizationId", Code: "FORBIDDEN"}})
		e.query(t, q, obj{"id": "B1", "p": obj{"postalCode": "1"}}, &upd)
		assertUserErrors(t, upd.UpdateCustomer.UserErrors, []userErr{{Path: "sourceCustomerId", Code: "NOT_FOUND"}})
		var del struct {
			DeleteCustomer struct{ UserErrors []userErr }
		}
		e.query(t, `mutation { deleteCustomer(sourceCustomerId: "B1") { userErrors { path code message } } }`, nil, &del)
		assertUserErrors(t, del.DeleteCustomer.UserErrors, []userErr{{Path: "sourceCustomerId", Code: "NOT_FOUND"}})

		e.token = token(t, "admin")
		var b struct{ Customer *struct{ PostalCode string } }
		e.query(t, `{ customer(sourceCustomerId: "B1") { postalCode } }`, nil, &b)
		if b.Customer == nil || b.Customer.PostalCode != "78753" {
			t.Errorf("B1 changed or gone: %+v", b.Customer)
		}
	})
}

// Every token failure is HTTP 401 with UNAUTHENTICATED, and nothing runs.
func TestTokenFailures(t *testing.T) {
	e := newEnv(t, "sqlite", withAuth)
	sign := func(c jwt.Claims, secret string) string {
		return must(jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret)))
	}
	claims := func(mod func(*auth.Claims)) *auth.Claims {
		c := &auth.Claims{Role: "reader", Orgs: []string{"OA"}, RegisteredClaims: jwt.RegisteredClaims{
			Subject: "support-1", Issuer: "issuer", Audience: jwt.ClaimStrings{"portfolio-graph"}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
		}}
		if mod != nil {
			mod(c)
		}
		return c
	}
	cases := map[string]string{
		"missing":         "",
		"not a JWT":       "Bearer abc.def",
		"basic auth":      "Basic dXNlcjpwYXNz",
		"bad signature":   "Bearer " + sign(claims(nil), "another-secret-of-at-least-32-chars!!"),
		"expired":         "Bearer " + sign(claims(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Minute)) }), testSecret),
		"no exp":          "Bearer " + sign(claims(func(c *auth.Claims) { c.ExpiresAt = nil }), testSecret),
		"wrong issuer":    "Bearer " + sign(claims(func(c *auth.Claims) { c.Issuer = "other" }), testSecret),
		"wrong audience":  "Bearer " + sign(claims(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"other"} }), testSecret),
		"unknown role":    "Bearer " + sign(claims(func(c *auth.Claims) { c.Role = "root" }), testSecret),
		"no organization": "Bearer " + sign(claims(func(c *auth.Claims) { c.Orgs = nil }), testSecret),
		"no subject":      "Bearer " + sign(claims(func(c *auth.Claims) { c.Subject = "" }), testSecret),
		"alg none":        "Bearer " + must(jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)),
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			req := must(http.NewRequest(http.MethodPost, e.url+"/query", strings.NewReader(`{"query": "{ viewer { role } }"}`)))
			req.Header.Set("Content-Type", "application/json")
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp := must(http.DefaultClient.Do(req))
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !bytes.Contains(body, []byte(`"UNAUTHENTICATED"`)) || bytes.Contains(body, []byte(`"data"`)) {
				t.Errorf("got %d %s", resp.StatusCode, body)
			}
		})
	}
	// A clock a little behind is tolerated.
	e.token = sign(claims(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-30 * time.Second)) }), testSecret)
	var v struct{ Viewer struct{ Role string } }
	e.query(t, `{ viewer { role } }`, nil, &v)
}

// Introspection is for admins (and open mode) only.
func TestIntrospectionForAdminsOnly(t *testing.T) {
	e := newEnv(t, "sqlite", withAuth)
	e.token = token(t, "reader", "OA")
	if errs := e.errorsOf(t, `{ __schema { queryType { name } } }`, nil); !strings.Contains(errs[0].Message, "introspection") {
		t.Errorf("reader: got %+v", errs)
	}
	e.token = token(t, "admin")
	e.query(t, `{ __schema { queryType { name } } }`, nil, nil)
}

// `token` mints a token the server accepts.
func TestTokenCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	t.Setenv("AUTH_JWT_SECRET", testSecret)
	t.Setenv("AUTH_JWT_ISSUER", "issuer")
	t.Setenv("AUTH_JWT_AUDIENCE", "portfolio-graph")
	if code := run(context.Background(), []string{"token", "-role", "writer", "-org", "OA,OB", "-ttl", "10m"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	e := newEnv(t, "sqlite", withAuth)
	e.token = strings.TrimSpace(stdout.String())
	var v struct {
		Viewer struct {
			Role            string
			OrganizationIds []string
		}
	}
	e.query(t, `{ viewer { role organizationIds } }`, nil, &v)
	if v.Viewer.Role != "WRITER" || strings.Join(v.Viewer.OrganizationIds, ",") != "OA,OB" {
		t.Errorf("viewer: got %+v", v.Viewer)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"token", "-role", "boss", "-org", "OA"}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "boss") {
		t.Errorf("bad role: exit %d, %s", code, stderr.String())
	}
}
